/**
 * A dependency-free SVG line chart for the benchmarks' plots: one panel, linear axes, several
 * series of (x, y) points, optional dashed reference lines. `panels` lays charts side by side.
 */
export type Series = { name: string; color: string; points: [number, number][] };
export type Reference = { label: string; color: string; x?: number; y?: number };
export type Chart = { title: string; xLabel: string; yLabel: string; series: Series[]; references?: Reference[] };

const W = 560;
const H = 380;
const M = { left: 70, right: 20, top: 40, bottom: 50 };

/** A "nice" upper bound and step for an axis reaching `max`. */
function niceAxis(max: number): { top: number; step: number } {
  const raw = max > 0 ? max / 5 : 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw)!;
  return { top: Math.ceil(max / step) * step || step, step };
}

function chartBody(chart: Chart, dx: number): string[] {
  const xs = chart.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = chart.series.flatMap((s) => s.points.map((p) => p[1]));
  for (const r of chart.references ?? []) {
    if (r.x !== undefined) xs.push(r.x);
    if (r.y !== undefined) ys.push(r.y);
  }
  const xa = niceAxis(Math.max(...xs, 0));
  const ya = niceAxis(Math.max(...ys, 0));
  const x = (v: number) => dx + M.left + (v / xa.top) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - (v / ya.top) * (H - M.top - M.bottom);
  const fmt = (v: number) => (Math.abs(v) >= 1000 ? v.toLocaleString("en-US") : String(Number(v.toPrecision(3))));
  const out = [
    `<text x="${dx + W / 2}" y="20" text-anchor="middle" font-size="14">${chart.title}</text>`,
    `<text x="${dx + W / 2}" y="${H - 10}" text-anchor="middle">${chart.xLabel}</text>`,
    `<text transform="translate(${dx + 14},${H / 2}) rotate(-90)" text-anchor="middle">${chart.yLabel}</text>`,
  ];
  for (let v = 0; v <= ya.top + 1e-9; v += ya.step) {
    out.push(`<line x1="${x(0)}" x2="${x(xa.top)}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    out.push(`<text x="${x(0) - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`);
  }
  for (let v = 0; v <= xa.top + 1e-9; v += xa.step)
    out.push(`<text x="${x(v)}" y="${H - M.bottom + 18}" text-anchor="middle">${fmt(v)}</text>`);
  for (const r of chart.references ?? []) {
    if (r.y !== undefined)
      out.push(
        `<line x1="${x(0)}" x2="${x(xa.top)}" y1="${y(r.y)}" y2="${y(r.y)}" stroke="${r.color}" stroke-dasharray="6 4"/>`,
        `<text x="${x(xa.top)}" y="${y(r.y) - 6}" text-anchor="end" fill="${r.color}">${r.label}</text>`,
      );
    if (r.x !== undefined)
      out.push(
        `<line x1="${x(r.x)}" x2="${x(r.x)}" y1="${y(0)}" y2="${y(ya.top)}" stroke="${r.color}" stroke-dasharray="6 4"/>`,
        `<text x="${x(r.x) + 4}" y="${y(ya.top) + 12}" fill="${r.color}">${r.label}</text>`,
      );
  }
  chart.series.forEach((s, i) => {
    const pts = s.points.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`);
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.join(" ")}"/>`);
    for (const [a, b] of s.points)
      out.push(`<circle cx="${x(a).toFixed(1)}" cy="${y(b).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
    out.push(`<rect x="${x(0) + 10}" y="${M.top + 4 + i * 18}" width="12" height="3" fill="${s.color}"/>`);
    out.push(`<text x="${x(0) + 28}" y="${M.top + 9 + i * 18}">${s.name}</text>`);
  });
  return out;
}

/** Charts side by side in one SVG document. */
export function panels(charts: Chart[]): string {
  const width = W * charts.length;
  return (
    [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H}" font-family="sans-serif" font-size="12">`,
      `<rect width="${width}" height="${H}" fill="white"/>`,
      ...charts.flatMap((c, i) => chartBody(c, i * W)),
      "</svg>",
    ].join("\n") + "\n"
  );
}
