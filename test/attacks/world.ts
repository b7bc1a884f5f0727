import { ethers as E } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";
import { createPublicClient, custom, getAddress, stringToHex, type Address, type Hex, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { devAccount } from "../../deploy/context.ts";
import { deploySuite } from "../../deploy/run.ts";
import { DeploymentStore } from "../../deploy/store.ts";
import type { ControllerResolver } from "../../protocol/conservation.ts";
import type { WorkJob } from "../../protocol/jobs.ts";
import type { ProgramPackage } from "../../protocol/programPackage.ts";
import { chainControllerResolver, requestFee } from "../../protocol/ruleContext.ts";
import type { NanoRuntime } from "../../runtime/executor.ts";
import { executeWork, type ExecuteReturnType } from "../../worker/execute.ts";
import { builtProgram } from "../fixtures/programs.ts";
import { localDeployConfig, OPERATOR_INDICES } from "../helpers/suite.ts";

/**
 * Two in-process chains (chainA = 31337, chainBSim = 31338) with the suite deployed and an omni
 * token created through the factory with the same salt on both (so the same address), whose
 * controllers are the attack-echo fixture (a program that prints whatever its input says) and the
 * token-mover example. A second token, FOREIGN, names only token-mover: attack-echo may not move
 * it. Results are produced by the real worker path (`executeWork`: runtime, output parser,
 * output rule, signing) of three operator keys and ingested as the poster would.
 */

export const TOKEN_FEE = 1n;

export type AttackChain = {
  connection: NetworkConnection;
  ethers: NetworkConnection["ethers"];
  chainId: bigint;
  client: PublicClient;
  addresses: Record<string, string>;
  oracle: E.Contract;
  ingestor: E.Contract;
  vomni: E.Contract;
  foreign: E.Contract;
  owner: E.Signer;
  poster: E.Signer;
  requester: E.Signer;
};

export type World = {
  a: AttackChain;
  b: AttackChain;
  echo: ProgramPackage;
  mover: ProgramPackage;
  vomni: Address;
  foreign: Address;
  controllers: ControllerResolver;
};

const OMNI = E.id("OMNITOKEN");

async function createToken(chain: AttackChain, name: string, controllers: Hex[], supply: bigint): Promise<string> {
  const factory = await chain.ethers.getContractAt("VersatusFactory", chain.addresses.VersatusFactory!, chain.owner);
  const init = E.AbiCoder.defaultAbiCoder().encode(
    ["string", "string", "address", "uint256", "uint256", "bytes32[]"],
    // controllers ascending (one set, one encoding, one address); the supply exists on the home chain A only
    [
      name,
      name,
      await chain.owner.getAddress(),
      supply,
      31337n,
      [...controllers].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1)),
    ],
  );
  const salt = E.id(`attack ${name}`);
  const address = await factory.predict(OMNI, salt, init);
  await (await factory.create(OMNI, salt, init)).wait();
  return address as string;
}

async function chainOf(connection: NetworkConnection): Promise<AttackChain> {
  const { ethers } = connection;
  const addresses = (await deploySuite(
    connection,
    // staking off: the suite's staking deploy step does not follow wip-staking's constructors yet
    localDeployConfig({ omniToken: undefined, staking: undefined }),
    new DeploymentStore(undefined),
  )) as Record<string, string>;
  const signers = await ethers.getSigners();
  const [owner, , , , , poster, , requester] = signers;
  const chainId = (await ethers.provider.getNetwork()).chainId;
  return {
    connection,
    ethers,
    chainId,
    client: createPublicClient({ transport: custom(connection.provider) }) as PublicClient,
    addresses,
    oracle: (await ethers.getContractAt("ExecutableOracle", addresses.ExecutableOracle!)) as unknown as E.Contract,
    ingestor: (await ethers.getContractAt(
      "InstructionIngestor",
      addresses.InstructionIngestor!,
    )) as unknown as E.Contract,
    vomni: undefined as unknown as E.Contract,
    foreign: undefined as unknown as E.Contract,
    owner: owner!,
    poster: poster!,
    requester: requester!,
  };
}

export async function attackWorld(connections: { a: NetworkConnection; b: NetworkConnection }): Promise<World> {
  const a = await chainOf(connections.a);
  const b = await chainOf(connections.b);
  const echo = builtProgram("attack-echo").package;
  const mover = builtProgram("token-mover").package;
  const supply = E.parseEther("1000000");
  let vomni = "";
  let foreign = "";
  for (const chain of [a, b]) {
    vomni = await createToken(chain, "VOMNI", [echo.programId, mover.programId], supply);
    foreign = await createToken(chain, "FOREIGN", [mover.programId], supply);
    chain.vomni = (await chain.ethers.getContractAt("OmniToken", vomni, chain.owner)) as unknown as E.Contract;
    chain.foreign = (await chain.ethers.getContractAt("OmniToken", foreign, chain.owner)) as unknown as E.Contract;
    for (const token of [chain.vomni, chain.foreign]) {
      for (const origin of [31337n, 31338n]) await (await token.setMintLimit(origin, supply, 3600n)).wait();
    }
    const oracle = chain.oracle.connect(chain.owner) as E.Contract;
    for (const pkg of [echo, mover]) {
      await (await oracle.publish(pkg.programId, pkg.manifest.name, `file://${pkg.manifest.name}`)).wait();
    }
  }
  // chain A (home) accepts VOMNI and FOREIGN for escrow, each with a 1-wei fee.
  for (const token of [a.vomni, a.foreign]) {
    const address = await token.getAddress();
    await (await token.approve(a.addresses.ExecutableOracle!, 1000n)).wait();
    await (await (a.oracle.connect(a.owner) as E.Contract).acceptToken(address, TOKEN_FEE, 1000n)).wait();
    await (await token.transfer(await a.requester.getAddress(), E.parseEther("10000"))).wait();
  }
  const clients = new Map<bigint, PublicClient>([
    [a.chainId, a.client],
    [b.chainId, b.client],
  ]);
  return {
    a,
    b,
    echo,
    mover,
    vomni: getAddress(vomni),
    foreign: getAddress(foreign),
    controllers: chainControllerResolver((chainId) => clients.get(chainId)),
  };
}

/** Escrows `amount` of `token` on chain A for `program` with `input`; returns the work job a relayer would hand out. */
export async function requestOnA(
  world: World,
  program: ProgramPackage,
  input: unknown,
  token: E.Contract,
  amount: bigint,
): Promise<WorkJob> {
  const { a } = world;
  const inputHex = stringToHex(typeof input === "string" ? input : JSON.stringify(input));
  const requester = await a.requester.getAddress();
  await (await (token.connect(a.requester) as E.Contract).approve(a.addresses.ExecutableOracle!, amount)).wait();
  const oracle = a.oracle.connect(a.requester) as E.Contract;
  const tx = await oracle.requestWithToken(program.programId, inputHex, 3600n, await token.getAddress(), amount);
  const receipt = await tx.wait();
  const event = receipt.logs
    .map((log: E.Log) => {
      try {
        return a.oracle.interface.parseLog(log);
      } catch {
        return null;
      }
    })
    .find((parsed: E.LogDescription | null) => parsed?.name === "ExecutionRequested");
  const block = await a.ethers.provider.getBlock(receipt.blockNumber);
  return {
    chainId: String(a.chainId),
    oracle: getAddress(a.addresses.ExecutableOracle!),
    requestId: (event!.args.requestId as string).toLowerCase() as Hex,
    programId: program.programId,
    requester: getAddress(requester),
    token: getAddress(await token.getAddress()),
    amount: amount.toString(),
    deadline: String(BigInt(block!.timestamp) + 3600n),
    input: inputHex,
    blockNumber: String(receipt.blockNumber),
    blockTimestamp: String(block!.timestamp),
    transactionHash: receipt.hash as Hex,
    logIndex: 0,
    operator: getAddress(devAccount(1).address),
    reassignAfter: Date.now() + 60_000,
  };
}

/** Three operators run the job through the real worker path (runtime, parser, output rule, signing). */
export async function runByOperators(
  world: World,
  job: WorkJob,
  pkg: ProgramPackage,
  runtime: NanoRuntime,
  /** "skip": a colluding quorum that signs the parsed output without the output rule. */
  mode: "honest" | "skip" = "honest",
): Promise<ExecuteReturnType[]> {
  const ingestors = new Map<bigint, Address>([
    [world.a.chainId, getAddress(world.a.addresses.InstructionIngestor!)],
    [world.b.chainId, getAddress(world.b.addresses.InstructionIngestor!)],
  ]);
  const fee = await requestFee(world.a.client, job.oracle, job.token, BigInt(job.blockNumber));
  const runs: ExecuteReturnType[] = [];
  for (const index of OPERATOR_INDICES.slice(0, 3)) {
    const account = privateKeyToAccount(devAccount(index).privateKey as Hex);
    runs.push(
      await executeWork({
        job: { ...job, operator: account.address },
        fee,
        pkg,
        runtime,
        account,
        ingestors,
        rule: mode === "skip" ? "skip" : { controllers: world.controllers },
      }),
    );
  }
  return runs;
}

/** Ingests the chain's part of a quorum's result as the poster would (signatures ascending by signer). */
export async function ingestOn(chain: AttackChain, runs: ExecuteReturnType[]): Promise<E.TransactionReceipt | null> {
  const entries = runs
    .map((run) => ({
      operator: run.result.operator,
      chain: run.result.chains.find((c) => BigInt(c.chainId) === chain.chainId),
    }))
    .filter((e) => e.chain !== undefined)
    .sort((x, y) => (BigInt(x.operator) < BigInt(y.operator) ? -1 : 1));
  if (entries.length === 0) return null;
  const first = entries[0]!.chain!;
  const result = { ...first.result, originChainId: BigInt(first.result.originChainId) };
  const instructions = first.instructions.map((ix) => ({ ...ix, amount: BigInt(ix.amount) }));
  const ingestor = chain.ingestor.connect(chain.poster) as E.Contract;
  const tx = await ingestor.ingest(
    result,
    instructions,
    entries.map((e) => e.chain!.signature),
    "0x00",
  );
  return tx.wait();
}

/** sum(totalSupply on both chains) + what B (and A) queued of `token`. */
export async function conservedTotal(world: World, token: "vomni" | "foreign"): Promise<bigint> {
  let total = 0n;
  for (const chain of [world.a, world.b]) {
    const t = chain[token];
    total += (await t.totalSupply()) + (await t.queuedTotal());
  }
  return total;
}
