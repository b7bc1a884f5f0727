import type { InstructionsByChain } from "../protocol/programOutput.ts";
import { ResultStatus, type ResultStatusCode } from "../protocol/result.ts";

/**
 * How a run ended. Every kind but `ok` is a PROGRAM_ERROR result (SPEC 3.2); every kind is
 * deterministic, so all honest nodes report the same one with the same fuel. A run that cannot
 * end deterministically (wall-clock backstop, V8's own limits) raises RunAbandonedError instead.
 */
export const OUTCOME_KINDS = [
  "ok",
  "exit",
  "trap",
  "out_of_fuel",
  "too_deep",
  "output_limit",
  "invalid_output",
  "input_limit",
] as const;
export type OutcomeKind = (typeof OUTCOME_KINDS)[number];

export type RunOutcome = {
  outcome: OutcomeKind;
  /** The exit code when the program exited (0 for `ok`, non-zero for `exit`), otherwise null. */
  exitCode: number | null;
  fuelUsed: bigint;
  stdout: Uint8Array;
  /** Capped at STDERR_CAP_BYTES. */
  stderr: Uint8Array;
  /** What happened, for people: which limit, which trap, which output field. */
  message: string;
  /** Per-chain instructions, present only when the outcome is `ok`. */
  instructions?: InstructionsByChain;
};

export function resultStatusOf(outcome: OutcomeKind): ResultStatusCode {
  return outcome === "ok" ? ResultStatus.OK : ResultStatus.PROGRAM_ERROR;
}
