/**
 * `semvec query "text" --db <dir>`: the nearest documents of a collection,
 * with metadata and document filters and a score threshold, as a table or
 * JSON.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

import type { Embedder } from '../../embedder/embedder.js';
import type { Where, WhereDocument } from '../../collection/filter.js';
import { DEFAULT_MODEL, loadEmbedder, MODEL_KEY, modelKey } from '../models.js';
import { CliError, fmt, fmtMetadata, painter, snippet, table, usage, warn, type Style } from '../output.js';
import { type Command } from 'commander';
import { finiteNumber, jsonOption, nonEmpty, positiveInt, styleOf } from '../options.js';

export interface QueryCommandOptions {
  db: string;
  collection: string;
  k: number;
  where?: Where;
  whereDocument?: WhereDocument;
  minScore?: number;
  model?: string;
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
  try {
    const all = await client.listCollections();
    const summary = all.find((c) => c.name === o.collection);
    if (!summary) {
      const names = all.map((c) => `"${c.name}"`).join(', ');
      throw new CliError(`no collection "${o.collection}" in ${o.db} (${names ? `it has ${names}; choose one with --collection` : 'it has none yet'})`);
    }
    const recorded = summary.metadata?.[MODEL_KEY];
    const spec = o.model ?? (typeof recorded === 'string' ? recorded : DEFAULT_MODEL);
    if (typeof recorded === 'string' && modelKey(spec) !== recorded) {
      warn(`collection "${o.collection}" was indexed with the model ${recorded}; scores from ${spec} may be meaningless`);
    }
    embedder = await loadEmbedder(spec, style);
    const col = await client.getCollection(o.collection, { embedder });
    const [matches = []] = await col.query({
      queryTexts: [text],
      nResults: o.k,
      where: o.where,
      whereDocument: o.whereDocument,
      minScore: o.minScore,
    });

    if (o.json) {
      const results = matches.map((m, i) => ({
        rank: i + 1,
        id: m.id,
        score: m.score,
        distance: m.distance,
        document: m.document ?? null,
        metadata: m.metadata ?? null,
      }));
      process.stdout.write(`${JSON.stringify({ query: text, collection: o.collection, model: embedder.name, results }, null, 2)}\n`);
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
    .option('--min-score <score>', 'only results with at least this similarity', finiteNumber)
    .option('--model <model>', `embedding model (default: the one the collection was indexed with)`, nonEmpty)
    .option('--json', 'print JSON instead of a table')
    .addHelpText(
      'after',
      `
Filters: $eq $ne $gt $gte $lt $lte $in $nin $and $or on metadata; $contains $not_contains $and $or on documents.

Example:
  $ semvec query "what is overfitting?" --db ./vectors -k 3 --where '{"category": "ml"}' --min-score 0.4`,
    )
    .action(async (text: string, opts: Record<string, unknown>, cmd: Command) => {
      const where = jsonOption('--where', opts.where as string | undefined);
      const whereDocument = jsonOption('--where-document', opts.whereDocument as string | undefined);
      const { parseWhere, compileWhereDocument } = await import('../../collection/filter.js');
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
          json: opts.json === true,
        },
        styleOf(cmd),
      );
    });
}
