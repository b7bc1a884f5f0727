import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ethers as ethersLib } from "ethers";
import { buildProgram, programDirectories, readManifestFile } from "../programs/toolchain.ts";
import { InvalidInputError } from "../protocol/errors.ts";
import { ensure, type DeployContext } from "./context.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const PROGRAM_ID = /^0x[0-9a-fA-F]{64}$/;

/**
 * Resolves the configured controller programs to programIds, ascending (the order the token's
 * constructor requires, so one set of controllers gives one address). A name is resolved by
 * building (incrementally) the program whose versatus.json has that name, exactly as
 * `npm run programs:build` and the devnet do, so the id is the one operators will run.
 */
export function resolveControllers(refs: readonly string[], root = ROOT): string[] {
  const ids = refs.map((ref) => (PROGRAM_ID.test(ref) ? ref.toLowerCase() : programIdByName(ref, root)));
  const sorted = [...ids].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) {
      throw new InvalidInputError("omniToken.controllers", `distinct programs (${sorted[i]} is listed twice)`);
    }
  }
  return sorted;
}

function programIdByName(name: string, root: string): string {
  const dirs = programDirectories(root);
  const dir = dirs.find((d) => readManifestFile(d).name === name);
  if (!dir) {
    const known = dirs.map((d) => readManifestFile(d).name).join(", ");
    throw new InvalidInputError(
      "omniToken.controllers",
      `a program name found under programs/ (known: ${known}), got "${name}"`,
    );
  }
  return buildProgram(dir).package.programId.toLowerCase();
}

/**
 * The suite's OmniToken: created by the factory (same address on every chain for the same
 * controllers), mint limits set. Idempotent: the address is predicted from the init and only
 * created when nothing is there.
 */
export default async function deployOmniToken(ctx: DeployContext): Promise<void> {
  const cfg = ctx.config.omniToken;
  if (!cfg) return;
  const factory = await ctx.ethers.getContractAt(
    "VersatusFactory",
    ctx.store.get("VersatusFactory")!.address,
    ctx.deployer,
  );
  const controllers = resolveControllers(cfg.controllers);
  const kind = ethersLib.id("OMNITOKEN");
  const salt = ethersLib.id(cfg.salt);
  const args = [cfg.name, cfg.symbol, ctx.resolveAccount(cfg.admin), cfg.initialSupply, cfg.homeChainId, controllers];
  const init = ethersLib.AbiCoder.defaultAbiCoder().encode(
    ["string", "string", "address", "uint256", "uint256", "bytes32[]"],
    args,
  );
  const address = await factory.predict(kind, salt, init);
  await ensure(
    ctx,
    `OmniToken ${cfg.symbol} created at ${address} (controllers ${cfg.controllers.join(", ")}: ${controllers.join(", ")})`,
    async () => (await ctx.ethers.provider.getCode(address)) !== "0x",
    () => factory.create(kind, salt, init),
  );
  const artifact = await ctx.ethers.getContractFactory("OmniToken");
  ctx.store.save("OmniToken", {
    address,
    contractName: "OmniToken",
    abi: JSON.parse(artifact.interface.formatJson()) as unknown[],
    args: [
      cfg.name,
      cfg.symbol,
      ctx.resolveAccount(cfg.admin),
      cfg.initialSupply.toString(),
      cfg.homeChainId,
      controllers,
    ],
    bytecodeHash: ethersLib.keccak256(artifact.bytecode),
    chainId: ctx.chainId,
  });
  const token = await ctx.ethers.getContractAt("OmniToken", address, ctx.deployer);
  for (const [origin, limit] of Object.entries(cfg.mintLimits)) {
    await ensure(
      ctx,
      `mint limit for origin ${origin}: ${limit.capacity} per ${limit.window}s`,
      async () => (await token.mintableNow(origin)) > 0n,
      () => token.setMintLimit(origin, limit.capacity, limit.window),
    );
  }
  const oracle = await ctx.ethers.getContractAt(
    "ExecutableOracle",
    ctx.store.get("ExecutableOracle")!.address,
    ctx.deployer,
  );
  const feeNow = async (): Promise<bigint | undefined> => {
    try {
      return await oracle.feeOf(address);
    } catch {
      return undefined; // not accepted yet
    }
  };
  // The omni token is accepted without a probe (the owner holds none of it off its home chain); a
  // zero fee is first accepted as 1 wei and then made free on purpose, as the oracle requires.
  await ensure(
    ctx,
    `oracle accepts ${cfg.symbol}`,
    async () => (await feeNow()) !== undefined,
    () => oracle.acceptOmniToken(address, cfg.fee === 0n ? 1n : cfg.fee),
  );
  await ensure(
    ctx,
    cfg.fee === 0n ? `${cfg.symbol} free on purpose` : `${cfg.symbol} fee ${cfg.fee}`,
    async () => (await feeNow()) === cfg.fee,
    () => (cfg.fee === 0n ? oracle.setFree(address) : oracle.setFee(address, cfg.fee)),
  );
}
