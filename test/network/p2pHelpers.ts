import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { getAddress, keccak256, toHex, type Address, type Hex } from "viem";
import type { ResultJob } from "../../protocol/jobs.ts";
import { resultDomain, resultTypes } from "../../protocol/result.ts";

export const CHAIN = 31337;
export const INGESTOR: Address = getAddress("0x00000000000000000000000000000000000c0ffe");

export function accounts(n: number): PrivateKeyAccount[] {
  return Array.from({ length: n }, () => privateKeyToAccount(generatePrivateKey()));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 25 ms until it holds; throws with `what` after `ms`. */
export async function eventually(condition: () => boolean, what: string, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export function requestId(n: number): Hex {
  return keccak256(toHex(`request-${n}`));
}

/**
 * A ResultJob with a real EIP-712 Result signature by `account` on CHAIN's ingestor domain (the
 * gossip layer checks signatures, not the record body: the collector does that).
 */
export async function signedResult(account: PrivateKeyAccount, id: Hex, chainId = CHAIN): Promise<ResultJob> {
  const programId = keccak256(toHex("program"));
  const input: Hex = "0x1234";
  const result = {
    requestId: id,
    originChainId: BigInt(chainId),
    programId,
    inputHash: keccak256(input),
    status: 0 as const,
    instructionsHash: keccak256("0x"),
    bodyHash: keccak256(toHex(`body-${id}`)),
  };
  const signature = await account.signTypedData({
    domain: resultDomain(chainId, INGESTOR),
    types: resultTypes,
    primaryType: "Result",
    message: result,
  });
  return {
    operator: account.address,
    originChainId: String(chainId),
    oracle: getAddress("0x000000000000000000000000000000000000dead"),
    requestId: id,
    programId,
    context: { requestId: id, originChainId: String(chainId) } as ResultJob["context"],
    input,
    outcome: { kind: "ok", status: 0, exitCode: 0, fuelUsed: "10", stdout: "0x", stderr: "0x", message: "" },
    chains: [
      {
        chainId: String(chainId),
        ingestor: INGESTOR,
        result: { ...result, originChainId: String(chainId) },
        instructions: [],
        signature,
      },
    ],
  };
}
