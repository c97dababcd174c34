/**
 * Pieces of the command line's progress output: durations and the
 * progress interval from the environment.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

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
