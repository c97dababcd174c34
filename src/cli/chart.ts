/**
 * Charts as standalone SVG documents, no dependencies:
 * - {@link renderRecallQpsSvg}: recall@k on x, queries per second on a log y
 *   axis, one curve per series (points labelled, e.g. with nprobe), dashed
 *   horizontal lines for exact baselines.
 * - {@link renderBarSvg}: grouped bars (one group per x label, one bar per
 *   series in each group), values printed above the bars.
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

export interface BarSeries {
  name: string;
  /** One value per group, in the groups' order (non-finite values, and values <= 0 on a log axis, draw no bar). */
  values: readonly number[];
}

export interface BarChart {
  title: string;
  subtitle?: string;
  /** The groups along x (e.g. libraries); each holds one bar per series. */
  groups: readonly string[];
  series: readonly BarSeries[];
  yLabel: string;
  /** Log y axis; default linear from 0. */
  log?: boolean;
  /** Extra lines under the legend. */
  notes?: readonly string[];
}

const PALETTE = ['#1f6fb4', '#d2461f', '#2e9a3a', '#8a4fb0', '#b8860b', '#0f8b8d'] as const;
const colour = (i: number): string => PALETTE[i % PALETTE.length]!;

/** Escapes text for SVG. */
export function esc(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

function fmtValue(q: number): string {
  return q >= 100 ? Math.round(q).toLocaleString('en-US') : q.toFixed(1);
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Both charts' size and margins (the legend sits in the right margin). */
const W = 960;
const H = 600;
const M = { left: 78, right: 230, top: 64, bottom: 62 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

interface Tick {
  v: number;
  major: boolean;
}

/** Ticks of a log axis spanning 10^lo to 10^hi: 1, 2, 5 per decade (only 1 beyond 3.5 decades). */
function logTicks(lo: number, hi: number): Tick[] {
  const ticks: Tick[] = [];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      const lv = Math.log10(v);
      if (lv < lo - 1e-9 || lv > hi + 1e-9) continue;
      if (m !== 1 && hi - lo > 3.5) continue;
      ticks.push({ v, major: m === 1 });
    }
  }
  return ticks;
}

/** Log-axis bounds (in log10) around the positive values, with a little room on top. */
function logRange(values: readonly number[]): [number, number] {
  const vs = values.length > 0 ? values : [1, 10];
  return [Math.floor(Math.log10(Math.min(...vs)) * 4) / 4, Math.ceil(Math.log10(Math.max(...vs)) * 4) / 4 + 0.05];
}

/** The document's opening, background, title and subtitle. */
function header(title: string, subtitle: string | undefined): string[] {
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${M.left}" y="26" font-size="16" font-weight="bold">${esc(title)}</text>`,
  ];
  if (subtitle) out.push(`<text x="${M.left}" y="45" fill="#555">${esc(subtitle)}</text>`);
  return out;
}

/** Horizontal grid lines, tick labels and the rotated label of the y axis. */
function yAxis(ticks: readonly Tick[], Y: (v: number) => number, label: string): string[] {
  const tickText = (v: number): string => (v >= 1 ? Math.round(v).toLocaleString('en-US') : String(Number(v.toPrecision(3))));
  return [
    `<g stroke="#e3e3e3" stroke-width="1">`,
    ...ticks.map((t) => `<line x1="${M.left}" y1="${Y(t.v).toFixed(1)}" x2="${M.left + PW}" y2="${Y(t.v).toFixed(1)}"${t.major ? ' stroke="#cfcfcf"' : ''}/>`),
    `</g>`,
    `<g text-anchor="end" fill="#333">`,
    ...ticks.map((t) => `<text x="${M.left - 8}" y="${(Y(t.v) + 4).toFixed(1)}">${tickText(t.v)}</text>`),
    `</g>`,
    `<text transform="translate(20 ${M.top + PH / 2}) rotate(-90)" text-anchor="middle" font-size="13" fill="#333">${esc(label)}</text>`,
  ];
}

/** Note lines in the legend column from y. */
function legendNotes(notes: readonly string[] | undefined, x: number, y: number): string[] {
  return (notes ?? []).map((line, i) => `<text x="${x}" y="${y + 15 * i}" fill="#555" font-size="11">${esc(line)}</text>`);
}

type Scale = (v: number) => number;
type Series = RecallQpsChart['series'][number];
type Baseline = NonNullable<RecallQpsChart['baselines']>[number];
interface PointLabel {
  x: number;
  y: number;
  text: string;
  colour: string;
}

/** The recall axis (x): grid lines, the frame, tick labels and its label. */
function recallAxis(xTicks: readonly number[], X: Scale, k: number): string[] {
  return [
    `<g stroke="#e3e3e3" stroke-width="1">`,
    ...xTicks.map((x) => `<line x1="${X(x).toFixed(1)}" y1="${M.top}" x2="${X(x).toFixed(1)}" y2="${M.top + PH}"/>`),
    `</g>`,
  ].concat(
    [`<rect x="${M.left}" y="${M.top}" width="${PW}" height="${PH}" fill="none" stroke="#333"/>`, `<g text-anchor="middle" fill="#333">`],
    xTicks.map((x) => `<text x="${X(x).toFixed(1)}" y="${M.top + PH + 18}">${x.toFixed(2)}</text>`),
    [`<text x="${M.left + PW / 2}" y="${H - 16}" font-size="13">recall@${k} (against exact search)</text>`, `</g>`],
  );
}

/** Dashed horizontal lines at each baseline's QPS, labelled. */
function baselineLines(baselines: readonly Baseline[], Y: Scale, colourOf: (i: number) => string): string[] {
  return baselines.flatMap((b, i) => {
    const c = colourOf(i);
    const y = Y(b.qps).toFixed(1);
    return [
      `<line x1="${M.left}" y1="${y}" x2="${M.left + PW}" y2="${y}" stroke="${c}" stroke-width="1.5" stroke-dasharray="7 5"/>`,
      `<text x="${M.left + 6}" y="${(Y(b.qps) - 5).toFixed(1)}" fill="${c}">${esc(`${b.name}: ${fmtValue(b.qps)} QPS (recall 1)`)}</text>`,
    ];
  });
}

/** Each series' polyline and markers; the markers' boxes and the point labels are collected for placing labels. */
function curves(series: readonly Series[], X: Scale, Y: Scale, markers: Box[], labels: PointLabel[]): string[] {
  const out: string[] = [];
  series.forEach((s, i) => {
    const c = colour(i);
    const pts = s.points.map((p) => [X(p.recall), Y(p.qps)] as const);
    if (pts.length > 1) {
      out.push(
        `<polyline fill="none" stroke="${c}" stroke-width="2"${s.dashed ? ' stroke-dasharray="2 3"' : ''} points="${pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>`,
      );
    }
    s.points.forEach((p, j) => {
      const [x, y] = pts[j]!;
      out.push(
        s.dashed
          ? `<rect x="${(x - 4).toFixed(1)}" y="${(y - 4).toFixed(1)}" width="8" height="8" fill="#fff" stroke="${c}" stroke-width="1.8"/>`
          : `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4" fill="${c}"/>`,
      );
      markers.push({ x0: x - 4, y0: y - 4, x1: x + 4, y1: y + 4 });
      if (p.label !== undefined) labels.push({ x, y, text: p.label, colour: c });
    });
  });
  return out;
}

/**
 * Point labels after all markers: the first free spot around the point (a
 * label that fits nowhere is left out; its point stays).
 */
function pointLabels(labels: readonly PointLabel[], markers: readonly Box[]): string[] {
  const out: string[] = [];
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
      if (box.x0 < M.left || box.x1 > M.left + PW || box.y0 < M.top || box.y1 > M.top + PH) continue;
      if (placed.some((b) => overlaps(b, box))) continue;
      placed.push(box);
      out.push(`<text x="${box.x0.toFixed(1)}" y="${(box.y1 - 1).toFixed(1)}" font-size="10" fill="${l.colour}">${esc(l.text)}</text>`);
      break;
    }
  }
  return out;
}

/** The legend column: a line and marker per series, a dashed line per baseline, then the notes. */
function legend(series: readonly Series[], baselines: readonly Baseline[], notes: readonly string[] | undefined, colourOf: (i: number) => string): string[] {
  const lx = M.left + PW + 18;
  let ly = M.top + 8;
  const out = [`<text x="${lx}" y="${ly}" font-weight="bold">Legend</text>`];
  ly += 20;
  series.forEach((s, i) => {
    const c = colour(i);
    out.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 28}" y2="${ly - 4}" stroke="${c}" stroke-width="2"${s.dashed ? ' stroke-dasharray="2 3"' : ''}/>`);
    out.push(
      s.dashed
        ? `<rect x="${lx + 10}" y="${ly - 8}" width="8" height="8" fill="#fff" stroke="${c}" stroke-width="1.8"/>`
        : `<circle cx="${lx + 14}" cy="${ly - 4}" r="4" fill="${c}"/>`,
    );
    out.push(`<text x="${lx + 36}" y="${ly}">${esc(s.name)}</text>`);
    ly += 20;
  });
  ly += 6;
  baselines.forEach((b, i) => {
    out.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 28}" y2="${ly - 4}" stroke="${colourOf(i)}" stroke-width="1.5" stroke-dasharray="7 5"/>`);
    out.push(`<text x="${lx + 36}" y="${ly}">${esc(b.name)}</text>`);
    ly += 20;
  });
  return out.concat(legendNotes(notes, lx, ly + 10));
}

/** The chart as an SVG document (960 x 600). */
export function renderRecallQpsSvg(chart: RecallQpsChart): string {
  const ok = (p: ChartPoint): boolean => Number.isFinite(p.recall) && Number.isFinite(p.qps) && p.qps > 0;
  const series = chart.series.map((s) => ({ ...s, points: s.points.filter(ok) }));
  const baselines = (chart.baselines ?? []).filter((b) => Number.isFinite(b.qps) && b.qps > 0);

  const recalls = series.flatMap((s) => s.points.map((p) => p.recall));
  const [yLo, yHi] = logRange([...series.flatMap((s) => s.points.map((p) => p.qps)), ...baselines.map((b) => b.qps)]);
  const xMin = Math.min(0.9, Math.floor(Math.min(1, ...recalls) * 20) / 20);
  const xMax = 1 + (1 - xMin) * 0.015; // a little room right of recall 1
  const X = (recall: number): number => M.left + ((recall - xMin) / (xMax - xMin)) * PW;
  const Y = (qps: number): number => M.top + PH - ((Math.log10(qps) - yLo) / (yHi - yLo)) * PH;
  const xTicks: number[] = [];
  for (let i = Math.round(xMin * 20); i <= 20; i++) xTicks.push(i / 20);
  const baselineColour = (i: number): string => colour(series.length + i);
  const markers: Box[] = [];
  const labels: PointLabel[] = [];
  const out: string[] = [
    ...header(chart.title, chart.subtitle),
    ...yAxis(logTicks(yLo, yHi), Y, chart.yLabel ?? 'single-query QPS (log scale)'),
    ...recallAxis(xTicks, X, chart.k),
    ...baselineLines(baselines, Y, baselineColour),
    ...curves(series, X, Y, markers, labels),
  ];
  out.push(...pointLabels(labels, markers), ...legend(series, baselines, chart.notes, baselineColour), `</svg>`);
  return `${out.join('\n')}\n`;
}

/** Ticks of a linear axis from 0 past max: steps of 1, 2 or 5 times a power of ten, about 5 of them. */
function linearTicks(max: number): Tick[] {
  const raw = max / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
  const ticks: Tick[] = [];
  for (let v = 0; v <= max * (1 + 1e-9); v += step) ticks.push({ v, major: true });
  return ticks;
}

/** The bar chart as an SVG document (960 x 600). */
export function renderBarSvg(chart: BarChart): string {
  const drawable = (v: number): boolean => Number.isFinite(v) && (chart.log ? v > 0 : v >= 0);
  const values = chart.series.flatMap((s) => s.values.filter(drawable));
  let Y: (v: number) => number;
  let ticks: Tick[];
  if (chart.log) {
    const [lo, hi] = logRange(values);
    const yLo = lo - 0.25; // the smallest bar keeps some height
    const yHi = hi + 0.1; // room for the value above the tallest bar
    Y = (v) => M.top + PH - ((Math.log10(v) - yLo) / (yHi - yLo)) * PH;
    ticks = logTicks(yLo, yHi);
  } else {
    const max = Math.max(1e-9, ...values) * 1.08;
    ticks = linearTicks(max);
    const top = Math.max(max, ticks[ticks.length - 1]!.v);
    Y = (v) => M.top + PH - (v / top) * PH;
  }
  const out = header(chart.title, chart.subtitle);
  out.push(...yAxis(ticks, Y, chart.yLabel));
  out.push(`<rect x="${M.left}" y="${M.top}" width="${PW}" height="${PH}" fill="none" stroke="#333"/>`);

  // Bars: each group's bars side by side in the middle 80% of its slot.
  const slot = PW / Math.max(1, chart.groups.length);
  const barWidth = (slot * 0.8) / Math.max(1, chart.series.length);
  const bottom = M.top + PH;
  chart.groups.forEach((group, g) => {
    const x0 = M.left + g * slot + slot * 0.1;
    chart.series.forEach((s, i) => {
      const v = s.values[g];
      if (v === undefined || !drawable(v)) return;
      const x = x0 + i * barWidth;
      const y = Math.min(bottom, Y(v));
      out.push(`<rect class="bar" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(bottom - y).toFixed(1)}" fill="${colour(i)}"/>`);
      out.push(`<text x="${(x + barWidth / 2 - 1).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle" font-size="10" fill="#333">${fmtValue(v)}</text>`);
    });
    out.push(`<text x="${(M.left + (g + 0.5) * slot).toFixed(1)}" y="${bottom + 18}" text-anchor="middle" fill="#333">${esc(group)}</text>`);
  });

  // Legend.
  const lx = M.left + PW + 18;
  out.push(`<text x="${lx}" y="${M.top + 8}" font-weight="bold">Legend</text>`);
  chart.series.forEach((s, i) => {
    const ly = M.top + 28 + 20 * i;
    out.push(`<rect x="${lx}" y="${ly - 10}" width="28" height="10" fill="${colour(i)}"/>`);
    out.push(`<text x="${lx + 36}" y="${ly}">${esc(s.name)}</text>`);
  });
  out.push(...legendNotes(chart.notes, lx, M.top + 28 + 20 * chart.series.length + 16));
  out.push(`</svg>`);
  return `${out.join('\n')}\n`;
}
