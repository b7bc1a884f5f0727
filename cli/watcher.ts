import type { Command } from "commander";
import { formatEther, type Hex } from "viem";
import { InvalidInputError } from "../protocol/errors.ts";
import {
  challengeResult,
  deregisterWatcher,
  listClaims,
  readStakeStatus,
  registerWatcher,
  withdrawOwed,
  type DisputeClaim,
  type StakeStatus,
} from "../protocol/staking.ts";
import { runAction, toJson } from "./clientOptions.ts";
import {
  accountOf,
  printTable,
  stakeLines,
  stakingClientsFromOptions,
  unit,
  stakeAction,
  unstakeAction,
  withStakingOptions,
  type StakingCliOptions,
} from "./operator.ts";
import { registerWatcherRunCommand } from "./watcherRun.ts";

const KEY_ENV = "WATCHER_KEY";

function watcherLines(s: StakeStatus): [string, string][] {
  return [
    ...stakeLines(s),
    ["watcher", s.watcher ? "yes" : "no"],
    ["voting weight", `${formatEther(s.watcherWeight)} ${unit(s)}`],
    ["minimum stake", `${formatEther(s.watcherMinStake)} ${unit(s)}`],
    ["owed by disputes", `${formatEther(s.owed)} ETH`],
    ["slashed stake credited", `${formatEther(s.slashedCredit)} ${unit(s)}`],
  ];
}

function claimLine(c: DisputeClaim): string {
  const vote = c.vote === undefined ? "" : ` voted ${c.vote ? "uphold" : "reject"} (${formatEther(c.voteWeight!)})`;
  const result =
    c.state === "Upheld"
      ? `upheld: slashed ${formatEther(c.slashed ?? 0n)}, challenger reward ${formatEther(c.challengerReward ?? 0n)}`
      : c.state === "Rejected"
        ? "rejected: bond forfeited"
        : `open (commit until ${c.commitEnd}, reveal until ${c.revealEnd})`;
  return `#${c.disputeId} ${c.kind} request ${c.requestId} (chain ${c.originChainId}) as ${c.roles.join("+")}${vote}; bond ${formatEther(c.bond)} ETH; ${result}`;
}

/**
 * `versatus watcher stake|unstake|register|deregister|status|claims|run`: a watcher's stake, its
 * registration (voting weight in disputes), the disputes it took part in and the ETH owed to it.
 * Signs with env WATCHER_KEY or --dev-account.
 */
export function registerWatcherCommands(root: Command): void {
  const watcher = root
    .command("watcher")
    .description("Watcher staking and disputes: stake, unstake, status, claims, run");

  withStakingOptions(
    watcher
      .command("status")
      .description("Show a watcher's stake, registration and voting weight")
      .argument("[account]", "watcher address (default: the signing key's)"),
    KEY_ENV,
  ).action((given: string | undefined, options: StakingCliOptions) =>
    runAction(async () => {
      const c = await stakingClientsFromOptions(options, KEY_ENV, false);
      const s = await readStakeStatus(c, accountOf(c, given, KEY_ENV));
      if (options.json) {
        const { requiredStake: _r, reputationBps: _p, threshold: _t, registeredCount: _n, ...watcherView } = s;
        void [_r, _p, _t, _n];
        console.log(toJson(watcherView));
      } else printTable(watcherLines(s));
    }),
  );

  withStakingOptions(
    watcher
      .command("stake")
      .description("Deposit stake and register as a watcher (unless --no-register)")
      .argument("<amount>", "amount in ETH (or whole tokens)")
      .option("--no-register", "only deposit"),
    KEY_ENV,
  ).action((amountText: string, options: StakingCliOptions & { register: boolean }) =>
    runAction(() =>
      stakeAction(amountText, options, KEY_ENV, options.register, {
        already: (status) => status.watcher,
        alreadyText: "already a watcher",
        register: async (c) => {
          const reg = await registerWatcher(c);
          return { result: { txHash: reg.txHash }, text: `registered as a watcher in ${reg.txHash}` };
        },
      }),
    ),
  );

  withStakingOptions(
    watcher
      .command("unstake")
      .description("Request unbonding of <amount>; --withdraw takes back unbonding stake once unlocked")
      .argument("[amount]", "amount in ETH (or whole tokens) to start unbonding")
      .option("--withdraw", "withdraw the unbonding stake (after its unlock block)"),
    KEY_ENV,
  ).action((amountText: string | undefined, options: StakingCliOptions & { withdraw?: boolean }) =>
    runAction(() => unstakeAction(amountText, options, KEY_ENV)),
  );

  withStakingOptions(
    watcher
      .command("challenge")
      .description(
        "Challenge an ingested result with the bond: --body-hash names the correct bodyHash, --unavailable claims its record cannot be read",
      )
      .argument("<requestId>", "the request whose ingested result is wrong")
      .option("--origin-chain <id>", "the request's origin chain id (default: this chain)")
      .option("--body-hash <0x..>", "the correct bodyHash (a WrongResult claim)")
      .option("--unavailable", "claim the execution record is not available (a DataUnavailable claim)")
      .option("--from-block <n>", "first block to search for the ingest event", "0"),
    KEY_ENV,
  ).action(
    (
      requestId: string,
      options: StakingCliOptions & {
        originChain?: string;
        bodyHash?: string;
        unavailable?: boolean;
        fromBlock: string;
      },
    ) =>
      runAction(async () => {
        if (!/^0x[0-9a-fA-F]{64}$/.test(requestId))
          throw new InvalidInputError("requestId", "a 0x-prefixed 32-byte hex id");
        if ((options.bodyHash === undefined) === !options.unavailable) {
          throw new InvalidInputError("claim", "exactly one of --body-hash <0x..> or --unavailable");
        }
        if (options.bodyHash !== undefined && !/^0x[0-9a-fA-F]{64}$/.test(options.bodyHash)) {
          throw new InvalidInputError("--body-hash", "a 0x-prefixed 32-byte hex hash");
        }
        if (!/^\d+$/.test(options.fromBlock)) throw new InvalidInputError("--from-block", "a block number");
        if (options.originChain !== undefined && !/^\d+$/.test(options.originChain)) {
          throw new InvalidInputError("--origin-chain", "a chain id");
        }
        const c = await stakingClientsFromOptions(options, KEY_ENV, true);
        const originChainId = BigInt(options.originChain ?? (await c.publicClient.getChainId()));
        const done = await challengeResult(
          c,
          { originChainId, requestId: requestId as Hex, fromBlock: BigInt(options.fromBlock) },
          options.unavailable
            ? { kind: "DataUnavailable" }
            : { kind: "WrongResult", correctBodyHash: options.bodyHash as Hex },
        );
        console.log(options.json ? toJson(done) : `opened dispute #${done.disputeId} in ${done.txHash}`);
      }),
  );

  withStakingOptions(
    watcher.command("register").description("Register as a watcher (needs the minimum stake slashable)"),
    KEY_ENV,
  ).action((options: StakingCliOptions) =>
    runAction(async () => {
      const sent = await registerWatcher(await stakingClientsFromOptions(options, KEY_ENV, true));
      console.log(options.json ? toJson(sent) : `registered as a watcher in ${sent.txHash}`);
    }),
  );

  withStakingOptions(
    watcher
      .command("deregister")
      .description("Stop being a watcher (votes not yet revealed then count 0: reveal first)"),
    KEY_ENV,
  ).action((options: StakingCliOptions) =>
    runAction(async () => {
      const sent = await deregisterWatcher(await stakingClientsFromOptions(options, KEY_ENV, true));
      console.log(options.json ? toJson(sent) : `deregistered in ${sent.txHash}`);
    }),
  );

  withStakingOptions(
    watcher
      .command("claims")
      .description("Disputes the account challenged or voted in, their outcome, and the ETH owed; --withdraw takes it")
      .argument("[account]", "address (default: the signing key's)")
      .option("--from-block <n>", "first block to search for dispute events", "0")
      .option(
        "--withdraw",
        "withdraw what is owed: ETH from the DisputeManager and slashed stake credited in the adapter (signs with the key options)",
      ),
    KEY_ENV,
  ).action((given: string | undefined, options: StakingCliOptions & { fromBlock: string; withdraw?: boolean }) =>
    runAction(async () => {
      if (!/^\d+$/.test(options.fromBlock)) throw new Error("--from-block: expected a block number");
      const c = await stakingClientsFromOptions(options, KEY_ENV, options.withdraw === true);
      if (options.withdraw) {
        const done = await withdrawOwed(c);
        console.log(
          options.json
            ? toJson(done)
            : `withdrew ${formatEther(done.amount)} ETH from disputes and ${formatEther(done.slashed)} of credited slashed stake (last tx ${done.txHash})`,
        );
        return;
      }
      const who = accountOf(c, given, KEY_ENV);
      const { claims, owed } = await listClaims(c, who, BigInt(options.fromBlock));
      if (options.json) {
        console.log(toJson({ account: who, owed, claims }));
        return;
      }
      if (claims.length === 0) console.log(`no disputes for ${who}`);
      for (const claim of claims) console.log(claimLine(claim));
      console.log(`owed: ${formatEther(owed)} ETH${owed > 0n ? " (withdraw with `watcher claims --withdraw`)" : ""}`);
    }),
  );

  registerWatcherRunCommand(watcher);
}
