import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { AUTOSCALE_RULE } from "../../protocol/autoscale.ts";
import { DEFAULT_SIMULATION, simulateNetwork, type SimulationOptions } from "../../sim/network.ts";
import { renderSimulation } from "../../sim/run.ts";

/** 50 nodes, a short peak well over one quorum's capacity, then a long quiet tail. */
const SMALL: SimulationOptions = {
  ...DEFAULT_SIMULATION,
  seed: 5,
  nodes: 50,
  load: [
    { atS: 0, rps: 3 },
    { atS: 30, rps: 30 },
    { atS: 150, rps: 30 },
    { atS: 180, rps: 3 },
    { atS: 1_200, rps: 3 },
  ],
};

describe("sim/network: discrete-event simulation of auto-scaling quorums", function () {
  this.timeout(120_000);

  it("adds quorums while the load is over one quorum's capacity and drops them all after it falls", () => {
    const result = simulateNetwork(SMALL);
    expect(result.nodes).to.equal(50);
    expect(result.rule).to.deep.equal(AUTOSCALE_RULE);
    expect(result.quorums_added).to.be.at.least(1);
    expect(result.quorums_dropped).to.equal(result.quorums_added);
    expect(result.final_quorums).to.equal(1);
    const firstDrop = result.events.find((e) => e.kind === "drop")!;
    const lastAdd = result.events.filter((e) => e.kind === "add").at(-1)!;
    // adds happen under load (before it has fallen back), drops after
    expect(lastAdd.t_s).to.be.lessThan(firstDrop.t_s);
    expect(result.events.filter((e) => e.kind === "add").every((e) => e.t_s <= 400)).to.equal(true);
    expect(result.peak_latency_ms).to.be.greaterThan(AUTOSCALE_RULE.slowAboveMs);
    expect(result.final_latency_ms).to.be.lessThan(AUTOSCALE_RULE.fastBelowMs);
    // the quote is raised exactly while extra quorums serve
    for (const p of result.timeline) expect(p.price_bps > 10_000).to.equal(p.quorums > 1);
    expect(result.peak_price_bps).to.be.greaterThan(10_000);
    expect(result.final_price_bps).to.equal(10_000);
  });

  it("is deterministic: two runs with the same options write the same bytes, another seed differs", () => {
    const a = renderSimulation(simulateNetwork(SMALL));
    const b = renderSimulation(simulateNetwork(SMALL));
    expect(b.json).to.equal(a.json);
    expect(b.svg).to.equal(a.svg);
    const other = renderSimulation(simulateNetwork({ ...SMALL, seed: 6 }));
    expect(other.json).to.not.equal(a.json);
  });

  it("npm run sim:network's script writes sim.json with the summary fields and an SVG plot, identical on a second run", () => {
    const out = mkdtempSync(join(tmpdir(), "sim-"));
    try {
      const run = () => {
        const r = spawnSync(process.execPath, ["sim/run.ts", "--nodes", "60", "--out", out], { encoding: "utf8" });
        expect(r.status, r.stderr).to.equal(0);
        return [readFileSync(join(out, "sim.json"), "utf8"), readFileSync(join(out, "sim.svg"), "utf8")];
      };
      const [json, svg] = run();
      const summary = JSON.parse(json!) as Record<string, unknown>;
      for (const field of [
        "nodes",
        "quorums_added",
        "quorums_dropped",
        "peak_latency_ms",
        "final_latency_ms",
        "timeline",
      ])
        expect(summary, field).to.have.property(field);
      expect(summary.nodes).to.equal(60);
      expect(svg).to.match(/^<svg /);
      expect(run()).to.deep.equal([json, svg]);
      const bad = spawnSync(process.execPath, ["sim/run.ts", "--nodes", "3"], { encoding: "utf8" });
      expect(bad.status).to.equal(2);
      expect(bad.stderr).to.contain("--nodes");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
