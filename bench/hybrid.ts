/**
 * bench/hybrid.ts (npm run bench:hybrid): what do the query modes cost and
 * what do they find? Latency of vector, keyword and hybrid queries (median,
 * p99) on a persistent collection of N real paragraphs, with and without a
 * 1% `where`; the keyword index's size and build time; reranking latency
 * per candidate count; and retrieval quality (nDCG@10, recall@10) of each
 * mode on a labelled set made from this machine's manual pages, with LSA
 * vectors for the vector side. Method: bench/README.md.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import Database from 'better-sqlite3';

import { createStatements, dropStatements, fillStatements, keywordPhrases } from '../src/collection/keyword-index.js';
import { Client, evaluateRetrieval, Reranker, type QueryOptions, type RetrievalRun } from '../src/index.js';
import { gaussianRow, mulberry32 } from '../src/random.js';
import { option, parseCommand, runMain } from './lib/args.js';
import { fmt, fmtBytes, fmtInt, progress, table } from './lib/format.js';
import { loadText, machineInfo, printMachine } from './lib/machine.js';
import { writeJson } from './lib/report.js';
import { latencyOf, median, now, timeEachAsync, type Latency } from './lib/timing.js';
import { chunks, readManPages, type ManPage } from './hybrid/corpus.js';
import { buildLsa } from './hybrid/lsa.js';

const COMMAND = {
  script: 'bench/hybrid.ts',
  npm: 'bench:hybrid',
  summary: 'what do the query modes (vector, keyword, hybrid, reranked) cost, and what do they find?',
  options: {
    n: option.sizes('records N, comma-separated (paragraphs of the manual pages, repeated beyond their count)', { full: '100000', quick: '10000' }),
    dim: option.int('dimensions of the (random) vectors of the latency part', '384'),
    queries: option.int('timed queries per mode and filter', { full: '200', quick: '40' }),
    pages: option.int('manual pages read (the corpus)', { full: '100000', quick: '2500' }),
    'quality-docs': option.int('documents of the labelled set (pages with a unique description)', { full: '5000', quick: '1000' }),
    'quality-queries': option.int('queries of the labelled set', { full: '500', quick: '100' }),
    'lsa-dim': option.int('dimensions of the LSA vectors', '128'),
    'rerank-candidates': option.sizes('candidate counts timed for reranking', { full: '10,50,100', quick: '10,50' }),
    'skip-rerank': option.flag('leave out the rerank latency part'),
    'skip-quality': option.flag('leave out the retrieval quality part'),
    out: option.path('JSON results', 'bench/results/hybrid.json'),
    tmp: option.path('where the temporary collection directories go', os.tmpdir(), { arg: 'DIR' }),
  },
};

const K = 10;
const WARMUP = 10;
const BATCH = 10_000;
const BUCKETS = 100;
/** Label of the keyword baseline rows (see scoreEveryMatch). */
const BASELINE = 'keyword baseline: every match scored';
const RERANKED_QUERIES = 100; // queries of the (meaningless) reranked quality rows // `where: { bucket: 7 }` keeps 1% of the records
const repo = fileURLToPath(new URL('../', import.meta.url));
const sharedModels = join(repo, '..', '..', 'shared', 'models');
const tokenizerDir = [join(repo, '..', 'shared', 'models', 'all-MiniLM-L6-v2'), join(sharedModels, 'all-MiniLM-L6-v2')].find((d) => existsSync(join(d, 'tokenizer.json')));

interface SizeResult {
  n: number;
  addSeconds: number;
  ftsBytes: number | undefined;
  ftsRebuildSeconds: number;
  dbBytes: number;
  latency: Record<string, Latency>;
}

/** N documents: the corpus' chunks, repeated when N is larger. */
function documentsOf(corpus: readonly string[], n: number): string[] {
  return Array.from({ length: n }, (_, i) => corpus[i % corpus.length] as string);
}

function randomUnit(n: number, dim: number, seed: number): Float32Array {
  const out = new Float32Array(n * dim);
  const zeros = new Float32Array(dim);
  const rand = mulberry32(seed);
  for (let i = 0; i < n; i++) {
    const row = out.subarray(i * dim, (i + 1) * dim);
    gaussianRow(row, 0, dim, zeros, 0, 1, rand);
    let norm = 0;
    for (const x of row) norm += x * x;
    norm = Math.sqrt(norm) || 1;
    for (let d = 0; d < dim; d++) row[d]! /= norm;
  }
  return out;
}

async function benchSize(n: number, corpus: readonly string[], queryTexts: readonly string[], p: ReturnType<typeof parseParams>): Promise<SizeResult> {
  const dir = mkdtempSync(join(p.tmp, 'semvec-bench-hybrid-'));
  try {
    const docs = documentsOf(corpus, n);
    progress(`N ${fmtInt(n)}: adding records (documents, ${p.dim}-d random vectors, a bucket 0-99)`);
    let client = await Client.open(dir);
    let col = await client.createCollection('bench', { metric: 'cosine' });
    const t0 = now();
    for (let i = 0; i < n; i += BATCH) {
      const end = Math.min(n, i + BATCH);
      await col.add({
        ids: Array.from({ length: end - i }, (_, j) => `r${i + j}`),
        documents: docs.slice(i, end),
        embeddings: randomUnit(end - i, p.dim, 1000 + i),
        metadatas: Array.from({ length: end - i }, (_, j) => ({ bucket: (i + j) % BUCKETS })),
      });
    }
    const addSeconds = now() - t0;
    await client.close();

    // The keyword index: its size, and the time to build it from the records (what a rebuild costs).
    const file = join(dir, 'semvec.db');
    const db = new Database(file);
    const ftsBytes = db.prepare("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'fts\\_1%' ESCAPE '\\'").pluck().get() as number | undefined;
    const dbBytes = (db.prepare('PRAGMA page_count').pluck().get() as number) * (db.prepare('PRAGMA page_size').pluck().get() as number);
    progress(`N ${fmtInt(n)}: rebuilding the keyword index`);
    const r0 = now();
    db.transaction(() => {
      for (const sql of [...dropStatements(1), ...createStatements(1, 'unicode61'), ...fillStatements(1)]) db.prepare(sql).run();
    })();
    const ftsRebuildSeconds = now() - r0;
    db.close();

    client = await Client.open(dir);
    col = await client.getCollection('bench');
    const qv = randomUnit(p.queries + WARMUP, p.dim, 77);
    const latency: Record<string, Latency> = {};
    const baseline = scoreEveryMatch(file, queryTexts);
    for (const mode of ['vector', 'keyword', 'hybrid'] as const) {
      for (const filtered of [false, true]) {
        const label = `${mode}${filtered ? ' + 1% where' : ''}`;
        progress(`N ${fmtInt(n)}: timing ${label}`);
        const options = (i: number): QueryOptions => ({
          mode,
          nResults: K,
          include: [],
          ...(mode !== 'vector' ? { queryTexts: queryTexts[i % queryTexts.length] as string } : {}),
          ...(mode !== 'keyword' ? { queryEmbeddings: [qv.subarray(i * p.dim, (i + 1) * p.dim)] } : {}),
          ...(filtered ? { where: { bucket: 7 } } : {}),
        });
        await col.query(options(0)); // builds the metadata columns once
        for (let i = 0; i < WARMUP; i++) await col.query(options(p.queries + i));
        if (mode !== 'keyword') {
          latency[label] = latencyOf(await timeEachAsync(p.queries, (i) => col.query(options(i))), 1, 'hrtime');
          continue;
        }
        // Keyword queries alternate with the baseline's, query by query, so that both see the same load.
        for (let i = 0; i < WARMUP; i++) baseline.run(p.queries + i, filtered);
        const mine: number[] = [];
        const theirs: number[] = [];
        for (let i = 0; i < p.queries; i++) {
          let t0 = now();
          await col.query(options(i));
          mine.push(now() - t0);
          t0 = now();
          baseline.run(i, filtered);
          theirs.push(now() - t0);
        }
        latency[label] = latencyOf(mine, 1, 'hrtime');
        latency[`${BASELINE}${filtered ? ' + 1% where' : ''}`] = latencyOf(theirs, 1, 'hrtime');
      }
    }
    await client.close();
    baseline.close();
    return { n, addSeconds, ftsBytes, ftsRebuildSeconds, dbBytes, latency };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The baseline of the keyword rows, timed alternately with them: every
 * match scored by bm25() and sorted, the filter applied to that ranking
 * (what keyword search did before it pruned by score bounds and passed a
 * selective filter to SQLite), on a read-only connection to the database.
 */
function scoreEveryMatch(file: string, queryTexts: readonly string[]): { run(i: number, filtered: boolean): unknown[]; close(): void } {
  const db = new Database(file, { readonly: true });
  const t = 'fts_1';
  const top = db.prepare(`SELECT rowid, bm25(${t}) AS s FROM ${t} WHERE ${t} MATCH ? ORDER BY s, rowid LIMIT ?`).raw(true);
  const all = db.prepare(`SELECT rowid, bm25(${t}) AS s FROM ${t} WHERE ${t} MATCH ? ORDER BY s, rowid`).raw(true);
  const allowed = new Set(db.prepare("SELECT rid FROM records WHERE cid = 1 AND json_extract(metadata, '$.bucket') = 7").pluck().all() as number[]);
  const match = (i: number) => (keywordPhrases(queryTexts[i % queryTexts.length] as string) ?? ['""']).join(' OR ');
  return {
    run(i, filtered) {
      if (!filtered) return top.all(match(i), K);
      const found: unknown[] = [];
      for (const row of all.iterate(match(i)) as IterableIterator<[number, number]>) {
        if (!allowed.has(row[0])) continue;
        found.push(row);
        if (found.length >= K) break;
      }
      return found;
    },
    close: () => db.close(),
  };
}

/** A model directory: the ONNX file with the MiniLM tokenizer. */
function modelDir(onnx: string): string {
  const dir = mkdtempSync(join(os.tmpdir(), 'semvec-bench-reranker-'));
  copyFileSync(onnx, join(dir, 'model.onnx'));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(tokenizerDir as string, f), join(dir, f));
  return dir;
}

/** A random-weight cross-encoder of ms-marco-MiniLM-L-6-v2's shape, if Python's onnx is here; else undefined. */
function makeMiniLmShapeReranker(): string | undefined {
  const out = join(mkdtempSync(join(os.tmpdir(), 'semvec-bench-ce-')), 'model.onnx');
  const r = spawnSync('/usr/bin/python3', [join(repo, 'test', 'fixtures', 'make-cross-encoder.py'), '--preset', 'minilm-l6', '--out', out], { encoding: 'utf8' });
  return r.status === 0 ? out : undefined;
}

interface RerankTiming {
  model: string;
  candidates: number;
  medianMs: number;
  msPerCandidate: number;
  samples: number;
}

async function benchRerank(onnx: string, label: string, corpus: readonly string[], queryTexts: readonly string[], counts: readonly number[], samples: number): Promise<RerankTiming[]> {
  const dir = modelDir(onnx);
  const reranker = await Reranker.load(dir);
  const out: RerankTiming[] = [];
  try {
    for (const c of counts) {
      progress(`reranking ${c} candidates with ${label}`);
      const passages = (i: number) => corpus.slice((i * c) % Math.max(1, corpus.length - c), ((i * c) % Math.max(1, corpus.length - c)) + c);
      await reranker.score(queryTexts[0] as string, passages(0));
      const times = await timeEachAsync(samples, (i) => reranker.score(queryTexts[i % queryTexts.length] as string, passages(i + 1)));
      const ms = median(times) * 1e3;
      out.push({ model: label, candidates: c, medianMs: ms, msPerCandidate: ms / c, samples });
    }
  } finally {
    await reranker.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

interface QualityResult {
  documents: number;
  queries: number;
  lsaDim: number;
  lsaSeconds: number;
  runs: (Omit<RetrievalRun, 'perQuery'> & { fusion: string; meaningless?: string })[];
}

async function benchQuality(pages: readonly ManPage[], p: ReturnType<typeof parseParams>, toyOnnx: string | undefined): Promise<QualityResult> {
  // Pages whose description is unique: each query has exactly one relevant document.
  const count = new Map<string, number>();
  for (const pg of pages) count.set(pg.description.toLowerCase(), (count.get(pg.description.toLowerCase()) ?? 0) + 1);
  const seen = new Set<string>();
  const unique = pages.filter((pg) => {
    const text = pg.paragraphs.join(' ').split(' ').slice(0, 300).join(' ');
    if (count.get(pg.description.toLowerCase()) !== 1 || text.split(' ').length < 20 || seen.has(text)) return false;
    seen.add(text);
    return true;
  });
  const rand = mulberry32(5);
  const chosen = [...unique];
  for (let i = chosen.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [chosen[i], chosen[j]] = [chosen[j] as ManPage, chosen[i] as ManPage];
  }
  const docsPages = chosen.slice(0, p.qualityDocs);
  const documents = docsPages.map((pg) => pg.paragraphs.join(' ').split(' ').slice(0, 300).join(' '));
  const nq = Math.min(p.qualityQueries, documents.length);
  const queries = docsPages.slice(0, nq).map((pg) => pg.description);
  const relevant = queries.map((_, i) => [i]);
  progress(`quality: LSA (${p.lsaDim}-d) over ${fmtInt(documents.length)} documents`);
  const t0 = now();
  const lsa = buildLsa(documents, p.lsaDim);
  const lsaSeconds = now() - t0;
  const embeddings = { documents: lsa.documents, queries: lsa.embed(queries) };
  const task = { documents, queries, relevant };
  const runs: QualityResult['runs'] = [];
  const strip = (r: RetrievalRun, fusion: string, meaningless?: string) => {
    const { perQuery: _, ...rest } = r;
    runs.push({ ...rest, fusion, ...(meaningless ? { meaningless } : {}) });
  };
  progress('quality: vector (LSA), keyword and hybrid (RRF)');
  const rrf = await evaluateRetrieval(null, task, { k: K, modes: ['vector', 'keyword', 'hybrid'], embeddings });
  for (const r of rrf.runs) strip(r, r.mode === 'hybrid' ? 'rrf k=60' : '-');
  progress('quality: hybrid (weighted)');
  const weighted = await evaluateRetrieval(null, task, { k: K, modes: ['hybrid'], embeddings, fusion: { method: 'weighted', alpha: 0.5 } });
  for (const r of weighted.runs) strip(r, 'weighted alpha=0.5');
  if (toyOnnx) {
    progress('quality: each mode reranked by the toy random-weight cross-encoder');
    const dir = modelDir(toyOnnx);
    const reranker = await Reranker.load(dir);
    try {
      // Meaningless numbers (random weights), so a sample of the queries is enough to show the pipeline runs.
      const sample = Math.min(RERANKED_QUERIES, nq);
      const sub = { documents, queries: queries.slice(0, sample), relevant: relevant.slice(0, sample) };
      const subEmbeddings = { documents: embeddings.documents, queries: embeddings.queries.subarray(0, sample * p.lsaDim) };
      const reranked = await evaluateRetrieval(null, sub, { k: K, modes: ['vector', 'keyword', 'hybrid'], embeddings: subEmbeddings, rerank: reranker, rerankCandidates: 20 });
      for (const r of reranked.runs.filter((x) => x.reranked)) strip(r, r.mode === 'hybrid' ? 'rrf k=60' : '-', `random-weight reranker, first ${sample} queries: its ranking means nothing`);
    } finally {
      await reranker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { documents: documents.length, queries: nq, lsaDim: p.lsaDim, lsaSeconds, runs };
}

function parseParams() {
  const v = parseCommand(COMMAND);
  return {
    sizes: v.n,
    dim: v.dim,
    queries: v.queries,
    pages: v.pages,
    qualityDocs: v['quality-docs'],
    qualityQueries: v['quality-queries'],
    lsaDim: v['lsa-dim'],
    rerankCandidates: v['rerank-candidates'],
    skipRerank: v['skip-rerank'],
    skipQuality: v['skip-quality'],
    out: v.out,
    tmp: v.tmp,
    quick: v.quick,
  };
}

async function main(): Promise<void> {
  const p = parseParams();
  const machine = machineInfo();
  const loadBefore = os.loadavg();
  console.log(`semvec hybrid search benchmark${p.quick ? ' (quick)' : ''}`);
  printMachine(machine);
  console.log(`  params    N ${p.sizes.map(fmtInt).join(', ')}; dim ${p.dim}; nResults ${K}; ${p.queries} timed queries (+${WARMUP} warm-up) per mode; 1% where = { bucket: 7 }`);
  console.log(`  load      ${loadText(loadBefore, ', ')} (1, 5, 15 min averages at the start; other processes share the machine)`);

  progress(`reading up to ${fmtInt(p.pages)} manual pages from /usr/share/man`);
  let t0 = now();
  const pages = readManPages('/usr/share/man', p.pages);
  const corpus = chunks(pages);
  console.log(`  corpus    ${fmtInt(pages.length)} manual pages, ${fmtInt(corpus.length)} paragraphs of 8-120 words (read in ${fmt(now() - t0, 1)} s)`);
  if (corpus.length === 0) throw new Error('no manual pages under /usr/share/man: the benchmark needs real text');
  const queryTexts = pages.map((pg) => pg.description);

  const sizes: SizeResult[] = [];
  for (const n of p.sizes) sizes.push(await benchSize(n, corpus, queryTexts, p));

  console.log('\nLatency per query (ms; vectors random, so vector-side results mean nothing here, only their cost):');
  const labels = Object.keys(sizes[0]?.latency ?? {});
  console.log(table(['N', 'query', 'median ms', 'p99 ms'], sizes.flatMap((s) => labels.map((l) => [fmtInt(s.n), l, fmt(s.latency[l]!.medianMs, 2), fmt(s.latency[l]!.p99Ms, 2)]))));
  for (const s of sizes) {
    for (const w of ['', ' + 1% where']) {
      const before = s.latency[`${BASELINE}${w}`];
      const after = s.latency[`keyword${w}`];
      if (before && after) console.log(`  N ${fmtInt(s.n)}: keyword${w} median ${fmt(before.medianMs / after.medianMs, 1)}x faster than every match scored (p99 ${fmt(before.p99Ms / after.p99Ms, 1)}x)`);
    }
  }
  console.log('\nKeyword index (FTS5, unicode61):');
  console.log(
    table(
      ['N', 'add all records s', 'FTS size', 'database size', 'FTS rebuild s'],
      sizes.map((s) => [fmtInt(s.n), fmt(s.addSeconds, 1), s.ftsBytes === undefined ? '-' : fmtBytes(s.ftsBytes), fmtBytes(s.dbBytes), fmt(s.ftsRebuildSeconds, 2)]),
    ),
  );

  const rerank: RerankTiming[] = [];
  const toyOnnx = tokenizerDir ? join(repo, 'test', 'fixtures', 'toy-cross-encoder', 'model.onnx') : undefined;
  if (p.skipRerank) {
    console.log('\nRerank latency: skipped (--skip-rerank)');
  } else if (tokenizerDir) {
    progress('making a random-weight cross-encoder of ms-marco-MiniLM-L-6-v2 shape');
    const minilm = makeMiniLmShapeReranker();
    if (minilm) rerank.push(...(await benchRerank(minilm, 'MiniLM-L6 shape (random weights)', corpus, queryTexts, p.rerankCandidates, p.quick ? 2 : 3)));
    if (toyOnnx) rerank.push(...(await benchRerank(toyOnnx, 'toy tiny (random weights)', corpus, queryTexts, p.rerankCandidates, p.quick ? 2 : 3)));
    console.log('\nRerank latency per query (cost only: random weights, so the order they give means nothing):');
    console.log(table(['model', 'candidates', 'median ms', 'ms per candidate'], rerank.map((r) => [r.model, String(r.candidates), fmt(r.medianMs, 1), fmt(r.msPerCandidate, 2)]), '  ', 2));
  } else {
    console.log('\nRerank latency: skipped (no all-MiniLM-L6-v2 tokenizer in shared/models)');
  }

  t0 = now();
  const quality = p.skipQuality ? undefined : await benchQuality(pages, p, toyOnnx);
  if (quality) {
    console.log(
      `\nRetrieval quality @${K}: ${fmtInt(quality.documents)} manual pages (first 300 words, NAME and SYNOPSIS left out), ${fmtInt(quality.queries)} queries = ` +
        `their NAME descriptions, each relevant to its own page; vectors: LSA ${quality.lsaDim}-d (built in ${fmt(quality.lsaSeconds, 1)} s)`,
    );
    console.log(
      table(
        ['mode', 'fusion', 'reranked', 'nDCG@10', 'recall@10', 'MRR'],
        quality.runs.map((r) => [r.mode, r.fusion, r.reranked ? `yes (MEANINGLESS: random weights; first ${Math.min(RERANKED_QUERIES, quality.queries)} queries)` : 'no', fmt(r.ndcgAtK, 3), fmt(r.recallAtK, 3), fmt(r.mrr, 3)]),
        '  ',
        3,
      ),
    );
  }
  const loadAfter = os.loadavg();
  console.log(`\nLoad average at the end ${loadText(loadAfter, ', ')}.`);
  writeJson(p.out, {
    benchmark: 'semvec hybrid search (bench/hybrid.ts)',
    machine,
    params: { ...p, k: K, warmup: WARMUP, buckets: BUCKETS },
    loadAverage: { start: loadBefore, end: loadAfter },
    corpus: { pages: pages.length, paragraphs: corpus.length },
    sizes,
    rerank,
    quality: quality ? { ...quality, seconds: now() - t0 } : null,
    notes: [
      'Latency: vectors are random (their cost is real, their results are not); keyword texts are real NAME descriptions.',
      'Rerank latency and reranked quality use random-weight cross-encoders: the latency of the MiniLM-L6-shaped one is that of the real model shape; every reranked quality number is meaningless.',
    ],
  });
  console.log(`\nResults written to ${p.out}`);
}

await runMain(COMMAND.script, main);
