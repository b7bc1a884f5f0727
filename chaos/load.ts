/**
 * The load of a chaos run: requests of a mix of programs, signed here and sent straight to the
 * chains (not through the fault proxies: the faults are the operators' problem, not the
 * requesters'). Transactions are kept (raw) so that, after a reorg drops the branch that held
 * them, they are sent again, as the chain's other nodes would re-include them.
 */
import {
  createPublicClient,
  createWalletClient,
  encodeFunctionData,
  http,
  maxUint256,
  stringToHex,
  type Hex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { executableOracleAbi, omniTokenAbi } from "../protocol/generated/abis.ts";
import { chainRpc } from "./faults.ts";
import { devKey, type ChaosWorld } from "./world.ts";

export const REQUEST_KINDS = ["payout", "payout_ts", "token_move", "failing"] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

/** The requester's mix, one entry per request in turn: [kind, origin chain index]. */
export const MIX: [RequestKind, number][] = [
  ["payout", 0],
  ["payout", 1],
  ["token_move", 0],
  ["failing", 0],
  ["payout_ts", 0],
  ["payout", 1],
  ["payout", 0],
  ["token_move", 0],
  ["failing", 1],
  ["payout_ts", 1],
];

export const PAYEES = ["0x000000000000000000000000000000000000dEaD", "0x000000000000000000000000000000000000bEEF"];
export const REQUEST_VALUE = 10n ** 15n;
export const TOKEN_AMOUNT = 10n ** 18n;
const REQUESTER = 7;
const OWNER = 0;

export type SentRequest = {
  chain: number;
  kind: RequestKind;
  nonce: number;
  raw: Hex;
  hash: Hex;
  sentAtMs: number;
  error?: string;
};

export type Load = {
  sent: SentRequest[];
  /** Omni tokens to the requester and the oracle's allowance (once, before the run). */
  setup: () => Promise<void>;
  send: (kind: RequestKind, chain: number) => Promise<SentRequest | undefined>;
  pause: (chain: number) => Promise<void>;
  resume: (chain: number) => Promise<void>;
  /** Sends `data` to `to` from the requester (refunds at the end). */
  call: (chain: number, to: Hex, data: Hex) => Promise<Hex>;
  requester: Hex;
};

export function createLoad(world: ChaosWorld, options: { ttlS: number }): Load {
  const account = privateKeyToAccount(devKey(REQUESTER));
  const nonces = world.chains.map(() => -1);
  const paused = world.chains.map(() => false);
  const sending = world.chains.map(() => Promise.resolve());
  const sent: SentRequest[] = [];
  const fee = { maxFeePerGas: 50n * 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n };

  const syncNonce = async (chain: number) => {
    nonces[chain] = Number(
      await chainRpc<Hex>(world.chains[chain]!.rpcUrl, "eth_getTransactionCount", [account.address, "pending"]),
    );
  };

  const input = (kind: RequestKind, chain: number): Hex => {
    switch (kind) {
      case "payout":
      case "payout_ts":
        return stringToHex(
          JSON.stringify({
            recipients: [
              { to: PAYEES[0], weight: 1 },
              { to: PAYEES[1], weight: 2 },
            ],
          }),
        );
      case "token_move":
        return stringToHex(JSON.stringify({ destinationChainId: world.chains[1 - chain]!.chainId }));
      case "failing":
        return stringToHex("this is not json");
    }
  };
  const program = (kind: RequestKind): Hex =>
    world.programs[
      kind === "payout_ts" ? "payout-splitter-ts" : kind === "token_move" ? "token-mover" : "payout-splitter"
    ]!;

  /** Signs and sends one transaction with the chain's next nonce (serialized per chain). */
  const transact = (chain: number, to: Hex, data: Hex, value: bigint, kind?: RequestKind) => {
    const run = async (): Promise<SentRequest> => {
      while (paused[chain]) await new Promise((r) => setTimeout(r, 50));
      if (nonces[chain]! < 0) await syncNonce(chain);
      const nonce = nonces[chain]!;
      const raw = await account.signTransaction({
        chainId: world.chains[chain]!.chainId,
        type: "eip1559",
        to,
        data,
        value,
        nonce,
        gas: 1_500_000n,
        ...fee,
      });
      const record: SentRequest = {
        chain,
        kind: kind ?? "payout",
        nonce,
        raw,
        hash: "0x" as Hex,
        sentAtMs: Date.now(),
      };
      try {
        record.hash = await chainRpc<Hex>(world.chains[chain]!.rpcUrl, "eth_sendRawTransaction", [raw]);
        nonces[chain] = nonce + 1;
      } catch (error) {
        record.error = (error as Error).message;
        await syncNonce(chain).catch(() => undefined);
      }
      return record;
    };
    const result = sending[chain]!.then(run);
    sending[chain] = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  };

  return {
    sent,
    requester: account.address,
    setup: async () => {
      const chain = world.chains[0]!;
      const transport = http(chain.rpcUrl);
      const client = createPublicClient({ transport });
      const token = chain.omniToken as Hex;
      const held = await client.readContract({
        address: token,
        abi: omniTokenAbi,
        functionName: "balanceOf",
        args: [account.address],
      });
      if (held < 10_000n * TOKEN_AMOUNT) {
        const owner = createWalletClient({ account: privateKeyToAccount(devKey(OWNER)), transport });
        const hash = await owner.writeContract({
          address: token,
          abi: omniTokenAbi,
          functionName: "transfer",
          args: [account.address, 100_000n * TOKEN_AMOUNT],
          chain: null,
        });
        await client.waitForTransactionReceipt({ hash });
      }
      const allowed = await client.readContract({
        address: token,
        abi: omniTokenAbi,
        functionName: "allowance",
        args: [account.address, chain.oracle as Hex],
      });
      if (allowed >= 10n ** 30n) return;
      const approve = await transact(
        0,
        token,
        encodeFunctionData({ abi: omniTokenAbi, functionName: "approve", args: [chain.oracle as Hex, maxUint256] }),
        0n,
      );
      if (approve.error) throw new Error(`approve failed: ${approve.error}`);
      await client.waitForTransactionReceipt({ hash: approve.hash });
    },
    send: async (kind, chain) => {
      const c = world.chains[chain]!;
      const data =
        kind === "token_move"
          ? encodeFunctionData({
              abi: executableOracleAbi,
              functionName: "requestWithToken",
              args: [program(kind), input(kind, chain), BigInt(options.ttlS), c.omniToken as Hex, TOKEN_AMOUNT],
            })
          : encodeFunctionData({
              abi: executableOracleAbi,
              functionName: "request",
              args: [program(kind), input(kind, chain), BigInt(options.ttlS)],
            });
      const record = await transact(chain, c.oracle as Hex, data, kind === "token_move" ? 0n : REQUEST_VALUE, kind);
      sent.push(record);
      return record;
    },
    call: async (chain, to, data) => {
      const record = await transact(chain, to, data, 0n);
      if (record.error) throw new Error(record.error);
      return record.hash;
    },
    pause: async (chain) => {
      paused[chain] = true;
      await sending[chain];
    },
    resume: async (chain) => {
      try {
        // what the chain no longer has (a reverted branch) goes again, in nonce order
        const url = world.chains[chain]!.rpcUrl;
        const have = Number(await chainRpc<Hex>(url, "eth_getTransactionCount", [account.address, "latest"]));
        const again = sent
          .filter((s) => s.chain === chain && !s.error && s.nonce >= have)
          .sort((a, b) => a.nonce - b.nonce);
        for (const s of again) await chainRpc(url, "eth_sendRawTransaction", [s.raw]).catch(() => undefined);
        await syncNonce(chain);
      } finally {
        paused[chain] = false;
      }
    },
  };
}
