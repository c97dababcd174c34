/**
 * `semvec query "text" --db <dir>`: the nearest documents of a collection,
 * with metadata and document filters and a score threshold, as a table or
 * JSON.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

import type { Embedder } from '../../embedder/embedder.js';
import type { Where, WhereDocument } from '../../collection/filter.js';
import type { QueryMode } from '../../collection/types.js';
import type { EngineOption } from '../../embedder/engine-option.js';
import type { DtypeOption } from '../../embedder/precision.js';
import type { Reranker } from '../../embedder/reranker.js';
import { DEFAULT_MODEL, loadEmbedder, loadReranker, MODEL_KEY, modelKey } from '../models.js';
import { CliError, fmt, fmtMetadata, painter, snippet, table, usage, warn, type Style } from '../output.js';
import { type Command, Option } from 'commander';
import { finiteNumber, jsonOption, nonEmpty, positiveInt, styleOf } from '../options.js';

export interface QueryCommandOptions {
  db: string;
  collection: string;
  k: number;
  where?: Where;
  whereDocument?: WhereDocument;
  minScore?: number;
  model?: string;
  /** Model precision (`--dtype`). */
  dtype?: DtypeOption;
  /** What runs the model (`--engine`). */
  engine?: EngineOption;
  /** At most one match per source file (the best of its chunks or paragraphs). */
  perSource?: boolean;
  /** vector (default), keyword (BM25 over documents; no model loaded) or hybrid. */
  mode?: QueryMode;
  /** A cross-encoder (name, hub id or directory) that reorders the best rerankCandidates. */
  rerank?: string;
  rerankCandidates?: number;
  json: boolean;
}

/** The database must exist: a query never creates one. */
export function checkDatabase(db: string): void {
  if (!existsSync(join(resolve(db), 'semvec.db'))) {
    throw new CliError(`no semvec database in ${db} (create one with: semvec index <files> --db ${db})`);
  }
}

export async function runQuery(text: string, o: QueryCommandOptions, style: Style): Promise<void> {
  if (text.trim() === '') throw usage('the query text is empty');
  const { Client, checkCollectionName } = await import('../../collection/client.js');
  try {
    checkCollectionName(o.collection);
  } catch (err) {
    throw usage(`--collection: ${(err as Error).message}`);
  }
  checkDatabase(o.db);
  // Read-only: any number of queries may run beside a writer (semvec index, semvec serve).
  const client = await Client.open(o.db, { readOnly: true });
  let embedder: Embedder | undefined;
  let reranker: Reranker | undefined;
  try {
    const all = await client.listCollections();
    const summary = all.find((c) => c.name === o.collection);
    if (!summary) {
      const names = all.map((c) => `"${c.name}"`).join(', ');
      throw new CliError(`no collection "${o.collection}" in ${o.db} (${names ? `it has ${names}; choose one with --collection` : 'it has none yet'})`);
    }
    const mode = o.mode ?? 'vector';
    const recorded = summary.metadata?.[MODEL_KEY];
    const spec = o.model ?? (typeof recorded === 'string' ? recorded : DEFAULT_MODEL);
    if (mode !== 'keyword') {
      if (typeof recorded === 'string' && modelKey(spec) !== recorded) {
        warn(`collection "${o.collection}" was indexed with the model ${recorded}; scores from ${spec} may be meaningless`);
      }
      embedder = await loadEmbedder(spec, style, o.dtype, o.engine);
    }
    if (o.rerank !== undefined) reranker = await loadReranker(o.rerank, style);
    const col = await client.getCollection(o.collection, embedder ? { embedder } : {});
    const [matches = []] = await col.query({
      queryTexts: [text],
      nResults: o.k,
      where: o.where,
      whereDocument: o.whereDocument,
      minScore: o.minScore,
      ...(o.perSource ? { distinct: 'source' } : {}),
      mode,
      ...(reranker ? { rerank: { model: reranker, candidates: o.rerankCandidates ?? 50 } } : {}),
    });

    if (o.json) {
      const results = matches.map((m, i) => ({
        rank: i + 1,
        id: m.id,
        score: m.score,
        distance: m.distance,
        document: m.document ?? null,
        metadata: m.metadata ?? null,
        ...(m.scores ? { scores: m.scores } : {}),
      }));
      const reranked = reranker ? { reranker: reranker.name } : {};
      process.stdout.write(`${JSON.stringify({ query: text, collection: o.collection, mode, model: embedder?.name ?? null, ...reranked, results }, null, 2)}\n`);
      return;
    }
    if (matches.length === 0) {
      process.stdout.write(`No matches in "${o.collection}" (${summary.count} documents)${o.where || o.whereDocument || o.minScore !== undefined ? ' with these filters' : ''}.\n`);
      return;
    }
    const p = painter(style);
    const cells = matches.map((m, i) => ({ rank: String(i + 1), score: fmt(m.score, 3), id: m.id, meta: fmtMetadata(m.metadata) }));
    // The snippet gets what the terminal has left (60 characters when piped).
    const widest = (f: (c: (typeof cells)[number]) => string, header: string): number => Math.max(header.length, ...cells.map((c) => f(c).length));
    const used = widest((c) => c.rank, 'rank') + widest((c) => c.score, 'score') + widest((c) => c.id, 'id') + widest((c) => c.meta, 'metadata') + 4 * 2;
    const width = style.columns !== undefined ? Math.min(120, Math.max(20, style.columns - used - 1)) : 60;
    const rows = cells.map((c, i) => [c.rank, c.score, c.id, snippet(matches[i]!.document ?? '', width), c.meta]);
    process.stdout.write(`${table(['rank', 'score', 'id', 'snippet', 'metadata'], rows, ['right', 'right'], p.bold)}\n`);
  } finally {
    await reranker?.close();
    await embedder?.close();
    await client.close();
  }
}

/** Registers `semvec query`. */
export function register(program: Command): void {
  program
    .command('query')
    .description('Search a collection: the nearest documents to a text, as a table or JSON.')
    .argument('<text>', 'the query')
    .requiredOption('--db <dir>', 'database directory made by semvec index', nonEmpty)
    .option('--collection <name>', 'collection name', nonEmpty, 'default')
    .option('-k, --top-k <n>', 'results to show', positiveInt, 5)
    .option('--where <json>', 'metadata filter, e.g. \'{"category": "ml"}\' or \'{"year": {"$gte": 2020}}\'')
    .option('--where-document <json>', 'document filter, e.g. \'{"$contains": "transformer"}\'')
    .option('--min-score <score>', 'only results with at least this score (similarity; BM25 or the fused score in the other modes)', finiteNumber)
    .option('--mode <mode>', 'vector (by meaning, the default), keyword (by words: BM25; loads no model) or hybrid (both, fused)')
    .option('--rerank <model>', 'reorder the best candidates with a cross-encoder (name, hub id or directory), e.g. ms-marco-MiniLM-L-6-v2', nonEmpty)
    .option('--rerank-candidates <n>', 'candidates the reranker reads (default 50)', positiveInt)
    .option('--model <model>', `embedding model (default: the one the collection was indexed with)`, nonEmpty)
    .option('--per-source', 'at most one result per source file: its best chunk or paragraph')
    .addOption(new Option('--dtype <dtype>', 'model precision: fp32, q8 or auto (as semvec index)').choices(['fp32', 'q8', 'auto']))
    .addOption(new Option('--engine <engine>', 'what runs the model: auto, semvec or onnxruntime (as semvec index)').choices(['auto', 'semvec', 'onnxruntime']))
    .option('--json', 'print JSON instead of a table')
    .addHelpText(
      'after',
      `
Filters: $eq $ne $gt $gte $lt $lte $in $nin $and $or on metadata;
$contains $not_contains $icontains $not_icontains $regex $not_regex $and $or on documents.

Examples:
  $ semvec query "what is overfitting?" --db ./vectors -k 3 --where '{"category": "ml"}' --min-score 0.4
  $ semvec query "ERR_DISK_FULL" --db ./vectors --mode keyword
  $ semvec query "disk full error" --db ./vectors --mode hybrid --where-document '{"$regex": "(?i)disk"}'
  $ semvec query "how do I free disk space?" --db ./vectors --mode hybrid --rerank ms-marco-MiniLM-L-6-v2`,
    )
    .action(async (text: string, opts: Record<string, unknown>, cmd: Command) => {
      const where = jsonOption('--where', opts.where as string | undefined);
      const whereDocument = jsonOption('--where-document', opts.whereDocument as string | undefined);
      const { parseWhere, compileWhereDocument } = await import('../../collection/filter.js');
      const mode = opts.mode as string | undefined;
      if (mode !== undefined && !['vector', 'keyword', 'hybrid'].includes(mode)) throw usage(`--mode must be vector, keyword or hybrid; received ${JSON.stringify(mode)}`);
      if (opts.rerankCandidates !== undefined && opts.rerank === undefined) throw usage('--rerank-candidates needs --rerank <model>');
      try {
        if (where !== undefined) parseWhere(where, '--where');
        if (whereDocument !== undefined) compileWhereDocument(whereDocument, [], '--where-document');
      } catch (err) {
        throw usage((err as Error).message);
      }
      await runQuery(
        text,
        {
          db: opts.db as string,
          collection: opts.collection as string,
          k: opts.topK as number,
          where: where as never,
          whereDocument: whereDocument as never,
          minScore: opts.minScore as number | undefined,
          model: opts.model as string | undefined,
          dtype: opts.dtype as DtypeOption | undefined,
          engine: opts.engine as EngineOption | undefined,
          perSource: opts.perSource === true,
          mode: mode as QueryMode | undefined,
          rerank: opts.rerank as string | undefined,
          rerankCandidates: opts.rerankCandidates as number | undefined,
          json: opts.json === true,
        },
        styleOf(cmd),
      );
    });
}
