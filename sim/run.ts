import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { DEFAULT_SIMULATION, simulateNetwork, type SimulationResult } from "./network.ts";
import { panelsSvg } from "./plot.ts";

/**
 * `npm run sim:network [-- --nodes 1000 --seed 17 --out bench/results]`: runs the network
 * simulation (sim/network.ts) and writes `sim.json` (summary and timeline) and `sim.svg` (quorums,
 * latency and price over time). Same options, same bytes.
 */

const argsSchema = z.object({
  nodes: z.coerce.number().int().min(8, "--nodes: at least 8").max(100_000).default(DEFAULT_SIMULATION.nodes),
  seed: z.coerce.number().int("--seed: an integer").default(DEFAULT_SIMULATION.seed),
  out: z.string().min(1).default("bench/results"),
});

/** The JSON and SVG a run writes (pure: the determinism test compares two runs' output). */
export function renderSimulation(result: SimulationResult): { json: string; svg: string } {
  const t = result.timeline;
  const svg = panelsSvg({
    title: `Auto-scaling one hot program on ${result.nodes.toLocaleString("en-US")} simulated nodes (seed ${result.seed}, quorum ${result.quorum_size})`,
    xLabel: "virtual time (s)",
    panels: [
      {
        title: "Quorums serving the program, and offered load",
        yLabel: "count / req/s",
        series: [
          { name: "quorums", color: "#2471a3", step: true, points: t.map((p) => [p.t_s, p.quorums] as const) },
          {
            name: "offered load (req/s ÷ 10)",
            color: "#aaaaaa",
            points: t.map((p) => [p.t_s, p.offered_rps / 10] as const),
          },
        ],
      },
      {
        title: "Request → start of execution (per 10 s of starts; log scale)",
        yLabel: "ms",
        log: true,
        series: [
          { name: "p50", color: "#27ae60", points: t.map((p) => [p.t_s, p.latency_p50_ms] as const) },
          { name: "max", color: "#c0392b", points: t.map((p) => [p.t_s, p.latency_max_ms] as const) },
          {
            name: "15 s (add) threshold",
            color: "#e67e22",
            points: t.map((p) => [p.t_s, result.rule.slowAboveMs] as const),
          },
          {
            name: "50 ms (drop) threshold",
            color: "#8e44ad",
            points: t.map((p) => [p.t_s, result.rule.fastBelowMs] as const),
          },
        ],
      },
      {
        title: "Peak-load fee quote (multiple of the base fee)",
        yLabel: "× base fee",
        series: [
          { name: "quote", color: "#d35400", step: true, points: t.map((p) => [p.t_s, p.price_bps / 10_000] as const) },
        ],
      },
    ],
  });
  return { json: JSON.stringify(result, null, 2) + "\n", svg };
}

function main(): void {
  const { values } = parseArgs({
    options: { nodes: { type: "string" }, seed: { type: "string" }, out: { type: "string" } },
    strict: true,
  });
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) {
    console.error(parsed.error.issues.map((i) => `--${i.path.join(".")}: ${i.message}`).join("\n"));
    process.exit(2);
  }
  const args = parsed.data;
  const started = performance.now();
  const result = simulateNetwork({ ...DEFAULT_SIMULATION, nodes: args.nodes, seed: args.seed });
  const { json, svg } = renderSimulation(result);
  mkdirSync(args.out, { recursive: true });
  writeFileSync(join(args.out, "sim.json"), json);
  writeFileSync(join(args.out, "sim.svg"), svg);
  const rows: [string, string | number][] = [
    ["nodes", result.nodes],
    ["requests", result.requests],
    ["quorums added / dropped", `${result.quorums_added} / ${result.quorums_dropped}`],
    ["most quorums at once", result.max_quorums],
    ["peak latency (request → start)", `${(result.peak_latency_ms / 1000).toFixed(1)} s`],
    ["final latency (p50, last minute)", `${result.final_latency_ms} ms`],
    ["peak / final quote", `${result.peak_price_bps / 10_000}× / ${result.final_price_bps / 10_000}×`],
    ["events", result.events.map((e) => `${e.kind}→${e.quorums} @${Math.round(e.t_s)}s`).join(", ")],
  ];
  console.log("| | |\n|---|---|");
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
  console.log(
    `\nwrote ${join(args.out, "sim.json")} and ${join(args.out, "sim.svg")} (${((performance.now() - started) / 1000).toFixed(1)} s of wall time)`,
  );
}

if (import.meta.main) main();
