import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zeroAddress } from "viem";
import type { OperatorNode } from "../../cli/node/index.ts";
import { explorerNodeUrls } from "../../explorer/command.ts";
import type { NodeView } from "../../explorer/nodes.ts";
import { startExplorer, type ExplorerHandle, type StartExplorerOptions } from "../../explorer/server.ts";
import { createNodeWorld, type NodeWorld } from "../node/helpers.ts";
import { deadOpsUrl, startFakeOps, startPersistingOps, startScaledNode } from "./nodes.ts";

type NetworkAnswer = { readAt: number; nodes: NodeView[] };

/** The explorer's GET /api/network over real node ops servers, and over nodes that fail in every way one can. */
describe("explorer GET /api/network: operator nodes' auto-scaling and content (a real node, misbehaving ones)", function () {
  this.timeout(120_000);
  const dist = mkdtempSync(join(tmpdir(), "versatus-explorer-dist-"));
  writeFileSync(join(dist, "index.html"), "<!doctype html><title>page</title>");
  // the Network page needs no chain: one that is never read
  const chains = [{ name: "x", chainId: 1, oracle: zeroAddress, ingestor: zeroAddress, rpcUrl: "http://127.0.0.1:1" }];
  let world: NodeWorld;
  let scaled: { node: OperatorNode; url: string; programId: string };
  const closers: (() => Promise<void>)[] = [];

  const explorerWith = async (options: Partial<StartExplorerOptions>): Promise<ExplorerHandle> => {
    const explorer = await startExplorer({ chains, distDir: dist, ...options });
    closers.push(() => explorer.close());
    return explorer;
  };
  const network = (explorer: ExplorerHandle) =>
    fetch(`${explorer.url}api/network`).then((r) => r.json() as Promise<NetworkAnswer>);

  before(async () => {
    world = await createNodeWorld();
    scaled = await startScaledNode(world);
  });
  after(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => {});
    await world?.close();
  });

  it("shows a real node's quorums, latency, fee quote and add/drop history from its ops server", async () => {
    const explorer = await explorerWith({ nodes: [scaled.url] });
    const [node] = (await network(explorer)).nodes;
    if (!node?.ok) throw new Error(`node not read: ${JSON.stringify(node)}`);
    expect(node.url).to.equal(scaled.url);
    expect(node.operator).to.equal(scaled.node.operator);
    expect(node.roles).to.deep.equal(["compute"]);
    expect(node.content).to.equal(null); // no persist or gateway role
    const { autoscale } = node;
    expect(autoscale.maxQuorums).to.equal(2);
    expect(autoscale.programs).to.deep.equal([
      {
        programId: scaled.programId.toLowerCase(),
        quorums: 2,
        slowStreak: 0,
        fastStreak: 0,
        quoteBps: 15_000,
        latency: { samples: 100, lastMs: 20_000, meanMs: 20_000, maxMs: 20_000 },
      },
    ]);
    expect(autoscale.events.map((e) => `${e.kind} ${e.fromQuorums}->${e.quorums}`)).to.deep.equal([
      "add 1->2",
      "drop 2->1",
      "add 1->2",
    ]);
    expect(autoscale.events[1]!.reason).to.equal(
      "1,000 consecutive requests started in < 50 ms: the farthest quorum dropped",
    );
    // the same as the node's own GET /network says
    const own = (await fetch(`${scaled.url}/network`).then((r) => r.json())) as { autoscale: unknown };
    expect(own.autoscale).to.deep.equal(autoscale);
  });

  it("shows a node that refuses or does not answer in time as unreachable with the reason, and the others still", async () => {
    const silent = await startFakeOps(() => {}); // takes the connection, never answers
    closers.push(silent.close);
    const dead = await deadOpsUrl();
    const explorer = await explorerWith({
      nodes: [dead, silent.url, scaled.url],
      nodeLimits: { timeoutMs: 400, maxBytes: 1 << 20 },
    });
    const started = Date.now();
    const { nodes } = await network(explorer);
    expect(Date.now() - started).to.be.below(2_000);
    expect(nodes.map((n) => n.url)).to.deep.equal([dead, silent.url, scaled.url]);
    expect(nodes[0]).to.include({ ok: false, problem: "unreachable", error: "ECONNREFUSED" });
    expect(nodes[1]).to.include({ ok: false, problem: "unreachable", error: "no answer within 400 ms" });
    expect(nodes[2]!.ok).to.equal(true);
  });

  it("shows an answer that is not the /network shape as malformed, naming the field; an error status and an oversized answer too", async () => {
    const shapes: Record<string, (res: import("node:http").ServerResponse) => void> = {
      "/wrong": (res) =>
        res.end(
          JSON.stringify({
            operator: null,
            roles: ["compute"],
            autoscale: { rule: "x", programs: [{ programId: "0x01", quorums: "two" }], events: [] },
          }),
        ),
      "/text": (res) => res.end("<html>a proxy's login page</html>"),
      "/failing": (res) => res.writeHead(500).end('{"error":"the node is still starting"}'),
      // chunked, no content-length: the cap is enforced while reading
      "/huge": (res) => {
        res.write('{"padding":"');
        for (let i = 0; i < 8; i++) res.write("x".repeat(8 * 1024));
        res.end('"}');
      },
    };
    const fake = await startFakeOps((req, res) => {
      const shape = Object.keys(shapes).find((p) => req.url?.startsWith(p));
      if (shape) shapes[shape]!(res);
      else res.writeHead(404).end();
    });
    closers.push(fake.close);
    const urls = Object.keys(shapes).map((p) => `${fake.url}${p}`);
    const explorer = await explorerWith({ nodes: urls, nodeLimits: { timeoutMs: 2_000, maxBytes: 16 * 1024 } });
    const [wrong, text, failing, huge] = (await network(explorer)).nodes;
    expect(wrong).to.include({ ok: false, problem: "malformed" });
    expect((wrong as { error: string }).error).to.match(/^autoscale\.programs\.0\.quorums: /);
    expect(text).to.include({ ok: false, problem: "malformed", error: "not JSON" });
    expect(failing).to.include({
      ok: false,
      problem: "http",
      error: 'HTTP 500: {"error":"the node is still starting"}',
    });
    expect(huge).to.include({ ok: false, problem: "malformed" });
    expect((huge as { error: string }).error).to.equal("answer over the 16384-byte limit");
  });

  it("shows the content a node holds from the content part of its /network answer", async () => {
    const persisting = await startPersistingOps(scaled.node);
    const { content } = persisting;
    closers.push(persisting.close);
    const explorer = await explorerWith({ nodes: [persisting.url] });
    const [node] = (await network(explorer)).nodes;
    if (!node?.ok) throw new Error(`node not read: ${JSON.stringify(node)}`);
    expect(node.content).to.deep.equal({
      peerId: content.peerId,
      persist: true,
      replicas: 2,
      held: content.held,
      gateway: content.gateway,
    });
  });

  it("takes node URLs from --node, else VERSATUS_EXPLORER_NODES; a bad one is refused naming the field", async () => {
    expect(explorerNodeUrls({ node: ["http://a:9701/", "http://b:9702/network"] }, "x", {})).to.deep.equal([
      "http://a:9701",
      "http://b:9702",
    ]);
    expect(explorerNodeUrls({}, "x", { VERSATUS_EXPLORER_NODES: "http://a:9701, http://b:9702" })).to.deep.equal([
      "http://a:9701",
      "http://b:9702",
    ]);
    expect(explorerNodeUrls({}, "x", {})).to.deep.equal([]);
    expect(() => explorerNodeUrls({ node: ["http://a:1", "a:1"] }, "x", {})).to.throw(
      /^Invalid --node\[1\]: expected an http:\/\/ or https:\/\/ URL \(got "a:1"\)/,
    );
    expect(() => explorerNodeUrls({}, "x", { VERSATUS_EXPLORER_NODES: "http://a:1,http://a:1/" })).to.throw(
      /^Invalid VERSATUS_EXPLORER_NODES: expected each node once/,
    );
    let error: unknown;
    await startExplorer({ chains, distDir: dist, nodes: ["ws://a:1"] }).catch((e: unknown) => (error = e));
    expect((error as Error).message).to.match(/^Invalid nodes\[0\]: expected an http:\/\/ or https:\/\/ URL/);
    const explorer = await explorerWith({ nodes: [scaled.url] });
    const config = (await fetch(`${explorer.url}api/config`).then((r) => r.json())) as { nodes: number };
    expect(config.nodes).to.equal(1);
  });
});
