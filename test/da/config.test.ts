import { expect } from "chai";
import { createDaClient, parseDaConfig } from "../../da/index.ts";
import { InvalidInputError } from "../../protocol/errors.ts";

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(InvalidInputError);
    return (error as InvalidInputError).field;
  }
  return expect.fail("expected an InvalidInputError");
}

describe("da config", () => {
  it("defaults to the embedded local store under .versatus/da", () => {
    const config = parseDaConfig({});
    expect(config.primary).to.deep.include({ layer: "local", dir: ".versatus/da" });
    expect(config.fallback).to.equal(undefined);
  });

  it("fills layer defaults (size limits, timeouts)", () => {
    const config = parseDaConfig({
      primary: { layer: "celestia", url: "http://127.0.0.1:26658", namespace: "0x0101" },
    });
    expect(config.primary).to.include({ maxRecordBytes: 1_973_786, submitRetries: 5 });
  });

  it("names the field that is wrong", () => {
    expect(
      fieldOf(() => parseDaConfig({ primary: { layer: "celestia", url: "not a url", namespace: "0x0101" } })),
    ).to.equal("da.primary.url");
    expect(
      fieldOf(() => parseDaConfig({ primary: { layer: "celestia", url: "http://x", namespace: "0x00" } })),
    ).to.equal("da.primary.namespace");
    expect(fieldOf(() => parseDaConfig({ primary: { layer: "s3" } }))).to.equal("da.primary.layer");
    expect(fieldOf(() => parseDaConfig({ primary: { layer: "local", maxRecordBytes: -1 } }))).to.equal(
      "da.primary.maxRecordBytes",
    );
    expect(fieldOf(() => parseDaConfig({ primary: { layer: "local" }, fallback: { layer: "local" } }))).to.equal(
      "da.fallback.layer",
    );
    expect(fieldOf(() => parseDaConfig({ read: [{ layer: "eigenda", url: "ftp://x" }] }))).to.equal("da.read.0.url");
    expect(fieldOf(() => parseDaConfig({ primary: { layer: "local", typo: 1 } }))).to.equal("da.primary");
  });

  it("builds a client for each of the three layers", async () => {
    for (const primary of [
      { layer: "local", dir: "/tmp/versatus-da-config-test" },
      { layer: "celestia", url: "http://127.0.0.1:26658", namespace: "0x7665727361747573", authToken: "t" },
      { layer: "eigenda", url: "http://127.0.0.1:3100" },
    ]) {
      const da = createDaClient({ primary });
      expect(da.primary.kind).to.equal(primary.layer);
      await da.close();
    }
  });
});
