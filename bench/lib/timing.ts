/**
 * bench/lib/timing.ts: clocks and statistics. Wall time from
 * process.hrtime; medians and nearest-rank quantiles; per-call latencies
 * (with a warm-up), best-of-n and median-of-n repetitions; QPS.
 */

/** Seconds, from process.hrtime (monotonic, nanosecond resolution). */
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

export const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
export const mean = (xs: readonly number[]): number => sum(xs) / xs.length;

/** A latency distribution, in milliseconds. */
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
    meanMs: mean(secondsPerCall) * 1e3,
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

/** Seconds taken by each of `calls` awaited calls of fn(i). */
export async function timeEachAsync(calls: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t0 = now();
    await fn(i);
    times.push(now() - t0);
  }
  return times;
}

/** {@link timeEach} after `warmup` untimed calls fn(0), fn(1), ... (cycling below `calls`). */
export function timeEachWarm(warmup: number, calls: number, fn: (i: number) => void): number[] {
  for (let i = 0; i < warmup; i++) fn(i % calls);
  return timeEach(calls, fn);
}

export interface Timed<T> {
  seconds: number;
  value: T;
}

/** One timed call. */
export function timed<T>(fn: () => T): Timed<T> {
  const t0 = now();
  const value = fn();
  return { seconds: now() - t0, value };
}

/** Best-of-reps wall time of fn; returns the first call's value too. */
export function bestOf<T>(reps: number, fn: () => T): { first: T; bestSeconds: number; seconds: number[] } {
  const seconds: number[] = [];
  let first: T | undefined;
  for (let r = 0; r < reps; r++) {
    const t = timed(fn);
    seconds.push(t.seconds);
    if (r === 0) first = t.value;
  }
  return { first: first as T, bestSeconds: Math.min(...seconds), seconds };
}

/** Rotates the list by r: the order of repetition r when runs are interleaved (drift hits every library alike). */
export const rotate = <T>(xs: readonly T[], r: number): T[] => xs.map((_, i) => xs[(i + r) % xs.length]!);

/** Queries per second. */
export const qps = (queries: number, seconds: number): number => queries / seconds;
