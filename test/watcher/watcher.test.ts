import { watcherKeys } from "../../watcher/state.ts";
import { expect } from "chai";
import { keccak256, stringToHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { resultForChain, type ExecutionRecordBody } from "../../protocol/record.ts";
import { operatorKeys } from "../ingestor/helpers.ts";
import { createWatcherWorld, watcherKey, type WatcherWorld } from "./helpers.ts";

const UPHELD = 2n;
const REJECTED = 3n;
const watcherAddress = privateKeyToAccount(watcherKey).address;

/** A body no honest worker produces: PROGRAM_ERROR with nothing dispersed. */
function faulty(body: ExecutionRecordBody): ExecutionRecordBody {
  return { ...body, status: 1, stdout: "0x", stderr: stringToHex("forged"), fuelUsed: 1n, instructions: [] };
}

describe("watcher", function () {
  this.timeout(120_000);
  let world: WatcherWorld;

  before(async () => {
    world = await createWatcherWorld();
  });
  after(async () => {
    await world?.close();
  });

  async function disputesFor(requestId: Hex) {
    const logs = await world.dispute.queryFilter(world.dispute.filters.DisputeOpened(undefined, requestId));
    return logs.map((l) => l.args);
  }

  async function runPhases(watcher: Awaited<ReturnType<WatcherWorld["start"]>>, id: bigint) {
    // commit happens in the round that saw the dispute (or the next one)
    await world.tickUntil(
      watcher,
      async () => (await world.dispute.queryFilter(world.dispute.filters.VoteCommitted(id))).length > 0,
      "vote committed",
    );
    const [commitEnd, revealEnd] = await world.dispute.phasesOf(id);
    const now = async () => BigInt((await world.chain.connection.ethers.provider.getBlock("latest"))!.timestamp);
    await world.increaseTime(Number(commitEnd - (await now())) + 1);
    await world.tickUntil(
      watcher,
      async () => (await world.dispute.queryFilter(world.dispute.filters.VoteRevealed(id))).length > 0,
      "vote revealed",
    );
    await world.increaseTime(Number(revealEnd - (await now())) + 1);
    await world.tickUntil(watcher, async () => (await world.dispute.disputeOf(id)).state !== 1n, "dispute resolved");
    return world.dispute.disputeOf(id);
  }

  it("(b) leaves a correct result alone and forgets it after the window (no finalize since issue 10)", async () => {
    const watcher = await world.start();
    const { requestId, input } = await world.request();
    const honest = await world.honestBody(requestId, input);
    await world.ingest(honest);
    await world.tickUntil(
      watcher,
      async () => {
        const checked = await watcher.metrics.checked.get();
        return checked.values.some((v) => v.labels.verdict === "ok" && v.value > 0);
      },
      "verified",
    );
    expect(await disputesFor(requestId)).to.have.length(0);
    const { challengeWindow } = await world.dispute.params();
    await world.increaseTime(Number(challengeWindow) + 1);
    // reputation now accrues from the fee ledger (`versatus operator reputation`): the watcher
    // sends nothing for a correct result, it only stops tracking it
    const key = watcherKeys(watcher.address).results(world.chain.chainId);
    await world.tickUntil(watcher, async () => (await watcher.redis.hlen(key)) === 0, "result forgotten");
    expect(await disputesFor(requestId)).to.have.length(0);
    await watcher.close();
  });

  it("(e) votes reject on someone else's wrong claim; the challenger loses the bond", async () => {
    const watcher = await world.start();
    const { requestId, input } = await world.request();
    const honest = await world.honestBody(requestId, input);
    const { result, signatures } = await world.ingest(honest);
    const challenger = world.chain.other;
    const { bond } = await world.dispute.params();
    const wrongClaim = keccak256(stringToHex("not the body"));
    // a first challenge is committed, then revealed in a later block, naming every recorded signer
    const salt = keccak256(stringToHex("salt (e)"));
    const commitment = await world.dispute.challengeCommitment(
      await challenger.getAddress(),
      world.chain.chainId,
      requestId,
      0,
      wrongClaim,
      salt,
    );
    await (await world.dispute.connect(challenger).commitChallenge(commitment)).wait();
    await world.increaseTime(1);
    const signers = [...signatures.map((s) => s.signer)].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
    await (
      await world.dispute.connect(challenger).challenge(result, signers, 0, wrongClaim, salt, { value: bond })
    ).wait();
    const [opened] = await disputesFor(requestId);
    const final = await runPhases(watcher, opened!.disputeId);
    expect(final.state).to.equal(REJECTED);
    const reveals = await world.dispute.queryFilter(world.dispute.filters.VoteRevealed(opened!.disputeId));
    expect(reveals.map((r) => r.args.upholds)).to.deep.equal([false]);
    expect(await world.dispute.owed(await challenger.getAddress())).to.equal(0n);
    // the watcher itself never challenged a correct result
    expect((await disputesFor(requestId)).map((d) => d.challenger)).to.deep.equal([await challenger.getAddress()]);
    await watcher.close();
  });
  it("(c) proves equivocation from the evidence stream and slashes the operator once", async () => {
    const watcher = await world.start();
    const { requestId, input } = await world.request();
    const honest = await world.honestBody(requestId, input);
    const a = resultForChain(honest, world.chain.chainId);
    const b = resultForChain(faulty(honest), world.chain.chainId);
    const key = operatorKeys[3]!;
    const signer = privateKeyToAccount(key).address;
    const ingestor = world.chain.addresses.InstructionIngestor as Hex;
    for (const r of [a, b, a]) {
      await world.addEvidence({
        result: r,
        signature: await world.sign(key, r),
        signer,
        ingestorChainId: world.chain.chainId,
        ingestor,
      });
    }
    // garbage is ignored
    await world.redis.xadd("{versatus}evidence", "*", "data", "{not json");
    await world.tickUntil(
      watcher,
      async () => world.registry.equivocationSlashed(signer, world.chain.chainId, requestId),
      "equivocation slashed",
    );
    // the same evidence again: no second slash
    await world.addEvidence({
      result: b,
      signature: await world.sign(key, b),
      signer,
      ingestorChainId: world.chain.chainId,
      ingestor,
    });
    await watcher.tickOnce();
    await watcher.close();
    const again = await world.start();
    await again.tickOnce();
    const events = await world.registry.queryFilter(world.registry.filters.EquivocationSlashed(signer));
    expect(events).to.have.length(1);
    expect(events[0]!.args.submitter).to.equal(watcherAddress);
    await again.close();
  });

  it("(d) challenges a result whose record is missing from DA as DataUnavailable", async () => {
    const watcher = await world.start();
    const { requestId, input } = await world.request();
    const honest = await world.honestBody(requestId, input);
    await world.ingest(honest, { skipDa: true });
    const [opened] = await world.tickUntil(
      watcher,
      async () => {
        const d = await disputesFor(requestId);
        return d.length > 0 ? d : undefined;
      },
      "DataUnavailable challenge",
    );
    expect(opened!.kind).to.equal(1n);
    expect(opened!.claimedBodyHash).to.equal(`0x${"00".repeat(32)}`);
    const final = await runPhases(watcher, opened!.disputeId);
    expect(final.state).to.equal(UPHELD);
    await watcher.close();
  });

  it("(a) challenges a result whose record a faulty quorum altered, votes uphold, and the signers are slashed", async () => {
    const watcher = await world.start();
    const { requestId, input } = await world.request();
    const honest = await world.honestBody(requestId, input);
    const { signatures } = await world.ingest(faulty(honest));
    const stakesBefore = await Promise.all(signatures.map((s) => world.registry.requiredStake(s.signer)));
    void stakesBefore;

    const honestHash = resultForChain(honest, world.chain.chainId).bodyHash;
    const [opened] = await world.tickUntil(
      watcher,
      async () => {
        const d = await disputesFor(requestId);
        return d.length > 0 ? d : undefined;
      },
      "challenge",
    );
    expect(opened!.kind).to.equal(0n);
    expect(opened!.claimedBodyHash.toLowerCase()).to.equal(honestHash);
    expect(opened!.challenger).to.equal(watcherAddress);

    const final = await runPhases(watcher, opened!.disputeId);
    expect(final.state).to.equal(UPHELD);
    const slashed = await world.registry.queryFilter(world.registry.filters.FaultSlashed());
    const slashedOps = new Set(slashed.map((l) => l.args.operator));
    for (const s of signatures) expect(slashedOps.has(s.signer)).to.equal(true, `${s.signer} slashed`);
    // the bond came back and was withdrawn
    await world.tickUntil(watcher, async () => (await world.dispute.owed(watcherAddress)) === 0n, "withdraw");
    const challenges = await watcher.metrics.challenges.get();
    expect(
      challenges.values.find((v) => v.labels.kind === "wrong_result" && v.labels.outcome === "sent")?.value,
    ).to.equal(1);
    const latency = await watcher.metrics.detectionLatency.get();
    expect(latency.values.find((v) => v.metricName?.endsWith("_count"))?.value).to.equal(1);
    await watcher.close();
  });
});
