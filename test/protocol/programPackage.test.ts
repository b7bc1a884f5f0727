import { expect } from "chai";
import { InvalidInputError } from "../../protocol/errors.ts";
import {
  canonicalManifest,
  decodePackage,
  DEFAULT_LIMITS,
  encodePackage,
  parseManifest,
  programIdOf,
} from "../../protocol/programPackage.ts";

const manifest = { name: "splitter", version: "1.2.3", module: "build/splitter.wasm", limits: { fuel: 1000 } };
const module = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);

function fieldOf(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    expect(error).to.be.instanceOf(InvalidInputError);
    return (error as InvalidInputError).field;
  }
  expect.fail("accepted");
}

describe("protocol/programPackage", () => {
  it("fills every limit with its default in the canonical manifest, dropping build details", () => {
    const canonical = canonicalManifest(
      parseManifest({ ...manifest, description: "x", build: { language: "c", sources: ["a.c"] } }),
    );
    expect(canonical).to.deep.equal({ name: "splitter", version: "1.2.3", limits: { ...DEFAULT_LIMITS, fuel: 1000 } });
  });

  it("encodes VPKG | version | manifest | module, and programId is the sha256 of those bytes", () => {
    const pkg = encodePackage(canonicalManifest(parseManifest(manifest)), module);
    expect(new TextDecoder().decode(pkg.bytes.subarray(0, 4))).to.equal("VPKG");
    expect(pkg.bytes[4]).to.equal(1);
    const manifestText =
      '{"limits":{"fuel":1000,"memoryPages":256,"outputBytes":65536,"wallTimeMs":2000},"name":"splitter","version":"1.2.3"}';
    expect(new TextDecoder().decode(pkg.bytes.subarray(9, 9 + manifestText.length))).to.equal(manifestText);
    expect(pkg.programId).to.equal(programIdOf(pkg.bytes));
    expect(pkg.programId).to.match(/^0x[0-9a-f]{64}$/);
  });

  it("gives the same programId whatever the key order, paths or build settings of the manifest", () => {
    const a = encodePackage(canonicalManifest(parseManifest(manifest)), module);
    const b = encodePackage(
      canonicalManifest(
        parseManifest({ limits: { fuel: 1000 }, module: "other.wasm", version: "1.2.3", name: "splitter" }),
      ),
      module,
    );
    expect(a.programId).to.equal(b.programId);
  });

  it("changes the programId with the code, the version or a limit", () => {
    const base = encodePackage(canonicalManifest(parseManifest(manifest)), module).programId;
    expect(
      encodePackage(canonicalManifest(parseManifest(manifest)), Uint8Array.from([...module, 0])).programId,
    ).to.not.equal(base);
    expect(
      encodePackage(canonicalManifest(parseManifest({ ...manifest, version: "1.2.4" })), module).programId,
    ).to.not.equal(base);
    expect(
      encodePackage(canonicalManifest(parseManifest({ ...manifest, limits: { fuel: 1001 } })), module).programId,
    ).to.not.equal(base);
  });

  it("decodes its own bytes and verifies an expected programId", () => {
    const pkg = encodePackage(canonicalManifest(parseManifest(manifest)), module);
    const decoded = decodePackage(pkg.bytes, pkg.programId);
    expect(decoded.manifest).to.deep.equal(pkg.manifest);
    expect([...decoded.module]).to.deep.equal([...module]);
    expect(() => decodePackage(pkg.bytes, `0x${"00".repeat(32)}`)).to.throw(InvalidInputError, "programId");
  });

  it("refuses packages that are truncated, padded or not canonical", () => {
    const pkg = encodePackage(canonicalManifest(parseManifest(manifest)), module);
    expect(() => decodePackage(pkg.bytes.subarray(0, pkg.bytes.length - 1))).to.throw(InvalidInputError);
    expect(() => decodePackage(Uint8Array.from([...pkg.bytes, 0]))).to.throw(InvalidInputError);
    const spaced = new TextEncoder().encode('{"name": "splitter"}');
    const bytes = new Uint8Array(13 + spaced.length + module.length);
    bytes.set(pkg.bytes.subarray(0, 5));
    new DataView(bytes.buffer).setUint32(5, spaced.length);
    bytes.set(spaced, 9);
    new DataView(bytes.buffer).setUint32(9 + spaced.length, module.length);
    bytes.set(module, 13 + spaced.length);
    expect(() => decodePackage(bytes)).to.throw(InvalidInputError);
  });

  describe("manifest validation names the field", () => {
    const cases: Array<[string, unknown, string]> = [
      ["a bad name", { ...manifest, name: "My Program" }, "versatus.json: name"],
      ["a bad version", { ...manifest, version: "v1" }, "versatus.json: version"],
      ["a fuel limit over the cap", { ...manifest, limits: { fuel: 1e12 } }, "versatus.json: limits.fuel"],
      ["a negative memory limit", { ...manifest, limits: { memoryPages: -1 } }, "versatus.json: limits.memoryPages"],
      ["an unknown limit", { ...manifest, limits: { cpus: 2 } }, "versatus.json: limits.cpus"],
      ["an unknown field", { ...manifest, entry: "main" }, "versatus.json: entry"],
      ["a missing module", { name: "x", version: "1.0.0" }, "versatus.json: module"],
      [
        "an unknown language",
        { ...manifest, build: { language: "cobol", sources: ["a.cob"] } },
        "versatus.json: build.language",
      ],
    ];
    for (const [what, json, field] of cases) it(what, () => expect(fieldOf(() => parseManifest(json))).to.equal(field));
  });
});
