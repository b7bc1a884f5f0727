import { readFileSync } from "node:fs";
import { getServers } from "node:dns";
import { isIP } from "node:net";
import { join } from "node:path";
import {
  createPublicClient,
  createWalletClient,
  encodeFunctionData,
  http,
  keccak256,
  stringToHex,
  type Account,
  type Address,
  type Hex,
  type PublicClient,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { nameRegistryAbi } from "../../protocol/generated/abis.ts";
import { dnsConfigSchema } from "../../dns/config.ts";
import { startDnsFacade, type DnsFacade } from "../../dns/server.ts";
import type { Logger } from "../../protocol/ops.ts";

/** The devnet's sample name and its TXT record (docs/dns.md). */
export const DEVNET_NAME = "hello.versatus";
export const DEVNET_TXT = "served by the Versatus DNS facade from the NameRegistry";
/** Content kind 1: a program (INameRegistry). */
const PROGRAM = 1;
/** Content kind 2: a static bundle (INameRegistry; its CID is dag-pb, protocol/content.ts). */
export const BUNDLE = 2;
/** Preferred port of the devnet's DNS facade (a taken one is replaced by a free one). */
const DNS_PORT = 5353;

/** The NameRegistry saved by `npx hardhat deploy` for `chainName` (deploy/07_names.ts). */
export function savedNameRegistry(deploymentsDir: string, chainName: string): Address {
  const file = join(deploymentsDir, chainName, "NameRegistry.json");
  return (JSON.parse(readFileSync(file, "utf8")) as { address: Address }).address;
}

/**
 * Registers `name` to the wallet's account (commit, wait the registry's minimum age in chain time,
 * reveal) and points it at `programId` (or a bundle: `contentKind` 2) with the given TXT records.
 * Idempotent: sends only what differs.
 * Returns how many transactions it sent.
 */
export async function publishName(options: {
  client: PublicClient;
  wallet: WalletClient & { account: Account };
  registry: Address;
  name: string;
  programId: Hex;
  /** Default 1 (a program); 2: `programId` is a static bundle's sha256 content id. */
  contentKind?: number;
  txt: string[];
}): Promise<number> {
  const { client, wallet, registry, name } = options;
  const owner = wallet.account.address;
  let sent = 0;
  const send = async (functionName: string, args: readonly unknown[]) => {
    const data = encodeFunctionData({ abi: nameRegistryAbi, functionName, args } as never);
    const hash = await wallet.sendTransaction({ account: wallet.account, to: registry, data, chain: null });
    await client.waitForTransactionReceipt({ hash });
    sent += 1;
  };
  const ownerNow = await client.readContract({
    address: registry,
    abi: nameRegistryAbi,
    functionName: "ownerOf",
    args: [name],
  });
  if (ownerNow.toLowerCase() !== owner.toLowerCase()) {
    const secret = keccak256(stringToHex(`devnet ${name} ${Date.now()}`));
    const commitment = await client.readContract({
      address: registry,
      abi: nameRegistryAbi,
      functionName: "makeCommitment",
      args: [name, owner, secret],
    });
    await send("commit", [commitment]);
    const minAge = await client.readContract({
      address: registry,
      abi: nameRegistryAbi,
      functionName: "minCommitmentAge",
    });
    const usableAt =
      (await client.readContract({
        address: registry,
        abi: nameRegistryAbi,
        functionName: "committedAt",
        args: [commitment],
      })) + minAge;
    // the reveal needs a block at least minAge later: an automine chain makes one only when asked
    while ((await client.getBlock()).timestamp < usableAt) {
      await new Promise((r) => setTimeout(r, 500));
      await client.request({ method: "evm_mine" } as never).catch(() => {});
    }
    await send("register", [name, owner, secret]);
  }
  const records = await client.readContract({
    address: registry,
    abi: nameRegistryAbi,
    functionName: "records",
    args: [name],
  });
  const kind = options.contentKind ?? PROGRAM;
  if (records.contentId !== options.programId || records.contentKind !== kind)
    await send("setContent", [name, options.programId, kind]);
  if (JSON.stringify(records.txt) !== JSON.stringify(options.txt)) await send("setText", [name, options.txt]);
  return sent;
}

/**
 * The devnet's DNS facade on chain A's NameRegistry, on 127.0.0.1:5353 (or a free port), with this
 * machine's first resolver (an IP from /etc/resolv.conf) as the upstream when it has one.
 */
export async function startDevnetDns(options: {
  chainId: number;
  rpcUrl: string;
  registry: Address;
  opsPort?: number;
  log?: Logger;
}): Promise<DnsFacade> {
  const upstreamHost = getServers()
    .map((s) => s.replace(/^\[(.*)\](:\d+)?$/, "$1"))
    .find((s) => isIP(s) !== 0 && s !== "127.0.0.1");
  const config = (port: number) =>
    dnsConfigSchema.parse({
      listen: { host: "127.0.0.1", port },
      chain: { chainId: options.chainId, rpcUrl: options.rpcUrl, nameRegistry: options.registry },
      ...(upstreamHost ? { upstream: { host: upstreamHost, port: 53 } } : {}),
      ops: { port: options.opsPort ?? 0, logLevel: "warn" },
    });
  const start = (port: number) => startDnsFacade(config(port), options.log ? { log: options.log } : {});
  return start(DNS_PORT).catch((error: { code?: string }) => {
    if (error.code === "EADDRINUSE" || error.code === "EACCES") return start(0);
    throw error;
  });
}

/**
 * The devnet's step (cli/devnet.ts): `hello.versatus` → the payout splitter on chain A (owner
 * dev:0), and the DNS facade serving it. Returns the facade and one summary row.
 */
export async function startDevnetNames(options: {
  chain: { name: string; chainId: number; rpcUrl: string };
  deploymentsDir: string;
  programId: Hex;
  ownerKey: Hex;
}): Promise<{ facade: DnsFacade; sent: number; dig: string }> {
  const registry = savedNameRegistry(options.deploymentsDir, options.chain.name);
  const transport = http(options.chain.rpcUrl);
  const client = createPublicClient({ transport }) as PublicClient;
  const wallet = createWalletClient({ account: privateKeyToAccount(options.ownerKey), transport });
  const sent = await publishName({
    client,
    wallet,
    registry,
    name: DEVNET_NAME,
    programId: options.programId,
    txt: [DEVNET_TXT],
  });
  const facade = await startDevnetDns({ chainId: options.chain.chainId, rpcUrl: options.chain.rpcUrl, registry });
  return { facade, sent, dig: `dig @127.0.0.1 -p ${facade.port} ${DEVNET_NAME} TXT` };
}
