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
  const client = await Client.open(o.db);
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
