import type { Command } from "commander";
import {
  createWalletClient,
  formatEther,
  getAddress,
  isAddress,
  parseEther,
  zeroAddress,
  type Address,
  type Hex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { devAccount } from "../deploy/context.ts";
import { InvalidInputError } from "../protocol/errors.ts";
import {
  accrueReputation,
  deregisterOperator,
  findLedgerRefs,
  evictOperator,
  readStakeStatus,
  registerOperator,
  resolveStakingAddresses,
  stake,
  unstake,
  withdrawStake,
  type StakeStatus,
  type StakingClients,
} from "../protocol/staking.ts";
import { connectChain, runAction, toJson } from "./clientOptions.ts";

/** Options every operator and watcher command takes. */
export type StakingCliOptions = {
  rpc: string;
  network?: string;
  registry?: string;
  adapter?: string;
  disputes?: string;
  devAccount?: string;
  json?: boolean;
};

/** Adds the chain, contract, key and output options; `keyEnv` names the env var holding the key. */
export function withStakingOptions(command: Command, keyEnv: string): Command {
  return command
    .option("--rpc <url>", "chain RPC URL (env RPC_URL)", process.env.RPC_URL ?? "http://127.0.0.1:8545")
    .option("--network <name>", "read the staking contracts from deployments/<name>/ (default: localhost)")
    .option("--registry <address>", "StakingRegistry address")
    .option("--adapter <address>", "NativeStakeAdapter address")
    .option("--disputes <address>", "DisputeManager address")
    .option(
      "--dev-account <index>",
      `sign with the local dev mnemonic's account <index> (local chains only; else env ${keyEnv})`,
    )
    .option("--json", "print machine-readable JSON");
}

/** Viem clients and staking addresses from the options; a wallet only when `needsWallet`. */
export async function stakingClientsFromOptions(
  options: StakingCliOptions,
  keyEnv: string,
  needsWallet: boolean,
): Promise<StakingClients> {
  const addresses = resolveStakingAddresses(options.network ?? "localhost", {
    ...(options.registry !== undefined ? { registry: options.registry } : {}),
    ...(options.adapter !== undefined ? { adapter: options.adapter } : {}),
    ...(options.disputes !== undefined ? { disputes: options.disputes } : {}),
  });
  const { chain, transport, publicClient } = await connectChain(options.rpc);
  const key =
    options.devAccount !== undefined ? devAccount(Number(options.devAccount)).privateKey : process.env[keyEnv];
  if (!key) {
    if (needsWallet) {
      throw new InvalidInputError(keyEnv, "a 0x-prefixed 32-byte private key (or --dev-account <i> on a local chain)");
    }
    return { publicClient, addresses };
  }
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new InvalidInputError(keyEnv, "a 0x-prefixed 32-byte private key");
  const walletClient = createWalletClient({ chain, transport, account: privateKeyToAccount(key as Hex) });
  return { publicClient, walletClient, addresses };
}

/** The account a status is about: the argument, else the key's address. */
export function accountOf(c: StakingClients, given: string | undefined, keyEnv: string): Address {
  if (given !== undefined) {
    if (!isAddress(given)) throw new InvalidInputError("account", "a 0x-prefixed 20-byte address");
    return given;
  }
  if (c.walletClient) return c.walletClient.account.address;
  throw new InvalidInputError("account", `an address argument (or a key: --dev-account <i> or env ${keyEnv})`);
}

/** Parses "<amount>" in ETH (or whole tokens with 18 decimals) into wei. */
export function parseAmount(text: string): bigint {
  if (!/^\d+(\.\d{1,18})?$/.test(text)) throw new InvalidInputError("amount", 'a decimal amount such as "2" or "0.5"');
  const wei = parseEther(text);
  if (wei === 0n) throw new InvalidInputError("amount", "a positive amount");
  return wei;
}

export const unit = (s: { asset: Address }) => (s.asset === zeroAddress ? "ETH" : "tokens");

/** Human-readable stake status lines (shared with `watcher status`). */
export function stakeLines(s: StakeStatus): [string, string][] {
  const u = unit(s);
  const unbonding =
    s.unbonding === 0n
      ? "0"
      : `${formatEther(s.unbonding)} ${u}, ${s.withdrawable ? "withdrawable now" : `unlocks at ${new Date(Number(s.unlockTime) * 1000).toISOString()}`}`;
  return [
    ["account", s.account],
    ["chain time", new Date(Number(s.now) * 1000).toISOString()],
    ["bonded", `${formatEther(s.bonded)} ${u}`],
    ["unbonding", unbonding],
    ["slashable", `${formatEther(s.slashable)} ${u}`],
  ];
}

export function printTable(rows: [string, string][]): void {
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
}

function operatorLines(s: StakeStatus): [string, string][] {
  return [
    ...stakeLines(s),
    ["required stake", `${formatEther(s.requiredStake)} ${unit(s)}`],
    ["reputation", `${s.reputationBps} bps`],
    ["registered", s.registered ? `yes (index ${s.index})` : s.known ? `no (keeps index ${s.index})` : "no"],
    ["active", s.active ? "yes" : "no"],
    ["threshold", `${s.threshold} of ${s.registeredCount} registered`],
    ["owed by disputes", `${formatEther(s.owed)} ETH`],
    ["slashed stake credited", `${formatEther(s.slashedCredit)} ${unit(s)}`],
  ];
}

const KEY_ENV = "OPERATOR_KEY";

/**
 * `versatus operator stake|unstake|register|deregister|status`: an operator's stake in the
 * NativeStakeAdapter and its membership in the StakingRegistry (SPEC 3.5). Signs with env
 * OPERATOR_KEY or --dev-account.
 */
export function registerOperatorCommands(root: Command): void {
  const operator = root
    .command("operator")
    .description("Operator staking: stake, unstake, register in the StakingRegistry, status");

  withStakingOptions(
    operator
      .command("status")
      .description("Show an operator's stake, required stake, reputation and registration")
      .argument("[account]", "operator address (default: the signing key's)"),
    KEY_ENV,
  ).action((given: string | undefined, options: StakingCliOptions) =>
    runAction(async () => {
      const c = await stakingClientsFromOptions(options, KEY_ENV, false);
      const status = await readStakeStatus(c, accountOf(c, given, KEY_ENV));
      if (options.json) console.log(toJson(status));
      else printTable(operatorLines(status));
    }),
  );

  withStakingOptions(
    operator
      .command("stake")
      .description("Deposit stake (ETH, or the staking token after approving it); --register registers too")
      .argument("<amount>", "amount in ETH (or whole tokens)")
      .option("--register", "register as an operator after staking (when not registered yet)"),
    KEY_ENV,
  ).action((amountText: string, options: StakingCliOptions & { register?: boolean }) =>
    runAction(() =>
      stakeAction(amountText, options, KEY_ENV, options.register === true, {
        already: (status) => status.registered,
        alreadyText: "already registered",
        register: async (c) => {
          const reg = await registerOperator(c);
          return {
            result: { index: reg.index, txHash: reg.txHash },
            text: `registered as operator ${reg.index} in ${reg.txHash}`,
          };
        },
      }),
    ),
  );

  withStakingOptions(
    operator
      .command("unstake")
      .description("Request unbonding of <amount>; --withdraw takes back unbonding stake once unlocked")
      .argument("[amount]", "amount in ETH (or whole tokens) to start unbonding")
      .option("--withdraw", "withdraw the unbonding stake (after its unlock block)"),
    KEY_ENV,
  ).action((amountText: string | undefined, options: StakingCliOptions & { withdraw?: boolean }) =>
    runAction(() => unstakeAction(amountText, options, KEY_ENV)),
  );

  withStakingOptions(
    operator.command("register").description("Register as an operator (needs the required stake slashable)"),
    KEY_ENV,
  ).action((options: StakingCliOptions) =>
    runAction(async () => {
      const c = await stakingClientsFromOptions(options, KEY_ENV, true);
      const reg = await registerOperator(c);
      console.log(options.json ? toJson(reg) : `registered as operator ${reg.index} in ${reg.txHash}`);
    }),
  );

  withStakingOptions(
    operator.command("deregister").description("Deregister (keeps the index; the stake stays until unstaked)"),
    KEY_ENV,
  ).action((options: StakingCliOptions) =>
    runAction(async () => {
      const c = await stakingClientsFromOptions(options, KEY_ENV, true);
      const sent = await deregisterOperator(c);
      console.log(options.json ? toJson(sent) : `deregistered in ${sent.txHash}`);
    }),
  );

  withStakingOptions(
    operator
      .command("reputation")
      .description(
        "Accrue reputation from the fee ledger for matured epochs (replaces finalize; anyone may call it for any operator)",
      )
      .option("--operator <address>", "the operator to accrue for (default: the signing account)")
      .option("--epochs <n>", "how many matured ledger epochs to look back", "24")
      .option("--token <address...>", "assets to look in (default: ETH only)")
      .option("--dry-run", "only list the matured ledger entries with signatures"),
    KEY_ENV,
  ).action((options: StakingCliOptions & { operator?: string; epochs: string; token?: string[]; dryRun?: boolean }) =>
    runAction(async () => {
      const c = await stakingClientsFromOptions(options, KEY_ENV, !options.dryRun || !options.operator);
      const who = options.operator ?? c.walletClient?.account.address;
      if (!who || !isAddress(who)) throw new InvalidInputError("--operator", "a 0x-prefixed 20-byte address");
      const epochs = Number(options.epochs);
      if (!Number.isSafeInteger(epochs) || epochs <= 0) throw new InvalidInputError("--epochs", "a positive integer");
      for (const t of options.token ?? []) if (!isAddress(t)) throw new InvalidInputError("--token", "addresses");
      const refs = await findLedgerRefs(c, getAddress(who), {
        epochs,
        ...(options.token ? { tokens: options.token.map((t) => getAddress(t)) } : {}),
      });
      if (options.dryRun) {
        console.log(
          options.json
            ? toJson(refs)
            : refs.length === 0
              ? "no matured ledger entries with signatures"
              : refs.map((r) => `epoch ${r.epoch} asset ${r.assetId} share ${r.share}: ${r.count} results`).join("\n"),
        );
        return;
      }
      const sent = await accrueReputation(c, getAddress(who), refs);
      console.log(
        options.json
          ? toJson(sent)
          : `accrued ${sent.accrued.length} ledger entries for ${who} in ${sent.txHash} (${sent.skipped.length} skipped)`,
      );
    }),
  );

  withStakingOptions(
    operator
      .command("evict")
      .description("Deregister another operator that no longer covers its required stake (anyone may)")
      .argument("<account>", "the operator to evict"),
    KEY_ENV,
  ).action((target: string, options: StakingCliOptions) =>
    runAction(async () => {
      if (!isAddress(target)) throw new InvalidInputError("account", "a 0x-prefixed 20-byte address");
      const c = await stakingClientsFromOptions(options, KEY_ENV, true);
      const sent = await evictOperator(c, getAddress(target));
      console.log(options.json ? toJson(sent) : `evicted ${target} in ${sent.txHash}`);
    }),
  );
}

/** How `stake` registers its account afterwards (as an operator or as a watcher). */
export type Registration = {
  already: (status: StakeStatus) => boolean;
  alreadyText: string;
  register: (c: StakingClients) => Promise<{ result: Record<string, unknown>; text: string }>;
};

/** `stake <amount>`, then register unless already registered (shared by operator and watcher). */
export async function stakeAction(
  amountText: string,
  options: StakingCliOptions,
  keyEnv: string,
  register: boolean,
  registration: Registration,
): Promise<void> {
  const amount = parseAmount(amountText);
  const c = await stakingClientsFromOptions(options, keyEnv, true);
  const staked = await stake(c, amount);
  const out: Record<string, unknown> = { staked: amount, txHash: staked.txHash };
  if (!options.json) console.log(`staked ${formatEther(amount)} in ${staked.txHash}`);
  if (register) {
    const status = await readStakeStatus(c, c.walletClient!.account.address);
    if (registration.already(status)) {
      out.registered = "already";
      if (!options.json) console.log(registration.alreadyText);
    } else {
      const reg = await registration.register(c);
      out.registered = reg.result;
      if (!options.json) console.log(reg.text);
    }
  }
  if (options.json) console.log(toJson(out));
}

/** `unstake <amount>` or `unstake --withdraw` (shared by operator and watcher). */
export async function unstakeAction(
  amountText: string | undefined,
  options: StakingCliOptions & { withdraw?: boolean },
  keyEnv: string,
): Promise<void> {
  if (options.withdraw && amountText !== undefined) {
    throw new InvalidInputError("arguments", "either <amount> (start unbonding) or --withdraw, not both");
  }
  if (!options.withdraw && amountText === undefined) {
    throw new InvalidInputError("amount", "an amount to unbond (or --withdraw to take back unlocked stake)");
  }
  const amount = amountText === undefined ? 0n : parseAmount(amountText);
  const c = await stakingClientsFromOptions(options, keyEnv, true);
  if (options.withdraw) {
    const done = await withdrawStake(c);
    console.log(options.json ? toJson(done) : `withdrew ${formatEther(done.amount)} in ${done.txHash}`);
    return;
  }
  const done = await unstake(c, amount);
  console.log(
    options.json
      ? toJson(done)
      : `unbonding ${formatEther(amount)} until ${new Date(Number(done.unlockTime) * 1000).toISOString()} in ${done.txHash} (then: unstake --withdraw)`,
  );
}
