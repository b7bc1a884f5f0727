/**
 * A misbehaving peer for test/network/e2e*.test.ts, run as its own process:
 * `node test/network/e2ePeer.ts <config.json>`. It joins the network with network/'s
 * startOperatorNetwork under the operator key in VERSATUS_OPERATOR_KEY (a real binding) and then
 * floods well-formed request announcements (or results it really signed: fresh request ids, the
 * right EIP-712 domain) at `ratePerSecond` for `floodMs`: valid messages, only too many of them. Prints
 * `{"peerId":...}` once started and `{"flooded":n}` when done; stays until SIGTERM.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { keccak256, toHex, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { startOperatorNetwork } from "../../network/index.ts";
import type { ResultJob } from "../../protocol/jobs.ts";
import { resultDomain, resultTypes } from "../../protocol/result.ts";

type PeerConfig = {
  network: string;
  listen: string[];
  bootstrap: string[];
  chainId: number;
  oracle: Address;
  ingestor: Address;
  operators: Address[];
  watchers: Address[];
  /** What it floods: request announcements (cheap to check: the rate is what is wrong) or signed results. */
  kind: "request" | "result";
  ratePerSecond: number;
  floodMs: number;
  /** Wait this long after starting (bindings exchanged, meshes formed) before flooding. */
  startDelayMs: number;
};

async function signed(
  account: ReturnType<typeof privateKeyToAccount>,
  config: PeerConfig,
  n: number,
): Promise<ResultJob> {
  const requestId = keccak256(toHex(`flood-${process.pid}-${n}`));
  const input: Hex = "0x";
  const result = {
    requestId,
    originChainId: BigInt(config.chainId),
    programId: keccak256(toHex("no such program")),
    inputHash: keccak256(input),
    status: 0 as const,
    instructionsHash: keccak256("0x"),
    bodyHash: keccak256(toHex(`flood-body-${n}`)),
  };
  const signature = await account.signTypedData({
    domain: resultDomain(config.chainId, config.ingestor),
    types: resultTypes,
    primaryType: "Result",
    message: result,
  });
  const chainId = String(config.chainId);
  return {
    operator: account.address,
    originChainId: chainId,
    oracle: config.oracle,
    requestId,
    programId: result.programId,
    context: { requestId, originChainId: chainId } as ResultJob["context"],
    input,
    outcome: { kind: "ok", status: 0, exitCode: 0, fuelUsed: "1", stdout: "0x", stderr: "0x", message: "" },
    chains: [
      {
        chainId,
        ingestor: config.ingestor,
        result: { ...result, originChainId: chainId },
        instructions: [],
        signature,
      },
    ],
  } as ResultJob;
}

async function main(): Promise<void> {
  const config = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as PeerConfig;
  const account = privateKeyToAccount(process.env.VERSATUS_OPERATOR_KEY as Hex);
  const net = await startOperatorNetwork({
    network: config.network,
    account,
    listen: config.listen,
    bootstrap: config.bootstrap,
    chains: [config.chainId],
    membership: async () => ({ operators: config.operators, watchers: config.watchers }),
    ingestors: { [String(config.chainId)]: config.ingestor },
  });
  console.log(JSON.stringify({ peerId: net.peerId, addresses: net.addresses() }));
  const stop = () => void net.close().finally(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  await new Promise((r) => setTimeout(r, config.startDelayMs));
  // sign ahead: the flood measures the network's limits, not this process's signing speed
  const total = Math.ceil((config.ratePerSecond * config.floodMs) / 1000);
  const messages: (() => Promise<void>)[] = [];
  for (let n = 0; n < total; n++) {
    if (config.kind === "result") {
      const result = await signed(account, config, n);
      messages.push(() => net.publishResult(result));
    } else {
      const announcement = {
        chainId: String(config.chainId),
        requestId: keccak256(toHex(`flood-request-${process.pid}-${n}`)),
        blockNumber: "1",
        blockHash: keccak256(toHex(`flood-block-${n}`)),
        txHash: keccak256(toHex(`flood-tx-${n}`)),
        logIndex: 0,
      };
      messages.push(() => net.announceRequest(announcement));
    }
  }
  console.log(JSON.stringify({ signed: total }));
  const started = Date.now();
  let sent = 0;
  let failed = 0;
  while (sent + failed < total) {
    const due = Math.min(total, Math.floor(((Date.now() - started) * config.ratePerSecond) / 1000) + 1);
    const batch = messages.slice(sent + failed, due);
    const outcomes = await Promise.allSettled(batch.map((publish) => publish()));
    for (const o of outcomes)
      if (o.status === "fulfilled") sent++;
      else failed++;
    await new Promise((r) => setTimeout(r, 5));
  }
  console.log(JSON.stringify({ flooded: sent, failed, ms: Date.now() - started }));
}

// Mocha loads every .ts file under test/: only run when started as a script.
if (process.argv[1] === fileURLToPath(import.meta.url))
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
