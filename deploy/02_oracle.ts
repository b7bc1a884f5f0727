import { deployOnce, ensure, saveAlias, type DeployContext } from "./context.ts";

/** The ExecutableOracle: requests, escrow, program registry and disperser of this chain. */
export default async function deployOracle(ctx: DeployContext): Promise<void> {
  const owner = ctx.resolveAccount(ctx.config.owner);
  const address = await deployOnce(ctx, "ExecutableOracle", "ExecutableOracle", [owner, ctx.config.ethFee]);
  // The registry and the disperser live inside the oracle: same address, their own ABIs.
  await saveAlias(ctx, "ProgramRegistry", "ExecutableOracle", "ProgramRegistry");
  await saveAlias(ctx, "Disperser", "ExecutableOracle", "Disperser");
  const oracle = await ctx.ethers.getContractAt("ExecutableOracle", address, ctx.deployer);
  for (const [token, fee] of Object.entries(ctx.config.tokenFees)) {
    await ensure(
      ctx,
      `accepted ${token} with fee ${fee}`,
      async () => {
        try {
          return (await oracle.feeOf(token)) === fee;
        } catch {
          return false;
        }
      },
      () => oracle.setFee(token, fee),
    );
  }
}
