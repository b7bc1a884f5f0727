import { expect } from "chai";
import { bytesToHex } from "viem";
import { EigenDaLayer } from "../../da/eigenda.ts";
import {
  CertificateRejectedError,
  DaUnavailableError,
  RecordNotFoundError,
  RecordTooLargeError,
} from "../../da/errors.ts";
import { encodeRecord } from "../../protocol/record.ts";
import { startFakeEigenDaProxy, type FakeEigenDaProxy } from "../fakes/eigendaProxy.ts";
import { sampleRecord } from "../fakes/records.ts";
import { rejection } from "./helpers.ts";

describe("da/eigenda adapter against a fake eigenda-proxy", () => {
  let proxy: FakeEigenDaProxy;
  let layer: EigenDaLayer;
  beforeEach(async () => {
    proxy = await startFakeEigenDaProxy();
    layer = new EigenDaLayer({ url: proxy.url });
  });
  afterEach(async () => proxy.close());

  it("keeps the proxy's certificate as the pointer and reads the payload back with it", async () => {
    const bytes = encodeRecord(sampleRecord());
    const pointer = await layer.put(bytes);
    expect(pointer.kind).to.equal("eigenda");
    expect((pointer as { certificate: string }).certificate.slice(0, 4)).to.equal("0x01");
    expect(bytesToHex(await layer.get(pointer))).to.equal(bytesToHex(bytes));
  });

  it("treats 503 on put as the failover signal", async () => {
    proxy.failNextPuts(503);
    const error = await rejection(layer.put(encodeRecord(sampleRecord())));
    expect(error).to.be.instanceOf(DaUnavailableError);
    expect((error as DaUnavailableError).failover).to.equal(true);
    expect(error.message).to.match(/signalled failover \(HTTP 503\)/);
  });

  it("treats 418 on get as a certificate to drop (permanent, clear message)", async () => {
    const pointer = await layer.put(encodeRecord(sampleRecord()));
    proxy.invalidateCertificate((pointer as { certificate: string }).certificate);
    const error = await rejection(layer.get(pointer));
    expect(error).to.be.instanceOf(CertificateRejectedError);
    expect((error as CertificateRejectedError).permanent).to.equal(true);
    expect(error.message).to.match(/certificate is invalid \(HTTP 418\): drop this pointer/);
  });

  it("reports an unknown certificate as RecordNotFoundError", async () => {
    const error = await rejection(layer.get({ kind: "eigenda", certificate: "0x01deadbeef" }));
    expect(error).to.be.instanceOf(RecordNotFoundError);
  });

  it("treats a 500 on get as transient", async () => {
    const pointer = await layer.put(encodeRecord(sampleRecord()));
    proxy.failNextGets(500);
    expect(await rejection(layer.get(pointer))).to.be.instanceOf(DaUnavailableError);
    expect((await layer.get(pointer)).length).to.be.greaterThan(0);
  });

  it("checks the size limit before sending anything", async () => {
    const small = new EigenDaLayer({ url: proxy.url, maxRecordBytes: 64 });
    expect(await rejection(small.put(encodeRecord(sampleRecord())))).to.be.instanceOf(RecordTooLargeError);
    expect(proxy.requests.puts).to.equal(0);
  });

  it("still works when the proxy is slow (injected latency)", async () => {
    proxy.setLatency(30);
    const bytes = encodeRecord(sampleRecord());
    expect(bytesToHex(await layer.get(await layer.put(bytes)))).to.equal(bytesToHex(bytes));
  });

  it("fails over (DaUnavailableError) when the proxy does not answer in time", async () => {
    proxy.setLatency(1_000);
    const impatient = new EigenDaLayer({ url: proxy.url, putTimeoutMs: 50 });
    expect(await rejection(impatient.put(encodeRecord(sampleRecord())))).to.be.instanceOf(DaUnavailableError);
  });
});
