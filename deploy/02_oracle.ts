import { deployOnce, ensure, saveAlias, type DeployContext } from "./context.ts";

/** Largest probe used when accepting a token (the deployer must hold at least 1 unit of it). */
const MAX_PROBE = 10n ** 18n;

/** The ExecutableOracle: requests, escrow, program registry and disperser of this chain. */
export default async function deployOracle(ctx: DeployContext): Promise<void> {
  const owner = ctx.resolveAccount(ctx.config.owner);
  // The constructor refuses a zero ETH fee: a free chain is made free afterwards, on purpose (setFree).
  const address = await deployOnce(ctx, "ExecutableOracle", "ExecutableOracle", [owner, ctx.config.ethFee]);
  // The registry and the disperser live inside the oracle: same address, their own ABIs.
  await saveAlias(ctx, "ProgramRegistry", "ExecutableOracle", "ProgramRegistry");
  await saveAlias(ctx, "Disperser", "ExecutableOracle", "Disperser");
  const oracle = await ctx.ethers.getContractAt("ExecutableOracle", address, ctx.deployer);
  for (const [token, fee] of Object.entries(ctx.config.tokenFees)) {
    const feeNow = async (): Promise<bigint | undefined> => {
      try {
        return await oracle.feeOf(token);
      } catch {
        return undefined; // not accepted yet
      }
    };
    await ensure(
      ctx,
      `accepted ${token} (exact round-trip probe)`,
      async () => (await feeNow()) !== undefined,
      async () => {
        // Acceptance probes the token with the deployer's own funds: a round trip that must move
        // exactly the amount both ways (fee-on-transfer tokens are refused).
        const erc20 = await ctx.ethers.getContractAt("StandardERC20", token, ctx.deployer);
        const balance: bigint = await erc20.balanceOf(await ctx.deployer.getAddress());
        if (balance === 0n) throw new Error(`accepting ${token} needs the deployer to hold some of it for the probe`);
        const probe = balance < MAX_PROBE ? balance : MAX_PROBE;
        await (await erc20.approve(address, probe)).wait();
        return oracle.acceptToken(token, fee === 0n ? 1n : fee, probe);
      },
    );
    await ensure(
      ctx,
      fee === 0n ? `${token} free on purpose` : `${token} fee ${fee}`,
      async () => (await feeNow()) === fee,
      () => (fee === 0n ? oracle.setFree(token) : oracle.setFee(token, fee)),
    );
  }
}
