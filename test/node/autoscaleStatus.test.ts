import { expect } from "chai";
import { pino } from "pino";
import { Registry } from "prom-client";
import { getAddress, keccak256, stringToHex, type Address, type Hex } from "viem";
import { AUTOSCALE_RULE } from "../../protocol/autoscale.ts";
import { LATENCY_WINDOW, NodeAutoscale, RECENT_CHANGES } from "../../cli/node/autoscale.ts";

const PROGRAM = keccak256(stringToHex("status program")) as Hex;
const START = 1_000_000;
const operators = (n: number): Address[] =>
  Array.from({ length: n }, (_, i) => getAddress(`0x${keccak256(stringToHex(`status operator ${i}`)).slice(26)}`));

/** A node-side scaler over `active` operators in quorums of 3, and a counter for distinct request ids. */
function scaler(active: number) {
  const registry = new Registry();
  const activeSet = operators(active);
  const autoscale = new NodeAutoscale({
    size: 3,
    activeSet: () => activeSet,
    registry,
    log: pino({ level: "silent" }),
  });
  let next = 0;
  /** `count` samples of distinct requests, each `latencyMs` from request to start. */
  const feed = (count: number, latencyMs: number) => {
    for (let i = 0; i < count; i++, next++)
      autoscale.observe({
        programId: PROGRAM,
        chainId: "31337",
        requestId: `0x${next.toString(16).padStart(64, "0")}`,
        // starts one ms apart, in the order fed
        requestedAtMs: START + next - latencyMs,
        startedAtMs: START + next,
      });
  };
  return { autoscale, registry, feed };
}

describe("NodeAutoscale status (GET /network): recent changes and the latency measure", function () {
  this.timeout(60_000);
  const slow = AUTOSCALE_RULE.slowAboveMs + 1;
  const fast = AUTOSCALE_RULE.fastBelowMs - 1;

  it("remembers each add and drop with its from -> to quorums, reason and firing latency", () => {
    const { autoscale, feed } = scaler(12);
    feed(AUTOSCALE_RULE.streak, slow);
    feed(AUTOSCALE_RULE.streak, fast);
    const [add, drop] = autoscale.status().events;
    expect(add).to.include({ kind: "add", fromQuorums: 1, quorums: 2, latencyMs: slow, chainId: "31337" });
    expect(add!.programId).to.equal(PROGRAM.toLowerCase());
    expect(add!.reason).to.equal("1,000 consecutive requests waited > 15,000 ms to start");
    expect(drop).to.include({ kind: "drop", fromQuorums: 2, quorums: 1, latencyMs: fast });
    expect(drop!.reason).to.equal("1,000 consecutive requests started in < 50 ms: the farthest quorum dropped");
    expect(drop!.atMs).to.be.greaterThan(add!.atMs);
  });

  it(`keeps only the last ${RECENT_CHANGES} changes, oldest first`, () => {
    const { autoscale, feed } = scaler(12);
    const pairs = RECENT_CHANGES / 2 + 1; // one add and one drop each: two changes more than the ring holds
    for (let i = 0; i < pairs; i++) {
      feed(AUTOSCALE_RULE.streak, slow);
      feed(AUTOSCALE_RULE.streak, fast);
    }
    const events = autoscale.status().events;
    expect(events).to.have.length(RECENT_CHANGES);
    // the first pair fell out: the ring starts at the second pair's add
    expect(events[0]).to.include({ kind: "add", fromQuorums: 1, quorums: 2 });
    expect(events[0]!.atMs).to.equal(START + 2 * AUTOSCALE_RULE.streak + AUTOSCALE_RULE.streak - 1);
    expect(events.at(-1)).to.include({ kind: "drop", fromQuorums: 2, quorums: 1 });
    expect(events.every((e, i) => i === 0 || e.atMs > events[i - 1]!.atMs)).to.equal(true);
  });

  it("a full slow streak with no room for another quorum is a 'capped' change that names the cap", () => {
    const { autoscale, feed } = scaler(5); // 5 operators hold one quorum of 3
    feed(AUTOSCALE_RULE.streak, slow);
    expect(autoscale.status().maxQuorums).to.equal(1);
    const [capped] = autoscale.status().events;
    expect(capped).to.include({ kind: "capped", fromQuorums: 1, quorums: 1 });
    expect(capped!.reason).to.contain("no quorum beyond 1");
  });

  it(`measures latency over a program's last ${LATENCY_WINDOW} samples, a repeated request once, and exports the mean`, async () => {
    const { autoscale, registry, feed } = scaler(12);
    feed(LATENCY_WINDOW, 1_000);
    feed(LATENCY_WINDOW / 2, 3_000);
    // the same request again (another quorum member's report of it): not a sample
    autoscale.observe({
      programId: PROGRAM,
      chainId: "31337",
      requestId: `0x${"0".repeat(64)}`,
      requestedAtMs: START - 999_999,
      startedAtMs: START,
    });
    const [program] = autoscale.status().programs;
    expect(program!.latency).to.deep.equal({ samples: LATENCY_WINDOW, lastMs: 3_000, meanMs: 2_000, maxMs: 3_000 });
    expect(program).to.include({ quorums: 1, quoteBps: 10_000 });
    const metrics = await registry.metrics();
    expect(metrics).to.contain(`versatus_node_program_start_latency_ms{program="${PROGRAM.toLowerCase()}"} 2000`);
  });
});
