import type { LocalAccount } from "viem";
import { bytesToHex, getAddress, hexToBytes, type Address, type Hex } from "viem";
import { contextOfRequest, contextToJson, type ProgramContext } from "../protocol/programContext.ts";
import {
  bindBurnTargets,
  enforceOutputRule,
  type ControllerResolver,
  type RequestContext,
} from "../protocol/conservation.ts";
import { BaseError } from "../protocol/errors.ts";
import type { ResultJob, SignedChainResult, WorkJob } from "../protocol/jobs.ts";
import type { ProgramPackage } from "../protocol/programPackage.ts";
import {
  buildRecordBody,
  recordBodyHash,
  resultChains,
  resultForChain,
  type ExecutionRecordBody,
} from "../protocol/record.ts";
import { ResultStatus, resultDomain, resultTypes } from "../protocol/result.ts";
import { ModuleRejectedError } from "../runtime/errors.ts";
import type { NanoRuntime } from "../runtime/executor.ts";
import type { RunOutcome } from "../runtime/outcome.ts";

/**
 * One work job, start to end: run the program on the request's input with the request's context
 * (protocol/programContext.ts: the request event plus the fee at its block; the clock and the
 * random seed come from it too), build the execution record body (SPEC 5) exactly as protocol/record.ts defines it, and
 * sign the EIP-712 Result of every chain the body touches (the origin always) with that chain's
 * ingestor domain. A module the runtime refuses at load time is a PROGRAM_ERROR like any other
 * deterministic failure (every node refuses the same bytes). RunAbandonedError (wall-clock
 * backstop) propagates: the node abstains.
 */

/** A chain the result touches that this operator has no ingestor for: it cannot sign, so it abstains. */
export class UnknownChainError extends BaseError {
  override name = "UnknownChainError";
  constructor(chainId: bigint) {
    super(`No ingestor configured for chain ${chainId}`, {
      hints: [`add { "chainId": ${chainId}, "ingestor": "0x.." } to the worker's chains`],
      permanent: true,
    });
  }
}

export type ExecuteParameters = {
  job: WorkJob;
  /**
   * The oracle's fee of the request's asset at the request's block (protocol/ruleContext.ts
   * `requestFee`): part of the program's context. A node that cannot read it abstains instead.
   */
  fee: bigint;
  pkg: ProgramPackage;
  runtime: NanoRuntime;
  account: LocalAccount;
  /** Ingestor address per chain id. */
  ingestors: ReadonlyMap<bigint, Address>;
  /** Fault injection (demos and tests only), see {@link OutcomeTamper}. */
  tamper?: OutcomeTamper;
  /** The output rule's inputs (SPEC 3.4); see {@link OutputRuleInputs}. */
  rule: OutputRuleInputs;
};

/**
 * What the output rule (protocol/conservation.ts) needs besides the program's output and the
 * request's context (whose asset, amount and fee are the escrow the rule bounds spending by): the
 * chain-backed controller lookups. `"skip"` is only for simulations (`versatus program simulate`)
 * that have no chain: a node that signs or judges results always applies the rule.
 */
export type OutputRuleInputs = { controllers: ControllerResolver } | "skip";

/**
 * Fault injection for the devnet's "faulty quorum" demo and the end-to-end tests, never reachable
 * from a config file or the CLI: rewrites a run's outcome before its record body is built and
 * signed, as a lying operator would. Returning the outcome unchanged keeps the operator honest.
 */
export type OutcomeTamper = (job: RequestToRun, outcome: RunOutcome) => RunOutcome;

export type ExecuteReturnType = { result: ResultJob; body: ExecutionRecordBody; bodyHash: Hex; outcome: RunOutcome };

export async function executeWork(params: ExecuteParameters): Promise<ExecuteReturnType> {
  const { job } = params;
  const context = contextOfRequest(job, params.fee);
  const { body, bodyHash, outcome, rejected } = await runRequest(
    { context, input: job.input },
    params.pkg,
    params.runtime,
    params.rule,
    params.tamper,
  );
  const chains = await signChains(body, params.account, params.ingestors);
  const result: ResultJob = {
    operator: params.account.address,
    originChainId: job.chainId,
    oracle: job.oracle,
    requestId: job.requestId,
    programId: job.programId,
    context: contextToJson(context),
    input: job.input,
    outcome: {
      kind: rejected ? "rejected" : outcome.outcome,
      status: body.status,
      exitCode: outcome.exitCode,
      fuelUsed: body.fuelUsed.toString(),
      stdout: body.stdout,
      stderr: body.stderr,
      message: outcome.message,
    },
    chains,
  };
  return { result, body, bodyHash, outcome };
}

/**
 * What running (or re-executing) a request needs: its context (clock = its block timestamp, random
 * seed = its requestId, the program = its programId) and its input.
 */
export type RequestToRun = { context: ProgramContext; input: Hex };

export type RunRequestReturnType = {
  body: ExecutionRecordBody;
  bodyHash: Hex;
  outcome: RunOutcome;
  /** The runtime refused the module at load (a PROGRAM_ERROR every node reaches). */
  rejected: boolean;
};

/**
 * Runs one request and builds its execution record body: stdin = input, environment = the
 * context, clock = the request's block timestamp, randomness seeded by the requestId. Shared by the worker (which then signs) and
 * the watcher (which re-executes ingested results and compares bodyHash). An OK output that breaks
 * the output rule (SPEC 3.4: unbacked or foreign mint, burn of another token, over budget) becomes
 * PROGRAM_ERROR (`invalid_output`, the message names the breach) before the body is built, so
 * worker and watcher reach the same bodyHash. RunAbandonedError (wall-clock backstop) and chain
 * read failures of the rule propagate (the node abstains or retries).
 */
export async function runRequest(
  job: RequestToRun,
  pkg: ProgramPackage,
  runtime: NanoRuntime,
  rule: OutputRuleInputs,
  tamper?: OutcomeTamper,
): Promise<RunRequestReturnType> {
  const { context } = job;
  let outcome: RunOutcome;
  let rejected = false;
  try {
    const program = await runtime.load(pkg);
    outcome = await runtime.execute(program, {
      input: hexToBytes(job.input),
      requestId: context.requestId,
      timestamp: context.timestamp,
      originChainId: context.originChainId,
      context,
    });
  } catch (error) {
    if (!(error instanceof ModuleRejectedError)) throw error;
    rejected = true;
    outcome = {
      outcome: "trap",
      exitCode: null,
      fuelUsed: 0n,
      stdout: new Uint8Array(),
      stderr: new Uint8Array(),
      message: error.shortMessage,
    };
  }
  // A caller that forgot the rule must not sign unchecked mints: refuse rather than skip.
  if (rule === undefined) throw new TypeError('runRequest needs the output rule\'s inputs (or "skip" for simulations)');
  if (rule !== "skip") outcome = await applyOutputRule(context, outcome, rule);
  if (tamper) outcome = tamper(job, outcome);
  const body = recordBody(context, job.input, outcome);
  return { body, bodyHash: recordBodyHash(body), outcome, rejected };
}

/**
 * The output rule applied to one run: binds burns without a token to the escrowed token, checks
 * the whole result, and turns a breach into PROGRAM_ERROR (no instructions, same stdout, stderr
 * and fuel, so the body stays deterministic).
 */
export async function applyOutputRule(
  context: ProgramContext,
  outcome: RunOutcome,
  rule: Exclude<OutputRuleInputs, "skip">,
): Promise<RunOutcome> {
  if (outcome.outcome !== "ok" || !outcome.instructions) return outcome;
  const instructions = bindBurnTargets(outcome.instructions, getAddress(context.asset));
  const escrow: RequestContext = {
    originChainId: context.originChainId,
    programId: context.programId,
    token: getAddress(context.asset),
    amount: context.amount,
    fee: context.fee,
  };
  const verdict = await enforceOutputRule(instructions, escrow, rule.controllers);
  if (verdict.ok) return { ...outcome, instructions };
  const { instructions: _dropped, ...rest } = outcome;
  void _dropped;
  return { ...rest, outcome: "invalid_output", message: `output rule: ${verdict.message}` };
}

/** The record body of a run (protocol/record.ts `buildRecordBody`): instructions only when OK. */
export function recordBody(context: ProgramContext, input: Hex, outcome: RunOutcome): ExecutionRecordBody {
  const ok = outcome.outcome === "ok";
  return buildRecordBody(context, {
    input,
    status: ok ? ResultStatus.OK : ResultStatus.PROGRAM_ERROR,
    stdout: bytesToHex(outcome.stdout),
    stderr: bytesToHex(outcome.stderr),
    fuelUsed: outcome.fuelUsed,
    instructions: ok
      ? [...(outcome.instructions ?? new Map()).entries()].map(([chainId, list]) => ({ chainId, instructions: list }))
      : [],
  });
}

/** Signs the Result of every chain the body touches, each under that chain's ingestor domain. */
export async function signChains(
  body: ExecutionRecordBody,
  account: LocalAccount,
  ingestors: ReadonlyMap<bigint, Address>,
): Promise<SignedChainResult[]> {
  return Promise.all(
    resultChains(body).map(async (chainId) => {
      const ingestor = ingestors.get(chainId);
      if (!ingestor) throw new UnknownChainError(chainId);
      const result = resultForChain(body, chainId);
      const signature = await account.signTypedData({
        domain: resultDomain(chainId, ingestor),
        types: resultTypes,
        primaryType: "Result",
        message: result,
      });
      const instructions = body.instructions.find((g) => g.chainId === chainId)?.instructions ?? [];
      return {
        chainId: chainId.toString(),
        ingestor,
        result: { ...result, originChainId: result.originChainId.toString() },
        instructions: instructions.map((ix) => ({
          op: ix.op,
          target: ix.target,
          amount: ix.amount.toString(),
          data: ix.data,
        })),
        signature,
      };
    }),
  );
}
