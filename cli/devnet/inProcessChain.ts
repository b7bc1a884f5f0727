/**
 * A chain in this process (Hardhat's EDR, `network.create(...)`) as the devnet's other pieces see
 * one: the suite deployed as `npx hardhat deploy --network localhost` deploys it
 * (config/deploy/localhost.json), programs published, and the chain served as HTTP JSON-RPC for
 * nodes in other processes. Used by the chaos chain hosts (chaos/chainHost.ts) and the p2p
 * end-to-end tests (test/network/e2eHarness.ts).
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { NetworkConnection } from "hardhat/types/network";
import type { Address, Hex } from "viem";
import { parseDeployConfig } from "../../deploy/config.ts";
import { deploySuite } from "../../deploy/run.ts";
import { DeploymentStore } from "../../deploy/store.ts";

/** What a node, a load generator or a ledger needs of a deployed chain. */
export type InProcessSuite = {
  chainId: number;
  oracle: Address;
  ingestor: Address;
  registry: Address;
  disputeManager: Address;
  omniToken: Address;
};

/**
 * Deploys the suite on `connection` with config/deploy/localhost.json (fields of `overrides`
 * replace its own, e.g. `posters`), then publishes `programs` (name → programId) from the owner.
 */
export async function deployInProcessSuite(
  connection: NetworkConnection,
  options: { overrides?: Record<string, unknown>; programs?: Record<string, Hex> } = {},
): Promise<InProcessSuite> {
  const raw = JSON.parse(
    readFileSync(new URL("../../config/deploy/localhost.json", import.meta.url), "utf8"),
  ) as Record<string, unknown>;
  const config = parseDeployConfig({ ...raw, ...options.overrides }, "config/deploy/localhost.json");
  const addresses = await deploySuite(connection, config, new DeploymentStore(undefined));
  const { ethers } = connection;
  const [owner] = await ethers.getSigners();
  const oracle = await ethers.getContractAt("ExecutableOracle", addresses.ExecutableOracle, owner);
  for (const [name, programId] of Object.entries(options.programs ?? {}))
    await (await oracle.publish(programId, name, "x")).wait();
  const need = (field: keyof typeof addresses) => {
    const address = addresses[field];
    if (!address) throw new Error(`the localhost deploy config deployed no ${field}`);
    return address as Address;
  };
  return {
    chainId: Number((await ethers.provider.getNetwork()).chainId),
    oracle: need("ExecutableOracle"),
    ingestor: need("InstructionIngestor"),
    registry: need("StakingRegistry"),
    disputeManager: need("DisputeManager"),
    omniToken: need("OmniToken"),
  };
}

/** Serves `connection`'s EIP-1193 provider as HTTP JSON-RPC on host:port (batches too). */
export async function serveRpc(
  connection: NetworkConnection,
  host: string,
): Promise<{ url: string; close: () => Promise<void> }> {
  const provider = connection.provider;
  const answer = async (call: { id?: unknown; method: string; params?: unknown[] }) => {
    try {
      const result = await provider.request({ method: call.method, params: call.params ?? [] });
      return { jsonrpc: "2.0", id: call.id ?? null, result };
    } catch (error) {
      const e = error as { code?: number; message?: string; data?: unknown };
      return {
        jsonrpc: "2.0",
        id: call.id ?? null,
        error: { code: e.code ?? -32603, message: e.message ?? String(error), data: e.data },
      };
    }
  };
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        res.writeHead(400).end();
        return;
      }
      const reply = Array.isArray(parsed) ? Promise.all(parsed.map(answer)) : answer(parsed as never);
      void reply.then((r) =>
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? `0x${v.toString(16)}` : v))),
      );
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
