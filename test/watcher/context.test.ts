import { expect } from "chai";
import { createPublicClient, getAddress, hexToString, stringToHex, zeroAddress, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import type { WorkJob } from "../../protocol/jobs.ts";
import { contextEnvironment, contextOfRequest } from "../../protocol/programContext.ts";
import { buildRecordBody, recordContext, resultForChain } from "../../protocol/record.ts";
import { readRequestRecord, requestFee } from "../../protocol/ruleContext.ts";
import { executeWork } from "../../worker/execute.ts";
import { contextPackage } from "../fixtures/context/index.ts";
import { ETH_FEE } from "../helpers/suite.ts";
import { operatorKeys } from "../ingestor/helpers.ts";
import { createWatcherWorld, type WatcherWorld } from "./helpers.ts";

/**
 * The request context (protocol/programContext.ts) end to end on one in-process chain: three
 * operators build it from the request event and the fee read at the request's block, the watcher
 * rebuilds it from the chain when it re-executes, and all of them run the program with the same
 * environment bytes and sign the same bodyHash. A record whose context lies is a wrong result.
 */
describe("watcher: the request context is the same on every operator and in the watcher", function () {
  this.timeout(120_000);
  const echo = contextPackage("context-echo");
  let world: WatcherWorld;

  before(async () => {
    world = await createWatcherWorld({ packages: [echo] });
  });
  after(async () => {
    await world?.close();
  });

  /** A request of the echo program on chain, and the work job the relayer would make of it. */
  async function requestEcho(value: bigint): Promise<WorkJob> {
    const { chain } = world;
    const input = stringToHex("{}");
    const oracle = chain.oracle.connect(chain.requester);
    const requester = await chain.requester.getAddress();
    const requestId = ((await oracle.nextRequestId(requester, echo.programId, input)) as Hex).toLowerCase() as Hex;
    await (await oracle.request(echo.programId, input, 600n, { value })).wait();
    const [event] = await chain.oracle.queryFilter(chain.oracle.filters.ExecutionRequested(requestId));
    const block = await event!.getBlock();
    return {
      chainId: chain.chainIdString,
      oracle: chain.addresses.ExecutableOracle as Address,
      requestId,
      programId: echo.programId,
      requester: event!.args.requester as Address,
      token: zeroAddress,
      amount: String(event!.args.amount),
      deadline: String(event!.args.deadline),
      input,
      blockNumber: String(event!.blockNumber),
      blockTimestamp: String(block!.timestamp),
      transactionHash: event!.transactionHash as Hex,
      logIndex: event!.index,
      operator: zeroAddress,
      reassignAfter: Date.now() + 60_000,
    };
  }

  it("reads the same request record from the right block hint, a wrong one, one past the head, and none", async () => {
    const { chain } = world;
    const job = await requestEcho(10n ** 15n);
    const client = createPublicClient({ transport: chain.transport });
    const read = (hint?: bigint) => readRequestRecord(client, job.oracle, job.requestId, 0n, hint);
    const exact = await read(BigInt(job.blockNumber));
    expect(exact, "found at its block").to.not.equal(undefined);
    expect(exact!.blockNumber).to.equal(BigInt(job.blockNumber));
    expect(exact!.blockTimestamp).to.equal(BigInt(job.blockTimestamp));
    expect(exact!.fee).to.equal(await requestFee(client, job.oracle, job.token, BigInt(job.blockNumber)));
    // a result whose context names another block cannot move the record the output rule checks
    for (const hint of [undefined, 1n, BigInt(job.blockNumber) - 1n, BigInt(job.blockNumber) + 1_000n]) {
      expect(await read(hint), `hint ${hint}`).to.deep.equal(exact);
    }
    expect(await readRequestRecord(client, job.oracle, `0x${"ab".repeat(32)}`, 0n, BigInt(job.blockNumber))).to.equal(
      undefined,
    );
  });

  it("three operators and the watcher's re-execution see byte-identical environments and one bodyHash", async () => {
    const { chain } = world;
    const watcher = await world.start();
    const value = 10n ** 15n;
    const job = await requestEcho(value);
    const client = createPublicClient({ transport: chain.transport });
    const ingestors = new Map([[chain.chainId, getAddress(chain.addresses.InstructionIngestor!)]]);
    const runs = await Promise.all(
      operatorKeys.slice(0, 3).map(async (key) => {
        const account = privateKeyToAccount(key);
        // each operator reads the fee itself, at the request's block
        const fee = await requestFee(client, job.oracle, job.token, BigInt(job.blockNumber));
        return executeWork({
          job: { ...job, operator: account.address },
          fee,
          pkg: echo,
          runtime: world.runtime,
          account,
          ingestors,
          rule: { controllers: async () => false },
        });
      }),
    );
    const context = contextOfRequest(job, ETH_FEE);
    const environment = contextEnvironment(context).join("\0") + "\0";
    for (const run of runs) {
      expect(run.outcome.outcome).to.equal("ok");
      expect(hexToString(run.body.stderr)).to.equal(environment);
      expect(run.result.context.fee).to.equal(String(ETH_FEE));
    }
    expect(new Set(runs.map((r) => r.bodyHash)).size).to.equal(1);
    // what the chain says, spelled out
    expect(hexToString(runs[0]!.body.stderr)).to.contain(
      `VERSATUS_REQUESTER=${(await chain.requester.getAddress()).toLowerCase()}\0VERSATUS_ASSET=${zeroAddress}\0VERSATUS_AMOUNT=${value}\0VERSATUS_FEE=${ETH_FEE}\0VERSATUS_BLOCK_NUMBER=${job.blockNumber}\0VERSATUS_TIMESTAMP=${job.blockTimestamp}\0`,
    );

    const recomputed = await watcher.verifier.recompute(chain.chainId, job.requestId);
    expect(recomputed.ok, recomputed.ok ? "" : recomputed.reason).to.equal(true);
    if (!recomputed.ok) return;
    expect(recomputed.bodyHash).to.equal(runs[0]!.bodyHash);
    expect(recordContext(recomputed.body)).to.deep.equal(context);
    expect(hexToString(recomputed.body.stderr)).to.equal(environment);

    // ingested with the honest record, the watcher finds it correct
    const { pointer } = await world.ingest(runs[0]!.body);
    const verdict = await watcher.verifier.verifyIngested({
      originChainId: chain.chainId,
      requestId: job.requestId,
      bodyHash: runs[0]!.bodyHash,
      daPointer: pointer,
    });
    expect(verdict.kind).to.equal("ok");
    await watcher.close();
  });

  it("a quorum that signs a record with another requester in its context is caught as a wrong result", async () => {
    const { chain } = world;
    const watcher = await world.start();
    const job = await requestEcho(2n * 10n ** 15n);
    const honest = contextOfRequest(job, ETH_FEE);
    const impostor = { ...honest, requester: "0x000000000000000000000000000000000000bad0" as Address };
    // the lie is consistent: the program "ran" with the impostor's environment
    const lying = buildRecordBody(impostor, {
      input: job.input,
      status: 0,
      stdout: stringToHex('{"actions":[]}\n'),
      stderr: stringToHex(contextEnvironment(impostor).join("\0") + "\0"),
      fuelUsed: 1000n,
      instructions: [],
    });
    const { pointer } = await world.ingest(lying);
    const verdict = await watcher.verifier.verifyIngested({
      originChainId: chain.chainId,
      requestId: job.requestId,
      bodyHash: resultForChain(lying, chain.chainId).bodyHash,
      daPointer: pointer,
    });
    expect(verdict.kind).to.equal("wrong");
    if (verdict.kind !== "wrong") return;
    const recomputed = await watcher.verifier.recompute(chain.chainId, job.requestId);
    expect(recomputed.ok && recomputed.bodyHash).to.equal(verdict.correctBodyHash);
    expect(recomputed.ok && recordContext(recomputed.body).requester).to.equal(honest.requester);
    await watcher.close();
  });
});
