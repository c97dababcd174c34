/**
 * The SIGKILL crash test at scale: `npm run soak:crash -- --kills 200`.
 * Kills a writer (test/helpers/crash-writer.ts) at random points: after a
 * random number of acknowledged records, and at random delays into
 * checkpoints, closes and index saves. After every kill the directory is
 * reopened and checked (test/helpers/crash-check.ts). Prints one line per
 * round and a summary; exits 1 if anything acknowledged was lost or a
 * reopen found damage.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { rng } from '../helpers/data.js';
import { checkRound, runAndKill, startReaders, type Trigger } from '../helpers/crash-check.js';

const { values } = parseArgs({
  options: { kills: { type: 'string', default: '200' }, readers: { type: 'string', default: '3' }, seed: { type: 'string', default: '7' }, dir: { type: 'string' } },
});
const kills = Number(values.kills);
if (!Number.isInteger(kills) || kills < 1) throw new Error(`--kills must be a positive integer; received ${values.kills}`);
const readerCount = Number(values.readers);
if (!Number.isInteger(readerCount) || readerCount < 0) throw new Error(`--readers must be an integer >= 0; received ${values.readers}`);
const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'semvec-soak-'));
const random = rng(Number(values.seed));

const kinds = ['ack', 'ckpt?', 'close?', 'save?'] as const;
const stats = { kills: 0, lost: 0, unexpected: 0, problems: 0, torn: 0, readerPasses: 0, tempFilesSeen: 0, byTrigger: {} as Record<string, number> };
let alive = new Set<number>();
let next = 0;
const started = Date.now();
for (let round = 0; round < kills; round++) {
  const kind = kinds[Math.floor(random() * kinds.length)]!;
  const trigger: Trigger = kind === 'ack' ? { after: 'ack', acks: 1 + Math.floor(random() * 80) } : { after: kind, delayMs: Math.floor(random() * 25) };
  const readers = readerCount > 0 ? startReaders(dir, readerCount) : undefined;
  const lines = await runAndKill(dir, next, trigger);
  const seen = (await readers?.stop()) ?? { torn: [], passes: 0 };
  stats.torn += seen.torn.length;
  stats.readerPasses += seen.passes;
  const report = await checkRound(dir, lines, alive, round);
  stats.kills++;
  stats.byTrigger[kind] = (stats.byTrigger[kind] ?? 0) + 1;
  stats.lost += report.lost.length;
  stats.unexpected += report.unexpected.length;
  stats.problems += report.problems.length;
  stats.tempFilesSeen = Math.max(stats.tempFilesSeen, report.tempFiles);
  alive = report.alive;
  next = Math.max(next, report.next);
  const trouble = [...report.lost.map((id) => `lost ${id}`), ...report.unexpected.map((id) => `unexpected ${id}`), ...report.problems, ...seen.torn];
  console.log(`kill ${round + 1}/${kills} (${kind}${'acks' in trigger ? ` after ${trigger.acks} acks` : ` +${trigger.delayMs} ms`}): ${alive.size} records, ${report.tempFiles} temp files${trouble.length ? `; ${trouble.join('; ')}` : ''}`);
}
const seconds = ((Date.now() - started) / 1000).toFixed(0);
console.log(
  `\n${stats.kills} kills in ${seconds} s (${Object.entries(stats.byTrigger).map(([k, v]) => `${k} ${v}`).join(', ')}): ` +
    `${stats.lost} acknowledged writes lost, ${stats.unexpected} unexpected records, ${stats.problems} corrupt opens or failed checks; ` +
    `${readerCount} readers per round made ${stats.readerPasses} passes and saw ${stats.torn} torn states; ` +
    `at most ${stats.tempFilesSeen} temporary files of interrupted saves present at once; ${alive.size} records at the end`,
);
if (!values.dir) rmSync(dir, { recursive: true, force: true });
process.exit(stats.lost + stats.unexpected + stats.problems + stats.torn > 0 ? 1 : 0);
