/**
 * No acknowledged write is lost when `semvec serve` is stopped: writers add
 * and delete over HTTP while the server gets SIGKILL or SIGTERM at random
 * points (test/helpers/crash-server.ts); the directory is then checked as
 * the crash test checks it (test/helpers/crash-check.ts). SIGTERM also
 * finishes the requests in flight, checkpoints and exits 0.
 */
import { describe, expect, it } from 'vitest';

import { checkRound } from '../helpers/crash-check.js';
import { runServerRound } from '../helpers/crash-server.js';
import { rng } from '../helpers/data.js';
import { tempDir } from '../helpers/temp.js';

describe('semvec serve: stopped by a signal', () => {
  it('loses no acknowledged write to SIGKILL or SIGTERM, and exits 0 on SIGTERM (5 rounds)', async () => {
    const dir = tempDir('semvec-serve-crash-');
    const random = rng(77);
    const signals = ['SIGKILL', 'SIGTERM', 'SIGKILL', 'SIGTERM', 'SIGKILL'] as const;
    let alive = new Set<number>();
    let next = 0;
    for (const [round, signal] of signals.entries()) {
      const acks = 10 + Math.floor(random() * 60);
      const r = await runServerRound(dir, next, signal, acks);
      expect(r.bad, 'answers other than success or a stopping server').toEqual([]);
      if (signal === 'SIGTERM') {
        expect(r.exit, r.output).toEqual({ code: 0, signal: null });
        expect(r.output).toMatch(/stopped/);
      } else {
        expect(r.exit.signal).toBe('SIGKILL');
      }
      const report = await checkRound(dir, r.lines, alive, round);
      expect(report.lost, `acknowledged records lost after ${signal}`).toEqual([]);
      expect(report.unexpected, 'records that were never written').toEqual([]);
      expect(report.problems).toEqual([]);
      alive = report.alive;
      next = Math.max(next, report.next);
    }
    expect(alive.size).toBeGreaterThan(40);
  }, 240_000);
});
