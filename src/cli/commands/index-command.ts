/**
 * `semvec index <paths...> --db <dir>`: reads documents, embeds the new and
 * changed ones, and upserts them into a persistent collection. Unchanged
 * documents (same id, text and metadata, same model) are not embedded
 * again, so re-indexing is idempotent and cheap.
 */
import { resolve, sep } from 'node:path';

import type { Embedder } from '../../embedder/embedder.js';
import type { Metadata } from '../../collection/metadata.js';
import { DEFAULT_MODEL, loadEmbedder, MODEL_KEY, modelKey } from '../models.js';
import { CliError, fmt, fmtInt, fmtRate, Progress, usage, type Style } from '../output.js';
import { collectFiles, readDocuments, type SourceDocument, type Split } from '../sources.js';
import { type Command, Option } from 'commander';
import { MODEL_HELP, nonEmpty, positiveInt, styleOf } from '../options.js';

export interface IndexCommandOptions {
  db: string;
  collection: string;
  model?: string;
  split: Split;
  textField: string;
  idField?: string;
  batchSize: number;
  /** Delete records under the given paths that this run did not produce (removed files and paragraphs). */
  prune?: boolean;
}

/** Documents embedded and upserted per step (the progress bar moves per embedding batch). */
const CHUNK_BATCHES = 8;
/** Ids looked up per get() when finding unchanged documents. */
const LOOKUP = 1000;

function sameMetadata(a: Metadata | null | undefined, b: Metadata): boolean {
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && (a as Metadata)[k] === b[k]);
}

/**
 * Whether a record id made by `semvec index` (`<path>`, `<path>#<n>`,
 * `<path>:<line>`, paths relative to the working directory) lies under one
 * of the given absolute paths.
 */
export function idUnder(id: string, roots: readonly string[]): boolean {
  const candidates = [id, id.replace(/(#|:)\d+$/, '')];
  return candidates.some((c) => {
    const abs = resolve(c);
    return roots.some((r) => abs === r || abs.startsWith(r.endsWith(sep) ? r : r + sep));
  });
}

export async function runIndex(paths: readonly string[], o: IndexCommandOptions, style: Style): Promise<void> {
  const started = performance.now();
  const { Client, checkCollectionName } = await import('../../collection/client.js');
  try {
    checkCollectionName(o.collection);
  } catch (err) {
    throw usage(`--collection: ${(err as Error).message}`);
  }

  const files = await collectFiles(paths);
  const { documents } = await readDocuments(files, { split: o.split, textField: o.textField, idField: o.idField });
  if (documents.length === 0) {
    throw new CliError(`no documents found in ${paths.join(', ')} (looked for non-empty .txt, .md and .jsonl files)`);
  }

  const client = await Client.open(o.db);
  let embedder: Embedder | undefined;
  try {
    const existing = (await client.listCollections()).find((c) => c.name === o.collection);
    const recorded = existing?.metadata?.[MODEL_KEY];
    const spec = o.model ?? (typeof recorded === 'string' ? recorded : DEFAULT_MODEL);
    const key = modelKey(spec);
    if (typeof recorded === 'string' && recorded !== key) {
      throw new CliError(
        `collection "${o.collection}" was indexed with the model ${recorded}, not ${key}: mixing models in one collection makes scores meaningless; ` +
          `index with --model ${recorded}, or into another collection (--collection)`,
      );
    }
    embedder = await loadEmbedder(spec, style);
    const col = await client.getOrCreateCollection(o.collection, { embedder, metadata: { [MODEL_KEY]: key } });

    // What changed since the last run.
    const stored = new Map<string, { document?: string | null; metadata?: Metadata | null }>();
    if (existing && existing.count > 0) {
      for (let i = 0; i < documents.length; i += LOOKUP) {
        const ids = documents.slice(i, i + LOOKUP).map((d) => d.id);
        for (const r of await col.get({ ids })) stored.set(r.id, r);
      }
    }
    const todo: SourceDocument[] = documents.filter((d) => {
      const s = stored.get(d.id);
      return s === undefined || s.document !== d.text || !sameMetadata(s.metadata, d.metadata);
    });
    const added = todo.filter((d) => !stored.has(d.id)).length;

    const progress = await Progress.start(style, todo.length, 'docs');
    try {
      const chunk = o.batchSize * CHUNK_BATCHES;
      for (let i = 0; i < todo.length; i += chunk) {
        const part = todo.slice(i, i + chunk);
        const texts = part.map((d) => d.text);
        const vectors = await embedder.embed(texts, { batchSize: o.batchSize, onProgress: (done) => progress.update(i + done) });
        await col.upsert({ ids: part.map((d) => d.id), embeddings: vectors, documents: texts, metadatas: part.map((d) => d.metadata) });
        progress.update(i + part.length);
      }
    } finally {
      progress.stop();
    }
    let removed = 0;
    if (o.prune) {
      const current = new Set(documents.map((d) => d.id));
      const roots = paths.map((p) => resolve(p));
      const stale = (await col.get({ include: [] })).map((r) => r.id).filter((id) => !current.has(id) && idUnder(id, roots));
      if (stale.length > 0) removed = await col.delete({ ids: stale });
    }
    const total = await col.count();
    const seconds = (performance.now() - started) / 1000;
    const changes =
      `${fmtInt(added)} new, ${fmtInt(todo.length - added)} updated, ${fmtInt(documents.length - todo.length)} unchanged` +
      (o.prune ? `, ${fmtInt(removed)} removed` : '');
    process.stdout.write(
      `Indexed ${fmtInt(documents.length)} documents from ${fmtInt(files.length)} files into "${o.collection}" ` +
        `in ${fmt(seconds)} s (${fmtRate(documents.length / seconds)} docs/s; ${changes}); the collection holds ${fmtInt(total)} documents.\n`,
    );
  } finally {
    await embedder?.close();
    await client.close();
  }
}

/** Registers `semvec index`. */
export function register(program: Command): void {
  program
    .command('index')
    .description('Embed .txt, .md and .jsonl files and store them in a persistent collection (re-indexing is idempotent).')
    .argument('<paths...>', 'files or directories (searched recursively for .txt, .md, .markdown, .jsonl, .ndjson)')
    .requiredOption('--db <dir>', 'database directory (created if needed)', nonEmpty)
    .option('--collection <name>', 'collection name', nonEmpty, 'default')
    .option('--model <model>', `embedding ${MODEL_HELP} (default: the collection's model, else ${DEFAULT_MODEL})`, nonEmpty)
    .addOption(new Option('--split <mode>', '.txt/.md: one document per file, or per blank-line-separated paragraph').choices(['file', 'paragraph']).default('file'))
    .option('--text-field <name>', '.jsonl: the field holding the text', nonEmpty, 'text')
    .option('--id-field <name>', '.jsonl: a field holding the id (default: <path>:<line>)', nonEmpty)
    .option('--batch-size <n>', 'texts per model run', positiveInt, 32)
    .option('--prune', 'also delete the records under these paths that no longer exist (removed files, paragraphs, lines)')
    .addHelpText(
      'after',
      `
Ids: <path> per file, <path>#<n> per paragraph, <path>:<line> per .jsonl line (paths relative to the
working directory). Text files get "source" (and "paragraph") metadata; .jsonl records keep their other
string, number and boolean fields as metadata. Unchanged documents are not embedded again.

Example:
  $ semvec index docs/ --db ./vectors --split paragraph`,
    )
    .action(async (paths: string[], opts: Record<string, unknown>, cmd: Command) => {
      await runIndex(
        paths,
        {
          db: opts.db as string,
          collection: opts.collection as string,
          model: opts.model as string | undefined,
          split: opts.split as 'file' | 'paragraph',
          textField: opts.textField as string,
          idField: opts.idField as string | undefined,
          batchSize: opts.batchSize as number,
          prune: opts.prune === true,
        },
        styleOf(cmd),
      );
    });
}
