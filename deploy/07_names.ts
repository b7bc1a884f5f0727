import { deployOnce, type DeployContext } from "./context.ts";

/** The NameRegistry the DNS facade (`versatus dns`) resolves from: names in global state (docs/dns.md). */
export default async function deployNames(ctx: DeployContext): Promise<void> {
  const { suffix, minCommitmentAge, maxCommitmentAge, registrationPeriod } = ctx.config.names;
  await deployOnce(ctx, "NameRegistry", "NameRegistry", [
    suffix,
    minCommitmentAge,
    maxCommitmentAge,
    registrationPeriod,
  ]);
}
