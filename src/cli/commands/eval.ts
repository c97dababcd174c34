/**
 * `semvec eval pairs.jsonl --models a,b`: compares embedding models on
 * labelled pairs (`{"a": "...", "b": "...", "label": 0|1}` per line) with
 * compareModels: dimension, size, throughput, accuracy at the threshold,
 * best-threshold accuracy and ROC AUC. A model that fails to load or run
 * is reported in its own row and makes the command exit 1, after the
 * results of the others. With `--modes`, it compares query modes on a
 * labelled retrieval set instead (eval-modes.ts).
 */

import type { Embedder } from '../../embedder/embedder.js';
import type { ModelComparisonRow, Pair } from '../../evaluate/evaluate.js';
import { DEFAULT_MODEL, loadEmbedder } from '../models.js';
import { readTextFile } from '../sources.js';
import { CliError, errorMessage, fmt, fmtRate, painter, phase, table, usage, type Style } from '../output.js';
import { type Command } from 'commander';
import { finiteNumber, MODEL_HELP, nameList, nonEmpty, positiveInt, styleOf } from '../options.js';
import type { QueryMode } from '../../collection/types.js';
import { EVAL_MODES, runEvalModes } from './eval-modes.js';

export interface EvalCommandOptions {
  models: string[];
  threshold: number;
  json: boolean;
}

/** The pairs of a .jsonl file; a malformed line is an error naming it. */
export async function readPairs(path: string): Promise<Pair[]> {
  const text = await readTextFile(path);
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

/** One model's result: its row, or the error that stopped it. */
type Outcome = { spec: string; row: ModelComparisonRow } | { spec: string; error: unknown };

/**
 * Evaluates each model in turn, one in memory at a time. A model that fails
 * (to load or to run) does not stop the others: the results of the models
 * that worked are printed, each failed model gets a row naming its error,
 * and the command then fails (exit 1) with one line listing the failures.
 */
export async function runEval(path: string, o: EvalCommandOptions, style: Style): Promise<void> {
  const pairs = await readPairs(path);
  const positives = pairs.filter((p) => (p as { label: 0 | 1 }).label === 1).length;
  const { compareModels } = await import('../../evaluate/evaluate.js');
  const outcomes: Outcome[] = [];
  for (const spec of o.models) {
    phase(style, `evaluating ${spec} on ${pairs.length} pairs`);
    let model: Embedder | undefined;
    try {
      // Loaded here so the download bar follows the terminal.
      model = await loadEmbedder(spec, style);
      const [row] = await compareModels([model], { pairs, threshold: o.threshold });
      outcomes.push({ spec, row: row! });
    } catch (error) {
      outcomes.push({ spec, error });
    } finally {
      await model?.close();
    }
  }
  const failed = outcomes.filter((x): x is Extract<Outcome, { error: unknown }> => 'error' in x);
  if (failed.length === outcomes.length && failed.length === 1) throw failed[0]!.error;

  if (failed.length < outcomes.length) printResults(pairs.length, positives, outcomes, o, style);
  if (failed.length > 0) {
    const list = failed.map((f) => `${f.spec}: ${errorMessage(f.error)}`).join('; ');
    throw new CliError(`${failed.length} of ${outcomes.length} models failed: ${list}`, 1, { cause: failed[0]!.error });
  }
}

function printResults(pairCount: number, positives: number, outcomes: readonly Outcome[], o: EvalCommandOptions, style: Style): void {
  const rows = outcomes.flatMap((x) => ('row' in x ? [{ ...x.row, spec: x.spec }] : []));
  if (o.json) {
    const out = {
      pairs: pairCount,
      positives,
      threshold: o.threshold,
      models: rows,
      failed: outcomes.flatMap((x) => ('error' in x ? [{ model: x.spec, spec: x.spec, error: errorMessage(x.error), ...codeOf(x.error) }] : [])),
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const p = painter(style);
  const headers = ['model', 'dim', 'size MB', 'texts/s', 'accuracy', 'best acc', 'ROC AUC'];
  const cells = outcomes.map((x) =>
    'row' in x
      ? [
          x.row.model,
          String(x.row.dim),
          fmt(x.row.sizeMB, 1),
          fmtRate(x.row.textsPerSecond),
          fmt(x.row.accuracy ?? NaN, 3),
          fmt(x.row.bestAccuracy ?? NaN, 3),
          x.row.rocAuc === undefined || Number.isNaN(x.row.rocAuc) ? '-' : fmt(x.row.rocAuc, 3),
        ]
      : [x.spec],
  );
  const lines = table(headers, cells, ['left', 'right', 'right', 'right', 'right', 'right', 'right'], p.bold).split('\n');
  // A failed model's row: its name, then the error across the other columns.
  const nameWidth = Math.max(headers[0]!.length, ...cells.map((c) => c[0]!.length));
  outcomes.forEach((x, i) => {
    if ('error' in x) lines[2 + i] = `${x.spec.padEnd(nameWidth)}  ${p.yellow(`failed: ${errorMessage(x.error)}`)}`;
  });
  const out = [`${pairCount} pairs (${positives} similar, ${pairCount - positives} different); accuracy at threshold ${o.threshold}`, '', ...lines];
  if (rows.some((r) => r.rocAuc === undefined || Number.isNaN(r.rocAuc))) out.push('(ROC AUC needs both similar and different pairs)');
  process.stdout.write(`${out.join('\n')}\n`);
}

/** An error's stable code, when it has one (SemvecError). */
function codeOf(err: unknown): { code?: string } {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? { code } : {};
}

/** Registers `semvec eval`. */
export function register(program: Command): void {
  program
    .command('eval')
    .description('Compare embedding models on labelled pairs (accuracy, best-threshold accuracy, ROC AUC, size and speed), or query modes on a labelled retrieval set (--modes).')
    .argument('<file>', 'pairs: .jsonl, one {"a": "...", "b": "...", "label": 0|1} per line (1: similar); with --modes: .json {"documents": [...], "queries": [...], "relevant": [[0, 3], ...]}')
    .option('--models <list>', `models, comma-separated (${MODEL_HELP})`, nameList, [DEFAULT_MODEL])
    .option('--threshold <t>', 'cosine similarity from which a pair is called similar', finiteNumber, 0.5)
    .option('--modes <list>', 'compare query modes instead, comma-separated: vector, keyword (BM25; loads no model), hybrid', nameList)
    .option('--rerank <model>', 'with --modes: also run each mode reranked by this cross-encoder (name, hub id or directory)', nonEmpty)
    .option('--rerank-candidates <n>', 'candidates the reranker reads (default 50)', positiveInt)
    .option('-k <n>', 'with --modes: recall, MRR and nDCG at k (default 10)', positiveInt)
    .option('--json', 'print JSON instead of a table')
    .addHelpText(
      'after',
      `
Examples:
  $ semvec eval pairs.jsonl --models all-MiniLM-L6-v2,all-mpnet-base-v2 --threshold 0.6
  $ semvec eval task.json --modes vector,keyword,hybrid --rerank ms-marco-MiniLM-L-6-v2`,
    )
    .action(async (path: string, opts: Record<string, unknown>, cmd: Command) => {
      const given = (name: string) => cmd.getOptionValueSource(name) === 'cli';
      if (opts.rerankCandidates !== undefined && opts.rerank === undefined) throw usage('--rerank-candidates needs --rerank <model>');
      if (opts.modes === undefined) {
        for (const flag of ['rerank', 'k'] as const) if (opts[flag] !== undefined) throw usage(`--${flag} needs --modes (it applies to the comparison of query modes)`);
        await runEval(path, { models: opts.models as string[], threshold: opts.threshold as number, json: opts.json === true }, styleOf(cmd));
        return;
      }
      const modes = opts.modes as string[];
      const unknown = modes.find((m) => !(EVAL_MODES as readonly string[]).includes(m));
      if (unknown !== undefined) throw usage(`--modes: each must be vector, keyword or hybrid; received ${JSON.stringify(unknown)}`);
      if (new Set(modes).size !== modes.length) throw usage(`--modes lists a mode twice: ${modes.join(',')}`);
      if (given('threshold')) throw usage('--threshold applies to pairs, not to --modes');
      if (given('models') && modes.every((m) => m === 'keyword')) throw usage('--models has no use with --modes keyword (keyword search loads no model)');
      await runEvalModes(
        path,
        {
          modes: modes as QueryMode[],
          models: opts.models as string[],
          rerank: opts.rerank as string | undefined,
          rerankCandidates: opts.rerankCandidates as number | undefined,
          k: (opts.k as number | undefined) ?? 10,
          json: opts.json === true,
        },
        styleOf(cmd),
      );
    });
}
