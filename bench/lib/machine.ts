/**
 * bench/lib/machine.ts: the machine a benchmark ran on and its measured
 * limits. Facts (CPU, cores, SIMD level, threads, Node, memory, load) and
 * the limits probed by the benchmarks' own native module
 * (build/bench/semvec_bench.node, from native/bench/; built beside the
 * addon in a source checkout, never shipped): streaming-read bandwidth
 * (probeReadGbps) and peak FMA throughput (probeFmaGflops), with one thread
 * and with all hardware threads, at the SIMD level semvec uses. A benchmark
 * probes before and after its runs and keeps the better of the two (on a
 * shared VM they drift by tens of percent), so fractions of the limits err
 * low, not high.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';

import { getThreads, hardwareThreads, simdLevel } from '../../src/index.js';
import { fmt, fmtBytes, progress } from './format.js';

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

/** The 1, 5 and 15 minute load averages, as printed: "0.52 0.61 0.70" (or joined by `sep`). */
export function loadText(load: readonly number[] = os.loadavg(), sep = ' '): string {
  return load.map((x) => fmt(x, 2)).join(sep);
}

// ----------------------------------------------------------------- limits ---

/** The probes of semvec_bench.node. */
interface ProbeModule {
  probeFmaGflops(threads: number, seconds: number): number;
  probeReadGbps(threads: number, bytes: number, repeats: number): number;
}

const probeModulePath = fileURLToPath(new URL('../../build/bench/semvec_bench.node', import.meta.url));
let probeModule: ProbeModule | undefined;

/** The benchmarks' native module, loaded on first use. */
function probes(): ProbeModule {
  if (probeModule === undefined) {
    if (!existsSync(probeModulePath)) {
      throw new Error(`the benchmarks' probe module is missing at ${probeModulePath}; build it with \`npm run build:native\` in a source checkout`);
    }
    probeModule = createRequire(import.meta.url)(probeModulePath) as ProbeModule;
  }
  return probeModule;
}

/** Peak FMA throughput with one thread and with all hardware threads. */
export interface FmaLimits {
  fma1Gflops: number;
  fmaAllGflops: number;
}

/** Streaming-read bandwidth and FMA peak, with one thread and with all hardware threads. */
export interface Limits extends FmaLimits {
  read1Gbps: number;
  readAllGbps: number;
  threadsAll: number;
}

/** How long and how much to probe. */
export interface ProbeSettings {
  /** Buffer read by the bandwidth probe, best of `probeRepeats`. */
  probeBytes: number;
  probeRepeats: number;
  /** Duration of each FMA probe. */
  fmaSeconds: number;
}

/** The FMA peak (probeFmaGflops) with 1 thread and with `threads`. */
export function probeFma(fmaSeconds: number, threads = hardwareThreads()): FmaLimits {
  const addon = probes();
  return { fma1Gflops: addon.probeFmaGflops(1, fmaSeconds), fmaAllGflops: addon.probeFmaGflops(threads, fmaSeconds) };
}

/** Read bandwidth (probeReadGbps), then the FMA peak, with 1 thread and with all hardware threads. */
export function probeLimits(s: ProbeSettings, when: string): Limits {
  const addon = probes();
  const all = hardwareThreads();
  progress(`probing read bandwidth (${fmtBytes(s.probeBytes)}, best of ${s.probeRepeats}) and FMA peak (${when})`);
  const read1Gbps = addon.probeReadGbps(1, s.probeBytes, s.probeRepeats);
  const readAllGbps = addon.probeReadGbps(all, s.probeBytes, s.probeRepeats);
  return { read1Gbps, readAllGbps, ...probeFma(s.fmaSeconds, all), threadsAll: all };
}

/** Per field, the better (higher) of two probes. */
export function bestLimits<T extends object>(a: T, b: T): T {
  const pick = (k: string, v: unknown): number => Math.max(v as number, (b as Record<string, number>)[k]!);
  return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, pick(k, v)])) as T;
}

// ----------------------------------------------------------------- memory ---

let gc: (() => void) | undefined;

/**
 * A full garbage collection. Indexes hold native memory the JavaScript heap
 * does not see, so a dropped index can linger until a collection; the
 * benchmarks collect explicitly after dropping one.
 */
export function collectGarbage(): void {
  if (gc === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) gc = exposed;
    else {
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc') as () => void;
    }
  }
  gc();
}
