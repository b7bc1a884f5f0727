import { expect } from "chai";
import { bytesToHex } from "viem";
import { decodeDaPointer, encodeDaPointer, type DaPointer } from "../../protocol/daPointer.ts";
import { InvalidInputError } from "../../protocol/errors.ts";

const hash = `0x${"11".repeat(32)}` as const;

describe("protocol/daPointer", () => {
  it("encodes a local pointer as 0x00 || sha256", () => {
    const bytes = encodeDaPointer({ kind: "local", sha256: hash });
    expect(bytesToHex(bytes)).to.equal(`0x00${"11".repeat(32)}`);
  });

  it("encodes a Celestia pointer as 0x01 || u64 big-endian height || commitment", () => {
    const bytes = encodeDaPointer({ kind: "celestia", height: 0x0102030405n, commitment: hash });
    expect(bytesToHex(bytes)).to.equal(`0x01${"0000000102030405"}${"11".repeat(32)}`);
    expect(bytes.length).to.equal(41);
  });

  it("encodes an EigenDA pointer as 0x02 || the proxy's certificate bytes", () => {
    expect(bytesToHex(encodeDaPointer({ kind: "eigenda", certificate: "0x01abcdef" }))).to.equal("0x0201abcdef");
  });

  it("round-trips every kind, from bytes and from hex", () => {
    const pointers: DaPointer[] = [
      { kind: "local", sha256: hash },
      { kind: "celestia", height: (1n << 64n) - 1n, commitment: hash },
      { kind: "eigenda", certificate: `0x01${"ee".repeat(300)}` },
    ];
    for (const pointer of pointers) {
      const bytes = encodeDaPointer(pointer);
      expect(decodeDaPointer(bytes)).to.deep.equal(pointer);
      expect(decodeDaPointer(bytesToHex(bytes))).to.deep.equal(pointer);
    }
  });

  it("rejects wrong lengths, unknown kinds and height 0 with the field named", () => {
    const cases: [string, string][] = [
      ["0x", "daPointer"],
      [`0x00${"11".repeat(31)}`, "daPointer"],
      [`0x01${"00".repeat(40)}`, "daPointer.height"],
      [`0x01${"00".repeat(39)}`, "daPointer"],
      ["0x02", "daPointer"],
      [`0x03${"11".repeat(32)}`, "daPointer.kind"],
      ["nothex", "daPointer"],
    ];
    for (const [hex, field] of cases) {
      expect(() => decodeDaPointer(hex as `0x${string}`), hex)
        .to.throw(InvalidInputError)
        .with.property("field", field);
    }
    expect(() => encodeDaPointer({ kind: "celestia", height: 1n << 64n, commitment: hash })).to.throw(
      InvalidInputError,
    );
    expect(() => encodeDaPointer({ kind: "local", sha256: "0x12" })).to.throw(InvalidInputError);
  });
});
