import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { isHex, parseEther, type Address, type Hex } from "viem";
import type { WaitForResultReturnType } from "../client/index.ts";
import { InvalidInputError } from "../protocol/errors.ts";
import { clientFromOptions, runAction, toJson, withClientOptions, type ClientCliOptions } from "./clientOptions.ts";

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

export function describeOutcome(outcome: WaitForResultReturnType): string {
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
        outcome.stdout !== undefined ? `  stdout: ${outcome.stdout}` : "",
      ]
        .filter(Boolean)
        .join("\n");
    case "failed":
      return [
        `PROGRAM_ERROR in ${outcome.txHash}: refunded ${outcome.settlement?.refunded ?? "?"} (escrow minus fee)`,
        outcome.stderr !== undefined ? `  stderr: ${outcome.stderr}` : "",
      ]
        .filter(Boolean)
        .join("\n");
    case "refunded":
      return `refunded ${outcome.amount} after the deadline${outcome.txHash ? ` in ${outcome.txHash}` : ""}`;
    case "expired":
      return "deadline passed with no result: `versatus status <id> --refund` returns the escrow";
  }
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
      const { record: _record, ...printable } = outcome as WaitForResultReturnType & { record?: unknown };
      void _record;
      console.log(options.json ? toJson({ ...sent, outcome: printable }) : describeOutcome(outcome));
      await client.config.da?.close();
    }),
  );
}
