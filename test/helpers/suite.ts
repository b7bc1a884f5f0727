import { ethers as ethersLib, type Signer } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";
import { parseDeployConfig, type DeployConfig } from "../../deploy/config.ts";
import { devAccount } from "../../deploy/context.ts";
import { deploySuite } from "../../deploy/run.ts";
import { DeploymentStore } from "../../deploy/store.ts";
import { resultTypes, type Result } from "../../protocol/result.ts";
import { encodeInstructions, type Instruction } from "../../protocol/instructions.ts";
import { readFileSync } from "node:fs";

export const OPERATOR_INDICES = [1, 2, 3, 4];
export const POSTER_INDEX = 5;
export const ETH_FEE = 100_000_000_000_000n; // 0.0001 ETH, as in config/deploy/localhost.json

export function localDeployConfig(overrides: Partial<Record<keyof DeployConfig, unknown>> = {}): DeployConfig {
  const raw = JSON.parse(readFileSync(new URL("../../config/deploy/localhost.json", import.meta.url), "utf8"));
  return parseDeployConfig({ ...raw, ...overrides });
}

export const operatorWallets = () => OPERATOR_INDICES.map((i) => devAccount(i));

/** Deploys the suite as `npx hardhat deploy` would, publishes a program, and returns typed handles. */
export async function deployTestSuite(connection: NetworkConnection, overrides: Record<string, unknown> = {}) {
  const { ethers } = connection;
  const programId = ethersLib.sha256(ethersLib.toUtf8Bytes("test program"));
  // The test program controls the omni token too, so tests can burn and mint it with their results.
  const raw = JSON.parse(readFileSync(new URL("../../config/deploy/localhost.json", import.meta.url), "utf8"));
  const omniConfig = { ...raw.omniToken, controllers: [...raw.omniToken.controllers, programId] };
  const config = localDeployConfig({ omniToken: omniConfig, ...overrides });
  const addresses = await deploySuite(connection, config, new DeploymentStore(undefined));
  const signers = await ethers.getSigners();
  const [owner, , , , , poster, , requester, other] = signers;
  const oracle = await ethers.getContractAt("ExecutableOracle", addresses.ExecutableOracle);
  const ingestor = await ethers.getContractAt("InstructionIngestor", addresses.InstructionIngestor);
  const operatorSet = await ethers.getContractAt("OwnedOperatorSet", addresses.OwnedOperatorSet);
  const factory = await ethers.getContractAt("VersatusFactory", addresses.VersatusFactory);
  const omniToken = await ethers.getContractAt("OmniToken", addresses.OmniToken!);
  await (await oracle.connect(owner!).publish(programId, "test-program", "file://test")).wait();
  const chainId = (await ethers.provider.getNetwork()).chainId;
  return {
    ethers,
    addresses,
    oracle,
    ingestor,
    operatorSet,
    factory,
    omniToken,
    programId,
    chainId,
    owner: owner!,
    poster: poster!,
    requester: requester!,
    other: other!,
  };
}

export type Suite = Awaited<ReturnType<typeof deployTestSuite>>;

/** Signs `result` for `ingestor` on `chainId` with `wallets`, ordered by signer address as the ingestor requires. */
export async function signResult(
  wallets: ethersLib.BaseWallet[],
  chainId: bigint,
  ingestor: string,
  result: Result,
): Promise<string[]> {
  const domain = { name: "Versatus", version: "1", chainId, verifyingContract: ingestor };
  const sorted = [...wallets].sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
  const types = { Result: [...resultTypes.Result] };
  return Promise.all(sorted.map((w) => w.signTypedData(domain, types, result)));
}

export function makeResult(fields: {
  requestId: string;
  originChainId: bigint;
  programId: string;
  input?: string;
  status?: 0 | 1;
  instructions?: Instruction[];
  bodyHash?: string;
}): Result {
  return {
    requestId: fields.requestId as `0x${string}`,
    originChainId: fields.originChainId,
    programId: fields.programId as `0x${string}`,
    inputHash: ethersLib.keccak256(fields.input ?? "0x") as `0x${string}`,
    status: fields.status ?? 0,
    instructionsHash: ethersLib.keccak256(encodeInstructions(fields.instructions ?? [])) as `0x${string}`,
    bodyHash: (fields.bodyHash ?? ethersLib.id("body")) as `0x${string}`,
  };
}

/** Sends an ETH request and returns its id. */
export async function requestEth(suite: Suite, from: Signer, value: bigint, input = "0x1234", ttl = 3600n) {
  const oracle = suite.oracle.connect(from);
  const requestId = await oracle.nextRequestId(await from.getAddress(), suite.programId, input);
  await (await oracle.request(suite.programId, input, ttl, { value })).wait();
  return requestId;
}

export const tx = (i: Instruction) => ({ ...i });
