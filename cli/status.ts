import type { Command } from "commander";
import { isHex, zeroAddress, type Hex } from "viem";
import { InvalidInputError } from "../protocol/errors.ts";
import {
  clientFromOptions,
  daDirOf,
  runAction,
  toJson,
  withClientOptions,
  type ClientCliOptions,
} from "./clientOptions.ts";
import { describeOutcome, outcomeJson } from "./request.ts";

/**
 * `versatus status <requestId> [--wait] [--refund]`: where a request stands (open, ingested,
 * refunded, expired), how it settled, and refunds an expired one with --refund.
 */
export function registerStatusCommand(root: Command): void {
  withClientOptions(
    root
      .command("status")
      .description("Show a request's state and settlement; --refund returns an expired request's escrow")
      .argument("<requestId>", "0x requestId (32 bytes)")
      .option("--wait", "wait until it settles")
      .option("--refund", "refund it if its deadline passed with no result (signs with the key options)")
      .option("--from-block <n>", "first block to search for its events", "0"),
  ).action((requestId: string, options: ClientCliOptions & { wait?: boolean; refund?: boolean; fromBlock: string }) =>
    runAction(async () => {
      if (!isHex(requestId) || requestId.length !== 66) throw new InvalidInputError("requestId", "32 bytes as 0x-hex");
      const id = requestId as Hex;
      const client = await clientFromOptions(options, options.refund === true);
      try {
        if (!/^[0-9]+$/.test(options.fromBlock)) throw new InvalidInputError("--from-block", "a block number");
        const fromBlock = BigInt(options.fromBlock);
        const state = await client.status({ requestId: id, fromBlock });
        if (state.state === "none") throw new InvalidInputError("requestId", "a request made on this oracle");
        if (options.refund && state.refundable) {
          const { txHash, amount } = await client.refund({ requestId: id });
          console.log(options.json ? toJson({ refunded: amount, txHash }) : `refunded ${amount} in ${txHash}`);
          return;
        }
        if (state.state === "open" && !options.wait) {
          console.log(
            options.json
              ? toJson(state)
              : `open until ${new Date(Number(state.deadline) * 1000).toISOString()} (escrow ${state.amount})`,
          );
          return;
        }
        const outcome = await client.waitForResult({ requestId: id, fromBlock });
        if (options.json) {
          console.log(toJson({ ...state, outcome: outcomeJson(outcome) }));
          return;
        }
        const settled = await client.status({ requestId: id, fromBlock });
        console.log(
          [
            `${settled.state}: escrow ${settled.amount} ${settled.token === zeroAddress ? "wei" : `of token ${settled.token}`} from ${settled.requester}`,
            describeOutcome(outcome, { daDir: daDirOf(options) }),
          ].join("\n"),
        );
      } finally {
        await client.config.da?.close();
      }
    }),
  );
}
