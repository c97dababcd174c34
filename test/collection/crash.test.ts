/**
 * Every acknowledged write survives a crash. A child process writes in a
 * loop and is killed with SIGKILL at random points, many times; after each
 * kill the directory is reopened: every acknowledged record is present (and
 * every acknowledged delete applied), nothing else but the one write in
 * flight may appear, queries agree with an exact search over the database's
 * rows, and SQLite's integrity check passes.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

import { Client } from '../../src/index.js';
import { rng } from '../helpers/data.js';
import { DIM, vectorOf } from '../helpers/crash-writer.js';

const writer = fileURLToPath(new URL('../helpers/crash-writer.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'semvec-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the writer from `start`, kills it with SIGKILL after `acks` acknowledgements, returns its lines. */
function runAndKill(start: number, acks: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, dir, String(start)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    let err = '';
    const lines: string[] = [];
    let seen = 0;
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        if (line.startsWith('ack ') && ++seen === acks) child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(lines);
      else reject(new Error(`writer exited with ${code}: ${err}`));
    });
  });
}

describe('crash safety', () => {
  it('acknowledged writes survive SIGKILL at random points (12 kills)', async () => {
    const random = rng(2024);
    const alive = new Set<number>();
    let next = 0;
    for (let round = 0; round < 12; round++) {
      const lines = await runAndKill(next, 5 + Math.floor(random() * 60));
      // Writes started but not acknowledged when the kill came: either outcome is fine.
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

      const client = await Client.open(dir);
      const col = await client.getCollection('crash');
      const rows = await col.get({ include: ['embeddings', 'metadatas'] });
      const ids = new Set(rows.map((r) => Number(r.id.slice(1))));
      // Every acknowledged record is there; anything else was in flight
      // (written after the last acknowledgement) or a delete in flight.
      for (const n of alive) if (!inFlight.has(n)) expect(ids.has(n), `record k${n} lost`).toBe(true);
      for (const n of ids) expect(alive.has(n) || inFlight.has(n), `record k${n} should not exist`).toBe(true);
      for (const r of rows) expect(Array.from(r.embedding!)).toEqual(Array.from(new Float32Array(vectorOf(Number(r.id.slice(1))))));
      // The index agrees with an exact search over the database's rows.
      const q = vectorOf(1000 + round);
      const [hits] = await col.query({ queryEmbeddings: [q], nResults: 5, include: [] });
      const d = (v: Float32Array) => v.reduce((s, x, c) => s + (x - (q[c] as number)) ** 2, 0);
      const want = rows.map((r) => ({ id: r.id, d: d(r.embedding!) })).sort((a, b) => a.d - b.d || (a.id < b.id ? -1 : 1)).slice(0, 5);
      expect(hits!.map((h) => h.distance)).toEqual(want.map((w) => expect.closeTo(w.d, 4)));
      expect(await col.count()).toBe(rows.length);
      // Resynchronise with what the database holds (in-flight writes count).
      alive.clear();
      for (const n of ids) alive.add(n);
      next = Math.max(next, ...ids) + 10;
      await client.close();
      const db = new Database(join(dir, 'semvec.db'), { readonly: true });
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.close();
    }
    expect(alive.size).toBeGreaterThan(50);
  });
});
