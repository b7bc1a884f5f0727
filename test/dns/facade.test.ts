import { expect } from "chai";
import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { custom } from "viem";
import { ethers as E } from "ethers";
import { dnsConfigSchema, type DnsConfig } from "../../dns/config.ts";
import { startDnsFacade, type DnsFacade } from "../../dns/server.ts";
import {
  deployNameRegistry,
  eventually,
  queryTcp,
  queryUdp,
  question,
  rcodeOf,
  startFakeUpstream,
  texts,
  ttls,
  values,
} from "./helpers.ts";

const PROGRAM_ID = E.sha256(E.toUtf8Bytes("payout-splitter package"));
const HAS_DIG = spawnSync("sh", ["-c", "command -v dig"]).status === 0;

/** `dig @127.0.0.1 -p <port> <args>`: its stdout (run asynchronously: the server is in this process). */
async function dig(port: number, ...args: string[]): Promise<string> {
  const run = await promisify(execFile)("dig", ["@127.0.0.1", "-p", String(port), "+time=2", "+tries=1", ...args], {
    encoding: "utf8",
  }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? "" }));
  return run.stdout;
}

describe("versatus dns: the DNS facade on loopback, names from an in-process chain", function () {
  this.timeout(120_000);
  let connection: NetworkConnection;
  let names: Awaited<ReturnType<typeof deployNameRegistry>>;
  let upstream: Awaited<ReturnType<typeof startFakeUpstream>>;
  let facade: DnsFacade;
  const started: DnsFacade[] = [];

  const configFor = (overrides: Partial<Record<keyof DnsConfig, unknown>> = {}): DnsConfig =>
    dnsConfigSchema.parse({
      listen: { host: "127.0.0.1", port: 0 },
      chain: { chainId: 31337, rpcUrl: "http://127.0.0.1:1", nameRegistry: names.address },
      upstream: { host: "127.0.0.1", port: upstream.port, timeoutMs: 1_000 },
      ops: { logLevel: "silent" },
      watch: { enabled: true, pollIntervalMs: 100 },
      ...overrides,
    });
  const start = async (config: DnsConfig) => {
    const f = await startDnsFacade(config, { transport: custom(connection.provider) });
    started.push(f);
    return f;
  };
  const metric = async (f: DnsFacade, line: RegExp) => {
    const text = await (await fetch(`${f.opsUrl}/metrics`)).text();
    return Number(
      text
        .split("\n")
        .find((l) => line.test(l))
        ?.split(" ")
        .at(-1) ?? 0,
    );
  };

  before(async () => {
    connection = await network.create("chainA");
    names = await deployNameRegistry(connection);
    upstream = await startFakeUpstream();
    await names.register("hello.versatus");
    const r = names.registry;
    await (await r.setContent("hello.versatus", PROGRAM_ID, 1)).wait();
    await (await r.setAddresses("hello.versatus", ["0x7f000001"], ["0x20010db8000000000000000000000001"])).wait();
    await (await r.setText("hello.versatus", ["hello from global state"])).wait();
    await (await r.setEndpoints("hello.versatus", [{ service: "gateway", url: "http://127.0.0.1:8080" }])).wait();
    // a name whose TXT answer cannot fit in 512 bytes
    await names.register("big.versatus");
    await (
      await r.setText(
        "big.versatus",
        Array.from({ length: 8 }, (_, i) => `${i}`.repeat(200)),
      )
    ).wait();
    facade = await start(configFor());
  });

  after(async () => {
    for (const f of started) await f.close();
    await upstream?.close();
  });

  it("answers A, AAAA and TXT (with the dnslink of the content address) for a registered name, authoritatively", async () => {
    const a = (await queryUdp(facade.port, question("hello.versatus", "A")))!.packet;
    expect(rcodeOf(a)).to.equal("NOERROR");
    expect(a.flag_aa).to.equal(true);
    expect(a.id).to.equal(4242);
    expect(values(a)).to.deep.equal(["127.0.0.1"]);
    const aaaa = (await queryUdp(facade.port, question("hello.versatus", "AAAA")))!.packet;
    expect(values(aaaa)).to.deep.equal(["2001:db8::1"]);
    const txt = (await queryUdp(facade.port, question("hello.versatus", "TXT")))!.packet;
    expect(texts(txt)).to.deep.equal([
      `dnslink=/versatus/program/${PROGRAM_ID}`,
      "hello from global state",
      "endpoint=gateway http://127.0.0.1:8080",
    ]);
    const link = (await queryUdp(facade.port, question("_dnslink.hello.versatus", "TXT")))!.packet;
    expect(texts(link)).to.deep.equal([`dnslink=/versatus/program/${PROGRAM_ID}`]);
  });

  it("serves a repeated question from the node cache, not the chain", async () => {
    const fromChain = await metric(facade, /^versatus_dns_queries_total\{.*transport="udp".*source="chain"/);
    const fromCache = await metric(facade, /^versatus_dns_queries_total\{.*transport="udp".*source="cache"/);
    await queryUdp(facade.port, question("hello.versatus", "A"));
    expect(await metric(facade, /^versatus_dns_queries_total\{.*transport="udp".*source="chain"/)).to.equal(fromChain);
    expect(await metric(facade, /^versatus_dns_queries_total\{.*transport="udp".*source="cache"/)).to.equal(
      fromCache + 1,
    );
  });

  it("answers NXDOMAIN for unregistered names and sub-names under the suffix, without asking the upstream", async () => {
    const before = upstream.asked.length;
    for (const name of ["nobody.versatus", "www.hello.versatus", "bad_label.versatus"]) {
      const answer = (await queryUdp(facade.port, question(name)))!.packet;
      expect(rcodeOf(answer), name).to.equal("NXDOMAIN");
      expect(answer.flag_aa, name).to.equal(true);
    }
    expect(upstream.asked.length).to.equal(before);
  });

  it("forwards other names to the upstream resolver, then answers them from the cache", async () => {
    const first = (await queryUdp(facade.port, question("example.com", "A", 7)))!.packet;
    expect(first.id).to.equal(7);
    expect(rcodeOf(first)).to.equal("NOERROR");
    expect(values(first)).to.deep.equal(["93.184.216.34"]);
    expect(upstream.asked).to.include("example.com A");
    const asked = upstream.asked.length;
    const second = (await queryUdp(facade.port, question("EXAMPLE.com", "A", 8)))!.packet;
    expect(second.id).to.equal(8);
    expect(values(second)).to.deep.equal(["93.184.216.34"]);
    expect(upstream.asked.length).to.equal(asked);
  });

  it("answers SERVFAIL when the upstream does not answer, and REFUSED for other names without an upstream", async () => {
    const silent = await start(configFor({ upstream: { host: "127.0.0.1", port: 9, timeoutMs: 200 } }));
    expect(rcodeOf((await queryUdp(silent.port, question("example.org")))!.packet)).to.equal("SERVFAIL");
    const noUpstream = await start(configFor({ upstream: undefined }));
    expect(rcodeOf((await queryUdp(noUpstream.port, question("example.org")))!.packet)).to.equal("REFUSED");
    // names in global state still resolve
    expect(rcodeOf((await queryUdp(noUpstream.port, question("hello.versatus")))!.packet)).to.equal("NOERROR");
  });

  it("answers a malformed message FORMERR with its id, drops one without a header, and keeps serving", async () => {
    // a header claiming one question, followed by a label that runs past the end
    const garbage = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x3f, 0x61, 0x62]);
    const formerr = (await queryUdp(facade.port, garbage))!.packet;
    expect(formerr.id).to.equal(0x1234);
    expect(rcodeOf(formerr)).to.equal("FORMERR");
    expect(await queryUdp(facade.port, Buffer.from([1, 2, 3, 4, 5]), 300)).to.equal(undefined);
    const overTcp = await queryTcp(facade.port, garbage);
    expect(rcodeOf(overTcp)).to.equal("FORMERR");
    // two questions in one query is a format error too
    const two = (await queryUdp(facade.port, {
      id: 9,
      questions: [
        { type: "A", name: "hello.versatus" },
        { type: "A", name: "big.versatus" },
      ],
    }))!.packet;
    expect(rcodeOf(two)).to.equal("FORMERR");
    expect(await metric(facade, /^versatus_dns_malformed_total/)).to.be.at.least(3);
    const still = (await queryUdp(facade.port, question("hello.versatus")))!.packet;
    expect(rcodeOf(still)).to.equal("NOERROR");
  });

  it("sets TC on a UDP answer over 512 bytes (or the EDNS size) and serves the full answer over TCP", async () => {
    const udp = (await queryUdp(facade.port, question("big.versatus", "TXT")))!;
    expect(udp.raw.length).to.be.at.most(512);
    expect(udp.packet.flag_tc).to.equal(true);
    expect(udp.packet.answers).to.have.length(0);
    const tcp = await queryTcp(facade.port, question("big.versatus", "TXT"));
    expect(tcp.flag_tc).to.equal(false);
    expect(texts(tcp)).to.deep.equal(Array.from({ length: 8 }, (_, i) => `${i}`.repeat(200)));
    // a client that says (EDNS) it takes 4096 bytes over UDP gets it all over UDP
    const edns = (await queryUdp(facade.port, {
      ...question("big.versatus", "TXT"),
      additionals: [{ type: "OPT", name: ".", udpPayloadSize: 4096 } as never],
    }))!;
    expect(edns.packet.flag_tc).to.equal(false);
    expect(texts(edns.packet)).to.have.length(8);
    // one that says 1232 gets TC again (the answer is ~1.8 kB)
    const small = (await queryUdp(facade.port, {
      ...question("big.versatus", "TXT"),
      additionals: [{ type: "OPT", name: ".", udpPayloadSize: 1232 } as never],
    }))!;
    expect(small.packet.flag_tc).to.equal(true);
    expect(small.raw.length).to.be.at.most(1232);
    expect(await metric(facade, /^versatus_dns_truncated_total/)).to.be.at.least(2);
  });

  it("drops a changed name from the cache when the registry's event arrives (well before its TTL)", async () => {
    await names.register("moving.versatus");
    await (await names.registry.setText("moving.versatus", ["v1"])).wait();
    expect(texts((await queryUdp(facade.port, question("moving.versatus", "TXT")))!.packet)).to.deep.equal(["v1"]);
    await (await names.registry.setText("moving.versatus", ["v2"])).wait();
    // TTL is 60 s: only the event can make this change visible within 5 s
    const seen = await eventually(
      async () => texts((await queryUdp(facade.port, question("moving.versatus", "TXT")))!.packet).join() === "v2",
      5_000,
    );
    expect(seen).to.equal(true);
    expect(await metric(facade, /^versatus_dns_cache_invalidations_total/)).to.be.at.least(1);
  });

  it("without the event watch, serves the cached record until its TTL passes, then the new one", async () => {
    const ttlOnly = await start(configFor({ ttlS: 1, negativeTtlS: 1, watch: { enabled: false } }));
    await names.register("ttl.versatus");
    await (await names.registry.setText("ttl.versatus", ["old"])).wait();
    const first = (await queryUdp(ttlOnly.port, question("ttl.versatus", "TXT")))!.packet;
    expect(texts(first)).to.deep.equal(["old"]);
    expect(ttls(first)).to.deep.equal([1]);
    await (await names.registry.setText("ttl.versatus", ["new"])).wait();
    expect(texts((await queryUdp(ttlOnly.port, question("ttl.versatus", "TXT")))!.packet)).to.deep.equal(["old"]);
    await new Promise((r) => setTimeout(r, 1_100));
    expect(texts((await queryUdp(ttlOnly.port, question("ttl.versatus", "TXT")))!.packet)).to.deep.equal(["new"]);
  });

  it("reports its health and the chain dependency on /healthz", async () => {
    const res = await fetch(`${facade.opsUrl}/healthz`);
    const body = (await res.json()) as { ok: boolean; suffix: string; dependencies: { chain: { ok: boolean } } };
    expect(res.status).to.equal(200);
    expect(body.suffix).to.equal("versatus");
    expect(body.dependencies.chain.ok).to.equal(true);
  });

  describe("with dig", function () {
    before(function () {
      if (!HAS_DIG) {
        console.log("    (skipped: dig is not installed; `apt-get install dnsutils`, as .ci/run does)");
        this.skip();
      }
    });

    it("dig gets the TXT (dnslink) and A of a name in global state", async () => {
      const txt = await dig(facade.port, "hello.versatus", "TXT", "+short");
      expect(txt).to.contain(`"dnslink=/versatus/program/${PROGRAM_ID}"`);
      expect(txt).to.contain('"hello from global state"');
      expect((await dig(facade.port, "hello.versatus", "A", "+short")).trim()).to.equal("127.0.0.1");
      expect((await dig(facade.port, "hello.versatus", "AAAA", "+short", "+tcp")).trim()).to.equal("2001:db8::1");
    });

    it("dig falls back to the upstream for other names and sees NXDOMAIN for unregistered ones", async () => {
      expect((await dig(facade.port, "fallback.example.net", "A", "+short")).trim()).to.equal("93.184.216.34");
      expect(await dig(facade.port, "nobody.versatus", "A")).to.match(/status: NXDOMAIN/);
    });

    it("dig sees TC over UDP and then gets the full answer by retrying over TCP", async () => {
      const truncated = await dig(facade.port, "big.versatus", "TXT", "+noedns", "+ignore");
      expect(truncated).to.match(/flags: qr aa[^;]* tc/);
      const full = await dig(facade.port, "big.versatus", "TXT", "+noedns");
      expect(full).to.match(/Truncated, retrying in TCP mode/);
      expect(full).to.match(/ANSWER: 8/);
    });
  });
});
