import { decodeAbiParameters, getAddress, zeroAddress, type Address, type Hex } from "viem";
import { Op, type Instruction } from "./instructions.ts";
import type { InstructionsByChain } from "./programOutput.ts";

/**
 * The output rule (SPEC 3.4, 7: "no token appears from nothing"), one pure function shared by the
 * worker (which signs PROGRAM_ERROR for an output that breaks it), the collector (which refuses a
 * worker's OK result that breaks it) and the watcher (which re-executes and must reach the same
 * verdict, and proves a signed breach on chain). The contracts check the same rule per chain; this
 * is the whole-result view only a node that sees every chain's instructions can take:
 *
 * 1. a MINT or BURN names a token whose `isController(programId)` is true (on the chain it runs on);
 * 2. a BURN runs on the origin chain and burns the request's escrowed omni token (its `target` is
 *    that token's address);
 * 3. per token, the MINTs on all chains together never exceed what this result BURNed of it;
 * 4. what the origin spends (BURN, TRANSFER, CALL amounts) never exceeds escrow minus fee (with
 *    `fee` unknown, minus nothing: the collector's weaker but never-wrong bound);
 * 5. only MINT and CREATE run on a chain other than the origin (SPEC 3.3).
 *
 * The verdict is deterministic: chains are visited in ascending chainId, instructions in order,
 * and the first breach found is the one reported.
 */

/** What the rule needs to know about the request, all taken from the origin chain's records. */
export type RequestContext = {
  originChainId: bigint;
  programId: Hex;
  /** The escrowed asset: address(0) for ETH. */
  token: Address;
  /** The escrowed amount. */
  amount: bigint;
  /** The request's fee; undefined when the caller cannot know it (budget checked against `amount`). */
  fee?: bigint;
};

/** `isController(programId)` of `token` on `chainId`, as the chain answers it (false for no code). */
export type ControllerResolver = (chainId: bigint, token: Address, programId: Hex) => Promise<boolean>;

/** The answers of a ControllerResolver for every (chain, token) a result names, looked up by {@link controllerKey}. */
export type ControllerAnswers = ReadonlyMap<string, boolean>;

export type RuleVerdict =
  | { ok: true }
  | {
      ok: false;
      /** Where the breach is, e.g. `chain 31338 instruction 1` or `token 0x..`. */
      field: string;
      /** One sentence for people: which rule, which values. */
      message: string;
    };

export const controllerKey = (chainId: bigint, token: Address): string => `${chainId}:${token.toLowerCase()}`;

/** The token a MINT names (`data = abi.encode(address)`); undefined when data does not decode. */
export function mintedToken(ix: Instruction): Address | undefined {
  try {
    const [token] = decodeAbiParameters([{ type: "address" }], ix.data);
    return getAddress(token);
  } catch {
    return undefined;
  }
}

const sortedChains = (byChain: InstructionsByChain): [bigint, Instruction[]][] =>
  [...byChain.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** Every (chain, token) whose controllers the rule asks about. */
export function controllerQueries(
  byChain: InstructionsByChain,
  ctx: RequestContext,
): { chainId: bigint; token: Address }[] {
  const seen = new Map<string, { chainId: bigint; token: Address }>();
  for (const [chainId, list] of sortedChains(byChain)) {
    for (const ix of list) {
      const token = ix.op === Op.MINT ? mintedToken(ix) : ix.op === Op.BURN ? getAddress(ix.target) : undefined;
      if (token === undefined || token === zeroAddress) continue;
      const key = controllerKey(chainId, token);
      if (!seen.has(key)) seen.set(key, { chainId, token });
    }
  }
  void ctx;
  return [...seen.values()];
}

/**
 * Fills the target of every origin BURN the parser left at address(0) (a `burn` action without a
 * `token`) with the escrowed token, so the signed instruction names what it burns. Returns a new
 * map; other instructions are kept as they are. Only the worker's path calls this: a signed
 * result is checked as it is.
 */
export function bindBurnTargets(byChain: InstructionsByChain, escrowedToken: Address): InstructionsByChain {
  if (escrowedToken === zeroAddress) return byChain;
  const bound: InstructionsByChain = new Map();
  for (const [chainId, list] of byChain) {
    bound.set(
      chainId,
      list.map((ix) =>
        ix.op === Op.BURN && ix.target === zeroAddress ? { ...ix, target: getAddress(escrowedToken) } : ix,
      ),
    );
  }
  return bound;
}

/**
 * The output rule itself: pure and synchronous; `controllers` holds the answer for every pair of
 * {@link controllerQueries} (a missing answer counts as "not a controller").
 */
export function checkOutputRule(
  byChain: InstructionsByChain,
  ctx: RequestContext,
  controllers: ControllerAnswers,
): RuleVerdict {
  const escrowed = getAddress(ctx.token);
  const isController = (chainId: bigint, token: Address) => controllers.get(controllerKey(chainId, token)) === true;
  const minted = new Map<Address, bigint>();
  let burned = 0n;
  let spent = 0n;
  for (const [chainId, list] of sortedChains(byChain)) {
    const remote = chainId !== ctx.originChainId;
    for (const [index, ix] of list.entries()) {
      const field = `chain ${chainId} instruction ${index}`;
      const breach = (message: string): RuleVerdict => ({ ok: false, field, message: `${field}: ${message}` });
      if (remote && ix.op !== Op.MINT && ix.op !== Op.CREATE) {
        return breach(
          `only mint and create may run on a chain other than the origin ${ctx.originChainId} (got op ${ix.op})`,
        );
      }
      if (ix.op === Op.MINT) {
        const token = mintedToken(ix);
        if (token === undefined) return breach("a mint's data must be abi.encode(address token)");
        if (!isController(chainId, token)) {
          return breach(`mint of ${token}, whose controllers do not include program ${ctx.programId}`);
        }
        minted.set(token, (minted.get(token) ?? 0n) + ix.amount);
      } else if (ix.op === Op.BURN) {
        if (remote) return breach(`a burn runs only on the origin chain ${ctx.originChainId}`);
        if (escrowed === zeroAddress)
          return breach("a burn needs an escrowed omni token, but this request escrowed ETH");
        const token = getAddress(ix.target);
        if (token !== escrowed) {
          return breach(
            `burn of ${token}, but the request escrowed ${escrowed} (a burn's target is the escrowed token)`,
          );
        }
        if (!isController(chainId, token)) {
          return breach(`burn of ${token}, whose controllers do not include program ${ctx.programId}`);
        }
        burned += ix.amount;
        spent += ix.amount;
      } else if (ix.op === Op.TRANSFER || ix.op === Op.CALL) {
        spent += ix.amount;
      }
    }
  }
  for (const [token, amount] of [...minted.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const backing = token === escrowed ? burned : 0n;
    if (amount > backing) {
      return {
        ok: false,
        field: `token ${token}`,
        message: `mints of ${token} on all chains total ${amount}, more than this result burned of it (${backing})`,
      };
    }
  }
  const budget = ctx.fee === undefined ? ctx.amount : ctx.amount > ctx.fee ? ctx.amount - ctx.fee : 0n;
  if (burned > budget) {
    return {
      ok: false,
      field: "burns",
      message: `burns total ${burned}, more than the escrow minus fee (${budget})`,
    };
  }
  if (spent > budget) {
    return {
      ok: false,
      field: "spending",
      message: `the origin's burns, transfers and calls total ${spent}, more than the escrow minus fee (${budget})`,
    };
  }
  return { ok: true };
}

/** Asks `resolver` every question the rule needs (in parallel) and applies {@link checkOutputRule}. */
export async function enforceOutputRule(
  byChain: InstructionsByChain,
  ctx: RequestContext,
  resolver: ControllerResolver,
): Promise<RuleVerdict> {
  const queries = controllerQueries(byChain, ctx);
  const answers = await Promise.all(queries.map((q) => resolver(q.chainId, q.token, ctx.programId)));
  const controllers = new Map(queries.map((q, i) => [controllerKey(q.chainId, q.token), answers[i]!]));
  return checkOutputRule(byChain, ctx, controllers);
}

/** One objective breach in signed Results (SPEC 3.5: provable without a vote). */
export type ObjectiveBreach =
  | { kind: "foreign_mint"; chainId: bigint; index: number; token: Address }
  | { kind: "unbacked_mint"; chainId: bigint; token: Address; minted: bigint; burned: bigint };

/**
 * The objective breaches a watcher can prove from two signed Results of one request: the origin's
 * (its instructions) and one destination's. A MINT on the destination of a token whose
 * `isController(programId)` is false there is a foreign mint; MINTs of a token on the destination
 * plus the origin's own MINTs of it above what the origin BURNed of it are an unbacked mint. With
 * the origin's result unknown (not ingested yet) only foreign mints are reported.
 */
export function objectiveBreaches(
  destination: { chainId: bigint; instructions: readonly Instruction[] },
  origin: { chainId: bigint; instructions: readonly Instruction[] } | undefined,
  controllers: ControllerAnswers,
): ObjectiveBreach[] {
  const breaches: ObjectiveBreach[] = [];
  const minted = new Map<Address, bigint>();
  for (const [index, ix] of destination.instructions.entries()) {
    if (ix.op !== Op.MINT) continue;
    const token = mintedToken(ix);
    if (token === undefined) continue;
    if (controllers.get(controllerKey(destination.chainId, token)) !== true) {
      breaches.push({ kind: "foreign_mint", chainId: destination.chainId, index, token });
      continue;
    }
    minted.set(token, (minted.get(token) ?? 0n) + ix.amount);
  }
  if (!origin || origin.chainId === destination.chainId) return breaches;
  const burned = new Map<Address, bigint>();
  for (const ix of origin.instructions) {
    if (ix.op === Op.BURN) burned.set(getAddress(ix.target), (burned.get(getAddress(ix.target)) ?? 0n) + ix.amount);
    if (ix.op === Op.MINT) {
      const token = mintedToken(ix);
      if (token !== undefined && minted.has(token)) minted.set(token, minted.get(token)! + ix.amount);
    }
  }
  for (const [token, amount] of minted) {
    const backing = burned.get(token) ?? 0n;
    if (amount > backing) {
      breaches.push({ kind: "unbacked_mint", chainId: destination.chainId, token, minted: amount, burned: backing });
    }
  }
  return breaches;
}
