import { expect } from "chai";
import { bytesToHex, encodeAbiParameters, hexToBytes, keccak256, pad, toHex } from "viem";
import { InvalidInputError } from "../../protocol/errors.ts";
import { instructionsHash } from "../../protocol/instructions.ts";
import {
  capStderr,
  decodeRecord,
  encodeRecord,
  encodeRecordBody,
  RECORD_BODY_VERSION,
  RECORD_VERSION,
  recordBodyAbiComponents,
  recordBodyHash,
  recordFromJson,
  recordToJson,
  resultForChain,
  sortSignatures,
  STDERR_CAP_BYTES,
  type ExecutionRecord,
  type RecordAttribution,
} from "../../protocol/record.ts";
import { inputHash } from "../../protocol/result.ts";
import { sampleRecord } from "../fakes/records.ts";

/** abi.encode parameters of a version 2 record: (uint8 version, body, signatures[]). */
const V2_PARAMS = [
  { type: "uint8" },
  { type: "tuple", components: recordBodyAbiComponents },
  {
    type: "tuple[]",
    components: [
      { name: "chainId", type: "uint256" },
      { name: "signer", type: "address" },
      { name: "signature", type: "bytes" },
    ],
  },
] as const;

function expectInvalid(fn: () => unknown, field: string | RegExp): void {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(InvalidInputError);
    if (typeof field === "string") expect((error as InvalidInputError).field).to.equal(field);
    else expect((error as InvalidInputError).field).to.match(field);
    return;
  }
  expect.fail("expected an InvalidInputError");
}

describe("protocol/record", () => {
  it("round-trips a record through its canonical encoding", () => {
    const record = sampleRecord();
    const bytes = encodeRecord(record);
    const decoded = decodeRecord(bytes);
    expect(bytesToHex(encodeRecord(decoded))).to.equal(bytesToHex(bytes));
    expect(recordToJson(decoded)).to.deep.equal(recordToJson(record));
  });

  it("round-trips a PROGRAM_ERROR record with no instructions and no signatures", () => {
    const record: ExecutionRecord = {
      body: { ...sampleRecord().body, status: 1, instructions: [], stderr: toHex("trap: unreachable") },
      signatures: [],
    };
    expect(recordToJson(decodeRecord(encodeRecord(record)))).to.deep.equal(recordToJson(record));
  });

  it("hashes the body as keccak256(abi.encode(uint8 version, body)), as Solidity's abi.encode would", () => {
    const { body } = sampleRecord();
    // Hand-built head of abi.encode(uint8(2), body): the version word, then the offset of the dynamic tuple (0x40).
    const encoded = encodeRecordBody(body);
    expect(encoded.slice(0, 2 + 128)).to.equal(`0x${pad("0x02").slice(2)}${pad("0x40").slice(2)}`);
    // The tuple's first word is originChainId, the second the oracle address.
    expect(encoded.slice(130, 194)).to.equal(pad(toHex(31337n)).slice(2));
    expect(recordBodyHash(body)).to.equal(keccak256(encoded));
  });

  it("keeps signatures out of bodyHash", () => {
    const record = sampleRecord();
    const withFewer = { ...record, signatures: record.signatures.slice(0, 1) };
    expect(recordBodyHash(withFewer.body)).to.equal(recordBodyHash(record.body));
    expect(bytesToHex(encodeRecord(withFewer))).to.not.equal(bytesToHex(encodeRecord(record)));
  });

  it("changes bodyHash when any body field changes", () => {
    const base = sampleRecord().body;
    const variants = [
      { ...base, status: 1 as const },
      { ...base, fuelUsed: base.fuelUsed + 1n },
      { ...base, stdout: "0x00" as const },
      { ...base, stderr: "0x01" as const },
      { ...base, input: "0x" as const },
      { ...base, instructions: base.instructions.slice(1) },
      // the request context the program saw (record version 2)
      { ...base, requester: "0x000000000000000000000000000000000000dEaD" as const },
      { ...base, asset: "0x000000000000000000000000000000000000bEEF" as const },
      { ...base, amount: base.amount + 1n },
      { ...base, fee: base.fee + 1n },
      { ...base, blockNumber: base.blockNumber + 1n },
      { ...base, timestamp: base.timestamp + 1n },
    ];
    const hashes = new Set([recordBodyHash(base), ...variants.map(recordBodyHash)]);
    expect(hashes.size).to.equal(variants.length + 1);
  });

  it("rejects trailing bytes after a valid record", () => {
    const bytes = encodeRecord(sampleRecord());
    expectInvalid(() => decodeRecord(new Uint8Array([...bytes, ...new Uint8Array(32)])), "record");
  });

  it("rejects dirty padding in a uint8 word (non-canonical encoding of the same values)", () => {
    const bytes = encodeRecord(sampleRecord());
    const dirty = bytes.slice();
    dirty[0] = 0x01; // the version word's high byte: decoders that mask would read version 1 anyway
    expectInvalid(() => decodeRecord(dirty), /^record/);
  });

  it("rejects other record versions", () => {
    const bytes = encodeRecord(sampleRecord());
    for (const version of [1, 4]) {
      const other = bytes.slice();
      other[31] = version;
      expectInvalid(() => decodeRecord(other), "record.version");
    }
  });

  it("rejects garbage with a decode error naming the record", () => {
    expectInvalid(() => decodeRecord(new Uint8Array([1, 2, 3])), "record");
  });

  it("requires instruction groups in strictly increasing chain order", () => {
    const record = sampleRecord();
    const swapped = { ...record, body: { ...record.body, instructions: [...record.body.instructions].reverse() } };
    expectInvalid(() => encodeRecord(swapped), "record.instructions[1].chainId");
  });

  it("rejects an empty instruction group", () => {
    const record = sampleRecord();
    const empty = { ...record, body: { ...record.body, instructions: [{ chainId: 1n, instructions: [] }] } };
    expectInvalid(() => encodeRecord(empty), "record.instructions[0].instructions");
  });

  it("requires signatures sorted by (chainId, signer) without duplicates, and sortSignatures fixes the order", () => {
    const record = sampleRecord();
    const shuffled = { ...record, signatures: [...record.signatures].reverse() };
    expectInvalid(() => encodeRecord(shuffled), /^record\.signatures\[\d\]$/);
    expect(bytesToHex(encodeRecord({ ...record, signatures: sortSignatures(shuffled.signatures) }))).to.equal(
      bytesToHex(encodeRecord(record)),
    );
    const duplicated = { ...record, signatures: [record.signatures[0]!, record.signatures[0]!] };
    expectInvalid(() => encodeRecord(duplicated), "record.signatures[1]");
  });

  it("rejects signatures for a chain that receives no result, and of the wrong length", () => {
    const record = sampleRecord();
    const stray = { ...record, signatures: [{ ...record.signatures[0]!, chainId: 1n }] };
    expectInvalid(() => encodeRecord(stray), "record.signatures[0].chainId");
    const short = { ...record, signatures: [{ ...record.signatures[0]!, signature: "0x1234" as const }] };
    expectInvalid(() => encodeRecord(short), "record.signatures[0].signature");
  });

  it("caps stderr: over the cap is rejected, capStderr truncates to exactly the cap", () => {
    const long = toHex(new Uint8Array(STDERR_CAP_BYTES + 10).fill(0x41));
    const record = sampleRecord();
    expectInvalid(() => encodeRecord({ ...record, body: { ...record.body, stderr: long } }), "record.stderr");
    const capped = capStderr(long);
    expect(hexToBytes(capped).length).to.equal(STDERR_CAP_BYTES);
    expect(() => encodeRecord({ ...record, body: { ...record.body, stderr: capped } })).to.not.throw();
  });

  it("rejects a bad status, opcode and fuel with the field named", () => {
    const { body } = sampleRecord();
    expectInvalid(() => encodeRecordBody({ ...body, status: 2 as never }), "record.status");
    expectInvalid(() => encodeRecordBody({ ...body, fuelUsed: 1n << 64n }), "record.fuelUsed");
    const badOp = [{ chainId: 1n, instructions: [{ ...body.instructions[0]!.instructions[0]!, op: 9 as never }] }];
    expectInvalid(
      () => encodeRecordBody({ ...body, instructions: badOp }),
      "record.instructions[0].instructions[0].op",
    );
    expectInvalid(() => encodeRecordBody({ ...body, requestId: "0x1234" }), "record.requestId");
  });

  it("derives the Result each chain's operators sign", () => {
    const { body } = sampleRecord();
    const onB = resultForChain(body, 31338n);
    expect(onB.bodyHash).to.equal(recordBodyHash(body));
    expect(onB.inputHash).to.equal(inputHash(body.input));
    expect(onB.instructionsHash).to.equal(instructionsHash(body.instructions[1]!.instructions));
    expect(resultForChain(body, 99n).instructionsHash).to.equal(instructionsHash([]));
  });

  it("parses the JSON form and names the bad field", () => {
    const json = recordToJson(sampleRecord());
    expect(bytesToHex(encodeRecord(recordFromJson(JSON.parse(JSON.stringify(json)))))).to.equal(
      bytesToHex(encodeRecord(sampleRecord())),
    );
    expectInvalid(() => recordFromJson({ ...json, body: { ...json.body, fuelUsed: "-1" } }), "record.body.fuelUsed");
    expectInvalid(() => recordFromJson({ ...json, body: { ...json.body, oracle: "0x12" } }), "record.body.oracle");
  });

  it("encodes exactly abi.encode(uint8 3, body, signatures[], attributions[]) while bodyHash keeps version 2", () => {
    const record = sampleRecord();
    const body = encodeRecordBody(record.body);
    // bodyHash covers abi.encode(uint8 2, body): the body's encoding did not change in version 3.
    expect(body.slice(0, 66)).to.equal(pad(toHex(RECORD_BODY_VERSION)));
    const full = bytesToHex(encodeRecord(record));
    expect(full.slice(0, 66)).to.equal(pad(toHex(RECORD_VERSION)));
    expect(RECORD_VERSION).to.equal(3);
    // four head words (version, body offset, signatures offset, attributions offset): the body starts at 0x80
    expect(`0x${full.slice(66, 130)}`).to.equal(pad("0x80"));
    const attributed = { ...record, attributions: attributionsFor(record) };
    expect(full).to.equal(
      encodeAbiParameters(
        [
          ...V2_PARAMS,
          {
            type: "tuple[]",
            components: [
              { name: "operator", type: "address" },
              { name: "how", type: "uint8" },
              { name: "sharedFrom", type: "address" },
              { name: "slotOf", type: "address" },
              { name: "sharerBps", type: "uint16" },
            ],
          },
        ],
        [3, record.body, record.signatures, []],
      ),
    );
    expect(bytesToHex(encodeRecord(attributed))).to.not.equal(full);
  });

  describe("attributions (record version 3, unsigned envelope)", () => {
    it("round-trips who did the work through bytes and JSON without changing bodyHash", () => {
      const record = { ...sampleRecord(), attributions: attributionsFor(sampleRecord()) };
      const decoded = decodeRecord(encodeRecord(record));
      expect(decoded.attributions).to.deep.equal(record.attributions);
      expect(recordBodyHash(decoded.body)).to.equal(recordBodyHash(sampleRecord().body));
      const json = JSON.parse(JSON.stringify(recordToJson(record)));
      expect(json.attributions).to.have.length(2);
      expect(recordFromJson(json).attributions).to.deep.equal(record.attributions);
      expect(bytesToHex(encodeRecord(recordFromJson(json)))).to.equal(bytesToHex(encodeRecord(record)));
    });

    it("still decodes a version 2 record (no attributions) with the same body, signatures and bodyHash", () => {
      const record = sampleRecord();
      const v2 = hexToBytes(encodeAbiParameters([...V2_PARAMS], [2, record.body, record.signatures]));
      const decoded = decodeRecord(v2);
      expect(decoded.attributions).to.deep.equal([]);
      expect(recordToJson(decoded)).to.deep.equal(recordToJson(record));
      expect(recordBodyHash(decoded.body)).to.equal(recordBodyHash(record.body));
      // a v2 record must be canonical v2 too: a trailing word is refused
      expectInvalid(() => decodeRecord(new Uint8Array([...v2, ...new Uint8Array(32)])), "record");
    });

    it("rejects attributions out of order, duplicated, of a non-signer, or with fields that do not fit how", () => {
      const record = sampleRecord();
      const [a, b] = attributionsFor(record) as [RecordAttribution, RecordAttribution];
      const outsider = "0x000000000000000000000000000000000000dEaD" as const;
      const cases: [RecordAttribution[], string | RegExp][] = [
        [[b, a], "record.attributions[1]"],
        [[a, a], "record.attributions[1]"],
        [[{ operator: outsider, how: "quorum" }], "record.attributions[0].operator"],
        [[{ ...a, sharedFrom: outsider }], "record.attributions[0].sharedFrom"],
        [[{ ...a, sharerBps: 10 }], "record.attributions[0].sharerBps"],
        [[{ ...a, slotOf: outsider }], "record.attributions[0].slotOf"],
        [[a, { ...b, sharerBps: 10_001 }], "record.attributions[1].sharerBps"],
        [[a, { operator: b.operator, how: "shared-in", sharerBps: 1000 }], "record.attributions[1].sharedFrom"],
        [[a, { operator: b.operator, how: "stolen" }], "record.attributions[1].slotOf"],
        [[{ ...a, how: "paid-twice" as never }], "record.attributions[0].how"],
      ];
      for (const [attributions, field] of cases) {
        expectInvalid(() => encodeRecord({ ...record, attributions }), field);
      }
    });

    it("rejects an attribution whose bytes carry an unknown how code", () => {
      const record = { ...sampleRecord(), attributions: [attributionsFor(sampleRecord())[0]!] };
      const hex = bytesToHex(encodeRecord(record));
      // the single attribution tuple is the last 5 words: operator, how, sharedFrom, slotOf, sharerBps
      const words = hex.slice(2).match(/.{64}/g)!;
      words[words.length - 4] = pad("0x07").slice(2);
      expectInvalid(() => decodeRecord(hexToBytes(`0x${words.join("")}`)), "record.attributions.how");
    });
  });
});

/** The sample's two signers: one a quorum member, the other a stealer of a third member's slot. */
function attributionsFor(record: ExecutionRecord): RecordAttribution[] {
  const signers = [...new Set(record.signatures.map((s) => s.signer))].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
  return [
    { operator: signers[0]!, how: "quorum" },
    { operator: signers[1]!, how: "stolen", slotOf: "0x00000000000000000000000000000000000000A1" },
  ];
}
