/**
 * A recall-vs-QPS chart as a standalone SVG: recall@k on x, queries per
 * second on a log y axis, one curve per series (points labelled, e.g. with
 * nprobe), dashed horizontal lines for exact baselines. No dependencies.
 */

export interface ChartPoint {
  recall: number;
  qps: number;
  /** Shown next to the point (e.g. the nprobe). */
  label?: string;
}

export interface ChartSeries {
  name: string;
  points: readonly ChartPoint[];
  /** Dotted line and hollow square markers instead of a solid line and dots. */
  dashed?: boolean;
}

export interface ChartBaseline {
  name: string;
  qps: number;
}

export interface RecallQpsChart {
  title: string;
  subtitle?: string;
  /** The k of recall@k (axis label). */
  k: number;
  series: readonly ChartSeries[];
  /** Exact search throughput: dashed horizontal lines. */
  baselines?: readonly ChartBaseline[];
  /** Extra lines under the legend. */
  notes?: readonly string[];
  /** Default 'single-query QPS (log scale)'. */
  yLabel?: string;
}

const PALETTE = ['#1f6fb4', '#d2461f', '#2e9a3a', '#8a4fb0', '#b8860b', '#0f8b8d'] as const;

/** Escapes text for SVG. */
export function esc(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

function fmtQps(q: number): string {
  return q >= 100 ? Math.round(q).toLocaleString('en-US') : q.toFixed(1);
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** The chart as an SVG document (960 x 600). */
export function renderRecallQpsSvg(chart: RecallQpsChart): string {
  const W = 960;
  const H = 600;
  const M = { left: 78, right: 230, top: 64, bottom: 62 };
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const ok = (p: ChartPoint): boolean => Number.isFinite(p.recall) && Number.isFinite(p.qps) && p.qps > 0;
  const series = chart.series.map((s) => ({ ...s, points: s.points.filter(ok) }));
  const baselines = (chart.baselines ?? []).filter((b) => Number.isFinite(b.qps) && b.qps > 0);
  const colour = (i: number): string => PALETTE[i % PALETTE.length]!;

  const recalls = series.flatMap((s) => s.points.map((p) => p.recall));
  const qpsAll = [...series.flatMap((s) => s.points.map((p) => p.qps)), ...baselines.map((b) => b.qps)];
  if (qpsAll.length === 0) qpsAll.push(1, 10);
  const xMin = Math.min(0.9, Math.floor(Math.min(1, ...recalls) * 20) / 20);
  const xMax = 1 + (1 - xMin) * 0.015; // a little room right of recall 1
  const yLo = Math.floor(Math.log10(Math.min(...qpsAll)) * 4) / 4;
  const yHi = Math.ceil(Math.log10(Math.max(...qpsAll)) * 4) / 4 + 0.05;
  const X = (recall: number): number => M.left + ((recall - xMin) / (xMax - xMin)) * pw;
  const Y = (qps: number): number => M.top + ph - ((Math.log10(qps) - yLo) / (yHi - yLo)) * ph;
  const out: string[] = [];
  const add = (s: string): void => void out.push(s);

  add(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  add(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  add(`<text x="${M.left}" y="26" font-size="16" font-weight="bold">${esc(chart.title)}</text>`);
  if (chart.subtitle) add(`<text x="${M.left}" y="45" fill="#555">${esc(chart.subtitle)}</text>`);

  // Grid and axes.
  add(`<g stroke="#e3e3e3" stroke-width="1">`);
  const xTicks: number[] = [];
  for (let i = Math.round(xMin * 20); i <= 20; i++) xTicks.push(i / 20);
  for (const x of xTicks) add(`<line x1="${X(x).toFixed(1)}" y1="${M.top}" x2="${X(x).toFixed(1)}" y2="${M.top + ph}"/>`);
  const yTicks: { v: number; major: boolean }[] = [];
  const decades = yHi - yLo;
  for (let e = Math.floor(yLo); e <= Math.ceil(yHi); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      const lv = Math.log10(v);
      if (lv < yLo - 1e-9 || lv > yHi + 1e-9) continue;
      if (m !== 1 && decades > 3.5) continue;
      yTicks.push({ v, major: m === 1 });
    }
  }
  for (const t of yTicks) {
    add(`<line x1="${M.left}" y1="${Y(t.v).toFixed(1)}" x2="${M.left + pw}" y2="${Y(t.v).toFixed(1)}"${t.major ? ' stroke="#cfcfcf"' : ''}/>`);
  }
  add(`</g>`);
  add(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  add(`<g text-anchor="middle" fill="#333">`);
  for (const x of xTicks) add(`<text x="${X(x).toFixed(1)}" y="${M.top + ph + 18}">${x.toFixed(2)}</text>`);
  add(`<text x="${M.left + pw / 2}" y="${H - 16}" font-size="13">recall@${chart.k} (against exact search)</text>`);
  add(`</g>`);
  add(`<g text-anchor="end" fill="#333">`);
  for (const t of yTicks) add(`<text x="${M.left - 8}" y="${(Y(t.v) + 4).toFixed(1)}">${t.v >= 1 ? Math.round(t.v).toLocaleString('en-US') : t.v.toFixed(1)}</text>`);
  add(`</g>`);
  add(
    `<text transform="translate(20 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="13" fill="#333">${esc(chart.yLabel ?? 'single-query QPS (log scale)')}</text>`,
  );

  // Baselines.
  const baselineColour = (i: number): string => colour(series.length + i);
  baselines.forEach((b, i) => {
    const c = baselineColour(i);
    const y = Y(b.qps).toFixed(1);
    add(`<line x1="${M.left}" y1="${y}" x2="${M.left + pw}" y2="${y}" stroke="${c}" stroke-width="1.5" stroke-dasharray="7 5"/>`);
    add(`<text x="${M.left + 6}" y="${(Y(b.qps) - 5).toFixed(1)}" fill="${c}">${esc(`${b.name}: ${fmtQps(b.qps)} QPS (recall 1)`)}</text>`);
  });

  // Curves.
  const markers: Box[] = [];
  const labels: { x: number; y: number; text: string; colour: string }[] = [];
  series.forEach((s, i) => {
    const c = colour(i);
    const pts = s.points.map((p) => [X(p.recall), Y(p.qps)] as const);
    if (pts.length > 1) {
      add(
        `<polyline fill="none" stroke="${c}" stroke-width="2"${s.dashed ? ' stroke-dasharray="2 3"' : ''} points="${pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>`,
      );
    }
    s.points.forEach((p, j) => {
      const [x, y] = pts[j]!;
      add(
        s.dashed
          ? `<rect x="${(x - 4).toFixed(1)}" y="${(y - 4).toFixed(1)}" width="8" height="8" fill="#fff" stroke="${c}" stroke-width="1.8"/>`
          : `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4" fill="${c}"/>`,
      );
      markers.push({ x0: x - 4, y0: y - 4, x1: x + 4, y1: y + 4 });
      if (p.label !== undefined) labels.push({ x, y, text: p.label, colour: c });
    });
  });
  // Point labels after all markers: the first free spot around the point
  // (a label that fits nowhere is left out; its point stays).
  const placed: Box[] = [...markers];
  const overlaps = (a: Box, b: Box): boolean => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
  for (const l of labels) {
    const w = 6 * l.text.length;
    const h = 10;
    const spots: [number, number][] = [
      [-6 - w, -14],
      [6, -14],
      [-8 - w, -5],
      [8, -5],
      [-6 - w, 5],
      [6, 5],
    ];
    for (const [dx, dy] of spots) {
      const box: Box = { x0: l.x + dx, y0: l.y + dy, x1: l.x + dx + w, y1: l.y + dy + h };
      if (box.x0 < M.left || box.x1 > M.left + pw || box.y0 < M.top || box.y1 > M.top + ph) continue;
      if (placed.some((b) => overlaps(b, box))) continue;
      placed.push(box);
      add(`<text x="${box.x0.toFixed(1)}" y="${(box.y1 - 1).toFixed(1)}" font-size="10" fill="${l.colour}">${esc(l.text)}</text>`);
      break;
    }
  }

  // Legend.
  const lx = M.left + pw + 18;
  let ly = M.top + 8;
  add(`<text x="${lx}" y="${ly}" font-weight="bold">Legend</text>`);
  ly += 20;
  series.forEach((s, i) => {
    const c = colour(i);
    add(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 28}" y2="${ly - 4}" stroke="${c}" stroke-width="2"${s.dashed ? ' stroke-dasharray="2 3"' : ''}/>`);
    add(
      s.dashed
        ? `<rect x="${lx + 10}" y="${ly - 8}" width="8" height="8" fill="#fff" stroke="${c}" stroke-width="1.8"/>`
        : `<circle cx="${lx + 14}" cy="${ly - 4}" r="4" fill="${c}"/>`,
    );
    add(`<text x="${lx + 36}" y="${ly}">${esc(s.name)}</text>`);
    ly += 20;
  });
  ly += 6;
  baselines.forEach((b, i) => {
    add(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 28}" y2="${ly - 4}" stroke="${baselineColour(i)}" stroke-width="1.5" stroke-dasharray="7 5"/>`);
    add(`<text x="${lx + 36}" y="${ly}">${esc(b.name)}</text>`);
    ly += 20;
  });
  ly += 10;
  for (const line of chart.notes ?? []) {
    add(`<text x="${lx}" y="${ly}" fill="#555" font-size="11">${esc(line)}</text>`);
    ly += 15;
  }
  add(`</svg>`);
  return `${out.join('\n')}\n`;
}
