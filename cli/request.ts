import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { isHex, parseEther, type Address, type Hex } from "viem";
import type { WaitForResultReturnType } from "../client/index.ts";
import type { ExecutionRecord } from "../protocol/record.ts";
import { InvalidInputError } from "../protocol/errors.ts";
import {
  clientFromOptions,
  daDirOf,
  runAction,
  toJson,
  withClientOptions,
  type ClientCliOptions,
} from "./clientOptions.ts";

type RequestCliOptions = ClientCliOptions & {
  program: string;
  input?: string;
  inputFile?: string;
  value?: string;
  token?: string;
  amount?: string;
  ttl: string;
  wait?: boolean;
  timeout?: string;
};

/** Where the execution records were looked for (said when a failed request's record is missing). */
export type DescribeOptions = { daDir?: string };

/** Bytes from a record for a terminal: as text, control characters escaped, long output cut. */
function printable(text: string, max = 2_000): string {
  const clean = [...text]
    .map((c) => {
      const code = c.codePointAt(0)!;
      return (code < 0x20 && c !== "\n" && c !== "\t") || code === 0x7f
        ? `\\x${code.toString(16).padStart(2, "0")}`
        : c;
    })
    .join("");
  const cut = clean.length > max ? `${clean.slice(0, max)}… (${clean.length - max} more characters)` : clean;
  return cut.replace(/\n/g, "\n          ");
}

export function describeOutcome(outcome: WaitForResultReturnType, options: DescribeOptions = {}): string {
  switch (outcome.kind) {
    case "dispersed":
      return [
        `dispersed in ${outcome.txHash} (block ${outcome.blockNumber})`,
        outcome.settlement
          ? `  spent ${outcome.settlement.spent}, fee ${outcome.settlement.fee}, refunded ${outcome.settlement.refunded}`
          : "",
        ...outcome.failedInstructions.map(
          (f) => `  instruction ${f.index} (op ${f.op} → ${f.target}) failed and was refunded`,
        ),
        outcome.stdout !== undefined ? `  stdout: ${printable(outcome.stdout)}` : "",
      ]
        .filter(Boolean)
        .join("\n");
    case "failed": {
      const record = outcome.record;
      const lines = [
        `failed: the program ended in PROGRAM_ERROR (result in ${outcome.txHash}, block ${outcome.blockNumber}); nothing was dispersed`,
        outcome.settlement
          ? `  refunded ${outcome.settlement.refunded} (the escrow minus the fee of ${outcome.settlement.fee})`
          : "  refunded the escrow minus the fee",
      ];
      if (record) {
        lines.push(`  fuel used: ${record.body.fuelUsed}`);
        lines.push(
          outcome.stderr
            ? `  stderr: ${printable(outcome.stderr)}`
            : "  stderr: (empty: the program wrote nothing to stderr)",
        );
        if (outcome.stdout) lines.push(`  stdout: ${printable(outcome.stdout)}`);
      } else {
        lines.push(
          `  why: unknown here, the execution record ${outcome.daPointer} is not in the DA store${options.daDir ? ` at ${options.daDir}` : ""} (pass --da-dir <dir> where the collector writes records, e.g. .versatus/devnet/da)`,
        );
      }
      return lines.join("\n");
    }
    case "refunded":
      return `refunded ${outcome.amount} after the deadline${outcome.txHash ? ` in ${outcome.txHash}` : ""}`;
    case "expired":
      return "deadline passed with no result: `versatus status <id> --refund` returns the escrow";
  }
}

/** The outcome for --json: without the raw record, with the fuel used and the DA pointer. */
export function outcomeJson(outcome: WaitForResultReturnType): Record<string, unknown> {
  const { record, ...rest } = outcome as WaitForResultReturnType & { record?: ExecutionRecord };
  return record
    ? { ...rest, fuelUsed: record.body.fuelUsed, recordFound: true }
    : { ...rest, ...("daPointer" in rest ? { recordFound: false } : {}) };
}

/**
 * `versatus request --program <name|id> --input <text|0x..> --value <eth> [--wait]`: sends a
 * request with the dApp client and (with --wait) waits for its dispersal or failure.
 */
export function registerRequestCommand(root: Command): void {
  withClientOptions(
    root
      .command("request")
      .description("Request a program run: escrow ETH (or a token) and, with --wait, show how it settled")
      .requiredOption("--program <name|id>", "published program name, or its 0x programId")
      .option("--input <text>", "program input: 0x-hex bytes, or text (e.g. JSON) sent as UTF-8")
      .option("--input-file <file>", "read the input bytes from a file")
      .option("--value <eth>", "ETH to escrow, in ether (e.g. 0.01)")
      .option("--token <address>", "escrow this ERC-20 instead of ETH (approved first if needed)")
      .option("--amount <units>", "token amount in its smallest unit (with --token)")
      .option("--ttl <seconds>", "seconds until the request can be refunded", "600")
      .option("--wait", "wait for the result and print it")
      .option("--timeout <ms>", "with --wait: give up after this long"),
  ).action((options: RequestCliOptions) =>
    runAction(async () => {
      const client = await clientFromOptions(options, true);
      if (options.input !== undefined && options.inputFile !== undefined)
        throw new InvalidInputError("--input", "either --input or --input-file, not both");
      const input: Hex | Uint8Array | string =
        options.inputFile !== undefined ? new Uint8Array(readFileSync(options.inputFile)) : (options.input ?? "0x");
      const program = options.program;
      const byId = isHex(program) && program.length === 66;
      if (!/^[0-9]+$/.test(options.ttl)) throw new InvalidInputError("--ttl", "a whole number of seconds");
      let payment: { value: bigint } | { token: Address; amount: bigint };
      if (options.token !== undefined) {
        if (!/^0x[0-9a-fA-F]{40}$/.test(options.token)) throw new InvalidInputError("--token", "an address");
        if (!options.amount || !/^[0-9]+$/.test(options.amount))
          throw new InvalidInputError("--amount", "a token amount in its smallest unit (with --token)");
        payment = { token: options.token as Address, amount: BigInt(options.amount) };
      } else {
        if (!options.value) throw new InvalidInputError("--value", "the ETH to escrow, in ether (e.g. 0.01)");
        try {
          payment = { value: parseEther(options.value) };
        } catch {
          throw new InvalidInputError("--value", "an amount of ether such as 0.01");
        }
      }
      const sent = await client.request({
        ...(byId ? { programId: program as Hex } : { programName: program }),
        input,
        ttl: BigInt(options.ttl),
        ...payment,
      } as Parameters<typeof client.request>[0]);
      if (!options.wait) {
        console.log(
          options.json ? toJson(sent) : `request ${sent.requestId}\n  tx ${sent.txHash} (block ${sent.blockNumber})`,
        );
        return;
      }
      if (!options.json) console.log(`request ${sent.requestId} (tx ${sent.txHash}), waiting for the result…`);
      const outcome = await client.waitForResult({
        requestId: sent.requestId,
        fromBlock: sent.blockNumber,
        ...(options.timeout ? { timeoutMs: Number(options.timeout) } : {}),
      });
      console.log(
        options.json
          ? toJson({ ...sent, outcome: outcomeJson(outcome) })
          : describeOutcome(outcome, { daDir: daDirOf(options) }),
      );
      await client.config.da?.close();
    }),
  );
}
