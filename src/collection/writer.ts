/**
 * Where collection writes run. A persistent client commits on its own
 * thread (sql-worker.js), so the event loop never waits for SQLite or for
 * fsync; an in-memory client runs the same programs inline on its one
 * connection. Both run write programs (sql-runner.js): statements that
 * commit together or not at all.
 *
 * Writes of a client are serialised by a {@link WriteQueue}: each takes its
 * turn in call order, commits, then applies the change to the in-memory
 * index and metadata, before the next begins.
 */
import { Worker } from 'node:worker_threads';

import { createError, ErrorCode } from '../errors.js';
import type { Db } from './database.js';
import { runProgram, type ProgramResult, type Step, type StepFailure } from './sql-runner.js';

export type { Param, Step, StepFailure } from './sql-runner.js';

/** A write program that failed: which step, which parameter row, and why. */
export class ProgramFailure extends Error {
  readonly failure: StepFailure;

  constructor(failure: StepFailure) {
    super(failure.message);
    this.failure = failure;
  }
}

/** Results of a committed program: per step, the returned columns, or the number of rows changed. */
export type ProgramResults = (unknown[][] | number)[];

export interface SqlWriter {
  /** Runs a program in one transaction; rejects with {@link ProgramFailure} after a rollback. */
  run(steps: Step[]): Promise<ProgramResults>;
  close(): Promise<void>;
}

function settle(result: ProgramResult): ProgramResults {
  if (!result.ok) throw new ProgramFailure(result.failure);
  return result.results;
}

/** Runs programs on the client's own connection (in-memory clients). */
export class InlineWriter implements SqlWriter {
  readonly #db: Db;
  readonly #cache = new Map<string, ReturnType<Db['prepare']>>();

  constructor(db: Db) {
    this.#db = db;
  }

  async run(steps: Step[]): Promise<ProgramResults> {
    return settle(runProgram(this.#db, this.#cache, steps));
  }

  async close(): Promise<void> {}
}

type Reply = { id: number } & ProgramResult;

/**
 * Runs programs on a worker thread with its own connection. The worker
 * keeps the process alive only while a program is in flight, so a client
 * that is never closed does not hold the process open.
 */
export class ThreadWriter implements SqlWriter {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (r: ProgramResult) => void; reject: (e: Error) => void }>();
  #next = 1;
  #dead: Error | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (msg: Reply) => {
      const p = this.#pending.get(msg.id);
      if (!p) return;
      this.#pending.delete(msg.id);
      if (this.#pending.size === 0) worker.unref();
      p.resolve(msg);
    });
    const fail = (err: Error) => {
      this.#dead ??= createError(ErrorCode.IO, `the collection writer thread stopped: ${err.message}`, { cause: err });
      for (const p of this.#pending.values()) p.reject(this.#dead);
      this.#pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    worker.unref();
  }

  /** Starts the writer thread on the database file; resolves once it has opened it. */
  static start(file: string): Promise<ThreadWriter> {
    const worker = new Worker(new URL('./sql-worker.js', import.meta.url), { workerData: { file } });
    return new Promise((resolve, reject) => {
      worker.once('message', (msg: { ready: boolean; error?: { code?: string; message: string } }) => {
        if (msg.ready) resolve(new ThreadWriter(worker));
        else reject(createError(ErrorCode.IO, `cannot open the database ${file} for writing: ${msg.error?.message}`));
      });
      worker.once('error', (err) => reject(createError(ErrorCode.IO, `cannot start the collection writer thread: ${err.message}`, { cause: err })));
    });
  }

  run(steps: Step[]): Promise<ProgramResults> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#next++;
    return new Promise<ProgramResult>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.ref();
      this.#worker.postMessage({ id, steps });
    }).then(settle);
  }

  async close(): Promise<void> {
    if (this.#dead) return;
    const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
    this.#worker.ref();
    this.#worker.postMessage({ close: true });
    await exited;
  }
}

/**
 * Serialises asynchronous work in call order. `reserve()` takes the next
 * turn at once (so the order is the order of the calls) and resolves
 * `ready` when every earlier turn has been released.
 */
export class WriteQueue {
  #tail: Promise<void> = Promise.resolve();

  reserve(): { ready: Promise<void>; release: () => void } {
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const ready = this.#tail;
    this.#tail = ready.then(() => done);
    return { ready, release };
  }

  /** Runs fn in its turn. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const turn = this.reserve();
    await turn.ready;
    try {
      return await fn();
    } finally {
      turn.release();
    }
  }
}
