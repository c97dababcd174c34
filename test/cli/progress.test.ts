/**
 * Pieces of the command line's progress and query output: durations, the
 * progress interval from the environment, and one match per source.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

import { bestPerSource } from '../../src/cli/commands/query.js';
import { fmtDuration, progressInterval } from '../../src/cli/output.js';

afterEach(() => vi.unstubAllEnvs());

describe('progress', () => {
  it('durations read as seconds, minutes and hours', () => {
    expect(fmtDuration(0)).toBe('0 s');
    expect(fmtDuration(42.4)).toBe('42 s');
    expect(fmtDuration(65)).toBe('1 min 05 s');
    expect(fmtDuration(7620)).toBe('2 h 07 min');
    expect(fmtDuration(-3)).toBe('0 s');
  });

  it('the interval between plain progress lines is 10 s unless SEMVEC_PROGRESS_INTERVAL says otherwise', () => {
    vi.stubEnv('SEMVEC_PROGRESS_INTERVAL', '');
    expect(progressInterval()).toBe(10);
    vi.stubEnv('SEMVEC_PROGRESS_INTERVAL', '2.5');
    expect(progressInterval()).toBe(2.5);
    vi.stubEnv('SEMVEC_PROGRESS_INTERVAL', '0');
    expect(progressInterval()).toBe(0);
    for (const bad of ['-1', 'soon', 'Infinity']) {
      vi.stubEnv('SEMVEC_PROGRESS_INTERVAL', bad);
      expect(progressInterval(), bad).toBe(10);
    }
  });
});

describe('query --per-source', () => {
  it('keeps the best match of each source in rank order, falling back to the id', () => {
    const m = (id: string, source?: string) => ({ id, metadata: source === undefined ? null : { source } });
    const ranked = [m('a#2', 'a'), m('a#1', 'a'), m('b#4', 'b'), m('x'), m('b#1', 'b'), m('c#1', 'c')];
    expect(bestPerSource(ranked, 10).map((r) => r.id)).toEqual(['a#2', 'b#4', 'x', 'c#1']);
    expect(bestPerSource(ranked, 2).map((r) => r.id)).toEqual(['a#2', 'b#4']);
    expect(bestPerSource([], 3)).toEqual([]);
  });
});
