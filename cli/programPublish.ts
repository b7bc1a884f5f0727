import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import {
  BaseError as ViemBaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  http,
  isAddressEqual,
  zeroAddress,
  zeroHash,
  type Account,
  type Address,
  type Hex,
  type PublicClient,
  type Transport,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { devAccount } from "../deploy/context.ts";
import { executableOracleAbi } from "../protocol/generated/abis.ts";
import { addressSchema } from "../protocol/config.ts";
import { BaseError, InvalidInputError, redactUrl } from "../protocol/errors.ts";
import { decodePackage, type ProgramPackage } from "../protocol/programPackage.ts";
import { buildProgram } from "../programs/toolchain.ts";
import { ModuleRejectedError } from "../runtime/errors.ts";
import { isJsPackage, prepareJsProgram } from "../runtime/js/program.ts";
import { prepareProgram } from "../runtime/prepare.ts";
import { openProgramPath } from "../runtime/programFiles.ts";
import { LOCAL_CHAINS } from "../scripts/localChains.ts";

/**
 * `versatus program publish <dir|pkg> --network <name>`: makes a program available to a network
 * in one idempotent step.
 *
 * 1. The package is checked: the runtime must accept it (the operators would refuse it otherwise).
 * 2. It is put where the network's operators fetch programs: written as `<dir>/<programId>.vpkg`
 *    into each program directory of the network (what the operators' `programs.dirs` read); each
 *    HTTP store (`programs.urls`, `GET <url>/<programId>`) is checked to serve exactly these bytes.
 * 3. It is published in the ProgramRegistry (the ExecutableOracle) of every chain of the network
 *    under the manifest's name, with a name reservation first where the registry needs one.
 *
 * Every chain is read before anything is written, so a name owned by someone else on any chain
 * stops the command before the store or any chain changes. Publishing the same package again
 * writes and sends nothing and says so.
 *
 * Networks: `devnet` (built in: the two local chains of `npm run devnet`, their deployments and
 * the devnet's program store .versatus/devnet/programs), `networks/<name>.json` in the current
 * directory, or a path to such a file: {@link networkFileSchema}.
 */

/** A network file: `networks/<name>.json`. */
export const networkFileSchema = z.strictObject({
  chains: z
    .array(
      z.strictObject({
        /** Also the deployments/<name>/ directory the oracle address is read from when absent. */
        name: z.string().min(1),
        chainId: z.number().int().positive(),
        rpcUrl: z.url(),
        oracle: addressSchema.optional(),
      }),
    )
    .min(1),
  /** Where the network's operators fetch packages (their worker config's `programs`). */
  programs: z
    .strictObject({
      dirs: z.array(z.string().min(1)).default([]),
      urls: z.array(z.url()).default([]),
    })
    .refine((p) => p.dirs.length + p.urls.length > 0, "at least one program directory (dirs) or store URL (urls)"),
});

export type NetworkChain = { name: string; chainId: number; rpcUrl: string; oracle: Address };

export type Network = {
  name: string;
  /** Where the definition came from (a file, or "built in"). */
  source: string;
  chains: NetworkChain[];
  programs: { dirs: string[]; urls: string[] };
  /** Local chains only: the public dev mnemonic may sign. */
  devAccounts: boolean;
};

const LOCAL_CHAIN_IDS = new Set<number>(LOCAL_CHAINS.map((chain) => chain.chainId));

export type NetworkOptions = { cwd?: string; deploymentsDir?: string };

function deploymentsDirOf(options: NetworkOptions): string {
  return options.deploymentsDir ?? process.env.VERSATUS_DEPLOYMENTS_DIR ?? join(options.cwd ?? ".", "deployments");
}

function deployedOracle(options: NetworkOptions, chainName: string): Address | undefined {
  const file = join(deploymentsDirOf(options), chainName, "ExecutableOracle.json");
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, "utf8")) as { address: Address }).address;
}

/** Names `--network` accepts here: the built-in devnet and every networks/*.json. */
export function networkNames(options: NetworkOptions = {}): string[] {
  const dir = join(options.cwd ?? ".", "networks");
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => name.endsWith(".json"))
        .map((name) => name.slice(0, -".json".length))
    : [];
  return ["devnet", ...files.filter((name) => name !== "devnet").sort()];
}

export function loadNetwork(name: string, options: NetworkOptions = {}): Network {
  const cwd = options.cwd ?? ".";
  const file = name.endsWith(".json") ? resolve(cwd, name) : join(cwd, "networks", `${name}.json`);
  if (existsSync(file) && statSync(file).isFile()) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      throw new InvalidInputError(file, "valid JSON", { details: (error as Error).message });
    }
    const parsed = networkFileSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InvalidInputError(`network file ${file}: ${issue.path.join(".") || "(root)"}`, issue.message);
    }
    const chains = parsed.data.chains.map((chain, i) => {
      const oracle = chain.oracle ?? deployedOracle(options, chain.name);
      if (!oracle)
        throw new InvalidInputError(
          `network file ${file}: chains.${i}.oracle`,
          `an address (or ${join(deploymentsDirOf(options), chain.name, "ExecutableOracle.json")})`,
        );
      return { name: chain.name, chainId: chain.chainId, rpcUrl: chain.rpcUrl, oracle: oracle as Address };
    });
    return {
      name,
      source: file,
      chains,
      programs: { dirs: parsed.data.programs.dirs.map((dir) => resolve(cwd, dir)), urls: parsed.data.programs.urls },
      devAccounts: chains.every((chain) => LOCAL_CHAIN_IDS.has(chain.chainId)),
    };
  }
  if (name === "devnet") {
    const chains = LOCAL_CHAINS.map((chain) => {
      const oracle = deployedOracle(options, chain.name);
      if (!oracle)
        throw new BaseError(`The devnet is not deployed: no ExecutableOracle for chain ${chain.name}`, {
          details: `looked for ${join(deploymentsDirOf(options), chain.name, "ExecutableOracle.json")}`,
          hints: [
            "Start it with `npm run devnet` (it deploys the suite to both local chains) and publish from another shell",
          ],
        });
      return { name: chain.name, chainId: chain.chainId, rpcUrl: `http://127.0.0.1:${chain.port}`, oracle };
    });
    return {
      name,
      source: "built in (npm run devnet)",
      chains,
      programs: { dirs: [resolve(cwd, ".versatus", "devnet", "programs")], urls: [] },
      devAccounts: true,
    };
  }
  throw new InvalidInputError("--network", `one of ${networkNames(options).join(", ")} (or a network .json file)`, {
    details: `no network named "${name}": no built-in network and no ${file}`,
    hints: [
      "Describe it in networks/<name>.json: { chains: [{ name, chainId, rpcUrl, oracle }], programs: { dirs, urls } }",
    ],
  });
}

export type PublishState = "written" | "present" | "serving" | "published" | "already published";

export type PublishReport = {
  network: string;
  programId: Hex;
  name: string;
  version: string;
  store: { where: string; state: PublishState }[];
  chains: { chainId: number; name: string; state: PublishState; transactions: Hex[] }[];
  /** False when nothing had to be written or sent. */
  changed: boolean;
};

export type PublishOptions = {
  pkg: ProgramPackage;
  network: Network;
  account: Account;
  /** Transport per chain id (tests: in-process chains); default: HTTP to the chain's rpcUrl. */
  transports?: Record<number, Transport>;
  /** URI stored with the program; default: the first store URL, else versatus://programs/<programId>. */
  uri?: string;
  /** Fetches an HTTP store (tests). */
  fetch?: typeof fetch;
  log?: (line: string) => void;
};

type ChainState = {
  chain: NetworkChain;
  publicClient: PublicClient;
  transport: Transport;
  nameOwner: Address;
  latest: Hex;
  published: boolean;
  admin: Address;
};

export async function publishProgram(options: PublishOptions): Promise<PublishReport> {
  const { pkg, network, account } = options;
  const log = options.log ?? (() => {});
  const name = pkg.manifest.name;
  const programId = pkg.programId.toLowerCase() as Hex;

  // 1. the runtime must accept it
  try {
    // The same dispatch as NanoRuntime.load: a JavaScript package runs on the QuickJS engine.
    if (isJsPackage(pkg)) prepareJsProgram(pkg);
    else prepareProgram(pkg.module, { name, limits: pkg.manifest.limits });
  } catch (error) {
    if (!(error instanceof ModuleRejectedError)) throw error;
    throw new BaseError(`The runtime refuses ${name} ${pkg.manifest.version} (${programId})`, {
      details: error.shortMessage,
      hints: ["Operators would refuse to run it: fix the program (`versatus program inspect` shows why)"],
      permanent: true,
    });
  }

  // 2. read every chain before writing anything
  const states: ChainState[] = [];
  for (const chain of network.chains) states.push(await readChain(chain, options, name, programId));
  const taken = states.filter((s) => s.nameOwner !== zeroAddress && !isAddressEqual(s.nameOwner, account.address));
  if (taken.length > 0) {
    throw new BaseError(`The name "${name}" belongs to someone else on ${network.name}`, {
      details: taken
        .map((s) => `chain ${s.chain.chainId} (${s.chain.name}): owned by ${s.nameOwner}, you are ${account.address}`)
        .join("; "),
      hints: [
        'Publish under another name ("name" in versatus.json) or with the key of the name\'s owner',
        "Nothing was written or sent",
      ],
      permanent: true,
    });
  }

  // 3. the store operators fetch from
  const store: PublishReport["store"] = [];
  for (const dir of network.programs.dirs) {
    const path = join(dir, `${programId}.vpkg`);
    const present = existsSync(path) && sha256(readFileSync(path)) === programId;
    if (!present) {
      mkdirSync(dir, { recursive: true });
      const temporary = `${path}.${process.pid}.tmp`;
      writeFileSync(temporary, pkg.bytes);
      renameSync(temporary, path);
    }
    store.push({ where: path, state: present ? "present" : "written" });
    log(`store   ${path}: ${present ? "already there" : "written"}`);
  }
  const missing: string[] = [];
  for (const url of network.programs.urls) {
    const where = `${url.replace(/\/+$/, "")}/${programId}`;
    const served = await fetchBytes(where, options.fetch ?? fetch);
    if (served && sha256(served) === programId) {
      store.push({ where: redactUrl(where), state: "serving" });
      log(`store   ${redactUrl(where)}: serves the package`);
    } else {
      missing.push(redactUrl(where));
    }
  }
  if (missing.length > 0) {
    throw new BaseError(`The network's program store does not serve ${name} yet`, {
      details: `operators of ${network.name} also fetch from ${missing.join(", ")}, which do not return the package`,
      hints: [
        `Upload the package bytes there (GET <url>/${programId} must return them), then run this command again`,
        "Nothing was published on chain",
      ],
      permanent: true,
    });
  }

  // 4. the registry of every chain
  const uri =
    options.uri ??
    (network.programs.urls[0] ? `${network.programs.urls[0]}/${programId}` : `versatus://programs/${programId}`);
  const chains: PublishReport["chains"] = [];
  for (const state of states) {
    const { chain } = state;
    if (state.published && state.latest.toLowerCase() === programId) {
      chains.push({ chainId: chain.chainId, name: chain.name, state: "already published", transactions: [] });
      log(`chain   ${chain.chainId} (${chain.name}): already published as ${name}`);
      continue;
    }
    const transactions = await publishOnChain(state, account, name, programId, uri, log);
    chains.push({ chainId: chain.chainId, name: chain.name, state: "published", transactions });
    log(`chain   ${chain.chainId} (${chain.name}): published as ${name} (${transactions.length} transaction(s))`);
  }
  const changed = store.some((s) => s.state === "written") || chains.some((c) => c.state === "published");
  return {
    network: network.name,
    programId,
    name,
    version: pkg.manifest.version,
    store,
    chains,
    changed,
  };
}

async function readChain(
  chain: NetworkChain,
  options: PublishOptions,
  name: string,
  programId: Hex,
): Promise<ChainState> {
  const transport = options.transports?.[chain.chainId] ?? http(chain.rpcUrl);
  const publicClient = createPublicClient({ transport, pollingInterval: 100 }) as PublicClient;
  const where = `chain ${chain.chainId} (${chain.name}) at ${redactUrl(chain.rpcUrl)}`;
  let chainId: number;
  try {
    chainId = await publicClient.getChainId();
  } catch (cause) {
    throw new BaseError(`No chain answers for ${where}`, { cause, hints: ["Is the chain running? (npm run devnet)"] });
  }
  if (chainId !== chain.chainId)
    throw new BaseError(`Wrong chain for ${where}`, {
      details: `the RPC reports chain id ${chainId}`,
      permanent: true,
    });
  const code = await publicClient.getCode({ address: chain.oracle });
  if (!code || code === "0x")
    throw new BaseError(`No ExecutableOracle at ${chain.oracle} on ${where}`, {
      hints: [
        "Deploy the suite there first (npx hardhat deploy --network <name>), or fix the network's oracle address",
      ],
      permanent: true,
    });
  const read = <T>(functionName: string, args: readonly unknown[] = []): Promise<T> =>
    publicClient.readContract({
      address: chain.oracle,
      abi: executableOracleAbi,
      functionName,
      args,
    } as never) as Promise<T>;
  const [nameOwner, latest, published, admin] = await Promise.all([
    read<Address>("nameOwner", [name]),
    read<Hex>("resolve", [name]),
    read<boolean>("isPublished", [programId]),
    read<Address>("owner"),
  ]);
  return { chain, publicClient, transport, nameOwner, latest: latest ?? zeroHash, published, admin };
}

async function publishOnChain(
  state: ChainState,
  account: Account,
  name: string,
  programId: Hex,
  uri: string,
  log: (line: string) => void,
): Promise<Hex[]> {
  const { chain, publicClient } = state;
  const wallet = createWalletClient({ account, transport: state.transport });
  const transactions: Hex[] = [];
  const send = async (functionName: "reserveName" | "publish", args: readonly unknown[], blockTag?: "pending") => {
    let request;
    try {
      ({ request } = await publicClient.simulateContract({
        account,
        address: chain.oracle,
        abi: executableOracleAbi,
        functionName,
        args,
        chain: null,
        ...(blockTag ? { blockTag } : {}),
      } as never));
    } catch (error) {
      throw revertError(error, chain, functionName);
    }
    const hash = await wallet.writeContract(request as never);
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success")
      throw new BaseError(`${functionName} reverted on chain ${chain.chainId} (${chain.name})`, {
        details: `tx ${hash}`,
      });
    transactions.push(hash);
    return receipt;
  };

  // A first publish of a name by anyone but the registry's admin needs a reservation from an
  // earlier block (front-running protection, IProgramRegistry.reserveName).
  let reserved = false;
  if (state.nameOwner === zeroAddress && !isAddressEqual(state.admin, account.address)) {
    reserved = true;
    const read = <T>(functionName: string, args: readonly unknown[]): Promise<T> =>
      publicClient.readContract({
        address: chain.oracle,
        abi: executableOracleAbi,
        functionName,
        args,
      } as never) as Promise<T>;
    const commitment = await read<Hex>("nameCommitment", [account.address, programId, name]);
    let reservedAt = await read<bigint>("reservedAt", [commitment]);
    if (reservedAt === 0n) {
      log(`chain   ${chain.chainId} (${chain.name}): reserving the name ${name}`);
      reservedAt = (await send("reserveName", [commitment])).blockNumber;
    }
    // publish from a later block than the reservation
    const deadline = Date.now() + 120_000;
    while ((await publicClient.getBlockNumber()) <= reservedAt) {
      if (Date.now() > deadline)
        throw new BaseError(`Chain ${chain.chainId} (${chain.name}) made no new block after the name reservation`, {
          hints: ["Run the command again: the reservation stands and will be used"],
        });
      // A local dev chain may mine only on transactions: the publish lands in the next block
      // anyway (and is checked against the pending block), so do not wait for one there.
      if (LOCAL_CHAIN_IDS.has(chain.chainId)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  // After a reservation, check the publish against the next block (the one it will land in).
  await send("publish", [programId, name, uri], reserved ? "pending" : undefined);
  return transactions;
}

function revertError(error: unknown, chain: NetworkChain, functionName: string): BaseError {
  const revert =
    error instanceof ViemBaseError
      ? (error.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null)
      : null;
  const reason = revert?.data?.errorName
    ? `${revert.data.errorName}(${(revert.data.args ?? []).map(String).join(", ")})`
    : ((error as { shortMessage?: string }).shortMessage ?? (error as Error).message);
  return new BaseError(`${functionName} would revert on chain ${chain.chainId} (${chain.name})`, {
    details: reason,
    cause: error,
    permanent: true,
  });
}

async function fetchBytes(url: string, fetcher: typeof fetch): Promise<Uint8Array | undefined> {
  try {
    const response = await fetcher(url, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) return undefined;
    return new Uint8Array(await response.arrayBuffer());
  } catch {
    return undefined;
  }
}

function sha256(bytes: Uint8Array): Hex {
  return `0x${createHash("sha256").update(bytes).digest("hex")}`;
}

/** The package `publish` takes: a program directory is built first (as `programs:build` would). */
export function packageFromPath(path: string, log: (line: string) => void = () => {}): ProgramPackage {
  if (existsSync(path) && statSync(path).isDirectory() && existsSync(join(path, "versatus.json")))
    return buildProgram(path, { log }).package;
  if (path.endsWith(".vpkg") && existsSync(path)) return decodePackage(new Uint8Array(readFileSync(path)));
  return openProgramPath(path);
}

/** The signer: --dev-account <i> (local chains only) or PUBLISHER_KEY; dev account 0 on the devnet. */
export function publisherAccount(network: Network, devAccountIndex: string | undefined, env = process.env): Account {
  if (devAccountIndex !== undefined || (!env.PUBLISHER_KEY && network.name === "devnet")) {
    if (!network.devAccounts)
      throw new InvalidInputError("--dev-account", "only on local chains (31337, 31338): use PUBLISHER_KEY");
    const index = Number(devAccountIndex ?? 0);
    if (!Number.isInteger(index) || index < 0)
      throw new InvalidInputError("--dev-account", "an account index (0, 1, ...)");
    return privateKeyToAccount(devAccount(index).privateKey as Hex);
  }
  const key = env.PUBLISHER_KEY;
  if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key))
    throw new InvalidInputError(
      "PUBLISHER_KEY",
      "a 0x-prefixed 32-byte private key (or --dev-account <i> on local chains)",
    );
  return privateKeyToAccount(key as Hex);
}

export function registerPublishCommand(program: Command): void {
  program
    .command("publish")
    .description(
      "Publish a program to a network: store it where the operators fetch programs and publish it in every chain's registry (idempotent)",
    )
    .argument("<program>", "program directory (built first), .vpkg or .wasm")
    .requiredOption("--network <name>", "devnet, a networks/<name>.json, or a path to a network .json file")
    .option("--dev-account <index>", "sign with the local dev mnemonic's account <index> (local chains only)")
    .option("--uri <uri>", "URI recorded with the program (default: the store URL or versatus://programs/<id>)")
    .option("--json", "print the report as JSON")
    .action(async (path: string, options: { network: string; devAccount?: string; uri?: string; json?: boolean }) => {
      try {
        const log = options.json ? () => {} : (line: string) => console.log(line);
        const network = loadNetwork(options.network);
        const pkg = packageFromPath(path, log);
        const account = publisherAccount(network, options.devAccount);
        log(`program ${pkg.manifest.name} ${pkg.manifest.version}  ${pkg.programId}`);
        log(`network ${network.name} (${network.source}), publisher ${account.address}`);
        const report = await publishProgram({
          pkg,
          network,
          account,
          log,
          ...(options.uri ? { uri: options.uri } : {}),
        });
        if (options.json) console.log(JSON.stringify(report, null, 2));
        else
          console.log(
            report.changed
              ? `published ${report.name} ${report.programId} on ${report.chains.length} chain(s) of ${report.network}`
              : `already published: ${report.name} ${report.programId} is in the store and the registry of every chain of ${report.network}; nothing to do`,
          );
      } catch (error) {
        console.error(error instanceof Error ? error.message : String(error));
        process.exitCode = 1;
      }
    });
}
