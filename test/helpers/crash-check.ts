/**
 * Kill-and-check rounds for the crash tests (test/collection/crash.test.ts
 * and the soak, test/soak/crash.ts): run the writer (crash-writer.ts), kill
 * it with SIGKILL at a chosen moment, reopen the directory and compare what
 * is there with what the writer had acknowledged.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import Database from 'better-sqlite3';

import { Client, FlatIndex } from '../../src/index.js';
import { standaloneFile, vectorOf } from './crash-writer.js';

const writer = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));
const reader = fileURLToPath(new URL('./crash-reader.ts', import.meta.url));

/** Read-only clients querying the directory while a round runs (crash-reader.ts). */
export interface Readers {
  /** Stops them; resolves with what they found torn (nothing, when all is well) and how many passes they made. */
  stop(): Promise<{ torn: string[]; passes: number }>;
}

/** Starts `n` reader processes on the directory. */
export function startReaders(dir: string, n: number): Readers {
  const torn: string[] = [];
  let passes = 0;
  const children = Array.from({ length: n }, () => {
    const child = spawn(process.execPath, ['--import', 'tsx', reader, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('torn')) torn.push(line);
        else if (line.startsWith('ok')) passes++;
      }
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<void>((resolve) =>
      child.once('exit', (code, signal) => {
        if (signal !== 'SIGKILL' && code !== 0) torn.push(`a reader exited with ${code ?? signal}: ${err.trim().split('\n').slice(-3).join(' | ')}`);
        resolve();
      }),
    );
    return { child, exited };
  });
  return {
    async stop() {
      for (const { child } of children) child.kill('SIGKILL');
      await Promise.all(children.map((c) => c.exited));
      return { torn, passes };
    },
  };
}

/** When to kill: after `acks` acknowledged records, or `delayMs` after a step of that kind starts. */
export type Trigger = { after: 'ack'; acks: number } | { after: 'ckpt?' | 'close?' | 'save?'; delayMs: number };

/** Runs the writer from record `start` and kills it as the trigger says; resolves with its output lines. */
export function runAndKill(dir: string, start: number, trigger: Trigger, giveUpMs = 60_000): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, dir, String(start)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    let err = '';
    const lines: string[] = [];
    let acks = 0;
    let armed = false;
    const kill = () => child.kill('SIGKILL');
    // A step of the wanted kind may never come soon: kill anyway after a while.
    const fallback = setTimeout(kill, giveUpMs);
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        if (armed) continue;
        if (trigger.after === 'ack' && line.startsWith('ack ') && ++acks === trigger.acks) {
          armed = true;
          kill();
        } else if (trigger.after !== 'ack' && line === trigger.after) {
          armed = true;
          setTimeout(kill, trigger.delayMs);
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code, signal) => {
      clearTimeout(fallback);
      if (signal === 'SIGKILL') resolve(lines);
      else reject(new Error(`writer exited with ${code}: ${err}`));
    });
  });
}

/** What a round found. */
export interface RoundReport {
  /** Acknowledged records missing after the kill. */
  lost: string[];
  /** Records present that were neither acknowledged nor in flight. */
  unexpected: string[];
  /** Problems opening or checking the directory (a corrupt open, a failed integrity check, wrong results). */
  problems: string[];
  /** Temporary files of interrupted saves left in the directory. */
  tempFiles: number;
  /** Records alive after the round (acknowledged, or in flight and present). */
  alive: Set<number>;
  /** The next record number the writer should start from. */
  next: number;
}

/**
 * Reads the writer's lines against the records known alive before the
 * round, reopens the directory and checks it: every acknowledged record and
 * delete is there, nothing else but writes in flight, stored embeddings are
 * the ones written, queries agree with an exact search over the database's
 * rows, SQLite's integrity check passes, and the standalone index file
 * loads (old or new, never torn).
 */
export async function checkRound(dir: string, lines: string[], before: ReadonlySet<number>, round: number): Promise<RoundReport> {
  const alive = new Set(before);
  const inFlight = new Set<number>();
  for (const line of lines) {
    const [what, arg] = line.split(' ');
    const n = Number(arg);
    if (what === 'add?' || what === 'del?') inFlight.add(n);
    if (what === 'ack') {
      alive.add(n);
      inFlight.delete(n);
    }
    if (what === 'del') {
      alive.delete(n);
      inFlight.delete(n);
    }
  }
  const report: RoundReport = { lost: [], unexpected: [], problems: [], tempFiles: 0, alive: new Set(), next: 0 };
  let client: Client | undefined;
  try {
    client = await Client.open(dir);
    const col = await client.getCollection('crash');
    const rows = await col.get({ include: ['embeddings', 'metadatas'] });
    const ids = new Set(rows.map((r) => Number(r.id.slice(1))));
    for (const n of alive) if (!inFlight.has(n) && !ids.has(n)) report.lost.push(`k${n}`);
    for (const n of ids) if (!alive.has(n) && !inFlight.has(n)) report.unexpected.push(`k${n}`);
    for (const r of rows) {
      const want = new Float32Array(vectorOf(Number(r.id.slice(1))));
      if (!r.embedding || r.embedding.some((v, c) => v !== want[c])) report.problems.push(`the stored embedding of ${r.id} is not the one written`);
    }
    const q = vectorOf(1000 + round);
    const [hits] = await col.query({ queryEmbeddings: [q], nResults: 5, include: [] });
    const dist = (v: Float32Array) => v.reduce((s, x, c) => s + (x - (q[c] as number)) ** 2, 0);
    const want = rows.map((r) => dist(r.embedding!)).sort((a, b) => a - b).slice(0, 5);
    const got = hits!.map((h) => h.distance);
    if (got.length !== want.length || got.some((d, i) => Math.abs(d - want[i]!) > 1e-4)) {
      report.problems.push(`query results disagree with an exact search: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
    }
    if ((await col.count()) !== rows.length) report.problems.push('count() disagrees with get()');
    for (const n of ids) report.alive.add(n);
    report.next = Math.max(0, ...ids, ...alive, ...inFlight) + 10;
  } catch (err) {
    report.problems.push(`reopening failed: ${(err as Error).message}`);
  } finally {
    await client?.close();
  }
  const db = new Database(join(dir, 'semvec.db'), { readonly: true });
  const integrity = db.pragma('integrity_check', { simple: true });
  db.close();
  if (integrity !== 'ok') report.problems.push(`SQLite integrity check: ${String(integrity)}`);
  const file = standaloneFile(dir);
  if (existsSync(file)) {
    try {
      await FlatIndex.loadAsync(file);
    } catch (err) {
      report.problems.push(`the standalone index file does not load: ${(err as Error).message}`);
    }
  }
  report.tempFiles = [...readdirSync(dir), ...readdirSync(join(dir, 'indexes'))].filter((f) => f.includes('.tmp-')).length;
  return report;
}
