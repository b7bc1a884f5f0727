import { expect } from "chai";
import { getAddress, keccak256, stringToHex, type Address, type Hex } from "viem";
import {
  AUTOSCALE_RULE,
  AutoScaler,
  INITIAL_SCALING,
  averageDistance,
  compareSamples,
  farthestQuorum,
  maxQuorums,
  observeLatency,
  peakLoadQuote,
  programKey,
  programQuorums,
  replayScaling,
  routeIndex,
  routeRequest,
  type LatencySample,
  type ProgramScaling,
} from "../../protocol/autoscale.ts";
import { operatorId, rankByDistance, requestKey } from "../../protocol/quorum.ts";

const PROGRAM = keccak256(stringToHex("hot program")) as Hex;
const OTHER = keccak256(stringToHex("quiet program")) as Hex;
const OPERATORS: Address[] = Array.from({ length: 40 }, (_, i) =>
  getAddress(`0x${keccak256(stringToHex(`operator ${i}`)).slice(26)}`),
);
const LIMITS = { maxQuorums: 10 };
const SLOW = AUTOSCALE_RULE.slowAboveMs + 1;
const FAST = AUTOSCALE_RULE.fastBelowMs - 1;

/** Folds `n` samples of the same latency. */
function fold(state: ProgramScaling, latencyMs: number, n: number) {
  const events: string[] = [];
  for (let i = 0; i < n; i++) {
    const step = observeLatency(state, latencyMs, LIMITS);
    state = step.state;
    if (step.event) events.push(step.event);
  }
  return { state, events };
}

let nextRequest = 0;
function sample(programId: Hex, latencyMs: number, requestedAtMs = nextRequest * 20_000): LatencySample {
  const requestId = keccak256(stringToHex(`request ${nextRequest++}`));
  return { programId, chainId: "31337", requestId, requestedAtMs, startedAtMs: requestedAtMs + latencyMs };
}

describe("protocol/autoscale: SPEC 6 auto-scaling rule", () => {
  it("999 consecutive requests over 15 s add nothing; the 1,000th adds a quorum and restarts the streak", () => {
    const before = fold(INITIAL_SCALING, SLOW, 999);
    expect(before.events).to.deep.equal([]);
    expect(before.state).to.deep.equal({ quorums: 1, slowStreak: 999, fastStreak: 0 });
    const at = observeLatency(before.state, SLOW, LIMITS);
    expect(at.event).to.equal("add");
    expect(at.state).to.deep.equal({ quorums: 2, slowStreak: 0, fastStreak: 0 });
    // the next add needs another full streak
    expect(fold(at.state, SLOW, 999).events).to.deep.equal([]);
    expect(fold(at.state, SLOW, 1_000).state.quorums).to.equal(3);
  });

  it("slow means strictly over 15 s and fast strictly under 50 ms", () => {
    expect(fold(INITIAL_SCALING, AUTOSCALE_RULE.slowAboveMs, 1_000).events).to.deep.equal([]);
    const two = fold(INITIAL_SCALING, SLOW, 1_000).state;
    expect(fold(two, AUTOSCALE_RULE.fastBelowMs, 1_000).events).to.deep.equal([]);
    expect(fold(two, FAST, 1_000).events).to.deep.equal(["drop"]);
  });

  it("one fast (or middling) request resets the slow streak, and one slow request resets the fast streak", () => {
    let { state } = fold(INITIAL_SCALING, SLOW, 999);
    state = observeLatency(state, FAST, LIMITS).state;
    expect(state.slowStreak).to.equal(0);
    expect(fold(state, SLOW, 999).events).to.deep.equal([]);

    state = fold(INITIAL_SCALING, SLOW, 998).state;
    state = observeLatency(state, 5_000, LIMITS).state; // neither slow nor fast
    expect(state).to.deep.equal({ quorums: 1, slowStreak: 0, fastStreak: 0 });

    const three = fold(fold(INITIAL_SCALING, SLOW, 1_000).state, SLOW, 1_000).state;
    state = fold(three, FAST, 999).state;
    state = observeLatency(state, SLOW, LIMITS).state;
    expect(state.fastStreak).to.equal(0);
    expect(fold(state, FAST, 999).events).to.deep.equal([]);
    expect(fold(state, FAST, 1_000).state.quorums).to.equal(2);
  });

  it("never drops below one quorum and never adds beyond what the active set holds (capped)", () => {
    const idle = fold(INITIAL_SCALING, FAST, 5_000);
    expect(idle.events).to.deep.equal([]);
    expect(idle.state.quorums).to.equal(1);
    let state = INITIAL_SCALING;
    const events: string[] = [];
    for (let i = 0; i < 3; i++) {
      const step = fold(state, SLOW, 1_000);
      state = step.state;
      events.push(...step.events);
    }
    expect(events).to.deep.equal(["add", "add", "add"]);
    const capped = observeLatency({ ...state, slowStreak: 999 }, SLOW, { maxQuorums: 4 });
    expect(capped.event).to.equal("capped");
    expect(capped.state.quorums).to.equal(4);
    expect(maxQuorums(OPERATORS.length, 4)).to.equal(10);
    expect(maxQuorums(3, 4)).to.equal(1);
  });

  it("a program's quorums are consecutive disjoint groups of the active set by XOR distance to keccak256(programId)", () => {
    const quorums = programQuorums({ programId: PROGRAM, activeSet: OPERATORS, size: 4, count: 3 });
    const key = BigInt(keccak256(PROGRAM));
    expect(programKey(PROGRAM)).to.equal(keccak256(PROGRAM));
    const byHand = [...OPERATORS].sort((a, b) => {
      const da = key ^ BigInt(keccak256(a.toLowerCase() as Hex));
      const db = key ^ BigInt(keccak256(b.toLowerCase() as Hex));
      return da < db ? -1 : 1;
    });
    expect(quorums).to.deep.equal([byHand.slice(0, 4), byHand.slice(4, 8), byHand.slice(8, 12)]);
    expect(new Set(quorums.flat()).size).to.equal(12);
    // more quorums than the set holds: clamped
    expect(programQuorums({ programId: PROGRAM, activeSet: OPERATORS, size: 4, count: 50 })).to.have.length(10);
  });

  it("a drop picks the quorum farthest from the program by average XOR distance", () => {
    const quorums = programQuorums({ programId: PROGRAM, activeSet: OPERATORS, size: 4, count: 4 });
    const key = BigInt(programKey(PROGRAM));
    const averages = quorums.map((q) => q.reduce((s, m) => s + (key ^ BigInt(operatorId(m))), 0n) / 4n);
    const maxAverage = averages.reduce((m, a) => (a > m ? a : m), 0n);
    const dropped = farthestQuorum(PROGRAM, quorums);
    expect(averages[dropped]).to.equal(maxAverage);
    expect(averageDistance(programKey(PROGRAM), quorums[dropped]!)).to.equal(maxAverage);
    // after the drop the program keeps exactly the other quorums, members unmoved
    const after = programQuorums({ programId: PROGRAM, activeSet: OPERATORS, size: 4, count: 3 });
    expect(after).to.deep.equal(quorums.filter((_, i) => i !== dropped));
    // on any list of quorums (not only consecutive groups) the farthest average wins
    const shuffled = [quorums[2]!, quorums[3]!, quorums[0]!];
    expect(farthestQuorum(PROGRAM, shuffled)).to.equal(1);
    expect(farthestQuorum(PROGRAM, [quorums[0]!])).to.equal(-1);
  });

  it("routes each request to quorum requestKey mod count, spreading a hot program's requests over all of its quorums", function () {
    this.timeout(30_000);
    const hits = [0, 0, 0];
    const all = programQuorums({ programId: PROGRAM, activeSet: OPERATORS, size: 4, count: 3 });
    for (let i = 0; i < 120; i++) {
      const requestId = keccak256(stringToHex(`routed ${i}`));
      const { index, quorum } = routeRequest({
        chainId: 31337,
        requestId,
        programId: PROGRAM,
        activeSet: OPERATORS,
        size: 4,
        count: 3,
      });
      expect(index).to.equal(Number(BigInt(requestKey(31337, requestId)) % 3n));
      expect(routeIndex(31337, requestId, 3)).to.equal(index);
      const expected = all[index]!;
      expect(quorum.members).to.have.members(expected);
      // members and standby in XOR order from the request's key, together the whole active set
      const ranked = rankByDistance(requestKey(31337, requestId), OPERATORS);
      expect([...quorum.members, ...quorum.standby]).to.have.members(ranked);
      expect(quorum.standby).to.deep.equal(ranked.filter((a) => !expected.includes(a)));
      hits[index]!++;
    }
    for (const h of hits) expect(h).to.be.greaterThan(20);
  });

  it("every node reaches the same state from the same samples, whatever order it received them in", () => {
    nextRequest = 0;
    const samples: LatencySample[] = [
      ...Array.from({ length: 1_000 }, () => sample(PROGRAM, SLOW)),
      ...Array.from({ length: 700 }, () => sample(PROGRAM, FAST)),
      ...Array.from({ length: 1_000 }, () => sample(PROGRAM, FAST)),
      ...Array.from({ length: 20 }, () => sample(OTHER, 3_000)),
    ];
    const a = replayScaling(samples, LIMITS);
    const reversed = replayScaling([...samples].reverse(), LIMITS);
    let seed = 7;
    const shuffled = [...samples].sort(() => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % 3) - 1);
    const c = replayScaling(shuffled, LIMITS);
    expect(a.events.map((e) => `${e.kind}:${e.quorums}`)).to.deep.equal(["add:2", "drop:1"]);
    for (const other of [reversed, c]) {
      expect(other.scaler.snapshot()).to.deep.equal(a.scaler.snapshot());
      expect(other.events).to.deep.equal(a.events);
    }
    expect(a.scaler.quorums(OTHER)).to.equal(1);
  });

  it("folds samples in the order executions start: a request that waited longer counts after one that started first", () => {
    const early = {
      programId: PROGRAM,
      chainId: "1",
      requestId: keccak256("0x01"),
      requestedAtMs: 0,
      startedAtMs: 20_000,
    };
    const late = { programId: PROGRAM, chainId: "1", requestId: keccak256("0x02"), requestedAtMs: 10, startedAtMs: 40 };
    expect([early, late].sort(compareSamples)).to.deep.equal([late, early]);
    // a slow streak of 999 that the fast one (started first) does not break
    nextRequest = 10_000;
    const slow = Array.from({ length: 999 }, () => sample(PROGRAM, SLOW));
    const { scaler, events } = replayScaling([...slow, early, late], LIMITS);
    expect(events.map((e) => e.kind)).to.deep.equal(["add"]);
    expect(scaler.state(PROGRAM)).to.deep.equal({ quorums: 2, slowStreak: 0, fastStreak: 0 });
  });

  it("counts a request once, however many of its quorum's members report its start", () => {
    const scaler = new AutoScaler();
    nextRequest = 0;
    const s = sample(PROGRAM, SLOW);
    for (let i = 0; i < 1_000; i++) scaler.observe({ ...s, startedAtMs: s.startedAtMs + i }, LIMITS);
    expect(scaler.state(PROGRAM).slowStreak).to.equal(1);
  });

  it("peak-load pricing: the quote rises while extra quorums serve and falls back to the base fee after", () => {
    const base = 1_000_000n;
    expect(peakLoadQuote(base, 1)).to.equal(base);
    expect(peakLoadQuote(base, 2)).to.equal(1_500_000n);
    expect(peakLoadQuote(base, 3)).to.equal(2_000_000n);
    expect(peakLoadQuote(3n, 2)).to.equal(5n); // 4.5 rounded up: a quote never undercuts the rule
    expect(() => peakLoadQuote(base, 0)).to.throw(RangeError);

    // follow a program through a peak: quote while it scales up, then back down as quorums are dropped
    let state = INITIAL_SCALING;
    const quotes: bigint[] = [peakLoadQuote(base, state.quorums)];
    for (const latency of [SLOW, SLOW, FAST, FAST]) {
      state = fold(state, latency, 1_000).state;
      quotes.push(peakLoadQuote(base, state.quorums));
    }
    expect(quotes).to.deep.equal([base, 1_500_000n, 2_000_000n, 1_500_000n, base]);
  });
});
