/**
 * bench/ingest/index-run.ts: one end-to-end `semvec index` run, in this
 * process (the command's own runIndex, as `semvec index DIR --db DB
 * --split paragraph --dtype D` runs it), into a fresh persistent
 * collection, with what it spent its time on and its resident memory over
 * time. Time is summed in three places, wrapped for the run only:
 * tokenising (the tokenizer's encode), inference (onnxruntime-node's
 * InferenceSession.run, or semvec's own encoder's batches) and storage (the collection's batch writes). A
 * write runs while the next batch is embedded, so the three may add up to
 * more than the wall time.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Tokenizer } from '@huggingface/tokenizers';

import { Collection } from '../../src/collection/collection.js';
import { runIndex } from '../../src/cli/commands/index-command.js';
import { NativeEngine } from '../../src/embedder/engines.js';
import { TextEncoder as SemvecTextEncoder } from '../../src/embedder/tokenize.js';
import type { Dtype } from '../../src/index.js';
import { now } from '../lib/timing.js';
import { sessionRunTotals } from '../embed/measure.js';

export interface RssSample {
  seconds: number;
  rssMB: number;
  /** Records written so far. */
  written: number;
}

export interface IndexRun {
  dtype: Dtype;
  threads: number;
  command: string;
  documents: number;
  tokens: number;
  seconds: number;
  documentsPerSecond: number;
  tokensPerSecond: number;
  split: { tokeniseSeconds: number; inferenceSeconds: number; storageSeconds: number; runCalls: number; tokeniseCalls: number; writeCalls: number };
  rss: RssSample[];
  /** After the command closed its embedder (the runtime's memory returned). */
  rssAfterCloseMB: number;
  dbBytes: number;
  loadAverage: { start: number[]; end: number[] };
  /** The command's own closing line. */
  summary: string;
}

type AnyFn = (this: unknown, ...args: unknown[]) => unknown;

/** Replaces proto[name] with a timed version for the run; returns the totals and an undo. */
function timeMethod(proto: object, name: string, when: (args: unknown[]) => boolean = () => true) {
  const target = proto as Record<string, AnyFn>;
  const original = target[name] as AnyFn;
  const totals = { seconds: 0, calls: 0, items: 0 };
  target[name] = function (this: unknown, ...args: unknown[]): unknown {
    if (!when(args)) return original.apply(this, args);
    const t0 = now();
    const done = (): void => {
      totals.seconds += now() - t0;
      totals.calls++;
    };
    const out = original.apply(this, args);
    if (out instanceof Promise) return out.finally(done);
    done();
    return out;
  };
  return { totals, undo: () => void (target[name] = original) };
}

/** A batch write: upsert(object with ids), not upsert(stream). */
const isBatchWrite = (args: unknown[]): boolean => {
  const a = args[0] as { ids?: unknown } | null;
  return a !== null && typeof a === 'object' && Array.isArray(a.ids);
};

export async function indexRun(opts: { corpus: string; modelDir: string; dtype: Dtype; threads: number; batchSize: number; sampleSeconds: number }): Promise<IndexRun> {
  const db = mkdtempSync(join(tmpdir(), 'semvec-bench-index-'));
  const tokenise = timeMethod(Tokenizer.prototype, 'encode');
  const write = timeMethod(Collection.prototype, 'upsert', isBatchWrite);
  const nativeInference = timeMethod(NativeEngine.prototype, 'pooled');
  let written = 0;
  const countWrites = timeMethod(Collection.prototype, 'upsert', (args) => {
    if (isBatchWrite(args)) {
      written += (args[0] as { ids: unknown[] }).ids.length;
      onWrite();
    }
    return false;
  });
  // Tokens run through the model: each encoding embed() makes, as truncated.
  let tokens = 0;
  const encoderProto = SemvecTextEncoder.prototype as unknown as { encode: (text: string) => { ids: number[] } };
  const encode = encoderProto.encode;
  encoderProto.encode = function (this: unknown, text: string) {
    const e = encode.call(this, text);
    tokens += e.ids.length;
    return e;
  };
  const run0 = sessionRunTotals();
  const rss: RssSample[] = [];
  const t0 = now();
  const sample = (): void => void rss.push({ seconds: now() - t0, rssMB: process.memoryUsage.rss() / 2 ** 20, written });
  sample();
  // Sampled on a timer and at every batch write (a timer waits while the event loop is busy).
  let last = 0;
  const timer = setInterval(sample, opts.sampleSeconds * 1000);
  const onWrite = (): void => {
    if (now() - t0 - last >= opts.sampleSeconds) {
      last = now() - t0;
      sample();
    }
  };
  const loadStart = os.loadavg();
  // runIndex prints its closing line on stdout: keep it for the report.
  const stdoutWrite = process.stdout.write.bind(process.stdout);
  let summary = '';
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    summary += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return (stdoutWrite as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  const command = `semvec index ${opts.corpus} --db ${db} --model ${opts.modelDir} --split paragraph --dtype ${opts.dtype} --batch-size ${opts.batchSize}`;
  try {
    await runIndex(
      [opts.corpus],
      { db, collection: 'default', model: opts.modelDir, split: 'paragraph', textField: 'text', batchSize: opts.batchSize, dtype: opts.dtype },
      { color: false, progress: false, columns: undefined },
    );
    const seconds = now() - t0;
    const m = /Indexed ([\d,]+) documents/.exec(summary);
    const documents = m ? Number((m[1] as string).replace(/,/g, '')) : written;
    const runs = sessionRunTotals();
    const dbBytes = Number(execFileSync('du', ['-sb', db], { encoding: 'utf8' }).split('\t')[0]);
    return {
      dtype: opts.dtype,
      threads: opts.threads,
      command,
      documents,
      tokens,
      seconds,
      documentsPerSecond: documents / seconds,
      tokensPerSecond: tokens / seconds,
      split: {
        tokeniseSeconds: tokenise.totals.seconds,
        inferenceSeconds: runs.seconds - run0.seconds + nativeInference.totals.seconds,
        storageSeconds: write.totals.seconds,
        runCalls: runs.calls - run0.calls + nativeInference.totals.calls,
        tokeniseCalls: tokenise.totals.calls,
        writeCalls: write.totals.calls,
      },
      rss,
      rssAfterCloseMB: process.memoryUsage.rss() / 2 ** 20,
      dbBytes,
      loadAverage: { start: loadStart, end: os.loadavg() },
      summary: summary.trim(),
    };
  } finally {
    clearInterval(timer);
    process.stdout.write = stdoutWrite;
    encoderProto.encode = encode;
    countWrites.undo();
    write.undo();
    nativeInference.undo();
    tokenise.undo();
    rmSync(db, { recursive: true, force: true });
  }
}
