import { expect } from "chai";
import { Queue } from "bullmq";
import { ethers as E } from "ethers";
import { resultTypes } from "../../protocol/result.ts";
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { devAccount } from "../../deploy/context.ts";
import { redirectPayouts } from "../../cli/devnet/flows.ts";
import { WATCHER_ACCOUNT } from "../../cli/devnet/services.ts";
import type { ResultJob, WorkJob } from "../../protocol/jobs.ts";
import { QUEUE_PREFIX, queueNames } from "../../protocol/queues.ts";
import { executeWork } from "../../worker/execute.ts";
import { builtProgram } from "../fixtures/programs.ts";
import { ETH_FEE } from "../helpers/suite.ts";
import {
  assertSettledOnceAndEscrowExact,
  createWorld,
  redisUrl,
  requestPayouts,
  waitSettled,
  type World,
  nextPayoutId,
} from "./harness.ts";

/**
 * HoneSTake on the whole network (SPEC 3.5): in-process chains with the suite and staking deployed
 * as `npx hardhat deploy` does, real Redis, real programs, the relayer, the operators, the
 * collector/poster and the staked watcher (dev:9). Dispute times are config/deploy/chainA.json's
 * (12 s window, 6 s commit, 6 s reveal) in real block time, with a block mined every 500 ms.
 */
describe("HoneSTake end to end (watcher, disputes, slashing, reputation)", function () {
  this.timeout(240_000);

  const COLLUDERS = [1, 2, 3];
  const ATTACKER = devAccount(8).address as Hex;
  const until = async <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 90_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const contracts = async (world: World) => {
    const { ethers, addresses } = world.a.suite;
    return {
      registry: await ethers.getContractAt("StakingRegistry", addresses.StakingRegistry!),
      adapter: await ethers.getContractAt("NativeStakeAdapter", addresses.NativeStakeAdapter!),
      disputes: await ethers.getContractAt("DisputeManager", addresses.DisputeManager!),
    };
  };

  describe("a network with three colluding operators and an honest fourth", () => {
    let world: World;
    const lies = new Set<Hex>();
    before(async () => {
      world = await createWorld();
      await world.start({
        watcher: true,
        colluders: { operators: COLLUDERS, tamper: redirectPayouts(lies, ATTACKER) },
        blockTickMs: 500,
      });
    });
    after(async () => world?.close());

    it("catches a colluding quorum: challenged, upheld, signers slashed and reset, the watcher paid", async () => {
      const { registry, adapter, disputes } = await contracts(world);
      const { suite } = world.a;
      const colluders = COLLUDERS.map((i) => devAccount(i).address);
      const stakeBefore = await Promise.all(colluders.map((a) => adapter.stakeOf(a).then((s) => s.bonded)));
      const attackerBefore = await suite.ethers.provider.getBalance(ATTACKER);
      lies.add(await nextPayoutId(world));
      const [requestId] = await requestPayouts(world, 1);
      await waitSettled(world, [requestId!]);
      expect(await suite.ethers.provider.getBalance(ATTACKER)).to.be.greaterThan(
        attackerBefore,
        "the lie was ingested and paid the attacker",
      );

      const [opened] = await until("the watcher's challenge", async () => {
        const logs = await disputes.queryFilter(disputes.filters.DisputeOpened(undefined, requestId));
        return logs.length ? logs : undefined;
      });
      const id = opened!.args.disputeId;
      expect(opened!.args.challenger).to.equal(devAccount(WATCHER_ACCOUNT).address);
      expect(opened!.args.kind).to.equal(0n); // WrongResult
      expect([...opened!.args.signers].sort()).to.deep.equal([...colluders].sort());

      const [resolved] = await until("the dispute's resolution", async () => {
        const logs = await disputes.queryFilter(disputes.filters.DisputeResolved(id));
        return logs.length ? logs : undefined;
      });
      expect(resolved!.args.outcome).to.equal(2n, "upheld");
      const { wrongResultSlashBps, challengerRewardBps } = await disputes.params();
      let slashed = 0n;
      for (const [i, account] of colluders.entries()) {
        const expected = (stakeBefore[i]! * wrongResultSlashBps) / 10_000n;
        expect((await adapter.stakeOf(account)).bonded).to.equal(stakeBefore[i]! - expected);
        expect(await registry.reputationOf(account)).to.equal(0n);
        slashed += expected;
      }
      expect(resolved!.args.slashed).to.equal(slashed);
      let reward = 0n;
      for (const before of stakeBefore)
        reward += (((before * wrongResultSlashBps) / 10_000n) * challengerRewardBps) / 10_000n;
      expect(resolved!.args.challengerReward).to.equal(reward);
      // the watcher withdraws its returned bond itself
      await until("the watcher's bond withdrawn", async () =>
        (await disputes.owed(devAccount(WATCHER_ACCOUNT).address)) === 0n ? true : undefined,
      );
      const { resultHash } = (await disputes.disputeOf(id)) as unknown as { resultHash: string };
      expect((await disputes.resultStatus(resultHash)).overturned).to.equal(true);
      expect(await assertSettledOnceAndEscrowExact(world, [requestId!])).to.deep.equal({ ingested: 1, refunded: 0 });
    });

    it("makes a false challenge lose its bond: the watcher votes reject, half is burned", async () => {
      const { disputes } = await contracts(world);
      const { suite } = world.a;
      const challenger = suite.other;
      const [requestId] = await requestPayouts(world, 1);
      await waitSettled(world, [requestId!]);
      const [ingested] = await suite.ingestor.queryFilter(suite.ingestor.filters.ResultIngested(requestId));
      const tx = await suite.ethers.provider.getTransaction(ingested!.transactionHash);
      const call = suite.ingestor.interface.parseTransaction(tx!)!;
      const at =
        call.name === "ingest"
          ? -1
          : (call.args[0] as { requestId: string }[]).findIndex((r) => r.requestId === requestId);
      // ethers decodes into frozen Results: copy them into plain values to send them again
      const result = (at < 0 ? call.args[0] : call.args[0][at]).toObject();
      const signatures = [...(at < 0 ? call.args[2] : call.args[2][at])];
      const { bond, bondBurnBps } = await disputes.params();
      const treasury = (await disputes.params()).treasury;
      const owedBefore = await disputes.owed(treasury);
      const burnedBefore = await disputes.totalBurned();
      // the accused are every signer recorded at ingestion; the challenge is committed a block first
      const signers = signatures
        .map((sig) =>
          E.verifyTypedData(
            {
              name: "Versatus",
              version: "1",
              chainId: suite.chainId,
              verifyingContract: suite.addresses.InstructionIngestor,
            },
            { Result: [...resultTypes.Result] },
            result,
            sig,
          ),
        )
        .sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
      const salt = E.id("false-claim-salt");
      const claimed = E.id("not the body");
      const commitment = await disputes.challengeCommitment(
        await challenger.getAddress(),
        result.originChainId,
        result.requestId,
        0,
        claimed,
        salt,
      );
      await (await disputes.connect(challenger).commitChallenge(commitment)).wait();
      await (await disputes.connect(challenger).challenge(result, signers, 0, claimed, salt, { value: bond })).wait();
      const id = await disputes.disputeCount();

      const [resolved] = await until("the false challenge's resolution", async () => {
        const logs = await disputes.queryFilter(disputes.filters.DisputeResolved(id));
        return logs.length ? logs : undefined;
      });
      expect(resolved!.args.outcome).to.equal(3n, "rejected");
      expect(resolved!.args.rejectWeight).to.be.greaterThan(0n, "the watcher voted against it");
      const burned = (bond * bondBurnBps) / 10_000n;
      expect((await disputes.totalBurned()) - burnedBefore).to.equal(burned);
      expect((await disputes.owed(treasury)) - owedBefore).to.equal(bond - burned);
      expect(await disputes.owed(await challenger.getAddress())).to.equal(0n);
    });

    it("lowers an honest operator's required stake once its results' ledger epoch matures", async () => {
      const { registry } = await contracts(world);
      const { suite, connection } = world.a;
      const honest = devAccount(4).address;
      const base = (await registry.stakeParams()).base;
      const ids = await requestPayouts(world, 3);
      await waitSettled(world, ids);
      // Reputation accrues from the fee ledger, never per result: once the epoch of these results is
      // over and the slashable window has passed, anyone may accrue it for the signers.
      const epochLength = await suite.oracle.LEDGER_EPOCH();
      const epoch = BigInt((await suite.ethers.provider.getBlock("latest"))!.timestamp) / epochLength;
      const window = await registry.slashableWindow();
      await connection.networkHelpers.time.increase(Number(epochLength + window) + 1);
      const fee = await suite.oracle.feeOf(E.ZeroAddress);
      const [held, index] = await registry.indexIn(honest, epoch);
      expect(held).to.equal(true);
      const refs = [];
      for (const signers of [3n, 4n]) {
        const share = fee / signers;
        if ((await suite.oracle.signatureCount(await registry.getAddress(), 0, share, epoch, index)) > 0n)
          refs.push({ assetId: 0n, share, epoch });
      }
      expect(refs.length, "the honest operator signed some of the results").to.be.greaterThan(0);
      await (await registry.connect(suite.other).accrueReputation(honest, refs)).wait();
      const required = await registry.requiredStake(honest);
      expect(await registry.reputationOf(honest)).to.be.greaterThan(0n);
      expect(required).to.be.lessThan(base);
      expect(await registry.isActive(honest)).to.equal(true);
      // the same ledger never counts twice
      await expect(registry.connect(suite.other).accrueReputation(honest, refs)).to.be.revertedWithCustomError(
        registry,
        "Staking_AlreadyAccrued",
      );
    });
  });

  describe("an operator that signs two different results for one request", () => {
    let world: World;
    before(async () => {
      world = await createWorld();
      // two honest workers only: the quorum needs the equivocator's signature
      await world.start({ operators: [1, 2], watcher: true, blockTickMs: 500 });
    });
    after(async () => world?.close());

    it("is slashed once, through the collector's evidence and the watcher's proof", async () => {
      const { registry, adapter } = await contracts(world);
      const { suite } = world.a;
      const equivocator = privateKeyToAccount(devAccount(4).privateKey as Hex);
      const before = (await adapter.stakeOf(equivocator.address)).bonded;
      const [requestId] = await requestPayouts(world, 1);
      const [event] = await suite.oracle.queryFilter(suite.oracle.filters.ExecutionRequested(requestId));
      const block = await event!.getBlock();
      const job: WorkJob = {
        chainId: String(suite.chainId),
        oracle: (await suite.oracle.getAddress()) as Hex,
        requestId: requestId!,
        programId: event!.args.programId as Hex,
        requester: event!.args.requester as Hex,
        token: E.ZeroAddress as Hex,
        amount: String(event!.args.amount),
        deadline: "0",
        input: event!.args.input as Hex,
        blockNumber: String(event!.blockNumber),
        blockTimestamp: String(block.timestamp),
        transactionHash: event!.transactionHash as Hex,
        logIndex: event!.index,
        operator: equivocator.address,
        reassignAfter: Date.now() + 60_000,
      };
      const ingestors = new Map(world.chains.map((c) => [BigInt(c.devnet.chainId), c.devnet.ingestor] as const));
      const run = (tamper?: Parameters<typeof executeWork>[0]["tamper"]) =>
        executeWork({
          job,
          fee: ETH_FEE,
          pkg: builtProgram("payout-splitter").package,
          runtime: world.services.runtime,
          account: equivocator,
          ingestors,
          // payouts move no token: every controller lookup may answer "not a controller"
          rule: { controllers: async () => false },
          ...(tamper ? { tamper } : {}),
        });
      const lie = await run(redirectPayouts(new Set([requestId!]), devAccount(8).address as Hex));
      const truth = await run();
      expect(lie.bodyHash).to.not.equal(truth.bodyHash);
      const results = new Queue<ResultJob>(queueNames.results, { connection: { url: redisUrl }, prefix: QUEUE_PREFIX });
      await results.add("result", lie.result, { jobId: "equivocation-lie" });
      await results.add("result", truth.result, { jobId: "equivocation-truth" });
      await results.close();

      await waitSettled(world, [requestId!]);
      await until("the equivocation proof", () =>
        registry.equivocationSlashed(equivocator.address, suite.chainId, requestId!),
      );
      const { equivocationSlashBps } = await registry.slashParams();
      const after = (await adapter.stakeOf(equivocator.address)).bonded;
      expect(after).to.equal(before - (before * equivocationSlashBps) / 10_000n);
      expect(await registry.reputationOf(equivocator.address)).to.equal(0n);
      // later rounds of the watcher find it already slashed: exactly one proof lands
      await new Promise((r) => setTimeout(r, 2_000));
      const proofs = await registry.queryFilter(registry.filters.EquivocationSlashed(equivocator.address));
      expect(proofs).to.have.length(1);
    });
  });
});
