/**
 * `semvec eval pairs.jsonl --models a,b`: compares embedding models on
 * labelled pairs (`{"a": "...", "b": "...", "label": 0|1}` per line) with
 * compareModels: dimension, size, throughput, accuracy at the threshold,
 * best-threshold accuracy and ROC AUC.
 */
import { readFile } from 'node:fs/promises';

import type { Embedder } from '../../embedder/embedder.js';
import type { ModelComparisonRow, Pair } from '../../evaluate/evaluate.js';
import { loadEmbedder } from '../models.js';
import { CliError, fmt, fmtRate, painter, phase, table, type Style } from '../output.js';

export interface EvalCommandOptions {
  models: string[];
  threshold: number;
  json: boolean;
}

/** The pairs of a .jsonl file; a malformed line is an error naming it. */
export async function readPairs(path: string): Promise<Pair[]> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).replace(/^\uFEFF/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `no such file: ${path}` : `cannot read ${path}: ${(err as Error).message}`);
  }
  const pairs: Pair[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const at = `${path}:${i + 1}`;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      throw new CliError(`${at}: not valid JSON (${(err as Error).message})`);
    }
    const o = v as { a?: unknown; b?: unknown; label?: unknown } | null;
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new CliError(`${at}: expected an object like {"a": "...", "b": "...", "label": 1}`);
    if (typeof o.a !== 'string' || o.a.trim() === '' || typeof o.b !== 'string' || o.b.trim() === '') {
      throw new CliError(`${at}: "a" and "b" must be non-empty strings`);
    }
    const label = o.label === true ? 1 : o.label === false ? 0 : o.label;
    if (label !== 0 && label !== 1) throw new CliError(`${at}: "label" must be 0 or 1; received ${JSON.stringify(o.label)}`);
    pairs.push({ a: o.a, b: o.b, label });
  });
  if (pairs.length === 0) throw new CliError(`${path} holds no pairs`);
  return pairs;
}

export async function runEval(path: string, o: EvalCommandOptions, style: Style): Promise<void> {
  const pairs = await readPairs(path);
  const positives = pairs.filter((p) => (p as { label: 0 | 1 }).label === 1).length;
  const { compareModels } = await import('../../evaluate/evaluate.js');
  const rows: (ModelComparisonRow & { spec: string })[] = [];
  // One model in memory at a time; loaded here so the download bar follows the terminal.
  for (const spec of o.models) {
    phase(style, `evaluating ${spec} on ${pairs.length} pairs`);
    let model: Embedder | undefined;
    try {
      model = await loadEmbedder(spec, style);
      const [row] = await compareModels([model], { pairs, threshold: o.threshold });
      rows.push({ ...row!, spec });
    } finally {
      await model?.close();
    }
  }

  if (o.json) {
    const out = {
      pairs: pairs.length,
      positives,
      threshold: o.threshold,
      models: rows,
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const p = painter(style);
  const lines = [
    `${pairs.length} pairs (${positives} similar, ${pairs.length - positives} different); accuracy at threshold ${o.threshold}`,
    '',
    table(
      ['model', 'dim', 'size MB', 'texts/s', 'accuracy', 'best acc', 'ROC AUC'],
      rows.map((r) => [
        r.model,
        String(r.dim),
        fmt(r.sizeMB, 1),
        fmtRate(r.textsPerSecond),
        fmt(r.accuracy ?? NaN, 3),
        fmt(r.bestAccuracy ?? NaN, 3),
        r.rocAuc === undefined || Number.isNaN(r.rocAuc) ? '-' : fmt(r.rocAuc, 3),
      ]),
      ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
      p.bold,
    ),
  ];
  if (rows.some((r) => r.rocAuc === undefined || Number.isNaN(r.rocAuc))) lines.push('(ROC AUC needs both similar and different pairs)');
  process.stdout.write(`${lines.join('\n')}\n`);
}
