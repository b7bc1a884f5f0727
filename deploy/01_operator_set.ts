import { deployOnce, type DeployContext } from "./context.ts";

/** The owner-managed operator set the ingestor checks signatures against. */
export default async function deployOperatorSet(ctx: DeployContext): Promise<void> {
  const operators = ctx.config.operators.map(ctx.resolveAccount);
  await deployOnce(ctx, "OwnedOperatorSet", "OwnedOperatorSet", [
    ctx.resolveAccount(ctx.config.owner),
    operators,
    ctx.config.threshold,
  ]);
}
