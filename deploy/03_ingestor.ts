import { deployOnce, ensure, type DeployContext } from "./context.ts";

/** The InstructionIngestor, wired to the oracle and the operator set, with its posters. */
export default async function deployIngestor(ctx: DeployContext): Promise<void> {
  const oracleAddress = ctx.store.get("ExecutableOracle")!.address;
  const setAddress = ctx.store.get("OwnedOperatorSet")!.address;
  const address = await deployOnce(ctx, "InstructionIngestor", "InstructionIngestor", [
    ctx.resolveAccount(ctx.config.owner),
    oracleAddress,
    setAddress,
  ]);
  const oracle = await ctx.ethers.getContractAt("ExecutableOracle", oracleAddress, ctx.deployer);
  const ingestor = await ctx.ethers.getContractAt("InstructionIngestor", address, ctx.deployer);
  await ensure(
    ctx,
    "oracle -> ingestor wired",
    async () => (await oracle.ingestor()) === address,
    () => oracle.setIngestor(address),
  );
  for (const ref of ctx.config.posters) {
    const poster = ctx.resolveAccount(ref);
    await ensure(
      ctx,
      `poster ${poster} allowed`,
      () => ingestor.isPoster(poster),
      () => ingestor.setPoster(poster, true),
    );
  }
  await ensure(
    ctx,
    `open posting set to ${ctx.config.openPosting}`,
    async () => (await ingestor.openPosting()) === ctx.config.openPosting,
    () => ingestor.setOpenPosting(ctx.config.openPosting),
  );
}
