/**
 * Versatus from ethers v6, with the typed contracts TypeChain generates on `npm run build`
 * (`typechain-types/`, from the compiled contracts; not committed). The project's own client
 * (client/) is viem; this is the same request / wait-for-result flow for an ethers code base:
 * every call, argument and event below is type-checked against the contracts' ABIs.
 *
 * @example
 * const { requestId, blockNumber } = await requestWithEthers(signer, {
 *   oracle, programName: "payout-splitter", input: JSON.stringify({ recipients }), ttl: 600n, value: parseEther("0.01"),
 * });
 * const result = await waitForResultWithEthers(provider, { ingestor, requestId, originChainId: 31337n, fromBlock: blockNumber });
 */
import { toUtf8Bytes, type ContractRunner, type Signer } from "ethers";
import { ExecutableOracle__factory, InstructionIngestor__factory } from "../../typechain-types/index.ts";

export type EthersRequest = { oracle: string; programName: string; input: string; ttl: bigint; value: bigint };

/** Resolves the program by name, escrows `value` wei and returns the requestId from the receipt's event. */
export async function requestWithEthers(
  signer: Signer,
  request: EthersRequest,
): Promise<{ requestId: string; blockNumber: number; programId: string }> {
  const oracle = ExecutableOracle__factory.connect(request.oracle, signer);
  const programId = await oracle.resolve(request.programName);
  if (BigInt(programId) === 0n) throw new Error(`no program named ${request.programName} on this oracle`);
  const tx = await oracle.request(programId, toUtf8Bytes(request.input), request.ttl, { value: request.value });
  const receipt = await tx.wait();
  if (!receipt || receipt.status !== 1) throw new Error(`request ${tx.hash} failed`);
  const requester = await signer.getAddress();
  const [event] = await oracle.queryFilter(
    oracle.filters.ExecutionRequested(undefined, programId, requester),
    receipt.blockNumber,
    receipt.blockNumber,
  );
  if (!event) throw new Error(`no ExecutionRequested in ${tx.hash}`);
  return { requestId: event.args.requestId, blockNumber: receipt.blockNumber, programId };
}

/** Polls the ingestor until the request's result is ingested; status 0 = OK, 1 = PROGRAM_ERROR (refunded). */
export async function waitForResultWithEthers(
  runner: ContractRunner,
  wait: {
    ingestor: string;
    requestId: string;
    originChainId: bigint;
    fromBlock: number;
    timeoutMs?: number;
    pollMs?: number;
  },
): Promise<{ status: bigint; bodyHash: string; daPointer: string; txHash: string }> {
  const ingestor = InstructionIngestor__factory.connect(wait.ingestor, runner);
  const deadline = Date.now() + (wait.timeoutMs ?? 120_000);
  for (;;) {
    const [log] = await ingestor.queryFilter(
      ingestor.filters.ResultIngested(wait.requestId, wait.originChainId),
      wait.fromBlock,
    );
    if (log)
      return {
        status: log.args.status,
        bodyHash: log.args.bodyHash,
        daPointer: log.args.daPointer,
        txHash: log.transactionHash,
      };
    if (Date.now() > deadline) throw new Error(`no result for ${wait.requestId} yet`);
    await new Promise((resolve) => setTimeout(resolve, wait.pollMs ?? 500));
  }
}
