import { expect } from "chai";
import { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { pino } from "pino";
import { Registry } from "prom-client";
import { getAddress, keccak256, stringToHex, type Address, type Hex } from "viem";
import { AUTOSCALE_RULE, programQuorums } from "../../protocol/autoscale.ts";
import type { RequestJob } from "../../protocol/jobs.ts";
import { QUEUE_PREFIX, jobIds, queueNames, redisKeys } from "../../protocol/queues.ts";
import { deriveQuorum } from "../../protocol/quorum.ts";
import { LeaderlessScheduler } from "../../relayer/leaderless.ts";
import { NodeAutoscale } from "../../cli/node/autoscale.ts";
import { eventually, flushedRedis, requestJob, workJob } from "../worker/helpers.ts";
import { STANDALONE_REDIS_DB } from "./helpers.ts";

const HOT = keccak256(stringToHex("hot program")) as Hex;
const COLD = keccak256(stringToHex("cold program")) as Hex;
const SIZE = 3;
const OPERATORS: Address[] = Array.from({ length: 12 }, (_, i) =>
  getAddress(`0x${keccak256(stringToHex(`routing operator ${i}`)).slice(26)}`),
);
const TIMING = { stealAfterMs: 60_000, stealStepMs: 1_000, staleAfterMs: 10_000 };

describe("LeaderlessScheduler with auto-scaling: a hot program's requests are routed over its quorums (real Redis)", function () {
  this.timeout(60_000);
  let redis: Redis;
  const queues = new Map<string, Queue>();

  before(async () => {
    redis = await flushedRedis(STANDALONE_REDIS_DB);
  });
  after(async () => {
    for (const q of queues.values()) await q.close();
    await redis.flushdb();
    await redis.quit();
  });

  /** The node-side scaler after `slowStreaks` full streaks of slow starts of the hot program. */
  function scaledNode(slowStreaks: number): NodeAutoscale {
    const autoscale = new NodeAutoscale({
      size: SIZE,
      activeSet: () => OPERATORS,
      registry: new Registry(),
      log: pino({ level: "silent" }),
    });
    for (let i = 0; i < slowStreaks * AUTOSCALE_RULE.streak; i++)
      autoscale.observe({
        programId: HOT,
        chainId: "31337",
        requestId: keccak256(stringToHex(`slow ${i}`)),
        requestedAtMs: i,
        startedAtMs: i + AUTOSCALE_RULE.slowAboveMs + 1,
      });
    return autoscale;
  }

  /** Schedules `request` on every operator's own scheduler; returns who put a compute job on its queue. */
  async function computedBy(request: RequestJob, autoscale: NodeAutoscale): Promise<Address[]> {
    await redis.flushdb();
    const workers: Address[] = [];
    for (const self of OPERATORS) {
      // each operator is a separate domain: its own scheduler state, here its own key space by flushing in between
      const s = new LeaderlessScheduler({
        redis,
        self,
        quorum: SIZE,
        timing: TIMING,
        operators: () => OPERATORS,
        requestStatus: async () => "open",
        chainNow: async () => BigInt(Math.floor(Date.now() / 1000)),
        reports: () => new Map(),
        shares: () => [],
        log: pino({ level: "silent" }),
        quorumFor: autoscale.quorumFor,
      });
      await s.schedule([request]);
      await s.close();
      let queue = queues.get(self);
      if (!queue) {
        queue = new Queue(queueNames.work(self), { connection: redis, prefix: QUEUE_PREFIX });
        queues.set(self, queue);
      }
      if (await queue.getJob(jobIds.work(request.chainId, request.requestId, self))) workers.push(self);
      await redis.flushdb();
    }
    return workers;
  }

  it("three quorums: every request is computed by exactly one of them, and together the requests reach all three", async () => {
    const autoscale = scaledNode(2);
    expect(autoscale.status().programs.find((p) => p.programId === HOT.toLowerCase())).to.include({
      quorums: 3,
      slowStreak: 0,
      fastStreak: 0,
      quoteBps: 20_000,
    });
    const quorums = programQuorums({ programId: HOT, activeSet: OPERATORS, size: SIZE, count: 3 });
    const served = new Set<number>();
    for (let i = 0; i < 9; i++) {
      const request = requestJob({ label: `hot ${i}`, programId: HOT, input: i });
      const workers = await computedBy(request, autoscale);
      const which = quorums.findIndex((q) => q.length === workers.length && q.every((m) => workers.includes(m)));
      expect(which, `request ${i} computed by ${workers.join(",")}`).to.be.at.least(0);
      served.add(which);
    }
    expect([...served].sort()).to.deep.equal([0, 1, 2]);
  });

  it("the node measures request -> start from the relay's announcedAt to the work job's start, once per request", async () => {
    await redis.flushdb();
    const autoscale = scaledNode(0);
    const self = OPERATORS[0]!;
    const slow = requestJob({ label: "measured slow", programId: HOT, input: 1 });
    const fast = requestJob({ label: "measured fast", programId: COLD, input: 2 });
    // the relay role took the slow request 20 s ago and the fast one just now
    await redis.hset(redisKeys.request(slow.chainId, slow.requestId), "announcedAt", String(Date.now() - 20_000));
    await redis.hset(redisKeys.request(fast.chainId, fast.requestId), "announcedAt", String(Date.now()));
    const queue = new Queue(queueNames.work(self), { connection: redis, prefix: QUEUE_PREFIX });
    // BullMQ does not close a connection it is given: this one is quit below
    const workerConnection = redis.duplicate();
    const worker = new Worker(queueNames.work(self), async () => undefined, {
      connection: workerConnection,
      prefix: QUEUE_PREFIX,
    });
    autoscale.measure(worker, redis);
    try {
      for (const r of [slow, fast])
        await queue.add("execute", workJob(r, self), { jobId: jobIds.work(r.chainId, r.requestId, self) });
      const programs = await eventually(async () => {
        const p = autoscale.status().programs;
        return p.length === 2 ? p : undefined;
      }, "two samples folded");
      expect(programs.find((p) => p.programId === HOT.toLowerCase())).to.include({ slowStreak: 1, fastStreak: 0 });
      const cold = programs.find((p) => p.programId === COLD.toLowerCase())!;
      expect(cold.slowStreak).to.equal(0);
    } finally {
      await worker.close();
      await queue.close();
      await workerConnection.quit();
    }
  });

  it("a share offer of a followed request is judged against the routed quorum: the program read from the request's state", async () => {
    await redis.flushdb();
    const autoscale = scaledNode(2);
    const request = requestJob({ label: "hot shared", programId: HOT, input: 7 });
    expect(await autoscale.quorumOfFollowed(redis, request.chainId, request.requestId, OPERATORS)).to.equal(undefined);
    await redis.hset(redisKeys.request(request.chainId, request.requestId), "job", JSON.stringify(request));
    const routed = await autoscale.quorumOfFollowed(redis, request.chainId, request.requestId, OPERATORS);
    expect(routed).to.deep.equal(autoscale.quorumFor(request, OPERATORS));
    const index = programQuorums({ programId: HOT, activeSet: OPERATORS, size: SIZE, count: 3 }).findIndex((q) =>
      q.every((m) => routed!.members.includes(m)),
    );
    expect(index).to.be.at.least(0);
  });

  it("a program with one quorum keeps today's quorum: the request's closest operators over the whole active set", async () => {
    const autoscale = scaledNode(2);
    const request = requestJob({ label: "cold 1", programId: COLD, input: 1 });
    const { members } = deriveQuorum({ ...request, activeSet: OPERATORS, size: SIZE });
    expect((await computedBy(request, autoscale)).sort()).to.deep.equal([...members].sort());
  });
});
