import { expect } from "chai";
import {
  canonicalManifest,
  decodePackage,
  encodePackage,
  parseManifest,
  type Manifest,
} from "../../protocol/programPackage.ts";
import { InvalidInputError } from "../../protocol/errors.ts";
import { ENGINE_ID } from "../../runtime/js/engine.ts";

describe("programs: the engine field of JavaScript packages", () => {
  const base = { name: "js-prog", version: "1.0.0", module: "build/js-prog.js", engine: ENGINE_ID };
  const script = new TextEncoder().encode("versatus.output({ actions: [] });");

  it("puts the engine in the canonical manifest, so in the programId", () => {
    const pkg = encodePackage(canonicalManifest(parseManifest(base)), script);
    expect(new TextDecoder().decode(pkg.bytes)).to.contain(`"engine":"${ENGINE_ID}"`);
    const decoded = decodePackage(pkg.bytes, pkg.programId);
    expect(decoded.manifest.engine).to.equal(ENGINE_ID);
    const other = `quickjs-0.32.1@sha256:${"a".repeat(64)}`;
    const otherPkg = encodePackage(canonicalManifest(parseManifest({ ...base, engine: other })), script);
    expect(otherPkg.programId).to.not.equal(pkg.programId);
  });

  it("leaves WebAssembly packages (no engine) byte-identical to before", () => {
    const manifest: Manifest = parseManifest({ name: "w", version: "1.0.0", module: "w.wasm" });
    const pkg = encodePackage(canonicalManifest(manifest), new Uint8Array([0, 97, 115, 109]));
    expect(new TextDecoder().decode(pkg.bytes)).to.not.contain("engine");
  });

  it("refuses a .js module without an engine and a malformed engine id", () => {
    expect(() => parseManifest({ ...base, engine: undefined })).to.throw(InvalidInputError, /engine/);
    expect(() => parseManifest({ ...base, engine: "quickjs" })).to.throw(InvalidInputError, /engine/);
  });
});
