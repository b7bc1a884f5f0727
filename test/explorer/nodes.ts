import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Hex } from "viem";
import { AUTOSCALE_RULE } from "../../protocol/autoscale.ts";
import type { OperatorNode } from "../../cli/node/index.ts";
import type { ContentStatus } from "../../content/node.ts";
import { OPERATOR_INDICES } from "../helpers/suite.ts";
import type { NodeWorld } from "../node/helpers.ts";

/**
 * A real operator node (`startOperatorNode`, compute role, its own ops server) for the explorer's
 * Network page, and the auto-scaling history its scaler went through: one quorum added, dropped,
 * added again. The latency samples are fed to the node's own scaler: 3,000 requests waiting
 * 15 s to start are not something a test can wait for. Quorums of 2 over the world's 4 operators,
 * so the active set holds two quorums.
 */
export async function startScaledNode(world: NodeWorld): Promise<{ node: OperatorNode; url: string; programId: Hex }> {
  const node = await world.startNode(OPERATOR_INDICES[0]!, {
    roles: ["compute"],
    opsServer: true,
    timing: { quorum: 2 },
  });
  const programId = world.programId;
  const start = Date.now() - 3 * AUTOSCALE_RULE.streak;
  let next = 0;
  const feed = (latencyMs: number) => {
    for (let i = 0; i < AUTOSCALE_RULE.streak; i++, next++)
      node.autoscale.observe({
        programId,
        chainId: String(world.chainId),
        requestId: `0x${(0xe0000 + next).toString(16).padStart(64, "0")}`,
        requestedAtMs: start + next - latencyMs,
        startedAtMs: start + next,
      });
  };
  feed(AUTOSCALE_RULE.slowAboveMs + 2_000); // add: 1 -> 2
  feed(AUTOSCALE_RULE.fastBelowMs - 30); // drop: 2 -> 1
  feed(AUTOSCALE_RULE.slowAboveMs + 5_000); // add: 1 -> 2
  return { node, url: node.ops!.url, programId };
}

/** A plain HTTP server answering every request with `answer` (a node that misbehaves). */
export async function startFakeOps(
  answer: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createServer(answer);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A loopback URL where nothing listens (a port just freed). */
export async function deadOpsUrl(): Promise<string> {
  const { url, close } = await startFakeOps((_, res) => res.end());
  await close();
  return url;
}

/** The content part a persist node with a gateway adds to its GET /network (content/node.ts ContentStatus). */
export function persistNodeContent(): ContentStatus & { gateway: string } {
  return {
    peerId: "12D3KooWPersistNodeA",
    persist: true,
    replicas: 2,
    rotationMs: 3_600_000,
    epoch: 491_234,
    persistNodes: ["12D3KooWPersistNodeA", "12D3KooWPersistNodeB"],
    held: [
      { cid: "bafkreiheldbyitasholder", holder: true, holders: ["12D3KooWPersistNodeA", "12D3KooWPersistNodeB"] },
      { cid: "bafkreicachedonly", holder: false, holders: ["12D3KooWPersistNodeB"] },
    ],
    peers: [{ peerId: "12D3KooWPersistNodeB", persist: true, holds: 2, ageMs: 120 }],
    events: [{ at: Date.now(), kind: "acquired", cid: "bafkreiheldbyitasholder" }],
    hashMismatches: 0,
    gateway: "http://127.0.0.1:8481",
  };
}

/**
 * A node answering GET /network exactly as `node` does, with the content part of a persist and
 * gateway node: the test nodes run on an in-process hub, without the libp2p that content needs.
 */
export async function startPersistingOps(node: OperatorNode) {
  const content = persistNodeContent();
  const ops = await startFakeOps((_, res) =>
    res.end(JSON.stringify({ ...node.status(), roles: ["compute", "persist", "gateway"], content })),
  );
  return { ...ops, content };
}
