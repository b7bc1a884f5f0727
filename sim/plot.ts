/**
 * Stacked time-series panels as one SVG (no dependency, deterministic output): each panel has its
 * own y axis (linear or log10) and shares the x axis (time). Used by the network simulation.
 */

export type Series = {
  name: string;
  color: string;
  /** [x, y] points; y null leaves a gap. */
  points: readonly (readonly [number, number | null])[];
  /** Draw as steps (a value holds until the next point). */
  step?: boolean;
};

export type Panel = { title: string; yLabel: string; log?: boolean; series: readonly Series[] };

export type PanelChart = {
  title: string;
  xLabel: string;
  width?: number;
  panelHeight?: number;
  panels: readonly Panel[];
};

const fmt = (v: number) =>
  Math.abs(v) >= 1000 ? v.toLocaleString("en-US", { maximumFractionDigits: 0 }) : String(+v.toFixed(2));

function niceTicks(min: number, max: number, count: number): number[] {
  const span = max - min || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + 1e-9; v += step) ticks.push(+v.toFixed(10));
  return ticks;
}

export function panelsSvg(chart: PanelChart): string {
  const W = chart.width ?? 900;
  const PH = chart.panelHeight ?? 200;
  const m = { left: 80, right: 20, top: 40, gap: 36, bottom: 50 };
  const H = m.top + chart.panels.length * PH + (chart.panels.length - 1) * m.gap + m.bottom;
  const xs = chart.panels.flatMap((p) => p.series.flatMap((s) => s.points.map(([x]) => x)));
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const x = (v: number) => m.left + ((v - xMin) / (xMax - xMin || 1)) * (W - m.left - m.right);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${chart.title}</text>`,
  ];
  chart.panels.forEach((panel, pi) => {
    const top = m.top + pi * (PH + m.gap);
    const bottom = top + PH;
    const ys = panel.series.flatMap((s) => s.points.map(([, y]) => y).filter((y): y is number => y !== null));
    const tf = (v: number) => (panel.log ? Math.log10(Math.max(v, 1)) : v);
    const yMin = panel.log ? Math.floor(tf(Math.min(...ys, 1))) : Math.min(0, ...ys);
    const yMax = panel.log ? Math.ceil(tf(Math.max(...ys, 10))) : Math.max(...ys, 1) * 1.1;
    const y = (v: number) => bottom - ((tf(v) - yMin) / (yMax - yMin || 1)) * PH;
    out.push(`<text x="${m.left}" y="${top - 8}" font-weight="bold">${panel.title}</text>`);
    const ticks = panel.log
      ? Array.from({ length: yMax - yMin + 1 }, (_, i) => 10 ** (yMin + i))
      : niceTicks(yMin, yMax, 4);
    for (const t of ticks) {
      out.push(
        `<line x1="${m.left}" x2="${W - m.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#e3e3e3"/>`,
      );
      out.push(`<text x="${m.left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${fmt(t)}</text>`);
    }
    out.push(
      `<text transform="translate(16 ${top + PH / 2}) rotate(-90)" text-anchor="middle">${panel.yLabel}</text>`,
      `<line x1="${m.left}" x2="${m.left}" y1="${top}" y2="${bottom}" stroke="#888"/>`,
      `<line x1="${m.left}" x2="${W - m.right}" y1="${bottom}" y2="${bottom}" stroke="#888"/>`,
    );
    panel.series.forEach((s, si) => {
      let d = "";
      let prev: number | null = null;
      for (const [px, py] of s.points) {
        if (py === null) {
          prev = null;
          continue;
        }
        const X = x(px).toFixed(1);
        const Y = y(py).toFixed(1);
        if (prev === null) d += `M${X},${Y}`;
        else d += s.step ? `H${X}V${Y}` : `L${X},${Y}`;
        prev = py;
      }
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"/>`);
      const lx = W - m.right - 230;
      out.push(`<rect x="${lx}" y="${top + 6 + si * 16}" width="12" height="3" fill="${s.color}"/>`);
      out.push(`<text x="${lx + 18}" y="${top + 11 + si * 16}">${s.name}</text>`);
    });
  });
  const last = m.top + chart.panels.length * PH + (chart.panels.length - 1) * m.gap;
  for (const t of niceTicks(xMin, xMax, 10))
    out.push(`<text x="${x(t).toFixed(1)}" y="${last + 18}" text-anchor="middle">${fmt(t)}</text>`);
  out.push(`<text x="${W / 2}" y="${H - 12}" text-anchor="middle">${chart.xLabel}</text>`);
  out.push("</svg>");
  return out.join("\n") + "\n";
}
