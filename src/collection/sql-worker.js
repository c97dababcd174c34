// @ts-check
/**
 * The writer thread of a persistent client: owns the database connection
 * that writes, and runs one write program per message (sql-runner.js), in
 * the order received, replying to each. The event loop of the main thread
 * never waits for a commit.
 *
 * Messages in:  { id, steps } | { close: true }
 * Messages out: { ready: true } | { ready: false, error } once at start,
 *               then { id, ok, results | failure } per program.
 */
import { parentPort, workerData } from 'node:worker_threads';

import Database from 'better-sqlite3';

import { runProgram } from './sql-runner.js';

const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
const { file } = /** @type {{ file: string }} */ (workerData);

/** @type {import('better-sqlite3').Database} */
let db;
try {
  db = new Database(file, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  port.postMessage({ ready: true });
} catch (err) {
  const e = /** @type {{ code?: unknown, message?: unknown }} */ (err);
  port.postMessage({ ready: false, error: { code: typeof e.code === 'string' ? e.code : undefined, message: String(e.message ?? err) } });
  process.exit(0);
}

/** @type {Map<string, import('better-sqlite3').Statement>} */
const cache = new Map();

port.on('message', (/** @type {{ id: number, steps: import('./sql-runner.js').Step[] } | { close: true }} */ msg) => {
  if ('close' in msg) {
    db.close();
    port.close();
    return;
  }
  port.postMessage({ id: msg.id, ...runProgram(db, cache, msg.steps) });
});
