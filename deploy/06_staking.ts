import { ethers as ethersLib } from "ethers";
import { deployOnce, ensure, type DeployContext } from "./context.ts";

const ERC20_ABI = [
  "function approve(address spender, uint256 amount) returns (bool)",
  "function allowance(address owner, address spender) view returns (uint256)",
];

/**
 * HoneSTake (SPEC 3.5), when the config has a `staking` section: the NativeStakeAdapter (ETH or
 * an ERC-20), the StakingRegistry and the DisputeManager, wired together; `dev:N` operators and
 * watchers stake and register (local chains); with `operatorSet: "staked"` the ingestor checks
 * signatures against the registry.
 */
export default async function deployStaking(ctx: DeployContext): Promise<void> {
  const cfg = ctx.config.staking;
  if (!cfg) return;
  const owner = ctx.resolveAccount(ctx.config.owner);
  const treasury = ctx.resolveAccount(cfg.treasury ?? ctx.config.owner);
  const asset = cfg.asset === "eth" ? ethersLib.ZeroAddress : ethersLib.getAddress(cfg.asset);
  const ingestorAddress = ctx.store.get("InstructionIngestor")!.address;

  const adapterAddress = await deployOnce(ctx, "NativeStakeAdapter", "NativeStakeAdapter", [
    owner,
    asset,
    cfg.unbondingPeriod,
  ]);
  const registryAddress = await deployOnce(ctx, "StakingRegistry", "StakingRegistry", [
    owner,
    adapterAddress,
    cfg.slashableWindow,
    ctx.config.threshold,
    { base: cfg.base, floor: cfg.floor, alphaBps: cfg.alphaBps },
    {
      epochLength: cfg.epochLength,
      gainPerResult: cfg.gainPerResult,
      maxGainPerEpoch: cfg.maxGainPerEpoch,
      decayPerEpoch: cfg.decayPerEpoch,
    },
    {
      equivocationSlashBps: cfg.equivocationSlashBps,
      submitterRewardBps: cfg.submitterRewardBps,
      treasury,
      capPerPeriod: cfg.slashCapPerPeriod,
      capPeriod: cfg.slashCapPeriod,
    },
  ]);
  const d = cfg.dispute;
  const disputeAddress = await deployOnce(ctx, "DisputeManager", "DisputeManager", [
    owner,
    registryAddress,
    ingestorAddress,
    {
      bond: d.bond,
      challengeWindow: d.challengeWindow,
      commitPeriod: d.commitPeriod,
      revealPeriod: d.revealPeriod,
      maxExtensions: d.maxExtensions,
      minParticipationBps: d.minParticipationBps,
      upholdQuorumBps: d.upholdQuorumBps,
      wrongResultSlashBps: d.wrongResultSlashBps,
      unavailableSlashBps: d.unavailableSlashBps,
      challengerRewardBps: d.challengerRewardBps,
      wrongVoteSlashBps: d.wrongVoteSlashBps,
      bondBurnBps: d.bondBurnBps,
      treasury,
    },
  ]);

  const adapter = await ctx.ethers.getContractAt("NativeStakeAdapter", adapterAddress, ctx.deployer);
  const registry = await ctx.ethers.getContractAt("StakingRegistry", registryAddress, ctx.deployer);
  await ensure(
    ctx,
    "adapter -> slasher is the registry",
    async () => {
      const slasher = await adapter.slasher();
      if (slasher === ethersLib.ZeroAddress) return false;
      if (slasher !== registryAddress) {
        throw new Error(
          `NativeStakeAdapter ${adapterAddress} already slashes for ${slasher}, not StakingRegistry ${registryAddress}: the slasher is set once; deploy again with --reset`,
        );
      }
      return true;
    },
    () => adapter.setSlasher(registryAddress),
  );
  await ensure(
    ctx,
    "registry -> dispute module is the DisputeManager",
    async () => (await registry.disputeModule()) === disputeAddress,
    () => registry.setDisputeModule(disputeAddress),
  );
  // reputation comes from the oracle's fee ledger (signature counts per epoch): set once
  const oracleAddress = ctx.store.get("ExecutableOracle")!.address;
  await ensure(
    ctx,
    "registry -> fee ledger is the ExecutableOracle",
    async () => {
      const ledger = await registry.ledger();
      if (ledger === ethersLib.ZeroAddress) return false;
      if (ledger !== oracleAddress) {
        throw new Error(
          `StakingRegistry ${registryAddress} already reads the fee ledger ${ledger}, not ExecutableOracle ${oracleAddress}: the ledger is set once; deploy again with --reset`,
        );
      }
      return true;
    },
    () => registry.setLedger(oracleAddress),
  );
  await ensure(
    ctx,
    `watcher minimum stake set to ${cfg.watcherMinStake}`,
    async () => (await registry.watcherMinStake()) === cfg.watcherMinStake,
    () => registry.setWatcherMinStake(cfg.watcherMinStake),
  );

  /** Deposits until `account` has `amount` bonded (approving the ERC-20 first). */
  const stake = async (ref: string, amount: bigint) => {
    const signer = ctx.devSigner(ref);
    const account = await signer.getAddress();
    const asSigner = adapter.connect(signer);
    const [bonded] = await adapter.stakeOf(account);
    if (bonded >= amount) return;
    const missing = amount - bonded;
    if (asset !== ethersLib.ZeroAddress) {
      const token = new ethersLib.Contract(asset, ERC20_ABI, signer);
      await ensure(
        ctx,
        `${ref} approved the adapter for ${missing}`,
        async () => ((await token.getFunction("allowance")(account, adapterAddress)) as bigint) >= missing,
        () => token.getFunction("approve")(adapterAddress, missing) as Promise<{ wait: () => Promise<unknown> }>,
      );
    }
    await ensure(
      ctx,
      `${ref} (${account}) staked ${missing}`,
      async () => false,
      () => asSigner.deposit(missing, { value: asset === ethersLib.ZeroAddress ? missing : 0n }),
    );
  };

  for (const ref of ctx.config.operators) {
    if (!ref.startsWith("dev:")) {
      ctx.log(`operator ${ref} stakes and registers itself (versatus operator stake --register)`);
      continue;
    }
    const account = ctx.resolveAccount(ref);
    // dev operators are topped back up to operatorStake (a devnet run slashes its colluders)
    await stake(ref, cfg.operatorStake);
    if (await registry.isActive(account)) continue;
    const asOperator = registry.connect(ctx.devSigner(ref));
    await ensure(
      ctx,
      `operator ${ref} (${account}) registered`,
      async () => {
        if (await registry.isActive(account)) return true;
        // registered but inactive (slashed, or the curve changed): staking alone fixed it, or it cannot be
        try {
          await asOperator.deregister.staticCall();
        } catch {
          return false; // not registered: register below
        }
        throw new Error(
          `operator ${ref} (${account}) is registered but inactive with ${cfg.operatorStake} staked (required ${await registry.requiredStake(account)})`,
        );
      },
      () => asOperator.register(),
    );
  }
  for (const ref of cfg.watchers) {
    const account = ctx.resolveAccount(ref);
    if (await registry.isWatcher(account)) continue;
    await stake(ref, cfg.watcherStake);
    await ensure(
      ctx,
      `watcher ${ref} (${account}) registered`,
      () => registry.isWatcher(account),
      () => registry.connect(ctx.devSigner(ref)).registerWatcher(),
    );
  }

  const ingestor = await ctx.ethers.getContractAt("InstructionIngestor", ingestorAddress, ctx.deployer);
  const wanted = cfg.operatorSet === "staked" ? registryAddress : ctx.store.get("OwnedOperatorSet")!.address;
  await ensure(
    ctx,
    `ingestor -> operator set is the ${cfg.operatorSet === "staked" ? "StakingRegistry" : "OwnedOperatorSet"}`,
    async () => (await ingestor.operatorSet()) === wanted,
    () => ingestor.setOperatorSet(wanted),
  );
}
