import { expect } from "chai";
import { bytesToHex } from "viem";
import { CelestiaLayer } from "../../da/celestia/adapter.ts";
import { createCommitment } from "../../da/celestia/commitment.ts";
import { parseNamespace } from "../../da/celestia/namespace.ts";
import { CelestiaRpcError } from "../../da/celestia/rpc.ts";
import { DaClient } from "../../da/client.ts";
import {
  DaError,
  HeightFromFutureError,
  IntegrityError,
  RecordNotFoundError,
  RecordTooLargeError,
} from "../../da/errors.ts";
import { encodeRecord, recordBodyHash, recordToJson } from "../../protocol/record.ts";
import { startFakeCelestiaNode, type FakeCelestiaNode } from "../fakes/celestiaNode.ts";
import { sampleRecord } from "../fakes/records.ts";
import { rejection } from "./helpers.ts";

const namespace = parseNamespace("0x7665727361747573");
const writeToken = "write-token";

describe("da/celestia adapter against a fake celestia-node", () => {
  let node: FakeCelestiaNode;
  let layer: CelestiaLayer;
  const makeLayer = (overrides: Partial<ConstructorParameters<typeof CelestiaLayer>[0]> = {}) =>
    new CelestiaLayer({ url: node.url, authToken: writeToken, namespace, retryDelayMs: 1, ...overrides });

  beforeEach(async () => {
    node = await startFakeCelestiaNode({ writeToken, readToken: "read-token", startHeight: 10 });
    layer = makeLayer();
  });
  afterEach(async () => node.close());

  it("submits a record and points at its height and locally computed share commitment", async () => {
    const bytes = encodeRecord(sampleRecord());
    const pointer = await layer.put(bytes);
    expect(pointer).to.deep.equal({
      kind: "celestia",
      height: 11n,
      commitment: bytesToHex(createCommitment({ namespace, data: bytes, shareVersion: 0 })),
    });
    expect(bytesToHex(await layer.get(pointer))).to.equal(bytesToHex(bytes));
  });

  it("round-trips a record through DaClient and proves inclusion with blob.GetProof + blob.Included", async () => {
    const da = new DaClient({ primary: layer });
    const record = sampleRecord(3, 5000); // multi-share blob
    const put = await da.put(record);
    expect(put.pointerHex.slice(0, 4)).to.equal("0x01");
    expect(recordToJson(await da.get(put.pointerHex))).to.deep.equal(recordToJson(record));
    const verified = await da.verify(put.pointerHex, recordBodyHash(record.body));
    expect(verified).to.include({ available: true, inclusionProven: true, bodyHashMatches: true });
  });

  it("lists the namespace's blobs at a height with blob.GetAll, and nothing at an empty height", async () => {
    const bytes = encodeRecord(sampleRecord());
    const pointer = await layer.put(bytes);
    const all = await layer.getAll((pointer as { height: bigint }).height);
    expect(all.map((b) => bytesToHex(b.data))).to.deep.equal([bytesToHex(bytes)]);
    expect(await layer.getAll(5n)).to.deep.equal([]);
  });

  it("maps the node's 'blob: not found' to RecordNotFoundError", async () => {
    const error = await rejection(layer.get({ kind: "celestia", height: 5n, commitment: `0x${"11".repeat(32)}` }));
    expect(error).to.be.instanceOf(RecordNotFoundError);
  });

  it("maps 'given height is from the future' to a transient HeightFromFutureError", async () => {
    const error = await rejection(layer.get({ kind: "celestia", height: 1000n, commitment: `0x${"11".repeat(32)}` }));
    expect(error).to.be.instanceOf(HeightFromFutureError);
    expect((error as HeightFromFutureError).permanent).to.equal(false);
    expect(error.message).to.match(/1000.*head is 10/);
  });

  it("waits for a lagging light node to sync the height before checking what it stored", async () => {
    node.failNextReadsWithHeightFromFuture(2);
    const bytes = encodeRecord(sampleRecord());
    const pointer = await layer.put(bytes);
    expect(bytesToHex(await layer.get(pointer))).to.equal(bytesToHex(bytes));
    expect(node.submits.accepted).to.equal(1);
  });

  it("retries a submit that hit an account sequence mismatch", async () => {
    node.failNextSubmitsWithSequenceMismatch(2);
    const pointer = await layer.put(encodeRecord(sampleRecord()));
    expect(node.submits).to.include({ accepted: 1, rejectedSequence: 2 });
    expect(pointer.kind).to.equal("celestia");
  });

  it("gives up after the configured number of sequence-mismatch retries with the node's message", async () => {
    node.failNextSubmitsWithSequenceMismatch(10);
    const error = await rejection(makeLayer({ submitRetries: 2 }).put(encodeRecord(sampleRecord())));
    expect(error).to.be.instanceOf(CelestiaRpcError);
    expect(error.message).to.match(/account sequence mismatch/);
    expect(node.submits.rejectedSequence).to.equal(3);
  });

  it("serializes concurrent submits so they never race for the account sequence", async () => {
    await node.close();
    node = await startFakeCelestiaNode({ writeToken, submitLatencyMs: 20, startHeight: 10 });
    layer = makeLayer();
    const pointers = await Promise.all([1, 2, 3, 4].map((i) => layer.put(encodeRecord(sampleRecord(i)))));
    expect(node.submits).to.include({ accepted: 4, rejectedSequence: 0, maxConcurrent: 1 });
    expect(pointers.map((p) => (p as { height: bigint }).height)).to.deep.equal([11n, 12n, 13n, 14n]);
  });

  it("fails when the node's commitment differs from the one computed locally", async () => {
    node.lieAboutCommitments(true);
    const error = await rejection(layer.put(encodeRecord(sampleRecord())));
    expect(error).to.be.instanceOf(IntegrityError);
    expect(error.message).to.match(/computed share commitment/);
  });

  it("rejects data whose commitment does not match the pointer on read", async () => {
    const pointer = await layer.put(encodeRecord(sampleRecord()));
    node.corruptBlob(Number((pointer as { height: bigint }).height), Buffer.from("not the record"));
    expect(await rejection(layer.get(pointer))).to.be.instanceOf(IntegrityError);
  });

  it("checks the size limit before sending anything", async () => {
    const small = makeLayer({ maxRecordBytes: 100 });
    const error = await rejection(small.put(encodeRecord(sampleRecord())));
    expect(error).to.be.instanceOf(RecordTooLargeError);
    expect(error.message).to.match(/limit is 100 bytes/);
    expect(node.submits.accepted + node.submits.rejectedSequence).to.equal(0);
  });

  it("reports a rejected token as a permanent error without printing it", async () => {
    const error = await rejection(makeLayer({ authToken: "wrong" }).put(encodeRecord(sampleRecord())));
    expect(error).to.be.instanceOf(DaError);
    expect(error.message).to.match(/rejected the auth token \(HTTP 401\)/);
    expect(error.message).to.not.include("wrong");
  });

  it("needs a write token to submit; a read token can still get", async () => {
    const pointer = await layer.put(encodeRecord(sampleRecord()));
    const reader = makeLayer({ authToken: "read-token" });
    expect((await reader.get(pointer)).length).to.be.greaterThan(0);
    const error = await rejection(reader.put(encodeRecord(sampleRecord(2))));
    expect(error.message).to.match(/missing permission to invoke 'blob.Submit' \(need 'write'\)/);
  });

  it("reports an unreachable node as a failover-able DaUnavailableError", async () => {
    await node.close();
    const error = await rejection(layer.put(encodeRecord(sampleRecord())));
    expect(error).to.be.instanceOf(DaError);
    expect((error as DaError).failover).to.equal(true);
    expect(error.message).to.match(/unreachable/);
  });
});
