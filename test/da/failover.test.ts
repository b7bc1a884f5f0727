import { expect } from "chai";
import { CelestiaLayer } from "../../da/celestia/adapter.ts";
import { parseNamespace } from "../../da/celestia/namespace.ts";
import { DaClient } from "../../da/client.ts";
import { EigenDaLayer } from "../../da/eigenda.ts";
import { DaError, DaWriteFailedError, RecordTooLargeError } from "../../da/errors.ts";
import { createDaClient } from "../../da/index.ts";
import { LocalStore } from "../../da/local.ts";
import { recordBodyHash, recordToJson } from "../../protocol/record.ts";
import { startFakeCelestiaNode, type FakeCelestiaNode } from "../fakes/celestiaNode.ts";
import { startFakeEigenDaProxy, type FakeEigenDaProxy } from "../fakes/eigendaProxy.ts";
import { sampleRecord } from "../fakes/records.ts";
import { rejection, tempDir } from "./helpers.ts";

describe("da failover: primary + fallback, readers follow the pointer", () => {
  let proxy: FakeEigenDaProxy;
  let node: FakeCelestiaNode;
  let dir: string;
  let cleanup: () => Promise<void>;
  const namespace = parseNamespace("0x7665727361747573");

  beforeEach(async () => {
    proxy = await startFakeEigenDaProxy();
    node = await startFakeCelestiaNode({ startHeight: 1 });
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await Promise.all([proxy.close(), node.close()]);
    await cleanup();
  });

  it("writes to the primary when it is healthy", async () => {
    const da = new DaClient({ primary: new EigenDaLayer({ url: proxy.url }), fallback: new LocalStore({ dir }) });
    const put = await da.put(sampleRecord());
    expect(put).to.include({ layer: "eigenda", failedOver: false });
    expect(put.pointerHex.slice(0, 4)).to.equal("0x02");
  });

  it("fails over to the fallback on EigenDA's 503, and the pointer's kind byte names the fallback", async () => {
    proxy.failNextPuts(503);
    const da = new DaClient({ primary: new EigenDaLayer({ url: proxy.url }), fallback: new LocalStore({ dir }) });
    const put = await da.put(sampleRecord());
    expect(put).to.include({ layer: "local", failedOver: true });
    expect(put.pointerHex.slice(0, 4)).to.equal("0x00");
    expect(recordToJson(await da.get(put.pointerHex))).to.deep.equal(recordToJson(sampleRecord()));
  });

  it("fails over when the Celestia node is down", async () => {
    await node.close();
    const da = new DaClient({
      primary: new CelestiaLayer({ url: node.url, namespace }),
      fallback: new EigenDaLayer({ url: proxy.url }),
    });
    const put = await da.put(sampleRecord());
    expect(put).to.include({ layer: "eigenda", failedOver: true });
  });

  it("fails over when the record is too large for the primary, without sending it there", async () => {
    const da = new DaClient({
      primary: new CelestiaLayer({ url: node.url, namespace, maxRecordBytes: 200 }),
      fallback: new EigenDaLayer({ url: proxy.url }),
    });
    const put = await da.put(sampleRecord());
    expect(put.layer).to.equal("eigenda");
    expect(node.submits.accepted).to.equal(0);
  });

  it("reports a too-large record clearly when there is no fallback", async () => {
    const da = new DaClient({ primary: new EigenDaLayer({ url: proxy.url, maxRecordBytes: 10 }) });
    const error = await rejection(da.put(sampleRecord()));
    expect(error).to.be.instanceOf(RecordTooLargeError);
    expect(error.message).to.match(/Record too large for eigenda: \d+ bytes, the limit is 10 bytes/);
    expect(proxy.requests.puts).to.equal(0);
  });

  it("reports both causes when primary and fallback fail", async () => {
    proxy.failNextPuts(503);
    await node.close();
    const da = new DaClient({
      primary: new EigenDaLayer({ url: proxy.url }),
      fallback: new CelestiaLayer({ url: node.url, namespace }),
    });
    const error = await rejection(da.put(sampleRecord()));
    expect(error).to.be.instanceOf(DaWriteFailedError);
    expect((error as DaWriteFailedError).causes).to.have.length(2);
    expect(error.message).to.match(/503.*;.*unreachable/);
  });

  it("lets a reader with a different primary follow pointers of every configured kind", async () => {
    const writerA = new DaClient({ primary: new CelestiaLayer({ url: node.url, namespace }) });
    const writerB = new DaClient({ primary: new EigenDaLayer({ url: proxy.url }) });
    const a = await writerA.put(sampleRecord(1));
    const b = await writerB.put(sampleRecord(2));
    const reader = createDaClient({
      primary: { layer: "local", dir },
      read: [
        { layer: "celestia", url: node.url, namespace: "0x7665727361747573" },
        { layer: "eigenda", url: proxy.url },
      ],
    });
    expect(recordToJson(await reader.get(a.pointerHex))).to.deep.equal(recordToJson(sampleRecord(1)));
    expect(recordToJson(await reader.get(b.pointerHex))).to.deep.equal(recordToJson(sampleRecord(2)));
    await reader.close();
    await reader.close(); // safe twice
  });

  it("says which layer is missing when a pointer names one the reader has not configured", async () => {
    const writer = new DaClient({ primary: new EigenDaLayer({ url: proxy.url }) });
    const { pointerHex } = await writer.put(sampleRecord());
    const reader = new DaClient({ primary: new LocalStore({ dir }) });
    const error = await rejection(reader.get(pointerHex));
    expect(error).to.be.instanceOf(DaError);
    expect(error.message).to.match(/No eigenda layer is configured/);
  });

  it("verify reports availability and bodyHash match, and unavailability without throwing", async () => {
    const da = new DaClient({ primary: new EigenDaLayer({ url: proxy.url }), fallback: new LocalStore({ dir }) });
    const put = await da.put(sampleRecord());
    expect(await da.verify(put.pointerHex, recordBodyHash(sampleRecord().body))).to.include({
      available: true,
      bodyHashMatches: true,
    });
    expect(await da.verify(put.pointerHex, recordBodyHash(sampleRecord(9).body))).to.include({
      available: true,
      bodyHashMatches: false,
    });
    proxy.invalidateCertificate(put.pointerHex.replace(/^0x02/, "0x"));
    const dropped = await da.verify(put.pointerHex);
    expect(dropped.available).to.equal(false);
    expect(dropped.error).to.match(/HTTP 418/);
  });
});
