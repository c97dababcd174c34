/**
 * `semvec eval task.json --modes vector,keyword,hybrid [--rerank MODEL]`:
 * compares query modes on a labelled retrieval set with evaluateRetrieval
 * (recall@k, MRR, nDCG@k), once per embedding model, each mode also
 * reranked when a cross-encoder is given. The file is the set as
 * evaluateRetrieval takes it: `{"documents": [...], "queries": [...],
 * "relevant": [[0, 3], [2], ...]}` (per query, the indexes of its relevant
 * documents). A model that fails to load or run gets a row naming its
 * error and makes the command exit 1, after the results of the others.
 */

import type { QueryMode } from '../../collection/types.js';
import type { Embedder } from '../../embedder/embedder.js';
import type { Reranker } from '../../embedder/reranker.js';
import type { RetrievalRun, RetrievalTask } from '../../evaluate/retrieval-modes.js';
import { SemvecError } from '../../errors.js';
import { loadEmbedder, loadReranker } from '../models.js';
import { readTextFile } from '../sources.js';
import { CliError, errorMessage, fmt, painter, phase, table, type Style } from '../output.js';

export const EVAL_MODES: readonly QueryMode[] = ['vector', 'keyword', 'hybrid'];

export interface EvalModesOptions {
  modes: QueryMode[];
  /** Embedding models for the modes that need vectors (one evaluation each). */
  models: string[];
  /** A cross-encoder: each mode is also run reranked by it. */
  rerank?: string;
  rerankCandidates?: number;
  k: number;
  json: boolean;
}

/** The labelled set of a .json file, checked; a bad one is an error naming the file. */
export async function readTask(path: string): Promise<RetrievalTask> {
  const text = await readTextFile(path);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${path}: not valid JSON (${(err as Error).message}); with --modes the file is {"documents": [...], "queries": [...], "relevant": [[0], ...]}`);
  }
  const { checkTask } = await import('../../evaluate/retrieval-modes.js');
  try {
    checkTask(v as RetrievalTask);
  } catch (err) {
    if (err instanceof SemvecError) throw new CliError(`${path}: ${err.message.replace(/^task\./, '')}`, 1, { cause: err });
    throw err;
  }
  return v as RetrievalTask;
}

/** One model's runs, or the error that stopped it. */
type Outcome = { model: string; runs: RetrievalRun[] } | { model: string; error: unknown };

export async function runEvalModes(path: string, o: EvalModesOptions, style: Style): Promise<void> {
  const task = await readTask(path);
  const { evaluateRetrieval } = await import('../../evaluate/evaluate.js');
  const needVectors = o.modes.some((m) => m !== 'keyword');
  let reranker: Reranker | undefined;
  const outcomes: Outcome[] = [];
  try {
    if (o.rerank !== undefined) reranker = await loadReranker(o.rerank, style);
    const rerank = reranker ? { rerank: reranker, rerankCandidates: o.rerankCandidates ?? 50 } : {};
    // Keyword mode alone needs no model: one evaluation without.
    for (const spec of needVectors ? o.models : ['-']) {
      phase(style, `evaluating ${o.modes.join(', ')}${reranker ? ' (and reranked)' : ''}${needVectors ? ` with ${spec}` : ''} on ${task.queries.length} queries`);
      let model: Embedder | undefined;
      try {
        if (needVectors) model = await loadEmbedder(spec, style);
        const r = await evaluateRetrieval(model ?? null, task, { k: o.k, modes: o.modes, ...rerank });
        outcomes.push({ model: model?.name ?? spec, runs: r.runs });
      } catch (error) {
        outcomes.push({ model: spec, error });
      } finally {
        await model?.close();
      }
    }
  } finally {
    await reranker?.close();
  }
  const failed = outcomes.filter((x): x is Extract<Outcome, { error: unknown }> => 'error' in x);
  if (failed.length === outcomes.length && failed.length === 1) throw failed[0]!.error;
  if (failed.length < outcomes.length) printRuns(task, outcomes, o, reranker?.name, style);
  if (failed.length > 0) {
    const list = failed.map((f) => `${f.model}: ${errorMessage(f.error)}`).join('; ');
    throw new CliError(`${failed.length} of ${outcomes.length} models failed: ${list}`, 1, { cause: failed[0]!.error });
  }
}

function printRuns(task: RetrievalTask, outcomes: readonly Outcome[], o: EvalModesOptions, reranker: string | undefined, style: Style): void {
  const runs = outcomes.flatMap((x) => ('runs' in x ? x.runs.map((r) => ({ model: x.model, mode: r.mode, reranked: r.reranked, recallAtK: r.recallAtK, mrr: r.mrr, ndcgAtK: r.ndcgAtK })) : []));
  if (o.json) {
    const out = {
      queries: task.queries.length,
      documents: task.documents.length,
      k: o.k,
      reranker: reranker ?? null,
      runs,
      failed: outcomes.flatMap((x) => ('error' in x ? [{ model: x.model, error: errorMessage(x.error), ...codeOf(x.error) }] : [])),
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const p = painter(style);
  const k = o.k;
  const headers = ['model', 'mode', 'reranked', `recall@${k}`, 'MRR', `nDCG@${k}`];
  const cells: string[][] = [];
  for (const x of outcomes) {
    if ('error' in x) cells.push([x.model, p.yellow(`failed: ${errorMessage(x.error)}`), '', '', '', '']);
    else for (const r of x.runs) cells.push([x.model, r.mode, r.reranked ? 'yes' : 'no', fmt(r.recallAtK, 3), fmt(r.mrr, 3), fmt(r.ndcgAtK, 3)]);
  }
  const lines = [
    `${task.queries.length} queries over ${task.documents.length} documents; k = ${k}${reranker ? `; reranker ${reranker}` : ''}`,
    '',
    table(headers, cells, ['left', 'left', 'left', 'right', 'right', 'right'], p.bold),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** An error's stable code, when it has one (SemvecError). */
function codeOf(err: unknown): { code?: string } {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? { code } : {};
}
