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
import { CliError, fmt, fmtInt, fmtRate, IngestMeter, usage, type Style } from '../output.js';
import { collectFiles, duplicateId, isJsonlFile, readFileDocuments, type SourceDocument, type Split } from '../sources.js';
import type { ChunkMode, ChunkPlan } from '../../embedder/chunking.js';
import type { EngineOption } from '../../embedder/engine-option.js';
import type { DtypeOption } from '../../embedder/precision.js';
import type { IngestRecord, IngestResult } from '../../collection/ingest.js';
import { type Command, Option } from 'commander';
import { MODEL_HELP, nonEmpty, nonNegativeInt, positiveInt, styleOf } from '../options.js';

export interface IndexCommandOptions {
  db: string;
  collection: string;
  model?: string;
  split: Split;
  textField: string;
  idField?: string;
  batchSize: number;
  /** Model precision (`--dtype`); default: the embedder's ('auto'). */
  dtype?: DtypeOption;
  /** What runs the model (`--engine`); default: the embedder's ('auto'). */
  engine?: EngineOption;
  /** `--split tokens|packed`: chunk window and overlap in tokens. */
  window?: number;
  overlap?: number;
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
  const candidates = [id, id.replace(/(#|:)\d+$/, ''), id.replace(/((#|:)\d+)+$/, '')];
  return candidates.some((c) => {
    const abs = resolve(c);
    return roots.some((r) => abs === r || abs.startsWith(r.endsWith(sep) ? r : r + sep));
  });
}

/** A text file's documents as chunks of the model's window (`--split tokens|packed`). */
function chunked(doc: SourceDocument, embedder: Embedder, plan: ChunkPlan): SourceDocument[] {
  return embedder.chunk(doc.text, plan).map((c) => ({
    id: `${doc.id}#${c.index + 1}`,
    text: c.text,
    metadata: { ...doc.metadata, chunk: c.index + 1, chunk_start: c.start, chunk_end: c.end },
  }));
}

export async function runIndex(paths: readonly string[], o: IndexCommandOptions, style: Style): Promise<void> {
  const started = performance.now();
  const { Client, checkCollectionName } = await import('../../collection/client.js');
  try {
    checkCollectionName(o.collection);
  } catch (err) {
    throw usage(`--collection: ${(err as Error).message}`);
  }
  const chunking = o.split === 'tokens' || o.split === 'packed';
  if (!chunking && (o.window !== undefined || o.overlap !== undefined)) throw usage('--window and --overlap go with --split tokens or --split packed');

  const files = await collectFiles(paths);
  const read = { split: o.split, textField: o.textField, idField: o.idField };
  // Files are read one at a time as the model and the database keep up; the first document is looked for first.
  let firstFile = 0;
  let first: SourceDocument[] = [];
  for (; firstFile < files.length && first.length === 0; firstFile++) first = (await readFileDocuments(files[firstFile] as string, read)).documents;
  if (first.length === 0) {
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
    embedder = await loadEmbedder(spec, style, o.dtype, o.engine);
    const model = embedder;
    let plan: ChunkPlan | undefined;
    if (chunking) {
      try {
        plan = model.chunkPlan({ mode: o.split as ChunkMode, window: o.window, overlap: o.overlap }, '--split');
      } catch (err) {
        throw usage((err as Error).message.replace('--split.window', '--window').replace('--split.overlap', '--overlap'));
      }
    }
    const col = await client.getOrCreateCollection(o.collection, { embedder, metadata: { [MODEL_KEY]: key } });

    const counts = { files: 0, documents: 0, added: 0, updated: 0, unchanged: 0 };
    const cut = { documents: 0, example: '', tokens: 0 };
    const ids = new Set<string>();
    const meter = await IngestMeter.start(style, files.length, 'semvec index');

    /** Every document of the files, chunked when asked, each id once. */
    async function* documents(): AsyncGenerator<SourceDocument> {
      for (let f = firstFile - 1; f < files.length; f++) {
        const abs = files[f] as string;
        const docs = f === firstFile - 1 ? first : (await readFileDocuments(abs, read)).documents;
        for (const d of docs) {
          const parts = plan && !isJsonlFile(abs) ? chunked(d, model, plan) : [d];
          for (const p of parts) {
            if (ids.has(p.id)) throw duplicateId(p.id, read);
            ids.add(p.id);
            // Text the model cannot read: say so once, at the end.
            if (!plan && p.text.length > model.maxTokens) {
              const beyond = model.tokensBeyondWindow(p.text);
              if (beyond > 0) {
                cut.documents++;
                if (beyond > cut.tokens) Object.assign(cut, { example: p.id, tokens: beyond });
              }
            }
            yield p;
          }
        }
        counts.files = f + 1;
        meter.update({ filesRead: counts.files });
      }
    }

    /** The new and changed documents, looked up in steps. */
    async function* changed(): AsyncGenerator<IngestRecord> {
      let step: SourceDocument[] = [];
      const lookUp = async function* (): AsyncGenerator<IngestRecord> {
        const stored = new Map<string, { document?: string | null; metadata?: Metadata | null }>();
        if (existing && existing.count > 0) for (const r of await col.get({ ids: step.map((d) => d.id) })) stored.set(r.id, r);
        for (const d of step) {
          const s = stored.get(d.id);
          if (s !== undefined && s.document === d.text && sameMetadata(s.metadata, d.metadata)) {
            counts.unchanged++;
            continue;
          }
          if (s === undefined) counts.added++;
          else counts.updated++;
          yield { id: d.id, document: d.text, metadata: d.metadata };
        }
        step = [];
      };
      for await (const d of documents()) {
        counts.documents++;
        step.push(d);
        if (step.length >= LOOKUP) yield* lookUp();
      }
      yield* lookUp();
    }

    let result: IngestResult;
    try {
      result = await col.upsert(changed(), {
        batchSize: o.batchSize * CHUNK_BATCHES,
        embedBatchSize: o.batchSize,
        onProgress: (p) => meter.update({ documents: counts.documents, written: p.written, tokens: p.tokens }),
      });
    } finally {
      meter.stop();
    }
    if (cut.documents > 0) {
      process.stderr.write(
        `semvec: warning: ${fmtInt(cut.documents)} ${cut.documents === 1 ? 'document is' : 'documents are'} longer than the model's ${fmtInt(model.maxTokens)}-token window ` +
          `and ${cut.documents === 1 ? 'was' : 'were'} embedded from the beginning only (${cut.example}: ${fmtInt(cut.tokens)} tokens dropped); ` +
          `index with --split tokens or --split packed to search all of the text\n`,
      );
    }
    let removed = 0;
    if (o.prune) {
      const roots = paths.map((p) => resolve(p));
      const stale = (await col.get({ include: [] })).map((r) => r.id).filter((id) => !ids.has(id) && idUnder(id, roots));
      if (stale.length > 0) removed = await col.delete({ ids: stale });
    }
    const total = await col.count();
    const seconds = (performance.now() - started) / 1000;
    const changes =
      `${fmtInt(counts.added)} new, ${fmtInt(counts.updated)} updated, ${fmtInt(counts.unchanged)} unchanged` + (o.prune ? `, ${fmtInt(removed)} removed` : '');
    process.stdout.write(
      `Indexed ${fmtInt(counts.documents)} ${chunking ? 'chunks' : 'documents'} from ${fmtInt(files.length)} files into "${o.collection}" ` +
        `in ${fmt(seconds)} s (${fmtRate(counts.documents / seconds)} docs/s, ${fmtInt(result.tokens / seconds)} tokens/s; ${changes}); the collection holds ${fmtInt(total)} documents.\n`,
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
    .addOption(
      new Option('--split <mode>', ".txt/.md: one document per file, per blank-line-separated paragraph, or chunks of the model's window: token windows (tokens) or whole paragraphs packed up to the window (packed)")
        .choices(['file', 'paragraph', 'tokens', 'packed'])
        .default('file'),
    )
    .option('--window <n>', "--split tokens|packed: longest chunk in tokens (default: the model's maximum)", positiveInt)
    .option('--overlap <n>', '--split tokens|packed: tokens shared by consecutive token windows (default 32)', nonNegativeInt)
    .addOption(new Option('--dtype <dtype>', "model precision: fp32, q8 (its int8 export) or auto (q8 on CPUs with VNNI when the model has one)").choices(['fp32', 'q8', 'auto']))
    .addOption(new Option('--engine <engine>', "what runs the model: semvec (its own int8 encoder), onnxruntime, or auto (semvec's for the int8 BERT exports it recognises)").choices(['auto', 'semvec', 'onnxruntime']))
    .option('--text-field <name>', '.jsonl: the field holding the text', nonEmpty, 'text')
    .option('--id-field <name>', '.jsonl: a field holding the id (default: <path>:<line>)', nonEmpty)
    .option('--batch-size <n>', 'texts per model run', positiveInt, 32)
    .option('--prune', 'also delete the records under these paths that no longer exist (removed files, paragraphs, lines)')
    .addHelpText(
      'after',
      `
Ids: <path> per file, <path>#<n> per paragraph or chunk, <path>:<line> per .jsonl line (paths relative
to the working directory). Text files get "source" (and "paragraph", or "chunk", "chunk_start" and
"chunk_end") metadata; .jsonl records keep their other string, number and boolean fields as metadata.
Unchanged documents are not embedded again. With --split file, text beyond the model's window is not
embedded: a warning names the longest such file. Off a terminal, a progress line goes to stderr every
10 s (SEMVEC_PROGRESS_INTERVAL seconds).

Example:
  $ semvec index docs/ --db ./vectors --split paragraph
  $ semvec index manuals/ --db ./vectors --split tokens --window 256 --overlap 32`,
    )
    .action(async (paths: string[], opts: Record<string, unknown>, cmd: Command) => {
      await runIndex(
        paths,
        {
          db: opts.db as string,
          collection: opts.collection as string,
          model: opts.model as string | undefined,
          split: opts.split as Split,
          window: opts.window as number | undefined,
          overlap: opts.overlap as number | undefined,
          dtype: opts.dtype as DtypeOption | undefined,
          engine: opts.engine as EngineOption | undefined,
          textField: opts.textField as string,
          idField: opts.idField as string | undefined,
          batchSize: opts.batchSize as number,
          prune: opts.prune === true,
        },
        styleOf(cmd),
      );
    });
}
