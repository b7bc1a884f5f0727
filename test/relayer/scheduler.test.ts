import { expect } from "chai";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { pino } from "pino";
import { encodeAbiParameters, getAddress, keccak256, type Address, type Hex } from "viem";
import type { OperatorReport, WorkJob } from "../../protocol/jobs.ts";
import { QUEUE_PREFIX, jobIds, queueNames, redisKeys } from "../../protocol/queues.ts";
import { schedulerSchema } from "../../relayer/config.ts";
import {
  Scheduler,
  chooseOperators,
  rankOperators,
  type Assignment,
  type RequestStatus,
} from "../../relayer/scheduler.ts";
import { flushedRedis, requestJob } from "../worker/helpers.ts";

const DB = 5;
const OPERATORS: Address[] = [1, 2, 3, 4, 5, 6].map((i) => getAddress(`0x${String(i).repeat(40)}`));
const PROGRAM = keccak256("0x01");

function report(fields: Partial<OperatorReport> = {}): OperatorReport {
  return { depth: 0, capacity: 10, kinds: ["execute"], programs: null, updatedAt: 1_000, ...fields };
}

describe("relayer: quorum scheduler", function () {
  this.timeout(30_000);

  describe("choosing operators (XOR distance)", () => {
    const requestId = keccak256("0x1234");

    it("test_rank_isXorDistanceOfKeccakIds_andIndependentOfInputOrder", () => {
      const key = BigInt(
        keccak256(encodeAbiParameters([{ type: "uint256" }, { type: "bytes32" }], [31337n, requestId])),
      );
      const byHand = [...OPERATORS].sort((a, b) => {
        const da = key ^ BigInt(keccak256(a.toLowerCase() as Hex));
        const db = key ^ BigInt(keccak256(b.toLowerCase() as Hex));
        return da < db ? -1 : 1;
      });
      expect(rankOperators(31337, requestId, OPERATORS)).to.deep.equal(byHand);
      expect(rankOperators("31337", requestId, [...OPERATORS].reverse())).to.deep.equal(byHand);
      // another chain with the same request id lands elsewhere on the ring
      const spread = new Set(
        Array.from(
          { length: 40 },
          (_, i) => rankOperators(31337, keccak256(`0x${i.toString(16).padStart(2, "0")}`), OPERATORS)[0],
        ),
      );
      expect(spread.size).to.be.greaterThan(3);
    });

    it("test_choose_skipsOperatorsOverCapacity_andUsesThemOnlyToFillTheQuorum", () => {
      const ranked = rankOperators(31337, requestId, OPERATORS);
      const reports = new Map(OPERATORS.map((op) => [op.toLowerCase(), report()]));
      reports.set(ranked[0]!.toLowerCase(), report({ depth: 10, capacity: 10 }));
      const base = {
        chainId: 31337,
        requestId,
        programId: PROGRAM,
        operators: OPERATORS,
        reports,
        now: 1_500,
        staleAfterMs: 1_000,
      };
      expect(chooseOperators({ ...base, count: 3 })).to.deep.equal(ranked.slice(1, 4));
      // a stale report counts as unknown, like a full one
      reports.set(ranked[1]!.toLowerCase(), report({ updatedAt: 0 }));
      expect(chooseOperators({ ...base, count: 3 })).to.deep.equal([ranked[2], ranked[3], ranked[4]]);
      // when the available ones are too few, full/stale ones fill in, closest first
      expect(chooseOperators({ ...base, count: 6 })).to.deep.equal([...ranked.slice(2), ranked[0], ranked[1]]);
    });

    it("test_choose_neverPicksOperatorsThatRefuseTheProgramOrKind", () => {
      const ranked = rankOperators(31337, requestId, OPERATORS);
      const reports = new Map<string, OperatorReport>([
        [ranked[0]!.toLowerCase(), report({ programs: [keccak256("0x02")] })],
        [ranked[1]!.toLowerCase(), report({ kinds: ["other"] })],
        [ranked[2]!.toLowerCase(), report({ programs: [PROGRAM] })],
      ]);
      const chosen = chooseOperators({
        chainId: 31337,
        requestId,
        programId: PROGRAM,
        operators: OPERATORS,
        reports,
        count: 6,
        now: 1_000,
        staleAfterMs: 1_000,
      });
      expect(chosen).to.not.include(ranked[0]);
      expect(chosen).to.not.include(ranked[1]);
      expect(chosen[0]).to.equal(ranked[2]);
      expect(chosen).to.have.length(4);
    });
  });

  describe("state and work stealing (real Redis)", () => {
    let redis: Redis;
    let now = 1_000_000;
    let status: RequestStatus = "open";
    let scheduler: Scheduler;
    const queues = new Map<string, Queue<WorkJob>>();
    const queue = (op: Address) => {
      if (!queues.has(op)) queues.set(op, new Queue(queueNames.work(op), { connection: redis, prefix: QUEUE_PREFIX }));
      return queues.get(op)!;
    };

    before(async () => {
      redis = await flushedRedis(DB);
      scheduler = new Scheduler({
        redis,
        config: schedulerSchema.parse({ quorum: 3, reassignAfterMs: 5_000, staleAfterMs: 60_000 }),
        operators: () => OPERATORS,
        requestStatus: async () => status,
        chainNow: async () => BigInt(Math.floor(now / 1000)),
        log: pino({ level: "silent" }),
        now: () => now,
      });
    });
    after(async () => {
      await scheduler.close();
      await scheduler.close();
      await Promise.all([...queues.values()].map((q) => q.close()));
      await redis.flushdb();
      await redis.quit();
    });

    const request = requestJob({ label: "steal me", programId: PROGRAM, input: "{}" });
    const ranked = rankOperators(31337, request.requestId, OPERATORS);
    const jobOf = (op: Address) => queue(op).getJob(jobIds.work(request.chainId, request.requestId, op));
    const assignments = async () =>
      JSON.parse((await redis.hget(redisKeys.request(31337, request.requestId), "assignments"))!) as Assignment[];

    it("test_schedule_enqueuesOnTheQuorum_once", async () => {
      expect(await scheduler.schedule([request])).to.equal(1);
      expect(await scheduler.schedule([request, request])).to.equal(0); // a re-scanned event
      for (const op of ranked.slice(0, 3)) {
        const job = await jobOf(op);
        expect(job?.data.operator).to.equal(op);
        expect(job?.data.reassignAfter).to.equal(now + 5_000);
        expect(job?.data.requestId).to.equal(request.requestId);
      }
      expect(await jobOf(ranked[3]!)).to.equal(undefined);
      expect(await redis.zscore(redisKeys.schedule, `31337:${request.requestId}`)).to.equal(String(now + 5_000));
    });

    it("test_sweep_beforeTheDeadline_changesNothing", async () => {
      now += 4_999;
      expect(await scheduler.sweep()).to.deep.equal({ visited: 0, reassigned: 0, extended: 0, dropped: 0 });
    });

    it("test_sweep_reassignsWorkNotDone_toTheNextClosestOperator", async () => {
      // ranked[0] and ranked[2] finished; ranked[1] did not
      await redis.sadd(redisKeys.done(31337, request.requestId), ranked[0]!.toLowerCase(), ranked[2]!.toLowerCase());
      now += 1;
      const swept = await scheduler.sweep();
      expect(swept.reassigned).to.equal(1);
      const job = await jobOf(ranked[3]!);
      expect(job?.data.operator).to.equal(ranked[3]);
      expect(await jobOf(ranked[1]!)).to.equal(undefined); // taken back from the late operator's queue
      const state = await assignments();
      expect(state.find((a) => a.operator === ranked[1])?.replacedBy).to.equal(ranked[3]);
      expect(state.filter((a) => !a.replacedBy).map((a) => a.operator)).to.have.members([
        ranked[0],
        ranked[2],
        ranked[3],
      ]);
    });

    it("test_sweep_addsAnOperator_whenAllAnsweredButTheRequestStaysOpen", async () => {
      await redis.sadd(redisKeys.done(31337, request.requestId), ranked[3]!.toLowerCase());
      now += 5_000;
      const swept = await scheduler.sweep();
      expect(swept.extended).to.equal(1);
      expect((await jobOf(ranked[4]!))?.data.operator).to.equal(ranked[4]);
    });

    it("test_sweep_dropsRequestsSettledOnChain", async () => {
      status = "closed";
      now += 5_000;
      const swept = await scheduler.sweep();
      expect(swept.dropped).to.equal(1);
      expect(await redis.exists(redisKeys.request(31337, request.requestId))).to.equal(0);
      expect(await redis.zcard(redisKeys.schedule)).to.equal(0);
    });

    it("test_schedule_withNoOperatorAvailable_fillsLater", async () => {
      status = "open";
      const picky = new Scheduler({
        redis,
        config: schedulerSchema.parse({ quorum: 2, reassignAfterMs: 1_000 }),
        operators: () => OPERATORS,
        requestStatus: async () => status,
        chainNow: async () => BigInt(Math.floor(now / 1000)),
        log: pino({ level: "silent" }),
        now: () => now,
      });
      // every operator refuses the program
      for (const op of OPERATORS)
        await redis.hset(redisKeys.operators, op.toLowerCase(), JSON.stringify(report({ programs: [] })));
      const lonely = requestJob({ label: "nobody", programId: PROGRAM, input: "{}" });
      expect(await picky.schedule([lonely])).to.equal(1);
      await redis.del(redisKeys.operators); // the operators go back to "unknown": usable
      now += 1_000;
      await picky.sweep();
      const state = JSON.parse(
        (await redis.hget(redisKeys.request(31337, lonely.requestId), "assignments"))!,
      ) as Assignment[];
      expect(state.map((a) => a.operator)).to.deep.equal(rankOperators(31337, lonely.requestId, OPERATORS).slice(0, 2));
      await picky.close();
    });
  });
});
