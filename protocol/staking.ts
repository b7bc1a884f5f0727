/**
 * HoneSTake from the outside (SPEC 3.5): the one place that reads and sends staking calls with viem
 * for operators and watchers: where the contracts of a chain are, an account's stake status, and
 * the actions (stake, unstake, withdraw, register, deregister, watcher registration, withdrawing
 * ETH owed by the DisputeManager). Every action checks the chain first and fails with an error
 * that says what is missing; contract reverts are decoded into readable messages.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  BaseError as ViemBaseError,
  bytesToHex,
  ContractFunctionRevertedError,
  decodeErrorResult,
  erc20Abi,
  formatEther,
  isAddress,
  parseEventLogs,
  zeroAddress,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import {
  disputeManagerAbi,
  executableOracleAbi,
  instructionIngestorAbi,
  nativeStakeAdapterAbi,
  stakingRegistryAbi,
} from "./generated/abis.ts";
import { decodeIngestedCall, recoverSigners } from "./ingested.ts";
import { challengeCommitment } from "./disputes.ts";
import { BaseError, InvalidInputError, type BaseErrorOptions } from "./errors.ts";

/*//////////////////////////////////////////////////////////////
                              ERRORS
//////////////////////////////////////////////////////////////*/

/** The account's slashable stake does not cover what it needs (required stake, watcher minimum). */
export class NotEnoughStakeError extends BaseError {
  override name = "NotEnoughStakeError";
  readonly required: bigint;
  readonly slashable: bigint;
  constructor(what: string, required: bigint, slashable: bigint, options: BaseErrorOptions = {}) {
    super(`Not enough stake to ${what}: ${formatEther(required)} required, ${formatEther(slashable)} slashable`, {
      permanent: true,
      ...options,
    });
    this.required = required;
    this.slashable = slashable;
  }
}

/** The unbonding stake cannot be withdrawn yet. */
export class StillBondedError extends BaseError {
  override name = "StillBondedError";
  /** Unix seconds from which the unbonding stake can be withdrawn. */
  readonly unlockTime: bigint;
  /** Unix seconds of the latest block when checked. */
  readonly now: bigint;
  constructor(unlockTime: bigint, now: bigint, options: BaseErrorOptions = {}) {
    super(
      `Stake is still bonded until ${new Date(Number(unlockTime) * 1000).toISOString()} (unix ${unlockTime}; latest block at ${now})`,
      options,
    );
    this.unlockTime = unlockTime;
    this.now = now;
  }
}

/** There is nothing to withdraw (no unbonding stake, or no ETH owed). */
export class NothingToWithdrawError extends BaseError {
  override name = "NothingToWithdrawError";
}

/** The account is not in the state the action needs (registered / not registered, watcher / not). */
export class RegistrationError extends BaseError {
  override name = "RegistrationError";
}

/** The challenge window of a result is over (or it was never ingested). */
export class WindowClosedError extends BaseError {
  override name = "WindowClosedError";
}

/** Registering would leave the threshold short of a strict majority of the registered operators. */
export class ThresholdError extends BaseError {
  override name = "ThresholdError";
}

/** A staking contract reverted; the message is the decoded custom error. */
export class StakingRevertError extends BaseError {
  override name = "StakingRevertError";
  readonly errorName: string | undefined;
  readonly args: readonly unknown[];
  constructor(message: string, errorName: string | undefined, args: readonly unknown[], options: BaseErrorOptions) {
    super(message, options);
    this.errorName = errorName;
    this.args = args;
  }
}

/*//////////////////////////////////////////////////////////////
                        ADDRESSES AND CLIENTS
//////////////////////////////////////////////////////////////*/

export type StakingAddresses = { adapter: Address; registry: Address; disputes: Address };

function deploymentsDir(network: string, root?: string): string {
  return join(root ?? process.env.VERSATUS_DEPLOYMENTS_DIR ?? "deployments", network);
}

/**
 * The staking contracts of `network` from deployments/<network>/ (NativeStakeAdapter,
 * StakingRegistry, DisputeManager.json), each overridable with an explicit address.
 */
export function resolveStakingAddresses(
  network: string,
  overrides: { adapter?: string; registry?: string; disputes?: string } = {},
  root?: string,
): StakingAddresses {
  const dir = deploymentsDir(network, root);
  const pick = (flag: string, name: string, given: string | undefined): Address => {
    let value = given;
    if (value === undefined) {
      const file = join(dir, `${name}.json`);
      if (existsSync(file)) value = (JSON.parse(readFileSync(file, "utf8")) as { address: string }).address;
    }
    if (value === undefined || !isAddress(value)) {
      throw new InvalidInputError(flag, `an address (or ${join(dir, `${name}.json`)})`, {
        hints: [
          `Deploy with a "staking" section in config/deploy/${network}.json: npx hardhat deploy --network ${network}`,
        ],
      });
    }
    return value;
  };
  return {
    adapter: pick("--adapter", "NativeStakeAdapter", overrides.adapter),
    registry: pick("--registry", "StakingRegistry", overrides.registry),
    disputes: pick("--disputes", "DisputeManager", overrides.disputes),
  };
}

export type StakingClients = {
  publicClient: PublicClient;
  /** Needed for actions; its account is the operator or watcher. */
  walletClient?: WalletClient<Transport, Chain | undefined, Account> | undefined;
  addresses: StakingAddresses;
};

/*//////////////////////////////////////////////////////////////
                               STATUS
//////////////////////////////////////////////////////////////*/

export type StakeStatus = {
  account: Address;
  /** address(0) for ETH. */
  asset: Address;
  /** Unix seconds of the latest block (every staking period is in seconds since issue 10). */
  now: bigint;
  bonded: bigint;
  unbonding: bigint;
  /** Unix seconds from which the unbonding stake can be withdrawn; 0 when nothing is unbonding. */
  unlockTime: bigint;
  /** Whether the unbonding stake can be withdrawn now (the latest block reached the unlock time). */
  withdrawable: boolean;
  /** Stake that counts: still slashable `slashableWindow` seconds from now. */
  slashable: bigint;
  requiredStake: bigint;
  reputationBps: number;
  /** Ever registered as an operator (keeps its index). */
  known: boolean;
  index: number | undefined;
  registered: boolean;
  active: boolean;
  threshold: bigint;
  registeredCount: bigint;
  watcher: boolean;
  watcherWeight: bigint;
  watcherMinStake: bigint;
  /** ETH owed to the account by the DisputeManager (returned bonds, forfeited bonds for the treasury). */
  owed: bigint;
  /** Slashed stake credited to the account in the adapter (the treasury's share, refused rewards). */
  slashedCredit: bigint;
};

/** Whether `account` is a registered operator (it may be inactive for lack of stake). */
function isRegistered(c: StakingClients, account: Address): Promise<boolean> {
  return c.publicClient.readContract({
    address: c.addresses.registry,
    abi: stakingRegistryAbi,
    functionName: "isRegistered",
    args: [account],
  });
}

export async function readStakeStatus(c: StakingClients, account: Address): Promise<StakeStatus> {
  const { publicClient: client, addresses } = c;
  const registry = { address: addresses.registry, abi: stakingRegistryAbi } as const;
  const adapter = { address: addresses.adapter, abi: nativeStakeAdapterAbi } as const;
  const [latest, window, asset, stake, required, reputation, indexOf, active, threshold, count] = await Promise.all([
    client.getBlock({ blockTag: "latest" }),
    client.readContract({ ...registry, functionName: "slashableWindow" }),
    client.readContract({ ...adapter, functionName: "asset" }),
    client.readContract({ ...adapter, functionName: "stakeOf", args: [account] }),
    client.readContract({ ...registry, functionName: "requiredStake", args: [account] }),
    client.readContract({ ...registry, functionName: "reputationOf", args: [account] }),
    client.readContract({ ...registry, functionName: "indexOf", args: [account] }),
    client.readContract({ ...registry, functionName: "isActive", args: [account] }),
    client.readContract({ ...registry, functionName: "threshold" }),
    client.readContract({ ...registry, functionName: "registeredCount" }),
  ]);
  const [known, index] = indexOf;
  const now = latest.timestamp;
  const [slashable, watcher, watcherWeight, watcherMinStake, owed, slashedCredit, registered] = await Promise.all([
    client.readContract({ ...adapter, functionName: "slashableStake", args: [account, now + window] }),
    client.readContract({ ...registry, functionName: "isWatcher", args: [account] }),
    client.readContract({ ...registry, functionName: "watcherWeight", args: [account] }),
    client.readContract({ ...registry, functionName: "watcherMinStake" }),
    client.readContract({ address: addresses.disputes, abi: disputeManagerAbi, functionName: "owed", args: [account] }),
    client.readContract({ ...adapter, functionName: "slashedOwed", args: [account] }),
    isRegistered(c, account),
  ]);
  const [bonded, unbonding, unlockTime] = stake;
  return {
    account,
    asset,
    now,
    bonded,
    unbonding,
    unlockTime,
    withdrawable: unbonding > 0n && now >= unlockTime,
    slashable,
    requiredStake: required,
    reputationBps: Number(reputation),
    known,
    index: known ? index : undefined,
    registered,
    active,
    threshold,
    registeredCount: count,
    watcher,
    watcherWeight,
    watcherMinStake,
    owed,
    slashedCredit,
  };
}

/*//////////////////////////////////////////////////////////////
                              ACTIONS
//////////////////////////////////////////////////////////////*/

export type Sent = { txHash: Hex; blockNumber: bigint };

function wallet(c: StakingClients): NonNullable<StakingClients["walletClient"]> {
  if (!c.walletClient) throw new InvalidInputError("key", "a signing key for this action");
  return c.walletClient;
}

/**
 * Simulates (so reverts are decoded before anything is sent), sends and waits for the receipt.
 * `nextBlock` simulates against the pending block: for calls that must land after an earlier
 * transaction's block (a challenge revealed after its commitment).
 */
async function send(
  c: StakingClients,
  call: { address: Address; abi: Abi; functionName: string; args?: readonly unknown[]; value?: bigint },
  nextBlock = false,
): Promise<Sent> {
  const w = wallet(c);
  try {
    const { request } = await c.publicClient.simulateContract({
      ...call,
      account: w.account,
      chain: w.chain,
      ...(nextBlock ? { blockTag: "pending" } : {}),
    } as Parameters<PublicClient["simulateContract"]>[0]);
    const txHash = await w.writeContract(request as Parameters<typeof w.writeContract>[0]);
    const receipt = await c.publicClient.waitForTransactionReceipt({ hash: txHash });
    if (receipt.status !== "success") {
      throw new BaseError(`${call.functionName} reverted in ${txHash}`, { hints: ["check the status and retry"] });
    }
    return { txHash, blockNumber: receipt.blockNumber };
  } catch (error) {
    if (error instanceof BaseError) throw error;
    throw decodeStakingError(error);
  }
}

const account = (c: StakingClients): Address => wallet(c).account.address;
const amountText = (status: { asset: Address }, amount: bigint) =>
  `${formatEther(amount)} ${status.asset === zeroAddress ? "ETH" : "tokens"}`;

/** Deposits `amount` (ETH, or the ERC-20 after approving the adapter) to the bonded stake. */
export async function stake(c: StakingClients, amount: bigint): Promise<Sent> {
  if (amount <= 0n) throw new InvalidInputError("amount", "a positive amount");
  const asset = await c.publicClient.readContract({
    address: c.addresses.adapter,
    abi: nativeStakeAdapterAbi,
    functionName: "asset",
  });
  if (asset !== zeroAddress) {
    const allowance = await c.publicClient.readContract({
      address: asset,
      abi: erc20Abi,
      functionName: "allowance",
      args: [account(c), c.addresses.adapter],
    });
    if (allowance < amount) {
      await send(c, { address: asset, abi: erc20Abi, functionName: "approve", args: [c.addresses.adapter, amount] });
    }
  }
  return send(c, {
    address: c.addresses.adapter,
    abi: nativeStakeAdapterAbi,
    functionName: "deposit",
    args: [amount],
    value: asset === zeroAddress ? amount : 0n,
  });
}

/**
 * Starts unbonding `amount` of the bonded stake. It stays slashable (and, until the last
 * `slashableWindow` seconds of the unbonding period, counts) until withdrawn.
 */
export async function unstake(c: StakingClients, amount: bigint): Promise<Sent & { unlockTime: bigint }> {
  if (amount <= 0n) throw new InvalidInputError("amount", "a positive amount");
  const status = await readStakeStatus(c, account(c));
  if (status.bonded < amount) {
    throw new NotEnoughStakeError(`unbond ${amountText(status, amount)}`, amount, status.bonded, {
      details: `bonded ${amountText(status, status.bonded)}, already unbonding ${amountText(status, status.unbonding)}`,
      hints: ["unbond at most the bonded stake (see `status`)"],
    });
  }
  const sent = await send(c, {
    address: c.addresses.adapter,
    abi: nativeStakeAdapterAbi,
    functionName: "requestUnbond",
    args: [amount],
  });
  const [, , unlockTime] = await c.publicClient.readContract({
    address: c.addresses.adapter,
    abi: nativeStakeAdapterAbi,
    functionName: "stakeOf",
    args: [account(c)],
  });
  return { ...sent, unlockTime };
}

/** Withdraws all unbonding stake once its unlock time is reached. */
export async function withdrawStake(c: StakingClients): Promise<Sent & { amount: bigint }> {
  const status = await readStakeStatus(c, account(c));
  if (status.unbonding === 0n) {
    throw new NothingToWithdrawError("Nothing to withdraw: no stake is unbonding", {
      permanent: true,
      hints: ["request unbonding first with `unstake <amount>`"],
    });
  }
  // checked against the latest block (a dry-run executes there), though the transaction lands later
  if (status.now < status.unlockTime) {
    throw new StillBondedError(status.unlockTime, status.now, {
      details: `${amountText(status, status.unbonding)} unbonding; ${status.unlockTime - status.now} more seconds`,
      hints: ["run `unstake --withdraw` again from the unlock time on"],
    });
  }
  const sent = await send(c, { address: c.addresses.adapter, abi: nativeStakeAdapterAbi, functionName: "withdraw" });
  return { ...sent, amount: status.unbonding };
}

/** Registers the caller as an operator. */
export async function registerOperator(c: StakingClients): Promise<Sent & { index: number }> {
  const me = account(c);
  const status = await readStakeStatus(c, me);
  if (status.registered) throw new RegistrationError(`${me} is already a registered operator`, { permanent: true });
  if (status.watcher) {
    throw new RegistrationError(`${me} is a watcher: a watcher cannot also be an operator`, {
      permanent: true,
      hints: ["use another key, or `watcher unstake` and deregister the watcher first"],
    });
  }
  if (status.slashable < status.requiredStake) {
    const missing = status.requiredStake - status.slashable;
    throw new NotEnoughStakeError("register as an operator", status.requiredStake, status.slashable, {
      details: `bonded ${amountText(status, status.bonded)}, unbonding ${amountText(status, status.unbonding)}`,
      hints: [`stake at least ${formatEther(missing)} more: \`versatus operator stake ${formatEther(missing)}\``],
    });
  }
  if (2n * status.threshold <= status.registeredCount + 1n) {
    throw new ThresholdError(
      `Registering would make ${status.registeredCount + 1n} registered operators: threshold ${status.threshold} would no longer be a strict majority`,
      { hints: ["the registry owner must raise the threshold first (setThreshold)"] },
    );
  }
  const sent = await send(c, { address: c.addresses.registry, abi: stakingRegistryAbi, functionName: "register" });
  const [, index] = await c.publicClient.readContract({
    address: c.addresses.registry,
    abi: stakingRegistryAbi,
    functionName: "indexOf",
    args: [me],
  });
  return { ...sent, index };
}

/** Deregisters the caller (it keeps its index and can register again). */
export async function deregisterOperator(c: StakingClients): Promise<Sent> {
  const me = account(c);
  if (!(await isRegistered(c, me))) {
    throw new RegistrationError(`${me} is not a registered operator`, { permanent: true });
  }
  return send(c, { address: c.addresses.registry, abi: stakingRegistryAbi, functionName: "deregister" });
}

/**
 * Evicts `operator`: registered without covering its required stake (withdrawn or slashed), it
 * holds a seat the threshold rule counts. Anyone may send it.
 */
export async function evictOperator(c: StakingClients, operator: Address): Promise<Sent> {
  const status = await readStakeStatus(c, operator);
  if (!status.registered) {
    throw new RegistrationError(`${operator} is not a registered operator: nothing to evict`, { permanent: true });
  }
  if (status.active) {
    throw new RegistrationError(
      `${operator} is active (slashable ${formatEther(status.slashable)} >= required ${formatEther(status.requiredStake)}): it cannot be evicted`,
      { permanent: true },
    );
  }
  return send(c, {
    address: c.addresses.registry,
    abi: stakingRegistryAbi,
    functionName: "evict",
    args: [operator],
  });
}

/** Registers the caller as a watcher. */
export async function registerWatcher(c: StakingClients): Promise<Sent> {
  const me = account(c);
  const status = await readStakeStatus(c, me);
  if (status.watcher) throw new RegistrationError(`${me} is already a registered watcher`, { permanent: true });
  if (status.known) {
    throw new RegistrationError(`${me} is (or was) an operator: an operator cannot also be a watcher`, {
      permanent: true,
      hints: ["watch with another key"],
    });
  }
  if (status.slashable < status.watcherMinStake || status.slashable === 0n) {
    const missing = status.watcherMinStake - status.slashable;
    throw new NotEnoughStakeError("register as a watcher", status.watcherMinStake, status.slashable, {
      hints: [`stake at least ${formatEther(missing)} more: \`versatus watcher stake ${formatEther(missing)}\``],
    });
  }
  return send(c, { address: c.addresses.registry, abi: stakingRegistryAbi, functionName: "registerWatcher" });
}

/** Stops the caller being a watcher. */
export async function deregisterWatcher(c: StakingClients): Promise<Sent> {
  const me = account(c);
  const watcher = await c.publicClient.readContract({
    address: c.addresses.registry,
    abi: stakingRegistryAbi,
    functionName: "isWatcher",
    args: [me],
  });
  if (!watcher) throw new RegistrationError(`${me} is not a registered watcher`, { permanent: true });
  return send(c, { address: c.addresses.registry, abi: stakingRegistryAbi, functionName: "deregisterWatcher" });
}

/**
 * Takes what is owed to the caller: ETH from the DisputeManager (returned bonds; forfeited bonds
 * for the treasury) and slashed stake credited in the adapter (the treasury's share of slashes,
 * rewards a recipient refused). `amount` is the DisputeManager's part, `slashed` the adapter's.
 */
export async function withdrawOwed(c: StakingClients): Promise<Sent & { amount: bigint; slashed: bigint }> {
  const me = account(c);
  const [amount, slashed] = await Promise.all([
    c.publicClient.readContract({
      address: c.addresses.disputes,
      abi: disputeManagerAbi,
      functionName: "owed",
      args: [me],
    }),
    c.publicClient.readContract({
      address: c.addresses.adapter,
      abi: nativeStakeAdapterAbi,
      functionName: "slashedOwed",
      args: [me],
    }),
  ]);
  if (amount === 0n && slashed === 0n) {
    throw new NothingToWithdrawError(
      `Nothing to withdraw: neither the DisputeManager nor the stake adapter owes ${me} anything`,
      { permanent: true },
    );
  }
  let sent: Sent | undefined;
  if (amount > 0n) {
    sent = await send(c, { address: c.addresses.disputes, abi: disputeManagerAbi, functionName: "withdraw" });
  }
  if (slashed > 0n) {
    sent = await send(c, { address: c.addresses.adapter, abi: nativeStakeAdapterAbi, functionName: "claimSlashed" });
  }
  return { ...sent!, amount, slashed };
}

/** What a manual challenge claims: the correct bodyHash (WrongResult), or that the record is unavailable. */
export type ChallengeClaim = { kind: "WrongResult"; correctBodyHash: Hex } | { kind: "DataUnavailable" };

/**
 * Challenges the result ingested for (originChainId, requestId) on this chain, with the bond, as
 * the watcher does on its own: the Result and signatures come from the ingest transaction. Fails
 * before sending when the result was not ingested, its window is over, or the claim names the
 * result's own bodyHash. Returns the new dispute's id.
 */
export async function challengeResult(
  c: StakingClients,
  target: { originChainId: bigint; requestId: Hex; fromBlock?: bigint },
  claim: ChallengeClaim,
): Promise<Sent & { disputeId: bigint }> {
  const { publicClient: client, addresses } = c;
  const dm = { address: addresses.disputes, abi: disputeManagerAbi } as const;
  const [ingestor, params, windowEnd, latest] = await Promise.all([
    client.readContract({ ...dm, functionName: "ingestor" }),
    client.readContract({ ...dm, functionName: "params" }),
    client.readContract({ ...dm, functionName: "windowEndOf", args: [target.originChainId, target.requestId] }),
    client.getBlock({ blockTag: "latest" }),
  ]);
  const at = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString();
  if (windowEnd === 0n) {
    throw new WindowClosedError(
      `No result was ingested for request ${target.requestId} (origin chain ${target.originChainId}) on this chain: nothing to challenge`,
      { permanent: true },
    );
  }
  if (latest.timestamp > windowEnd) {
    throw new WindowClosedError(
      `The challenge window of request ${target.requestId} closed at ${at(windowEnd)} (latest block ${at(latest.timestamp)})`,
      { permanent: true, hints: ["a result can be challenged only within the challenge window after it was ingested"] },
    );
  }
  const logs = await client.getContractEvents({
    address: ingestor,
    abi: instructionIngestorAbi,
    eventName: "ResultIngested",
    args: { requestId: target.requestId, originChainId: target.originChainId },
    fromBlock: target.fromBlock ?? 0n,
    toBlock: "latest",
  });
  const log = logs.find((l) => !l.removed);
  const call =
    log && (await decodeIngestedCall(client, ingestor, log.transactionHash, target.originChainId, target.requestId));
  if (!call) {
    throw new InvalidInputError(
      "requestId",
      `a request whose ingest transaction calls the ingestor directly (searched from block ${target.fromBlock ?? 0n})`,
      { hints: ["pass --from-block at or before the ingest block"] },
    );
  }
  const kind = claim.kind === "WrongResult" ? 0 : 1;
  const claimed = claim.kind === "WrongResult" ? claim.correctBodyHash : (`0x${"00".repeat(32)}` as Hex);
  if (claim.kind === "WrongResult" && claimed.toLowerCase() === call.result.bodyHash.toLowerCase()) {
    throw new InvalidInputError("body hash", `a bodyHash other than the ingested one (${call.result.bodyHash})`);
  }
  // The accused are every signer recorded at ingestion; the challenge is committed first and revealed
  // once the commitment is mined (so nobody who sees the reveal can claim it was theirs first).
  const chainId = BigInt(await client.getChainId());
  const signers = await recoverSigners(call, chainId, ingestor);
  const salt = bytesToHex(randomBytes(32));
  const commitment = challengeCommitment({
    challenger: wallet(c).account.address,
    originChainId: target.originChainId,
    requestId: target.requestId,
    kind,
    claimedBodyHash: claimed,
    salt,
  });
  await send(c, { ...dm, functionName: "commitChallenge", args: [commitment] });
  const sent = await send(
    c,
    { ...dm, functionName: "challenge", args: [call.result, signers, kind, claimed, salt], value: params.bond },
    true,
  );
  const receipt = await client.getTransactionReceipt({ hash: sent.txHash });
  const [opened] = parseEventLogs({ abi: disputeManagerAbi, eventName: "DisputeOpened", logs: receipt.logs });
  return { ...sent, disputeId: opened!.args.disputeId };
}

/*//////////////////////////////////////////////////////////////
                              CLAIMS
//////////////////////////////////////////////////////////////*/

export const DISPUTE_KINDS = ["WrongResult", "DataUnavailable"] as const;
export const DISPUTE_STATES = ["None", "Open", "Upheld", "Rejected"] as const;

export type DisputeClaim = {
  disputeId: bigint;
  requestId: Hex;
  originChainId: bigint;
  kind: (typeof DISPUTE_KINDS)[number];
  state: (typeof DISPUTE_STATES)[number];
  challenger: Address;
  /** What the account did: challenged and/or voted. */
  roles: ("challenger" | "voter")[];
  /** The account's revealed vote (true = upholds the claim); undefined if not revealed. */
  vote: boolean | undefined;
  voteWeight: bigint | undefined;
  bond: bigint;
  commitEnd: bigint;
  revealEnd: bigint;
  upholdWeight: bigint;
  rejectWeight: bigint;
  /** From DisputeResolved, once resolved. */
  slashed: bigint | undefined;
  challengerReward: bigint | undefined;
};

/**
 * Disputes `account` took part in (as challenger or voter), from the DisputeManager's events,
 * and the ETH it is owed now.
 */
export async function listClaims(
  c: StakingClients,
  who: Address,
  fromBlock = 0n,
): Promise<{ claims: DisputeClaim[]; owed: bigint }> {
  const address = c.addresses.disputes;
  const client = c.publicClient;
  const range = { address, fromBlock, toBlock: "latest" } as const;
  const [opened, committed, revealed, resolved, owed] = await Promise.all([
    client.getContractEvents({ ...range, abi: disputeManagerAbi, eventName: "DisputeOpened" }),
    client.getContractEvents({ ...range, abi: disputeManagerAbi, eventName: "VoteCommitted", args: { voter: who } }),
    client.getContractEvents({ ...range, abi: disputeManagerAbi, eventName: "VoteRevealed", args: { voter: who } }),
    client.getContractEvents({ ...range, abi: disputeManagerAbi, eventName: "DisputeResolved" }),
    client.readContract({ address, abi: disputeManagerAbi, functionName: "owed", args: [who] }),
  ]);
  const voted = new Set(committed.map((e) => e.args.disputeId!));
  const votes = new Map(revealed.map((e) => [e.args.disputeId!, e.args]));
  const outcomes = new Map(resolved.map((e) => [e.args.disputeId!, e.args]));
  const mine = opened.filter(
    (e) => e.args.challenger!.toLowerCase() === who.toLowerCase() || voted.has(e.args.disputeId!),
  );
  const claims = await Promise.all(
    mine.map(async (e): Promise<DisputeClaim> => {
      const id = e.args.disputeId!;
      const d = await client.readContract({ address, abi: disputeManagerAbi, functionName: "disputeOf", args: [id] });
      const roles: DisputeClaim["roles"] = [];
      if (d.challenger.toLowerCase() === who.toLowerCase()) roles.push("challenger");
      if (voted.has(id)) roles.push("voter");
      const vote = votes.get(id);
      const outcome = outcomes.get(id);
      return {
        disputeId: id,
        requestId: d.requestId,
        originChainId: d.originChainId,
        kind: DISPUTE_KINDS[d.kind] ?? "WrongResult",
        state: DISPUTE_STATES[d.state] ?? "None",
        challenger: d.challenger,
        roles,
        vote: vote?.upholds,
        voteWeight: vote?.weight,
        bond: d.bond,
        commitEnd: BigInt(d.commitEnd),
        revealEnd: BigInt(d.revealEnd),
        upholdWeight: d.upholdWeight,
        rejectWeight: d.rejectWeight,
        slashed: outcome?.slashed,
        challengerReward: outcome?.challengerReward,
      };
    }),
  );
  return { claims: claims.sort((a, b) => (a.disputeId < b.disputeId ? -1 : 1)), owed };
}

/*//////////////////////////////////////////////////////////////
                          REVERT DECODING
//////////////////////////////////////////////////////////////*/

const STAKING_ABI = [...stakingRegistryAbi, ...nativeStakeAdapterAbi, ...disputeManagerAbi] as Abi;

const eth = (v: unknown) => formatEther(v as bigint);

/** Readable messages for the custom errors an operator or watcher meets. */
const MESSAGES: Record<string, (a: readonly unknown[]) => string> = {
  Staking_InsufficientStakeForRegistration: (a) =>
    `not enough stake to register: ${eth(a[2])} required, ${eth(a[1])} slashable`,
  Staking_InsufficientStakeForWatcher: (a) =>
    `not enough stake to watch: ${eth(a[2])} required, ${eth(a[1])} slashable`,
  Staking_InsufficientStake: (a) => `cannot unbond ${eth(a[2])}: only ${eth(a[1])} is bonded`,
  Staking_StillBonded: (a) => `stake is still bonded until unix time ${String(a[1])} (now ${String(a[2])})`,
  Staking_NothingToWithdraw: () => "nothing to withdraw: no stake is unbonding",
  Staking_AlreadyRegistered: (a) => `${String(a[0])} is already a registered operator`,
  Staking_NotRegistered: (a) => `${String(a[0])} is not a registered operator`,
  Staking_InvalidThreshold: (a) =>
    `threshold ${String(a[0])} would not be a strict majority of ${String(a[1])} registered operators`,
  Staking_WatcherAlreadyRegistered: (a) => `${String(a[0])} is already a registered watcher`,
  Staking_NotWatcher: (a) => `${String(a[0])} is not a registered watcher`,
  Staking_OperatorCannotWatch: (a) => `${String(a[0])} is an operator: it cannot also be a watcher`,
  Staking_WatcherCannotOperate: (a) => `${String(a[0])} is a watcher: it cannot also be an operator`,
  Staking_WrongValue: (a) => `wrong ETH value: sent ${eth(a[0])}, expected ${eth(a[1])}`,
  Staking_ZeroAmount: () => "the amount must be positive",
  Staking_RegistryFull: () => "the registry is full (256 operators)",
  Dispute_NothingToWithdraw: (a) => `nothing to withdraw: the DisputeManager owes ${String(a[0])} nothing`,
  Dispute_WrongBond: (a) => `wrong bond: sent ${eth(a[0])}, the bond is ${eth(a[1])}`,
  Dispute_NotWatcher: (a) => `${String(a[0])} is not a watcher with voting weight`,
};

function revertError(error: unknown): ContractFunctionRevertedError | undefined {
  if (!(error instanceof ViemBaseError)) return undefined;
  const found = error.walk((e) => e instanceof ContractFunctionRevertedError);
  return found instanceof ContractFunctionRevertedError ? found : undefined;
}

function decodeRevert(error: unknown): { errorName: string; args: readonly unknown[] } | undefined {
  const reverted = revertError(error);
  if (!reverted) return undefined;
  if (reverted.data?.errorName) return { errorName: reverted.data.errorName, args: reverted.data.args ?? [] };
  if (reverted.raw) {
    try {
      const decoded = decodeErrorResult({ abi: STAKING_ABI, data: reverted.raw });
      return { errorName: decoded.errorName, args: decoded.args ?? [] };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Turns a viem error from a staking call into a readable error (custom errors decoded). */
export function decodeStakingError(error: unknown): BaseError {
  if (error instanceof BaseError) return error;
  const decoded = decodeRevert(error);
  if (decoded) {
    const format = MESSAGES[decoded.errorName];
    const text = format
      ? format(decoded.args)
      : `${decoded.errorName}(${decoded.args.map((a) => String(a)).join(", ")})`;
    return new StakingRevertError(`Reverted: ${text}`, decoded.errorName, decoded.args, {
      cause: error,
      permanent: true,
      details: decoded.errorName,
    });
  }
  const short =
    error instanceof ViemBaseError ? error.shortMessage : error instanceof Error ? error.message : String(error);
  return new BaseError(short, { cause: error });
}

/*//////////////////////////////////////////////////////////////
                    REPUTATION FROM THE FEE LEDGER
//////////////////////////////////////////////////////////////*/

/** One fee-ledger entry the registry grants reputation from: `LedgerRef{assetId, share, epoch}`. */
export type LedgerRef = { assetId: bigint; share: bigint; epoch: bigint; count: bigint };

/**
 * The matured ledger entries in which `operator` has signatures (SPEC 3.5, plan item 3): epochs
 * over whose challenge window passed (`(epoch + 1) * LEDGER_EPOCH + slashableWindow <= now`),
 * within the last `epochs` epochs, for each asset in `tokens` (address(0) = ETH) and each share
 * size a result of that asset can book: `fee / signers` for every signer count from the threshold
 * to the registered count, with the asset's current fee (a fee changed within the range needs
 * `shares` given explicitly). Reads only; the registry is the ledger's operator set.
 */
export async function findLedgerRefs(
  c: StakingClients,
  operator: Address,
  options: { tokens?: Address[]; epochs?: number; shares?: bigint[] } = {},
): Promise<LedgerRef[]> {
  const client = c.publicClient;
  const registry = { address: c.addresses.registry, abi: stakingRegistryAbi } as const;
  const ledger = await client.readContract({ ...registry, functionName: "ledger" });
  const oracle = { address: ledger, abi: executableOracleAbi } as const;
  const [epochLength, window, latest, threshold, registered] = await Promise.all([
    client.readContract({ ...oracle, functionName: "LEDGER_EPOCH" }),
    client.readContract({ ...registry, functionName: "slashableWindow" }),
    client.getBlock({ blockTag: "latest" }),
    client.readContract({ ...registry, functionName: "threshold" }),
    client.readContract({ ...registry, functionName: "registeredCount" }),
  ]);
  // the newest epoch that matured: (epoch + 1) * L + window <= now
  const now = latest.timestamp;
  if (now < window + epochLength) return [];
  const newest = (now - window) / epochLength - 1n;
  const oldest = newest - BigInt(Math.max(1, options.epochs ?? 24)) + 1n;
  const refs: LedgerRef[] = [];
  for (const token of options.tokens ?? [zeroAddress]) {
    const assetId = await client.readContract({ ...oracle, functionName: "assetIdOf", args: [token] });
    let shares = options.shares;
    if (!shares) {
      const fee = await client.readContract({ ...oracle, functionName: "feeOf", args: [token] });
      const sizes = new Set<bigint>();
      for (let n = threshold > 0n ? threshold : 1n; n <= (registered > threshold ? registered : threshold); n++) {
        if (fee / n > 0n) sizes.add(fee / n);
      }
      shares = [...sizes];
    }
    for (let epoch = oldest < 0n ? 0n : oldest; epoch <= newest; epoch++) {
      const [held, index] = await client.readContract({
        ...registry,
        functionName: "indexIn",
        args: [operator, epoch],
      });
      if (!held) continue;
      for (const share of shares) {
        const count = await client.readContract({
          ...oracle,
          functionName: "signatureCount",
          args: [c.addresses.registry, assetId, share, epoch, index],
        });
        if (count > 0n) refs.push({ assetId, share, epoch, count });
      }
    }
  }
  return refs;
}

/**
 * `registry.accrueReputation(operator, refs)` (anyone may call it, for any operator): grants the
 * reputation the fee ledger counted. The registry refuses the whole call for one ref it will not
 * count (accrued before, not matured, begun before the operator's last slash), so each ref is
 * simulated alone first and only the ones it accepts are sent, in one transaction. Replaces the
 * DisputeManager's finalize (issue 10): no transaction per result.
 */
export async function accrueReputation(
  c: StakingClients,
  operator: Address,
  refs: LedgerRef[],
): Promise<Sent & { accrued: LedgerRef[]; skipped: { ref: LedgerRef; reason: string }[] }> {
  const registry = { address: c.addresses.registry, abi: stakingRegistryAbi } as const;
  const accrued: LedgerRef[] = [];
  const skipped: { ref: LedgerRef; reason: string }[] = [];
  const plain = (r: LedgerRef) => ({ assetId: r.assetId, share: r.share, epoch: r.epoch });
  for (const ref of refs) {
    try {
      await c.publicClient.simulateContract({
        ...registry,
        functionName: "accrueReputation",
        args: [operator, [plain(ref)]],
        account: wallet(c).account,
      });
      accrued.push(ref);
    } catch (error) {
      skipped.push({ ref, reason: error instanceof Error ? error.message.split("\n")[0]! : String(error) });
    }
  }
  if (accrued.length === 0) {
    throw new NothingToWithdrawError(`No ledger entry of ${operator} can accrue reputation now`, {
      permanent: true,
      details: skipped.map((s) => `epoch ${s.ref.epoch} share ${s.ref.share}: ${s.reason}`).join("; ") || "none found",
      hints: ["entries mature one ledger epoch plus the slashable window after they were booked"],
    });
  }
  const sent = await send(c, { ...registry, functionName: "accrueReputation", args: [operator, accrued.map(plain)] });
  return { ...sent, accrued, skipped };
}
