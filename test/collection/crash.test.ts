/**
 * Every acknowledged write survives a crash. A child process writes in a
 * loop (test/helpers/crash-writer.ts) and is killed with SIGKILL at random
 * points, including during checkpoints, closes and index saves; after each
 * kill the directory is reopened and checked (test/helpers/crash-check.ts).
 * `npm run soak:crash` runs the same rounds by the hundred.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { rng } from '../helpers/data.js';
import { checkRound, runAndKill, startReaders, type Trigger } from '../helpers/crash-check.js';

const dir = mkdtempSync(join(tmpdir(), 'semvec-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('crash safety', () => {
  it('acknowledged writes survive SIGKILL at random points, in checkpoints, closes and saves, with readers querying (12 kills)', async () => {
    const random = rng(2024);
    const triggers: Trigger[] = [
      ...Array.from({ length: 6 }, () => ({ after: 'ack' as const, acks: 5 + Math.floor(random() * 60) })),
      ...(['ckpt?', 'close?', 'save?'] as const).flatMap((after) => [0, 1].map(() => ({ after, delayMs: Math.floor(random() * 15) }))),
    ];
    let alive = new Set<number>();
    let next = 0;
    let readerPasses = 0;
    for (const [round, trigger] of triggers.entries()) {
      // In every other round three read-only clients query while the writer is killed.
      const readers = round % 2 === 1 ? startReaders(dir, 3) : undefined;
      const lines = await runAndKill(dir, next, trigger);
      const seen = await readers?.stop();
      if (seen) {
        expect(seen.torn, 'readers saw a torn state').toEqual([]);
        readerPasses += seen.passes;
      }
      const report = await checkRound(dir, lines, alive, round);
      expect(report.lost, `acknowledged records lost after a kill (${JSON.stringify(trigger)})`).toEqual([]);
      expect(report.unexpected, 'records that were never written').toEqual([]);
      expect(report.problems).toEqual([]);
      alive = report.alive;
      next = Math.max(next, report.next);
    }
    expect(alive.size).toBeGreaterThan(50);
    expect(readerPasses, 'the readers read while the writer ran').toBeGreaterThan(0);
    // Bounded by its 12 rounds, each starting a few processes: minutes when the machine is busy (120 s was exceeded at load average 25).
  }, 600_000);
});
