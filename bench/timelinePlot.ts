/**
 * A small SVG timeline: lines of values per time bucket (e.g. requests sent and results ingested
 * per second) above one band row per kind of event window (e.g. each fault kind, when it was on).
 * No dependencies; used by bench/chaos.ts.
 */
export type Series = { name: string; color: string; points: { t: number; y: number }[] };
export type Band = { row: string; from: number; to: number };

const PALETTE = ["#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#ff7f0e"];
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");

export function timelineSvg(options: {
  title: string;
  yLabel: string;
  series: Series[];
  bands: Band[];
  endT: number;
}): string {
  const rows = [...new Set(options.bands.map((b) => b.row))];
  const W = 960;
  const left = 130;
  const right = 20;
  const top = 40;
  const plotH = 260;
  const rowH = 16;
  const H = top + plotH + 40 + rows.length * rowH + 30;
  const endT = Math.max(1, options.endT);
  const maxY = Math.max(1, ...options.series.flatMap((s) => s.points.map((p) => p.y)));
  const x = (t: number) => left + ((W - left - right) * t) / endT;
  const y = (v: number) => top + plotH - (plotH * v) / maxY;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(options.title)}</text>`,
    `<line x1="${left}" y1="${top + plotH}" x2="${W - right}" y2="${top + plotH}" stroke="black"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="black"/>`,
    `<text x="14" y="${top + plotH / 2}" transform="rotate(-90 14 ${top + plotH / 2})" text-anchor="middle">${esc(options.yLabel)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (maxY * i) / 4;
    out.push(
      `<line x1="${left - 4}" y1="${y(v)}" x2="${W - right}" y2="${y(v)}" stroke="#eee"/>`,
      `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${Math.round(v * 10) / 10}</text>`,
    );
  }
  const step = Math.max(10, Math.ceil(endT / 10 / 10) * 10);
  for (let t = 0; t <= endT; t += step)
    out.push(`<text x="${x(t)}" y="${top + plotH + 14}" text-anchor="middle">${t}s</text>`);
  options.series.forEach((s, i) => {
    const d = s.points.map((p, k) => `${k ? "L" : "M"}${x(p.t).toFixed(1)},${y(p.y).toFixed(1)}`).join(" ");
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`);
    out.push(
      `<rect x="${left + 10 + i * 170}" y="${top + 4}" width="12" height="3" fill="${s.color}"/>`,
      `<text x="${left + 26 + i * 170}" y="${top + 9}">${esc(s.name)}</text>`,
    );
  });
  const bandTop = top + plotH + 30;
  rows.forEach((row, r) => {
    const yy = bandTop + r * rowH;
    const color = PALETTE[r % PALETTE.length]!;
    out.push(`<text x="${left - 6}" y="${yy + 11}" text-anchor="end">${esc(row)}</text>`);
    for (const b of options.bands.filter((b) => b.row === row)) {
      // a fault window also shades the plot above, faintly
      out.push(
        `<rect x="${x(b.from).toFixed(1)}" y="${yy + 2}" width="${Math.max(1.5, x(b.to) - x(b.from)).toFixed(1)}" height="${rowH - 4}" fill="${color}"/>`,
        `<rect x="${x(b.from).toFixed(1)}" y="${top}" width="${Math.max(1.5, x(b.to) - x(b.from)).toFixed(1)}" height="${plotH}" fill="${color}" opacity="0.06"/>`,
      );
    }
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
