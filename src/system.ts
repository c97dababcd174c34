/** Process-wide settings and facts of the native core. */
import { native, type CpuFeatures } from './native.js';
import { checkInteger } from './validate.js';

/** SIMD instruction sets semvec can use, chosen at load from the CPU. */
export type SimdLevel = 'scalar' | 'avx2' | 'avx512';

/**
 * The SIMD level in use: the best the CPU supports, or the one forced with
 * the environment variable `SEMVEC_SIMD=scalar|avx2|avx512` (a level the CPU
 * lacks makes loading fail with ERR_UNSUPPORTED).
 *
 * @example
 * console.log(simdLevel()); // 'avx512'
 */
export function simdLevel(): SimdLevel {
  return native().simdLevel();
}

/** Threads the native core uses for one search or add (default: all cores). */
export function getThreads(): number {
  return native().getThreads();
}

/**
 * Sets the threads the native core uses per operation; 0 restores the
 * default (one per hardware thread).
 *
 * @example
 * setThreads(1); // keep one core free for the rest of the service
 */
export function setThreads(threads: number): void {
  native().setThreads(checkInteger(threads, 'threads', 0, 1024));
}

/** Hardware threads the system reports. */
export function hardwareThreads(): number {
  return native().hardwareThreads();
}

/**
 * @internal What the CPU offers (x86-64; all false elsewhere): the SIMD
 * levels and the int8 dot-product instructions (VNNI) that make int8 models
 * fast, whatever `SEMVEC_SIMD` forces.
 */
export function cpuFeatures(): CpuFeatures {
  return native().cpuFeatures();
}
