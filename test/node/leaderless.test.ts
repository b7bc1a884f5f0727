import { expect } from "chai";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { pino } from "pino";
import { keccak256, stringToHex, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import type { RequestJob } from "../../protocol/jobs.ts";
import { QUEUE_PREFIX, jobIds, queueNames, redisKeys } from "../../protocol/queues.ts";
import { deriveQuorum } from "../../protocol/quorum.ts";
import {
  signBackpressureReport,
  signShareOffer,
  type BackpressureReport,
  type ShareOffer,
} from "../../protocol/scheduling.ts";
import { LeaderlessScheduler } from "../../relayer/leaderless.ts";
import { flushedRedis, requestJob } from "../worker/helpers.ts";
import { STANDALONE_REDIS_DB } from "./helpers.ts";

const TIMING = { stealAfterMs: 1_000, stealStepMs: 500, staleAfterMs: 10_000 };
const PROGRAM = keccak256(stringToHex("program")) as Hex;

describe("LeaderlessScheduler: one node decides for itself only (real Redis)", () => {
  let redis: Redis;
  const accounts: PrivateKeyAccount[] = Array.from({ length: 5 }, () => privateKeyToAccount(generatePrivateKey()));
  const activeSet = accounts.map((a) => a.address);
  const byAddress = (address: Address) => accounts.find((a) => a.address === address)!;
  /** Re-made before each test with a deadline an hour ahead of the chain's clock then (a long run loads this file early). */
  let request: RequestJob = requestJob({ label: "leaderless", programId: PROGRAM, input: "x" });
  const { members, standby } = deriveQuorum({
    chainId: request.chainId,
    requestId: request.requestId,
    activeSet,
    size: 3,
  });
  let now = Date.now();
  /** The chain's clock (seconds), separate from this machine's `now`. */
  let chainNow = BigInt(Math.floor(now / 1000));
  const queues: Queue[] = [];
  const scheduled: LeaderlessScheduler[] = [];

  before(async () => {
    redis = await flushedRedis(STANDALONE_REDIS_DB);
  });
  beforeEach(async () => {
    await redis.flushdb();
    now = Date.now();
    chainNow = BigInt(Math.floor(now / 1000));
    request = requestJob({ label: "leaderless", programId: PROGRAM, input: "x", deadline: chainNow + 3_600n });
  });
  afterEach(async () => {
    for (const s of scheduled.splice(0)) await s.close();
    for (const q of queues.splice(0)) await q.close();
  });
  after(async () => {
    await redis.flushdb();
    await redis.quit();
  });

  const report = (operator: Address, depth: number, capacity = 2) =>
    signBackpressureReport(byAddress(operator), {
      operator,
      depth,
      capacity,
      kinds: ["execute"],
      programs: null,
      issuedAt: now,
    });
  const scheduler = (
    self: Address,
    extra: {
      reports?: Map<string, BackpressureReport>;
      shares?: ShareOffer[];
      onShare?: (to: Address) => void;
      status?: () => "open" | "closed";
      chainNow?: () => Promise<bigint>;
      onDropped?: (requestId: Hex) => void;
    } = {},
  ) => {
    const s = new LeaderlessScheduler({
      redis,
      self,
      quorum: 3,
      timing: TIMING,
      operators: () => activeSet,
      requestStatus: async () => extra.status?.() ?? "open",
      chainNow: extra.chainNow ?? (async () => chainNow),
      reports: () => extra.reports ?? new Map(),
      shares: () => extra.shares ?? [],
      share: async (_request, to) => extra.onShare?.(to),
      onDropped: (_chainId, requestId) => extra.onDropped?.(requestId),
      log: pino({ level: "silent" }),
      now: () => now,
    });
    scheduled.push(s);
    return s;
  };
  const workState = async (operator: Address) => {
    const queue = new Queue(queueNames.work(operator), { connection: redis, prefix: QUEUE_PREFIX });
    queues.push(queue);
    const job = await queue.getJob(jobIds.work(request.chainId, request.requestId, operator));
    return job ? await job.getState() : "none";
  };

  it("a member computes at once, on its own queue only; a repeated event changes nothing", async () => {
    const s = scheduler(members[0]!);
    expect(await s.schedule([request])).to.equal(1);
    expect(await s.schedule([request])).to.equal(0);
    expect(await workState(members[0]!)).to.equal("waiting");
    for (const other of [...members.slice(1), ...standby]) expect(await workState(other)).to.equal("none");
  });

  it("a block of requests mined at once (taken 16 at a time), scheduled twice at once: each is new once, its work queued once", async () => {
    const batch = Array.from({ length: 40 }, (_, i) =>
      requestJob({ label: `burst ${i}`, programId: PROGRAM, input: "x", deadline: chainNow + 3_600n }),
    );
    // every node computes every request here (quorum 3 of 5 would leave some to others)
    const s = new LeaderlessScheduler({
      redis,
      self: activeSet[0]!,
      quorum: 5,
      timing: TIMING,
      operators: () => activeSet,
      requestStatus: async () => "open",
      chainNow: async () => chainNow,
      reports: () => new Map(),
      shares: () => [],
      log: pino({ level: "silent" }),
      now: () => now,
    });
    scheduled.push(s);
    const [a, b] = await Promise.all([s.schedule(batch), s.schedule([...batch].reverse())]);
    expect(a + b).to.equal(40);
    const queue = new Queue(queueNames.work(activeSet[0]!), { connection: redis, prefix: QUEUE_PREFIX });
    queues.push(queue);
    expect(await queue.count()).to.equal(40);
    expect(await s.schedule(batch)).to.equal(0);
  });

  /** A standby keeps following a request whose members all signed (one may still fail) until it settles. */
  const allMembersSigned = () =>
    redis.sadd(redisKeys.done(request.chainId, request.requestId), ...members.map((m) => m.toLowerCase()));

  it("a machine clock two hours ahead of the chain's drops nothing: the deadline is the chain's", async () => {
    // An in-process chain started late in a long run is minutes behind the wall clock; judging the
    // deadline by the wall clock dropped every open request (issue 12's fresh-clone failure).
    const s = scheduler(standby[0]!);
    await allMembersSigned();
    await s.schedule([request]);
    now += 2 * 3_600_000;
    expect(await s.sweep()).to.deep.equal({ visited: 1, dropped: 0 });
    const ttl = await redis.pttl(redisKeys.request(request.chainId, request.requestId));
    const untilDeadlineMs = (Number(request.deadline) + 60 - Number(chainNow)) * 1000;
    expect(ttl, "state kept until the chain's deadline (plus grace) and an hour").to.be.within(
      untilDeadlineMs + 3_600_000 - 5_000,
      untilDeadlineMs + 3_600_000,
    );
  });

  it("drops a request once the chain's clock passes its deadline, even when this machine's clock is behind", async () => {
    const dropped: string[] = [];
    const s = scheduler(standby[0]!, { onDropped: (requestId) => dropped.push(requestId) });
    await allMembersSigned();
    await s.schedule([request]);
    now += TIMING.stealAfterMs * 10;
    expect((await s.sweep()).dropped, "still open on the chain").to.equal(0);
    chainNow = BigInt(request.deadline) + 61n;
    now += TIMING.stealAfterMs * 10;
    expect((await s.sweep()).dropped).to.equal(1);
    expect(dropped).to.deep.equal([request.requestId]);
  });

  it("a chain that cannot be read drops nothing; the request is checked again later", async () => {
    const s = scheduler(standby[0]!, {
      status: () => "closed",
      chainNow: async () => {
        throw new Error("rpc down");
      },
    });
    await allMembersSigned();
    await s.schedule([request]);
    now += TIMING.stealAfterMs * 10;
    expect((await s.sweep()).dropped).to.equal(0);
    const member = `${request.chainId}:${request.requestId.toLowerCase()}`;
    expect(await redis.zscore(redisKeys.schedule, member), "rescheduled").to.not.equal(null);
  });

  it("a standby waits, then steals once the deadline passes with a member unsigned; not when all signed", async () => {
    const s = scheduler(standby[0]!);
    await s.schedule([request]);
    expect(await workState(standby[0]!)).to.equal("none");
    now += TIMING.stealAfterMs - 1;
    await s.sweep();
    expect(await workState(standby[0]!), "before the deadline").to.equal("none");
    // two members signed, one did not
    await redis.sadd(
      redisKeys.done(request.chainId, request.requestId),
      members[0]!.toLowerCase(),
      members[1]!.toLowerCase(),
    );
    now += 1;
    await s.sweep();
    expect(await workState(standby[0]!)).to.equal("waiting");
    expect(s.recent()[0]!.acted).to.equal("steal");
    // the second standby is not needed for one open slot
    const second = scheduler(standby[1]!);
    await redis.del(redisKeys.request(request.chainId, request.requestId));
    await second.schedule([request]);
    now += TIMING.stealAfterMs + TIMING.stealStepMs;
    await redis.sadd(redisKeys.done(request.chainId, request.requestId), standby[0]!.toLowerCase());
    await second.sweep();
    expect(await workState(standby[1]!)).to.equal("none");
  });

  it("a member that signed a diverging result leaves its slot open: the first standby steals it", async () => {
    const s = scheduler(standby[0]!);
    await s.schedule([request]);
    const key = redisKeys.signers(request.chainId, request.requestId);
    const bodyA = keccak256(stringToHex("body A"));
    const bodyB = keccak256(stringToHex("body B"));
    await redis.hset(
      key,
      members[0]!.toLowerCase(),
      bodyA,
      members[1]!.toLowerCase(),
      bodyA,
      members[2]!.toLowerCase(),
      bodyB,
    );
    await redis.sadd(redisKeys.done(request.chainId, request.requestId), ...members.map((m) => m.toLowerCase()));
    now += TIMING.stealAfterMs;
    await s.sweep();
    expect(await workState(standby[0]!)).to.equal("waiting");
    expect(s.recent()[0]!.signed.sort()).to.deep.equal([members[0]!.toLowerCase(), members[1]!.toLowerCase()].sort());
  });

  it("a member over capacity shares with the first standby that has room (signed offer), and does not compute", async () => {
    const reports = new Map<string, BackpressureReport>([
      [members[0]!.toLowerCase(), await report(members[0]!, 5)],
      [standby[0]!.toLowerCase(), await report(standby[0]!, 2)], // full too
      [standby[1]!.toLowerCase(), await report(standby[1]!, 0)],
    ]);
    const sharedTo: Address[] = [];
    const s = scheduler(members[0]!, { reports, onShare: (to) => sharedTo.push(to) });
    await s.schedule([request]);
    expect(sharedTo).to.deep.equal([standby[1]]);
    expect(await workState(members[0]!)).to.equal("none");
  });

  it("a standby that receives a valid share offer computes at once", async () => {
    const from = members[0]!;
    const offer = await signShareOffer(byAddress(from), {
      chainId: request.chainId,
      requestId: request.requestId,
      from,
      to: standby[1]!,
      report: await report(from, 5),
      issuedAt: now,
    });
    const s = scheduler(standby[1]!, { shares: [offer] });
    await s.schedule([request]);
    expect(await workState(standby[1]!)).to.equal("waiting");
    expect(s.recent()[0]!.plan.action).to.equal("compute");
  });
});
