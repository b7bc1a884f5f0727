import { keccak256, toHex, type Hex } from "viem";
import { Op } from "../../protocol/instructions.ts";
import type { ExecutionRecord } from "../../protocol/record.ts";

/** A realistic execution record: two chains, a mint across chains, signatures in canonical order. */
export function sampleRecord(seed = 1, stdoutBytes = 64): ExecutionRecord {
  const tag = (label: string): Hex => keccak256(toHex(`${label}:${seed}`));
  const sig = (n: number): Hex => `0x${n.toString(16).padStart(2, "0").repeat(65)}`;
  return {
    body: {
      originChainId: 31337n,
      oracle: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      requestId: tag("request"),
      programId: tag("program"),
      requester: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
      asset: "0x0000000000000000000000000000000000000000",
      amount: 10n ** 15n + BigInt(seed),
      fee: 10n ** 12n,
      blockNumber: 40n + BigInt(seed),
      timestamp: 1_700_000_000n + BigInt(seed),
      input: toHex(`{"n":${seed}}`),
      status: 0,
      stdout: `0x${"ab".repeat(stdoutBytes)}`,
      stderr: "0x",
      fuelUsed: 123_456n + BigInt(seed),
      instructions: [
        {
          chainId: 31337n,
          instructions: [
            { op: Op.TRANSFER, target: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", amount: 5n, data: "0x" },
          ],
        },
        {
          chainId: 31338n,
          instructions: [
            {
              op: Op.MINT,
              target: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
              amount: 7n,
              data: "0x0000000000000000000000005fbdb2315678afecb367f032d93f642f64180aa3",
            },
          ],
        },
      ],
    },
    signatures: [
      { chainId: 31337n, signer: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", signature: sig(1) },
      { chainId: 31337n, signer: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", signature: sig(2) },
      { chainId: 31338n, signer: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", signature: sig(3) },
    ],
  };
}
