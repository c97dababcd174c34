/**
 * bench/common.ts: what the benchmarks share. Seeded synthetic data (a
 * gaussian mixture whose shape is set by a {@link MixtureSpec}), timing
 * helpers, machine facts and text formatting.
 */
import os from 'node:os';

import { mulberry32 } from '../src/cli/synthetic.js';
import { getThreads, hardwareThreads, simdLevel } from '../src/index.js';

// ------------------------------------------------------------------- data ---

/** Mulberry32: the seeded PRNG `semvec bench` uses too. */
export { mulberry32 };

/**
 * Writes `centre[c + j] + sigma * z_j` to `out[base + j]` for j < dim, with
 * z_j standard normal (Marsaglia's polar method, both values of each pair
 * used; about 1.5x faster than the trigonometric Box-Muller).
 */
export function gaussianRow(
  out: Float32Array,
  base: number,
  dim: number,
  centre: Float32Array,
  c: number,
  sigma: number,
  rand: () => number,
): void {
  for (let j = 0; j < dim; j += 2) {
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * rand() - 1;
      v = 2 * rand() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = sigma * Math.sqrt((-2 * Math.log(s)) / s);
    out[base + j] = centre[c + j]! + u * f;
    if (j + 1 < dim) out[base + j + 1] = centre[c + j + 1]! + v * f;
  }
}

/**
 * The shape of a gaussian mixture. Centres are N(0, I/dim) (norm ~1, so two
 * centres are ~1.41 apart); everything else is relative to that.
 */
export interface MixtureSpec {
  /** Number of gaussian clusters. */
  clusters: number;
  /** Zipf-like weights: cluster c (from 0) has weight proportional to 1 / (c + 1)^zipf. */
  zipf: number;
  /** Each cluster's radius (RMS distance of its points to its centre) is uniform in [min, max]. */
  radius: readonly [number, number];
  /**
   * 0: isotropic clusters. r > 0: each cluster spreads mostly along r random
   * unit directions of its own (a flat, r-dimensional cluster), the rest of
   * its variance ({@link isotropicShare}) isotropically.
   */
  intrinsicDim: number;
  /** With intrinsicDim > 0, the share of each cluster's variance spread over all dim directions. */
  isotropicShare: number;
  /** Share of points drawn from the isotropic background N(0, I/dim) instead of a cluster. */
  noiseFraction: number;
}

/** A drawn mixture: centres, unequal (Zipf-like) weights and spreads. */
export interface Mixture {
  dim: number;
  spec: MixtureSpec;
  centres: Float32Array; // clusters * dim
  sigma: Float64Array; // per-coordinate spread of each cluster (radius / sqrt(dim))
  cumWeight: Float64Array; // cumulative weights, last = 1
  directions: Float32Array; // clusters * intrinsicDim * dim unit vectors (empty when isotropic)
}

export function makeMixture(dim: number, seed: number, spec: MixtureSpec): Mixture {
  const { clusters } = spec;
  const [rMin, rMax] = spec.radius;
  const rand = mulberry32(seed);
  const scale = 1 / Math.sqrt(dim);
  const centres = new Float32Array(clusters * dim);
  const origin = new Float32Array(dim);
  for (let c = 0; c < clusters; c++) gaussianRow(centres, c * dim, dim, origin, 0, scale, rand);
  const sigma = new Float64Array(clusters);
  const cumWeight = new Float64Array(clusters);
  let total = 0;
  for (let c = 0; c < clusters; c++) {
    sigma[c] = (rMin + (rMax - rMin) * rand()) * scale;
    total += 1 / (c + 1) ** spec.zipf;
    cumWeight[c] = total;
  }
  // Drawn after the rest, so isotropic mixtures do not depend on this step.
  const r = spec.intrinsicDim;
  const directions = new Float32Array(clusters * r * dim);
  for (let i = 0; i < clusters * r; i++) {
    gaussianRow(directions, i * dim, dim, origin, 0, 1, rand);
    let norm = 0;
    for (let j = 0; j < dim; j++) norm += directions[i * dim + j]! ** 2;
    const inv = 1 / Math.sqrt(norm);
    for (let j = 0; j < dim; j++) directions[i * dim + j]! *= inv;
  }
  for (let c = 0; c < clusters; c++) cumWeight[c] = cumWeight[c]! / total;
  cumWeight[clusters - 1] = 1;
  return { dim, spec, centres, sigma, cumWeight, directions };
}

/** n rows from the mixture, in one row-major Float32Array. */
export function sample(m: Mixture, n: number, seed: number): Float32Array {
  const { dim, spec, centres, sigma, cumWeight, directions } = m;
  const clusters = spec.clusters;
  const r = spec.intrinsicDim;
  const isoScale = r > 0 ? Math.sqrt(spec.isotropicShare) : 1;
  // Along each of the r directions: variance (1 - isotropicShare) * dim * sigma^2 / r,
  // so the radius stays sqrt(dim) * sigma.
  const majorScale = r > 0 ? Math.sqrt(((1 - spec.isotropicShare) * dim) / r) : 0;
  const rand = mulberry32(seed);
  const noiseSigma = 1 / Math.sqrt(dim);
  const origin = new Float32Array(dim);
  const coeff = new Float32Array(r);
  const out = new Float32Array(n * dim);
  for (let i = 0, base = 0; i < n; i++, base += dim) {
    if (rand() < spec.noiseFraction) {
      gaussianRow(out, base, dim, origin, 0, noiseSigma, rand);
      continue;
    }
    // Binary search of the cumulative weights.
    const u = rand();
    let lo = 0;
    let hi = clusters - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumWeight[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    if (r === 0) {
      gaussianRow(out, base, dim, centres, lo * dim, sigma[lo]!, rand);
      continue;
    }
    gaussianRow(out, base, dim, centres, lo * dim, sigma[lo]! * isoScale, rand);
    gaussianRow(coeff, 0, r, origin, 0, sigma[lo]! * majorScale, rand);
    for (let d = 0; d < r; d++) {
      const z = coeff[d]!;
      const dirBase = (lo * r + d) * dim;
      for (let j = 0; j < dim; j++) out[base + j]! += z * directions[dirBase + j]!;
    }
  }
  return out;
}

/** The data sets of bench/ivf.ts and bench/peers.ts. */
export type Difficulty = 'hard' | 'easy';
export const DIFFICULTY_NAMES: readonly Difficulty[] = ['hard', 'easy'];

/**
 * `hard`: 3,000 overlapping isotropic clusters of unequal weight and radius,
 * 10% isotropic noise (nprobe 1 finds under 60% of the true top 10 at 1M).
 * `easy`: 1,000 separated, nearly flat clusters (98% of the variance along 2
 * directions), 1% noise (nprobe 1 already finds most neighbours).
 * Centres are N(0, I/dim), ~1.41 apart.
 */
export const DIFFICULTIES: Record<Difficulty, MixtureSpec> = {
  hard: { clusters: 3000, zipf: 0.8, radius: [0.4, 1.4], intrinsicDim: 0, isotropicShare: 1, noiseFraction: 0.1 },
  easy: { clusters: 1000, zipf: 0.7, radius: [0.05, 0.5], intrinsicDim: 2, isotropicShare: 0.02, noiseFraction: 0.01 },
};

/** `hard,easy` -> ['hard', 'easy'] (deduplicated, in the given order). */
export function parseDifficulties(text: string): Difficulty[] {
  const list = text.split(',').map((s) => {
    const d = s.trim() as Difficulty;
    if (!DIFFICULTY_NAMES.includes(d)) {
      throw new Error(`--difficulty must be ${DIFFICULTY_NAMES.join('|')} or a list of them; received ${text}`);
    }
    return d;
  });
  return [...new Set(list)];
}

// ----------------------------------------------------------------- timing ---

export function now(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

export function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

export function median(xs: readonly number[]): number {
  const s = sorted(xs);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank quantile. */
export function quantile(xs: readonly number[], q: number): number {
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export interface Latency {
  medianMs: number;
  p99Ms: number;
  meanMs: number;
  samples: number;
  callsPerSample: number;
  method: 'benchmark.js' | 'hrtime';
}

export function latencyOf(secondsPerCall: readonly number[], callsPerSample: number, method: Latency['method']): Latency {
  return {
    medianMs: median(secondsPerCall) * 1e3,
    p99Ms: quantile(secondsPerCall, 0.99) * 1e3,
    meanMs: (secondsPerCall.reduce((a, b) => a + b, 0) / secondsPerCall.length) * 1e3,
    samples: secondsPerCall.length,
    callsPerSample,
    method,
  };
}

/** Seconds taken by each of `calls` calls of fn(i). */
export function timeEach(calls: number, fn: (i: number) => void): number[] {
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t0 = now();
    fn(i);
    times.push(now() - t0);
  }
  return times;
}

// ---------------------------------------------------------------- machine ---

export interface Machine {
  cpu: string;
  logicalCores: number;
  hardwareThreads: number;
  semvecThreads: number;
  simd: string;
  node: string;
  platform: string;
  totalMemoryGB: number;
  date: string;
}

export function machineInfo(): Machine {
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    logicalCores: os.cpus().length,
    hardwareThreads: hardwareThreads(),
    semvecThreads: getThreads(),
    simd: simdLevel(),
    node: process.version,
    platform: `${os.platform()} ${os.arch()} ${os.release()}`,
    totalMemoryGB: os.totalmem() / 2 ** 30,
    date: new Date().toISOString(),
  };
}

/** The date, cpu, semvec and node lines of a benchmark's header, as [name, value]. */
export function machineLines(machine: Machine): [string, string][] {
  return [
    ['date', machine.date],
    ['cpu', `${machine.cpu}, ${machine.logicalCores} logical cores, ${fmt(machine.totalMemoryGB, 1)} GiB RAM`],
    ['semvec', `SIMD ${machine.simd}, ${machine.semvecThreads} threads (hardware ${machine.hardwareThreads})`],
    ['node', `${machine.node}, ${machine.platform}`],
  ];
}

/** Prints {@link machineLines}. */
export function printMachine(machine: Machine): void {
  for (const [name, value] of machineLines(machine)) console.log(`  ${name.padEnd(9)} ${value}`);
}

// ---------------------------------------------------------------- options ---

/** A positive integer from a command-line value (underscores allowed: 1_000_000). */
export function positiveInt(text: string, name: string): number {
  const v = Number(text.replaceAll('_', ''));
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer; received ${text}`);
  return v;
}

// ------------------------------------------------------------- formatting ---

export const fmtInt = (x: number): string => Math.round(x).toLocaleString('en-US');
export const fmt = (x: number, digits = 2): string =>
  x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const fmtMs = (ms: number): string =>
  ms < 10 ? `${fmt(ms, 3)} ms` : ms < 1000 ? `${fmt(ms, 1)} ms` : `${fmt(ms / 1e3, 2)} s`;
export const fmtBytes = (b: number): string =>
  b >= 2 ** 30 ? `${fmt(b / 2 ** 30, 2)} GiB` : b >= 2 ** 20 ? `${fmt(b / 2 ** 20, 1)} MiB` : `${fmtInt(b / 1024)} KiB`;
export const verdict = (pass: boolean): string => (pass ? 'PASS' : 'MISS');

/** A text table: the first `left` columns left-aligned, the others right-aligned. */
export function table(headers: string[], rows: string[][], indent = '  ', left = 1): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]): string =>
    indent +
    cells
      .map((cell, c) => (c < left ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), indent + widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** {@link table} in Markdown, aligned the same way (cells' `|` escaped). */
export function markdownTable(headers: string[], rows: string[][], left = 1): string {
  const line = (cells: string[]): string => `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(headers), `|${headers.map((_, c) => (c < left ? '---' : '---:')).join('|')}|`, ...rows.map(line)].join('\n');
}

/** A progress note on stderr (stdout keeps only the results). */
export function progress(message: string): void {
  process.stderr.write(`  .. ${message}\n`);
}
