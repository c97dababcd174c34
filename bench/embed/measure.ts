/**
 * bench/embed/measure.ts: what bench:embed measures around each pass. Wall
 * and process CPU time; time inside onnxruntime-node's InferenceSession.run
 * (both libraries use the same class, wrapped once); the tokens and FLOPs of
 * a batching plan, real and padded; and the cosine agreement of two
 * libraries' embeddings.
 */
import { createRequire } from 'node:module';

import { now } from '../lib/timing.js';
import { flopsPerToken, type ModelShape } from './model.js';

/** Seconds spent inside InferenceSession.run, by either library (same onnxruntime-node). */
const sessionRun = { seconds: 0, calls: 0 };

/** Seconds and calls inside InferenceSession.run so far (after instrumentSessionRun). */
export function sessionRunTotals(): { seconds: number; calls: number } {
  return { ...sessionRun };
}

export function instrumentSessionRun(): void {
  // transformers.js loads onnxruntime-node with require(); so does this, to get the same class.
  // The typings declare InferenceSession as an interface plus a factory; at run time it is a class.
  type Run = (this: unknown, ...args: unknown[]) => Promise<unknown>;
  const ort = createRequire(import.meta.url)('onnxruntime-node') as { InferenceSession: { prototype: { run: Run } } };
  const proto = ort.InferenceSession.prototype;
  const run = proto.run;
  proto.run = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
    const t0 = now();
    try {
      return await run.apply(this, args);
    } finally {
      sessionRun.seconds += now() - t0;
      sessionRun.calls++;
    }
  };
}

export interface Pass {
  seconds: number;
  cpuSeconds: number; // process user + system CPU time: all threads
  runSeconds: number; // inside InferenceSession.run
  runCalls: number;
}

export async function timePass(fn: () => Promise<unknown>): Promise<Pass> {
  const cpu0 = process.cpuUsage();
  const run0 = { ...sessionRun };
  const t0 = now();
  await fn();
  const seconds = now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return {
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    runSeconds: sessionRun.seconds - run0.seconds,
    runCalls: sessionRun.calls - run0.calls,
  };
}

export interface Batching {
  batches: number;
  realTokens: number;
  paddedTokens: number; // positions run, padding included
  realGflop: number;
  executedGflop: number;
}

/** Tokens and FLOPs of running `order` in slices of `batch`, each padded to its longest text. */
export function batching(tokens: readonly number[], order: readonly number[], batch: number, m: ModelShape): Batching {
  let realTokens = 0;
  let paddedTokens = 0;
  let real = 0;
  let executed = 0;
  let batches = 0;
  for (let s = 0; s < order.length; s += batch) {
    const slice = order.slice(s, s + batch).map((i) => tokens[i] as number);
    const len = Math.max(...slice);
    batches++;
    paddedTokens += slice.length * len;
    executed += slice.length * len * flopsPerToken(m, len);
    for (const t of slice) {
      realTokens += t;
      real += t * flopsPerToken(m, t);
    }
  }
  return { batches, realTokens, paddedTokens, realGflop: real / 1e9, executedGflop: executed / 1e9 };
}

export interface CosineStats {
  min: number;
  mean: number;
  max: number;
}

/**
 * Cosine of row i of a with row i + shift of b. With `center`, that vector
 * is subtracted from every row first: a random-weight model maps all texts
 * near one common direction, which hides differences from the plain cosine.
 */
export function cosineStats(a: Float32Array, b: Float32Array, dim: number, shift: number, center?: Float64Array): CosineStats {
  const n = a.length / dim;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const j = (i + shift) % n;
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let d = 0; d < dim; d++) {
      const c = center ? (center[d] as number) : 0;
      const x = (a[i * dim + d] as number) - c;
      const y = (b[j * dim + d] as number) - c;
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    const c = ab / Math.sqrt(aa * bb);
    min = Math.min(min, c);
    max = Math.max(max, c);
    sum += c;
  }
  return { min, mean: sum / n, max };
}

function meanRow(a: Float32Array, dim: number): Float64Array {
  const m = new Float64Array(dim);
  const n = a.length / dim;
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) m[d]! += (a[i * dim + d] as number) / n;
  return m;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}


/** Cosine of corresponding rows must exceed this (plain and centred) for two outputs to agree. */
export const AGREEMENT = 0.999;

export interface Agreement {
  cosine: CosineStats;
  centred: CosineStats;
  maxAbsDiff: number;
  /** Row i against row i + 1, for scale: what disagreement looks like. */
  mismatchedRows: CosineStats;
  mismatchedCentred: CosineStats;
  threshold: number;
  pass: boolean;
}

/** How closely two libraries' embeddings of the same texts agree (centred on a's mean row as well). */
export function agreementOf(a: Float32Array, b: Float32Array, dim: number): Agreement {
  const center = meanRow(a, dim);
  const cosine = cosineStats(a, b, dim, 0);
  const centred = cosineStats(a, b, dim, 0, center);
  return {
    cosine,
    centred,
    maxAbsDiff: maxAbsDiff(a, b),
    mismatchedRows: cosineStats(a, b, dim, 1),
    mismatchedCentred: cosineStats(a, b, dim, 1, center),
    threshold: AGREEMENT,
    pass: cosine.min > AGREEMENT && centred.min > AGREEMENT,
  };
}

/**
 * Runs fn (which loads semvec embedders) with `extra` merged into the
 * options of every InferenceSession created meanwhile: how the lever runs
 * try session options without a public option for each.
 */
export async function withSessionOptions<T>(extra: object, fn: () => Promise<T>): Promise<T> {
  type Create = (this: unknown, ...args: unknown[]) => Promise<unknown>;
  const ort = createRequire(import.meta.url)('onnxruntime-node') as { InferenceSession: { create: Create } };
  const cls = ort.InferenceSession;
  const create = cls.create;
  // create(path | buffer, options?) or create(buffer, offset, length, options?): options last.
  cls.create = function (this: unknown, ...args: unknown[]): Promise<unknown> {
    const last = args.length - 1;
    const given = typeof args[last] === 'object' && args[last] !== null && !ArrayBuffer.isView(args[last]) ? (args[last] as object) : undefined;
    // `extra` (onnxruntime's config entries) merges one level deeper, so a lever adds entries to semvec's.
    const g = given as { extra?: object } | undefined, e = extra as { extra?: object };
    const merged = { ...given, ...extra, ...(g?.extra && e.extra ? { extra: { ...g.extra, ...e.extra } } : {}) };
    return create.apply(cls, given ? [...args.slice(0, last), merged] : [...args, merged]);
  };
  try {
    return await fn();
  } finally {
    cls.create = create;
  }
}
