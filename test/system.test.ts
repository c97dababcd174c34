import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { FlatIndex, getThreads, hardwareThreads, setThreads, simdLevel } from '../src/index.js';
import { randomVectors } from './helpers/data.js';

const child = fileURLToPath(new URL('helpers/simd-child.ts', import.meta.url));

interface ChildResult {
  level?: string;
  ids?: number[];
  scores?: number[];
  graphSha?: string;
  error?: string;
  name?: string;
  message?: string;
}

function runWith(simd: string): ChildResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', child], {
    env: { ...process.env, SEMVEC_SIMD: simd },
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
}

describe('SIMD dispatch', () => {
  it('reports the level chosen from the CPU', () => {
    expect(['scalar', 'avx2', 'avx512']).toContain(simdLevel());
  });

  it('SEMVEC_SIMD forces each level the CPU has; all give the same results, and build the same graph', () => {
    const levels = ['scalar', 'avx2', 'avx512'];
    const supported = levels.slice(0, levels.indexOf(simdLevel()) + 1);
    const runs = supported.map((level) => runWith(level));
    runs.forEach((r, i) => expect(r.level).toBe(supported[i]));
    for (const r of runs.slice(1)) {
      expect(r.ids).toEqual(runs[0]!.ids);
      r.scores!.forEach((s, j) => expect(s).toBeCloseTo(runs[0]!.scores![j]!, 3));
      expect(r.graphSha).toBe(runs[0]!.graphSha);
    }
  });

  it('an unknown SEMVEC_SIMD value is a clear ERR_UNSUPPORTED error, not a crash', () => {
    const r = runWith('sse9');
    expect(r.error).toBe('ERR_UNSUPPORTED');
    expect(r.name).toBe('NativeError');
    expect(r.message).toMatch(/SEMVEC_SIMD must be one of scalar, avx2, avx512; received 'sse9'/);
  });

  it.skipIf(simdLevel() === 'avx512')('a level the CPU lacks is a clear ERR_UNSUPPORTED error', () => {
    const r = runWith('avx512');
    expect(r.error).toBe('ERR_UNSUPPORTED');
    expect(r.message).toMatch(/this CPU supports at most/);
  });
});

describe('threads', () => {
  it('defaults to every hardware thread and can be changed', () => {
    expect(getThreads()).toBe(hardwareThreads());
    const index = new FlatIndex({ dim: 16, metric: 'ip' });
    index.add(randomVectors(50_000, 16, 5));
    const q = randomVectors(10, 16, 6);
    const want = index.searchBatch(q, 5);
    try {
      setThreads(1);
      expect(getThreads()).toBe(1);
      expect(index.searchBatch(q, 5)).toEqual(want);
      setThreads(3);
      expect(getThreads()).toBe(3);
      expect(index.searchBatch(q, 5)).toEqual(want);
    } finally {
      setThreads(0);
    }
    expect(getThreads()).toBe(hardwareThreads());
    expect(() => setThreads(-1)).toThrow(/threads must be an integer from 0 to 1024/);
  });
});
