import type { Command } from "commander";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  isAddress,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { createVersatusClient, type VersatusClient } from "../client/index.ts";
import { createDaClient } from "../da/index.ts";
import { devAccount } from "../deploy/context.ts";
import { BaseError, InvalidInputError, redactUrl } from "../protocol/errors.ts";

/**
 * Connection options shared by `versatus request` and `versatus status`: which chain (RPC URL),
 * which oracle/ingestor (flags, or deployments/<network>/), which key signs (REQUESTER_KEY, or a
 * dev account on local chains), and where execution records are read from (local DA dir).
 */
export type ClientCliOptions = {
  rpc: string;
  network?: string;
  oracle?: string;
  ingestor?: string;
  devAccount?: string;
  daDir?: string;
  json?: boolean;
};

export function withClientOptions(command: Command): Command {
  return command
    .option("--rpc <url>", "chain RPC URL (env RPC_URL)", process.env.RPC_URL ?? "http://127.0.0.1:8545")
    .option("--network <name>", "read the oracle and ingestor from deployments/<name>/ (default: localhost)")
    .option("--oracle <address>", "ExecutableOracle address")
    .option("--ingestor <address>", "InstructionIngestor address")
    .option(
      "--dev-account <index>",
      "sign with the local dev mnemonic's account <index> (local chains only; else env REQUESTER_KEY)",
    )
    .option("--da-dir <path>", "local DA store to read execution records from (default .versatus/da)")
    .option("--json", "print machine-readable JSON");
}

function deployed(network: string, name: string): Address | undefined {
  const dir = process.env.VERSATUS_DEPLOYMENTS_DIR
    ? join(process.env.VERSATUS_DEPLOYMENTS_DIR, network)
    : join("deployments", network);
  const file = join(dir, `${name}.json`);
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, "utf8")) as { address: Address }).address;
}

/** Connects to the chain at `rpc` (its id read from it), failing with a hint when none answers. */
export async function connectChain(rpc: string) {
  const transport = http(rpc);
  let chainId: number;
  try {
    chainId = await createPublicClient({ transport }).getChainId();
  } catch (cause) {
    throw new BaseError(`No chain answers at ${redactUrl(rpc)}`, {
      cause,
      hints: ["start one with `npm run chains`"],
    });
  }
  const chain = defineChain({
    id: chainId,
    name: `chain-${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpc] } },
  });
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 250 }) as PublicClient;
  return { chain, transport, publicClient };
}

export async function clientFromOptions(options: ClientCliOptions, needsWallet: boolean): Promise<VersatusClient> {
  const network = options.network ?? "localhost";
  const oracle = options.oracle ?? deployed(network, "ExecutableOracle");
  const ingestor = options.ingestor ?? deployed(network, "InstructionIngestor");
  if (!oracle || !isAddress(oracle))
    throw new InvalidInputError("--oracle", `an address (or deployments/${network}/ExecutableOracle.json)`);
  if (!ingestor || !isAddress(ingestor))
    throw new InvalidInputError("--ingestor", `an address (or deployments/${network}/InstructionIngestor.json)`);
  const { chain, transport, publicClient } = await connectChain(options.rpc);
  let walletClient;
  if (needsWallet) {
    const key =
      options.devAccount !== undefined ? devAccount(Number(options.devAccount)).privateKey : process.env.REQUESTER_KEY;
    if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key)) {
      throw new InvalidInputError(
        "REQUESTER_KEY",
        "a 0x-prefixed 32-byte private key (or --dev-account <i> on a local chain)",
      );
    }
    walletClient = createWalletClient({ chain, transport, account: privateKeyToAccount(key as Hex) });
  }
  return createVersatusClient({
    publicClient,
    walletClient,
    oracle,
    ingestor,
    da: createDaClient({ primary: { layer: "local", dir: daDirOf(options) } }),
  });
}

/**
 * The local DA store records are read from: --da-dir, else `.versatus/da` (the services' default),
 * else `.versatus/devnet/da` (where `versatus devnet` writes) when only that one exists.
 */
export function daDirOf(options: Pick<ClientCliOptions, "daDir">): string {
  if (options.daDir) return options.daDir;
  const standard = join(".versatus", "da");
  const devnet = join(".versatus", "devnet", "da");
  return !existsSync(standard) && existsSync(devnet) ? devnet : standard;
}

/** JSON with bigints as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);
}

export async function runAction(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    console.error(error instanceof BaseError ? error.message : error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}
