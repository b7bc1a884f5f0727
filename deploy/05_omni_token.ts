import { ethers as ethersLib } from "ethers";
import { ensure, type DeployContext } from "./context.ts";

/** The suite's OmniToken: created by the factory (same address on every chain), mint limits set. */
export default async function deployOmniToken(ctx: DeployContext): Promise<void> {
  const cfg = ctx.config.omniToken;
  if (!cfg) return;
  const factory = await ctx.ethers.getContractAt(
    "ContractFactory",
    ctx.store.get("ContractFactory")!.address,
    ctx.deployer,
  );
  const kind = ethersLib.id("OMNITOKEN");
  const salt = ethersLib.id(cfg.salt);
  const init = ethersLib.AbiCoder.defaultAbiCoder().encode(
    ["string", "string", "address", "uint256", "uint256"],
    [cfg.name, cfg.symbol, ctx.resolveAccount(cfg.admin), cfg.initialSupply, cfg.homeChainId],
  );
  const address = await factory.predict(kind, salt, init);
  await ensure(
    ctx,
    `OmniToken ${cfg.symbol} created at ${address}`,
    async () => (await ctx.ethers.provider.getCode(address)) !== "0x",
    () => factory.create(kind, salt, init),
  );
  const artifact = await ctx.ethers.getContractFactory("OmniToken");
  ctx.store.save("OmniToken", {
    address,
    contractName: "OmniToken",
    abi: JSON.parse(artifact.interface.formatJson()) as unknown[],
    args: [cfg.name, cfg.symbol, ctx.resolveAccount(cfg.admin), cfg.initialSupply.toString(), cfg.homeChainId],
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
  await ensure(
    ctx,
    `oracle accepts ${cfg.symbol} (fee ${cfg.fee})`,
    async () => {
      try {
        await oracle.feeOf(address);
        return true;
      } catch {
        return false;
      }
    },
    () => oracle.setFee(address, cfg.fee),
  );
}
