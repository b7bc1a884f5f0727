import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { InvalidInputError } from "../protocol/errors.ts";

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "a 0x-prefixed 20-byte hex address");
const uintString = z
  .union([z.string().regex(/^\d+$/, "a decimal integer string"), z.number().int().nonnegative()])
  .transform((v) => BigInt(v));

/**
 * An operator is an address, or `dev:N` for account N of the local development mnemonic (local
 * chains only: their keys are public).
 */
const operatorRef = z.union([address, z.string().regex(/^dev:\d+$/, "dev:<account index>")]);

const bps = z.number().int().min(0).max(10_000, "at most 10000 basis points");
const positiveInt = z.number().int().positive();

/**
 * HoneSTake (SPEC 3.5): the NativeStakeAdapter, StakingRegistry and DisputeManager. Amounts are
 * decimal strings in wei (or asset units); every time is a number of seconds (one unit for
 * unbonding, the slashable window, reputation epochs, the slash cap period and disputes).
 */
export const stakingConfigSchema = z
  .object({
    /** "eth", or the ERC-20 (the native token) operators and watchers stake. */
    asset: z.union([z.literal("eth"), address]).default("eth"),
    /** "staked": the ingestor checks signatures against the StakingRegistry; "owned": the OwnedOperatorSet. */
    operatorSet: z.enum(["owned", "staked"]).default("owned"),
    /** What each `dev:N` operator deposits before it registers (local chains). */
    operatorStake: uintString,
    /** Required stake = max(floor, base * (1 - alpha * reputation)). */
    base: uintString,
    floor: uintString,
    alphaBps: bps,
    /** Seconds per reputation decay epoch (the gain cap applies per fee-ledger epoch, 1 hour). */
    epochLength: positiveInt,
    gainPerResult: bps,
    maxGainPerEpoch: bps,
    decayPerEpoch: bps,
    equivocationSlashBps: bps.min(1, "a positive share"),
    submitterRewardBps: bps,
    slashCapPerPeriod: uintString,
    /** Seconds per slash-cap period; a slash beyond the cap stays owed and is collected later. */
    slashCapPeriod: positiveInt,
    /** Where slashed stake and forfeited bonds go; the owner when absent. */
    treasury: z.union([address, z.literal("deployer")]).optional(),
    /** Seconds between an unbond request and the withdrawal (the adapter's unbondingPeriod). */
    unbondingPeriod: positiveInt,
    /**
     * Seconds stake must stay slashable to count: the challenge window plus the longest dispute.
     * At most unbondingPeriod (the registry refuses more); the DisputeManager checks its phases fit.
     */
    slashableWindow: positiveInt,
    watcherMinStake: uintString.default(0n),
    /** Watchers (`dev:N`, local chains) that stake `watcherStake` and register. */
    watchers: z.array(operatorRef).default([]),
    watcherStake: uintString.default(0n),
    dispute: z
      .object({
        bond: uintString,
        /** Seconds after ingestion during which a result can be challenged. */
        challengeWindow: positiveInt,
        commitPeriod: positiveInt,
        revealPeriod: positiveInt,
        /** Extra commit+reveal rounds when too little watcher stake voted (then dismissed, bond back). */
        maxExtensions: z.number().int().min(0).max(8).default(2),
        /** Share of the registered watcher stake that must reveal for a decision. */
        minParticipationBps: bps.min(1, "a positive share").default(5_000),
        /** Share of the revealed weight an upheld claim needs (above half). */
        upholdQuorumBps: bps.min(5_001, "more than half (5001)").default(6_667),
        /** Share of its stake a watcher loses for a vote against the outcome (or a vote never revealed). */
        wrongVoteSlashBps: bps.default(1_000),
        wrongResultSlashBps: bps,
        unavailableSlashBps: bps,
        challengerRewardBps: bps,
        bondBurnBps: bps,
      })
      .strict(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });
    if (s.base === 0n) issue(["base"], "a positive amount");
    if (s.floor > s.base) issue(["floor"], `at most base (${s.base}), got ${s.floor}`);
    if (s.maxGainPerEpoch < s.gainPerResult) {
      issue(["maxGainPerEpoch"], `at least gainPerResult (${s.gainPerResult})`);
    }
    if (s.slashableWindow > s.unbondingPeriod) {
      issue(["slashableWindow"], `at most unbondingPeriod (${s.unbondingPeriod}), got ${s.slashableWindow}`);
    }
    const d = s.dispute;
    const disputeSpan = d.challengeWindow + (d.commitPeriod + d.revealPeriod) * (1 + d.maxExtensions);
    if (s.slashableWindow <= disputeSpan) {
      issue(
        ["slashableWindow"],
        `more than dispute.challengeWindow + (commitPeriod + revealPeriod) * (1 + maxExtensions) (${disputeSpan}), got ${s.slashableWindow}`,
      );
    }
    if (s.slashCapPerPeriod >= 1n << 128n) issue(["slashCapPerPeriod"], "an amount below 2^128");
    if (s.operatorStake < s.base) {
      issue(["operatorStake"], `at least base (${s.base}), the required stake of a new operator`);
    }
    if (s.watchers.length > 0 && s.watcherStake < s.watcherMinStake) {
      issue(["watcherStake"], `at least watcherMinStake (${s.watcherMinStake})`);
    }
    if (s.watchers.length > 0 && s.watcherStake === 0n)
      issue(["watcherStake"], "a positive amount when watchers are set");
    if (d.bond === 0n) issue(["dispute", "bond"], "a positive amount");
  });

export type StakingConfig = z.infer<typeof stakingConfigSchema>;

export const deployConfigSchema = z
  .object({
    owner: z.union([address, z.literal("deployer")]).default("deployer"),
    operators: z.array(operatorRef).min(1, "at least one operator"),
    threshold: z.number().int().positive(),
    ethFee: uintString.default(0n),
    posters: z.array(operatorRef).default([]),
    openPosting: z.boolean().default(false),
    tokenFees: z.record(address, uintString).default({}),
    omniToken: z
      .object({
        name: z.string().min(1),
        symbol: z.string().min(1),
        salt: z.string().min(1).default("versatus.omni.v1"),
        admin: z.union([address, z.literal("deployer")]).default("deployer"),
        homeChainId: z.number().int().positive(),
        initialSupply: uintString.default(0n),
        fee: uintString.default(0n),
        /**
         * The token's controller programs (SPEC 3.4): only their results may MINT or BURN it. Each
         * is a program name, resolved at deploy time to the programId of the package built from
         * programs/<dir> whose manifest has that name, or an explicit 0x-prefixed 32-byte programId.
         * Part of the token's CREATE2 address: a new controller (or a rebuilt program) is a new token.
         */
        controllers: z
          .array(
            z.union([
              z.string().regex(/^0x[0-9a-fA-F]{64}$/, "a 0x-prefixed 32-byte programId"),
              z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, "a program name (versatus.json `name`)"),
            ]),
          )
          .min(1, "at least one controller program (else the token can never move between chains)"),
        mintLimits: z
          .record(
            z.string().regex(/^\d+$/, "a chain id"),
            z.object({ capacity: uintString, window: z.number().int().positive() }),
          )
          .default({}),
      })
      .optional(),
    /** HoneSTake staking, disputes and (optionally) the staked operator set; absent = not deployed. */
    staking: stakingConfigSchema.optional(),
    /**
     * The NameRegistry of the DNS facade (deploy/07_names.ts, docs/dns.md): names `<label>.<suffix>`,
     * registered by commit-reveal; every time in seconds. Always deployed (defaults when absent).
     */
    names: z
      .object({
        suffix: z
          .string()
          .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "one lower-case DNS label, e.g. versatus")
          .default("versatus"),
        /** A reveal must wait this long after its commit (a front-runner of the reveal cannot). */
        minCommitmentAge: positiveInt.default(60),
        maxCommitmentAge: positiveInt.default(86_400),
        registrationPeriod: positiveInt.default(31_536_000),
      })
      .strict()
      .refine((n) => n.maxCommitmentAge > n.minCommitmentAge, {
        path: ["maxCommitmentAge"],
        message: "more than minCommitmentAge",
      })
      .prefault({}),
    /** Install the canonical CREATE2 deployment proxy with hardhat_setCode when missing (local chains). */
    installCreate2Proxy: z.boolean().default(false),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    if (cfg.threshold > cfg.operators.length) {
      ctx.addIssue({
        code: "custom",
        path: ["threshold"],
        message: `threshold ${cfg.threshold} exceeds the ${cfg.operators.length} operators`,
      });
    }
    if (cfg.threshold * 2 <= cfg.operators.length) {
      ctx.addIssue({
        code: "custom",
        path: ["threshold"],
        message: `threshold must be a strict majority of ${cfg.operators.length} operators`,
      });
    }
    const staking = cfg.staking;
    if (staking) {
      for (const [i, w] of staking.watchers.entries()) {
        if (cfg.operators.includes(w)) {
          ctx.addIssue({
            code: "custom",
            path: ["staking", "watchers", i],
            message: `a watcher that is not also an operator (${w} is in operators)`,
          });
        }
      }
    }
  });

export type DeployConfig = z.infer<typeof deployConfigSchema>;

/** Reads and validates config/deploy/<network>.json; errors name the file and the field. */
export function loadDeployConfig(network: string, root = process.cwd()): DeployConfig {
  const file = join(root, "config", "deploy", `${network}.json`);
  if (!existsSync(file)) {
    throw new InvalidInputError("network", `a deploy config at ${file}`, {
      hints: [`Copy config/deploy/localhost.json to config/deploy/${network}.json and set its operators.`],
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (cause) {
    throw new InvalidInputError(file, "valid JSON", { cause });
  }
  return parseDeployConfig(raw, file);
}

export function parseDeployConfig(raw: unknown, source = "deploy config"): DeployConfig {
  const parsed = deployConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidInputError(`${source}: ${issue.path.join(".") || "(root)"}`, issue.message);
  }
  return parsed.data;
}
