/**
 * The `semvec` command line, run as a subprocess (`node --import tsx
 * src/cli/main.ts ...`) in a temporary working directory, offline, with the
 * toy model (random weights, real MiniLM tokenizer): identical texts get
 * identical embeddings, so a query equal to a stored document finds it
 * first with score 1; rankings are otherwise meaningless.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { haveToyModel, haveToyReranker, toyModelDir, toyRerankerDir } from '../helpers/models.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const mainTs = join(root, 'src', 'cli', 'main.ts');
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

const work = mkdtempSync(join(tmpdir(), 'semvec-cli-'));
const model = haveToyModel ? toyModelDir() : '';

/** The CLI processes still running. */
const running = new Set<ChildProcess>();

/** Runs the CLI in `work` (piped: stdout is not a terminal), offline. */
function semvec(...args: string[]): Promise<Run> {
  return semvecWith({}, ...args);
}

/** {@link semvec} with more environment variables. */
function semvecWith(more: NodeJS.ProcessEnv, ...args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, SEMVEC_OFFLINE: '1', SEMVEC_CACHE: join(work, 'cache'), ...more };
  if (more.SEMVEC_PROGRESS_INTERVAL === undefined) delete env.SEMVEC_PROGRESS_INTERVAL;
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--import', tsx, mainTs, ...args], { cwd: work, env, encoding: 'utf8', maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      running.delete(child);
      const status = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ status, stdout, stderr });
    });
    running.add(child);
  });
}

// A test awaits its processes, so one still running belongs to a test that
// timed out: stop it, or it would hold the database's lock during the next test.
afterEach(async () => {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          if (child.exitCode !== null || child.signalCode !== null || !child.kill('SIGKILL')) resolve();
        }),
    ),
  );
  running.clear();
});

function expectOk(r: Run): void {
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
}

/** A failure: non-zero exit, nothing on stdout, exactly one line on stderr, no stack trace. */
function expectOneLineError(r: Run, pattern: RegExp): void {
  expect(r.status).not.toBe(0);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^semvec: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

const ESC = '\u001b[';

interface QueryJson {
  query: string;
  collection: string;
  results: { rank: number; id: string; score: number; distance: number; document: string | null; metadata: Record<string, unknown> | null }[];
}

beforeAll(() => {
  const docs = join(work, 'docs');
  mkdirSync(join(docs, 'sub'), { recursive: true });
  mkdirSync(join(docs, '.hidden'), { recursive: true });
  writeFileSync(join(docs, 'a.txt'), 'Transformers use attention to model language.\n');
  writeFileSync(join(docs, 'notes.md'), '# Databases\n\nSQL joins tables together.\n\n\nIndexes speed up database queries.\n');
  writeFileSync(
    join(docs, 'sub', 'data.jsonl'),
    [
      JSON.stringify({ text: 'BERT is a transformer model', category: 'ml', year: 2018, nested: { skipped: true } }),
      '',
      JSON.stringify({ text: 'Postgres is a relational database', category: 'db', year: 1996 }),
      JSON.stringify({ text: 'Redis keeps data in memory', category: 'db', year: 2009, fast: true }),
    ].join('\n'),
  );
  writeFileSync(join(docs, '.hidden', 'secret.txt'), 'never indexed');
  writeFileSync(join(docs, 'table.csv'), 'not,indexed\n');
  writeFileSync(
    join(work, 'pairs.jsonl'),
    [
      { a: 'a cat sits on the mat', b: 'a kitten rests on a rug', label: 1 },
      { a: 'a cat sits on the mat', b: 'stock markets fell sharply', label: 0 },
      { a: 'the weather is nice today', b: 'it is sunny outside', label: 1 },
      { a: 'I like pizza', b: 'a lecture on quantum physics', label: 0 },
    ]
      .map((p) => JSON.stringify(p))
      .join('\n'),
  );
  writeFileSync(
    join(work, 'lines.txt'),
    ['cats are cute pets', 'dogs are loyal pets', '', 'the stock market fell', 'shares dropped sharply', 'python is a language', 'javascript runs in browsers'].join('\n'),
  );
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  if (model) rmSync(model, { recursive: true, force: true });
});

describe.skipIf(!haveToyModel)('semvec index and query', () => {
  const db = 'db';

  it('index reads .txt, .md (per paragraph) and .jsonl files under a directory and prints a one-line summary', async () => {
    const r = await semvec('index', 'docs', '--db', db, '--model', model, '--split', 'paragraph');
    expectOk(r);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    // a.txt#1, notes.md#1-3, data.jsonl:1, :3, :4 (blank line 2 skipped); .hidden and .csv ignored
    expect(lines[0]).toMatch(/^Indexed 7 documents from 3 files into "default" in [\d.]+ s \([\d.,]+ docs\/s, [\d,]+ tokens\/s; 7 new, 0 updated, 0 unchanged\); the collection holds 7 documents\.$/);
  });

  it('re-indexing is idempotent; changed files are updated and --prune removes what disappeared', async () => {
    const again = await semvec('index', 'docs', '--db', db, '--split', 'paragraph'); // the collection's model is reused
    expectOk(again);
    expect(again.stdout).toMatch(/0 new, 0 updated, 7 unchanged\); the collection holds 7 documents/);

    writeFileSync(join(work, 'docs', 'a.txt'), 'Transformers use self-attention.\n');
    writeFileSync(join(work, 'docs', 'notes.md'), '# Databases\n\nSQL joins tables together.\n');
    const edited = await semvec('index', 'docs', '--db', db, '--split', 'paragraph', '--prune');
    expectOk(edited);
    expect(edited.stdout).toMatch(/Indexed 6 documents .*0 new, 1 updated, 5 unchanged, 1 removed\); the collection holds 6 documents/);

    const list = await semvec('query', 'anything', '--db', db, '-k', '50', '--json');
    expectOk(list);
    const ids = (JSON.parse(list.stdout) as QueryJson).results.map((m) => m.id).sort();
    expect(ids).toEqual(['docs/a.txt#1', 'docs/notes.md#1', 'docs/notes.md#2', 'docs/sub/data.jsonl:1', 'docs/sub/data.jsonl:3', 'docs/sub/data.jsonl:4']);
  });

  it('query prints a plain table: rank, score, id, snippet, metadata', async () => {
    const r = await semvec('query', 'BERT is a transformer model', '--db', db, '-k', '3');
    expectOk(r);
    expect(r.stdout).not.toContain(ESC);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^rank\s+score\s+id\s+snippet\s+metadata$/);
    expect(lines[1]).toMatch(/^-+( +-+){4}$/);
    expect(lines).toHaveLength(2 + 3);
    expect(lines[2]).toMatch(/^\s*1\s+1\.000\s+docs\/sub\/data\.jsonl:1\s+BERT is a transformer model\s+category=ml year=2018$/);
  });

  it('query opens the directory read-only: it runs while a writing client holds it', async () => {
    const { Client } = await import('../../src/index.js');
    const writer = await Client.open(join(work, db));
    try {
      const r = await semvec('query', 'BERT is a transformer model', '--db', db, '-k', '1', '--json');
      expectOk(r);
      expect((JSON.parse(r.stdout) as { results: { id: string }[] }).results[0]?.id).toBe('docs/sub/data.jsonl:1');
      const blocked = await semvec('index', join(work, 'docs'), '--db', db);
      expect(blocked.status).toBe(1);
      expect(blocked.stderr).toMatch(/ERR_LOCKED|open in another process/);
    } finally {
      await writer.close();
    }
  });

  it('query --json with --where and --min-score', async () => {
    const all = await semvec('query', 'Redis keeps data in memory', '--db', db, '--where', '{"category": "db"}', '--json');
    expectOk(all);
    const parsed = JSON.parse(all.stdout) as QueryJson;
    expect(parsed.query).toBe('Redis keeps data in memory');
    expect(parsed.collection).toBe('default');
    expect(parsed.results.map((m) => m.id).sort()).toEqual(['docs/sub/data.jsonl:3', 'docs/sub/data.jsonl:4']);
    expect(parsed.results[0]).toMatchObject({ rank: 1, id: 'docs/sub/data.jsonl:4', document: 'Redis keeps data in memory', metadata: { category: 'db', year: 2009, fast: true } });
    expect(parsed.results[0]!.score).toBeCloseTo(1, 4);

    const strict = await semvec('query', 'Redis keeps data in memory', '--db', db, '--min-score', '0.9999', '--json');
    expectOk(strict);
    const hits = (JSON.parse(strict.stdout) as QueryJson).results;
    expect(hits[0]!.id).toBe('docs/sub/data.jsonl:4');
    for (const h of hits) expect(h.score).toBeGreaterThanOrEqual(0.9999);

    const none = await semvec('query', 'Redis', '--db', db, '--where', '{"category": "nothing"}');
    expectOk(none);
    expect(none.stdout).toMatch(/^No matches in "default"/);
  });

  it('query --mode keyword ranks by words (BM25) and loads no model; --mode hybrid fuses; both take document regexes', async () => {
    const kw = await semvec('query', 'redis MEMORY', '--db', db, '--mode', 'keyword', '--json', '--model', '/nonexistent/model');
    expectOk(kw);
    const parsed = JSON.parse(kw.stdout) as QueryJson & { mode: string; model: string | null };
    expect(parsed.mode).toBe('keyword');
    expect(parsed.model).toBeNull();
    expect(parsed.results[0]).toMatchObject({ id: 'docs/sub/data.jsonl:4', scores: { keywordRank: 1 } });
    const hy = await semvec('query', 'Redis keeps data in memory', '--db', db, '--mode', 'hybrid', '--where-document', '{"$regex": "(?i)^redis"}', '--json');
    expectOk(hy);
    const hits = (JSON.parse(hy.stdout) as QueryJson).results;
    expect(hits.map((h) => h.id)).toEqual(['docs/sub/data.jsonl:4']);
    expect((hits[0] as unknown as { scores: Record<string, number> }).scores).toMatchObject({ vectorRank: 1, keywordRank: 1 });
    const bad = await semvec('query', 'x', '--db', db, '--mode', 'bm25');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--mode must be vector, keyword or hybrid/);
  });

  it.skipIf(!haveToyReranker)('query --rerank reorders the candidates with a cross-encoder and reports its scores', async () => {
    const rerankerDir = toyRerankerDir();
    try {
      const r = await semvec('query', 'Redis keeps data in memory', '--db', db, '--mode', 'hybrid', '--rerank', rerankerDir, '--rerank-candidates', '4', '-k', '2', '--json');
      expectOk(r);
      const parsed = JSON.parse(r.stdout) as QueryJson & { reranker: string };
      expect(parsed.reranker).toBe(basename(rerankerDir));
      const results = parsed.results as unknown as { score: number; scores: { rerank: number; keywordRank: number } }[];
      expect(results).toHaveLength(2);
      for (const m of results) expect(m.scores.rerank).toBe(m.score);
      expect(results[0]!.score).toBeGreaterThanOrEqual(results[1]!.score);
      const bad = await semvec('query', 'x', '--db', db, '--rerank-candidates', '4');
      expect(bad.status).toBe(2);
      expect(bad.stderr).toMatch(/--rerank-candidates needs --rerank/);
    } finally {
      rmSync(rerankerDir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!haveToyModel)('semvec index of long files: chunks, warnings, progress', () => {
  const db = 'db-long';
  // About 4,000 tokens: far beyond the toy model's 512.
  const manual = Array.from({ length: 60 }, (_, i) =>
    `Section ${i}. The option --flag-${i} changes how the program reads its input, writes its output and reports errors.\n\n`.repeat(1) +
    `Details of section ${i}: defaults, limits and examples are given here in a paragraph of its own.`,
  ).join('\n\n');
  beforeAll(() => {
    mkdirSync(join(work, 'manuals'), { recursive: true });
    writeFileSync(join(work, 'manuals', 'tool.txt'), manual);
    writeFileSync(join(work, 'manuals', 'short.md'), 'A short page.\n');
  });

  it('--split file warns on stderr that the text beyond the window was not embedded', async () => {
    const r = await semvec('index', 'manuals', '--db', db, '--collection', 'whole', '--model', model);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Indexed 2 documents from 2 files/);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^semvec: warning: 1 document is longer than the model's 512-token window and was embedded from the beginning only \(manuals\/tool\.txt: [\d,]+ tokens dropped\); index with --split tokens or --split packed/);
  });

  it('--split tokens stores every part of a long file as linked chunks within the window; --per-source keeps the best chunk of each file', async () => {
    const r = await semvec('index', 'manuals', '--db', db, '--collection', 'chunks', '--model', model, '--split', 'tokens', '--window', '128', '--overlap', '16');
    expectOk(r);
    const n = Number(/^Indexed (\d+) chunks from 2 files/.exec(r.stdout)?.[1]);
    expect(n).toBeGreaterThan(25);
    const { Client, Embedder } = await import('../../src/index.js');
    const client = await Client.open(join(work, db), { readOnly: true });
    const embedder = await Embedder.load(model);
    try {
      const col = await client.getCollection('chunks');
      const parts = (await col.get({ where: { source: 'manuals/tool.txt' } })).sort((a, b) => (a.metadata!.chunk as number) - (b.metadata!.chunk as number));
      expect(parts).toHaveLength(n - 1);
      parts.forEach((p, i) => {
        expect(p.id).toBe(`manuals/tool.txt#${i + 1}`);
        expect(p.metadata).toMatchObject({ source: 'manuals/tool.txt', chunk: i + 1 });
        expect(manual.slice(p.metadata!.chunk_start as number, p.metadata!.chunk_end as number)).toBe(p.document);
        expect(embedder.countTokens(p.document!)).toBeLessThanOrEqual(128);
      });
      expect(parts.at(-1)!.metadata!.chunk_end).toBe(manual.length); // nothing dropped at the end
    } finally {
      await embedder.close();
      await client.close();
    }
    const last = manual.slice(-80);
    const best = await semvec('query', last, '--db', db, '--collection', 'chunks', '-k', '2', '--per-source', '--json');
    expectOk(best);
    const results = (JSON.parse(best.stdout) as QueryJson).results;
    expect(results.map((m) => m.metadata?.source)).toEqual(['manuals/tool.txt', 'manuals/short.md']);
    const many = await semvec('query', last, '--db', db, '--collection', 'chunks', '-k', '2', '--json');
    expect((JSON.parse(many.stdout) as QueryJson).results.map((m) => m.metadata?.source)).toEqual(['manuals/tool.txt', 'manuals/tool.txt']);
  });

  it('--split packed keeps paragraphs whole; --window beyond the model and --window without chunking are usage errors', async () => {
    const r = await semvec('index', 'manuals', '--db', db, '--collection', 'packed', '--model', model, '--split', 'packed', '--window', '100');
    expectOk(r);
    const bad = await semvec('index', 'manuals', '--db', db, '--collection', 'packed', '--model', model, '--split', 'tokens', '--window', '9999');
    expect(bad.status).toBe(2);
    expectOneLineError(bad, /--window must be an integer from 3 to 512; received the number 9999/);
    const alone = await semvec('index', 'manuals', '--db', db, '--window', '100');
    expect(alone.status).toBe(2);
    expectOneLineError(alone, /--window and --overlap go with --split tokens or --split packed/);
  });

  it('piped, it prints plain progress lines on stderr at the interval asked (none in a short run by default)', async () => {
    const r = await semvecWith({ SEMVEC_PROGRESS_INTERVAL: '0' }, 'index', 'manuals', '--db', db, '--collection', 'progress', '--model', model, '--split', 'tokens', '--window', '64', '--batch-size', '4');
    expect(r.status).toBe(0);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const l of lines) {
      expect(l).toMatch(/^semvec index: \d+\/2 files \(\d+%\), [\d,]+ docs read, [\d,]+ embedded and written, [\d.,]+ docs\/s, [\d,]+ tokens\/s, /);
      expect(l).not.toContain(ESC);
    }
    expect(lines.at(-1)).toMatch(/^semvec index: 2\/2 files \(100%\), .* done in (\d+ s|\d+ min \d+ s|\d+ h \d+ min)$/); // however slow the machine
    const written = lines.map((l) => Number(/([\d,]+) embedded and written/.exec(l)![1]!.replace(/,/g, '')));
    for (let i = 1; i < written.length; i++) expect(written[i]).toBeGreaterThanOrEqual(written[i - 1]!);
  });
});

describe('semvec bench', () => {
  it('measures recall@10, QPS and speed-up per nprobe, and writes JSON and an SVG chart', async () => {
    const r = await semvec('bench', '--n', '5000', '--dim', '16', '--queries', '50', '--nprobe', '1,4,16', '--out', 'out/bench.json', '--svg', 'out/bench.svg');
    expectOk(r);
    expect(r.stdout).toMatch(/^semvec bench: N = 5,000 x 16 \(l2\)/);
    expect(r.stdout).toMatch(/nprobe\s+recall@10\s+QPS\s+median ms\s+speed-up/);
    expect(r.stdout).toMatch(/\n\s+exact\s+1\.000\s/);
    const report = JSON.parse(readFileSync(join(work, 'out', 'bench.json'), 'utf8')) as {
      params: { n: number; dim: number; nlist: number; nprobes: number[] };
      flat: { qps: number };
      rows: { nprobe: number; recall: number; qps: number; speedup: number }[];
    };
    expect(report.params).toMatchObject({ n: 5000, dim: 16, nprobes: [1, 4, 16] });
    expect(report.rows.map((x) => x.nprobe)).toEqual([1, 4, 16]);
    for (const row of report.rows) {
      expect(row.recall).toBeGreaterThanOrEqual(0);
      expect(row.recall).toBeLessThanOrEqual(1);
      expect(row.qps).toBeGreaterThan(0);
      expect(row.speedup).toBeCloseTo(row.qps / report.flat.qps, 6);
    }
    expect(report.rows[2]!.recall).toBeGreaterThan(report.rows[0]!.recall);
    const svg = readFileSync(join(work, 'out', 'bench.svg'), 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('recall@10');
    expect(svg).toContain('<polyline');
  });

  it('benchmarks sq8 lists with --encoding, and rejects an unknown encoding', async () => {
    const r = await semvec('bench', '--n', '4000', '--dim', '16', '--queries', '40', '--nlist', '64', '--nprobe', '1,64', '--encoding', 'sq8', '--json');
    expectOk(r);
    const report = JSON.parse(r.stdout) as { params: { encoding: string; nlist: number }; rows: { nprobe: number; recall: number }[] };
    expect(report.params.encoding).toBe('sq8');
    expect(report.params.nlist).toBe(64);
    expect(report.rows[1]!.recall).toBe(1); // every list probed, the best 64 re-ranked exactly
    expectOneLineError(await semvec('bench', '--encoding', 'pq'), /--encoding.*pq.*f32, sq8/);
  });
});

describe.skipIf(!haveToyModel)('semvec eval and cluster', () => {
  it('eval prints the comparison table of the models on labelled pairs', async () => {
    const [table, json] = await Promise.all([
      semvec('eval', 'pairs.jsonl', '--models', `${model},${model}`, '--threshold', '0.6'),
      semvec('eval', 'pairs.jsonl', '--models', model, '--json'),
    ]);
    expectOk(table);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('4 pairs (2 similar, 2 different); accuracy at threshold 0.6');
    expect(lines[2]).toMatch(/^model\s+dim\s+size MB\s+texts\/s\s+accuracy\s+best acc\s+ROC AUC$/);
    expect(lines.slice(4)).toHaveLength(2);
    for (const row of lines.slice(4)) expect(row).toMatch(/^semvec-toy-model-\S+\s+16\s+[\d.]+\s+[\d.,]+\s+[01]\.\d{3}\s+[01]\.\d{3}\s+[01]\.\d{3}$/);

    expectOk(json);
    const out = JSON.parse(json.stdout) as { pairs: number; threshold: number; models: { dim: number; accuracy: number; bestAccuracy: number; rocAuc: number }[] };
    expect(out).toMatchObject({ pairs: 4, threshold: 0.5 });
    expect(out.models).toHaveLength(1);
    expect(out.models[0]!.dim).toBe(16);
    expect(out.models[0]!.bestAccuracy).toBeGreaterThanOrEqual(out.models[0]!.accuracy);
  });

  it('eval prints the models that worked, a row naming the error of each model that failed, and exits 1', async () => {
    // A directory with the tokenizer files and a model.onnx that is not an ONNX model.
    const broken = 'broken-model';
    mkdirSync(join(work, broken), { recursive: true });
    writeFileSync(join(work, broken, 'model.onnx'), 'not an onnx model');
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) writeFileSync(join(work, broken, f), readFileSync(join(model, f)));

    const [table, json, only] = await Promise.all([
      semvec('eval', 'pairs.jsonl', '--models', `${model},${broken}`),
      semvec('eval', 'pairs.jsonl', '--models', `${model},./no-such-model`, '--json'),
      semvec('eval', 'pairs.jsonl', '--models', './no-such-model'),
    ]);

    expect(table.status).toBe(1);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('4 pairs (2 similar, 2 different); accuracy at threshold 0.5');
    expect(lines[2]).toMatch(/^model\s+dim\s+size MB/);
    expect(lines.slice(4)).toHaveLength(2);
    expect(lines[4]).toMatch(/^semvec-toy-model-\S+\s+16\s+[\d.]+\s+[\d.,]+\s+[01]\.\d{3}\s+[01]\.\d{3}\s+[01]\.\d{3}$/);
    expect(lines[5]).toMatch(/^broken-model\s+failed: cannot load the ONNX model \S+model\.onnx: .* \(ERR_CORRUPT_FILE\)$/);
    const err = table.stderr.trimEnd().split('\n');
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^semvec: 1 of 2 models failed: broken-model: cannot load the ONNX model .*\(ERR_CORRUPT_FILE\)$/);

    expect(json.status).toBe(1);
    const out = JSON.parse(json.stdout) as { models: { dim: number }[]; failed: { model: string; error: string; code: string }[] };
    expect(out.models).toHaveLength(1);
    expect(out.models[0]!.dim).toBe(16);
    expect(out.failed).toHaveLength(1);
    expect(out.failed[0]).toMatchObject({ model: './no-such-model', code: 'ERR_NOT_FOUND' });
    expect(out.failed[0]!.error).toContain('"./no-such-model" is neither a local directory nor a known model name');
    expect(json.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(json.stderr).toMatch(/^semvec: 1 of 2 models failed: \.\/no-such-model: /);

    // Nothing worked: no table, the model's own error.
    expectOneLineError(only, /^semvec: "\.\/no-such-model" is neither a local directory nor a known model name.*\(ERR_NOT_FOUND\)$/);
    expect(only.status).toBe(1);
  });

  it('eval --modes compares vector, keyword and hybrid on a labelled set, each also reranked with --rerank', async () => {
    // Identical query and document texts: the toy model finds them, and so do their words.
    const documents = ['redis keeps data in memory', 'postgres stores rows on disk', 'kafka streams events between services', 'nginx serves static files'];
    writeFileSync(join(work, 'task.json'), JSON.stringify({ documents, queries: [documents[0], 'kafka events', documents[3]], relevant: [[0], [2], [3]] }));
    const withReranker = haveToyReranker ? toyRerankerDir() : undefined;
    try {
      const [tableRun, json, keywordOnly] = await Promise.all([
        semvec('eval', 'task.json', '--modes', 'vector,keyword,hybrid', '--models', model, '-k', '3'),
        semvec('eval', 'task.json', '--modes', 'vector,keyword,hybrid', '--models', model, '--json', ...(withReranker ? ['--rerank', withReranker, '--rerank-candidates', '4'] : [])),
        semvec('eval', 'task.json', '--modes', 'keyword', '--json'),
      ]);
      expectOk(tableRun);
      const lines = tableRun.stdout.trimEnd().split('\n');
      expect(lines[0]).toBe('3 queries over 4 documents; k = 3');
      expect(lines[2]).toMatch(/^model\s+mode\s+reranked\s+recall@3\s+MRR\s+nDCG@3$/);
      expect(lines.slice(4).map((l) => l.split(/\s+/).slice(1, 3).join(' '))).toEqual(['vector no', 'keyword no', 'hybrid no']);
      expect(lines[5]).toMatch(/keyword\s+no\s+1\.000\s+1\.000\s+1\.000$/); // every query's words are in its document

      expectOk(json);
      type Runs = { queries: number; documents: number; k: number; reranker: string | null; runs: { model: string; mode: string; reranked: boolean; recallAtK: number; mrr: number }[] };
      const out = JSON.parse(json.stdout) as Runs;
      expect(out).toMatchObject({ queries: 3, documents: 4, k: 10 });
      expect(out.runs.map((r) => `${r.mode}${r.reranked ? '+rerank' : ''}`)).toEqual(withReranker ? ['vector', 'keyword', 'hybrid', 'vector+rerank', 'keyword+rerank', 'hybrid+rerank'] : ['vector', 'keyword', 'hybrid']);
      expect(out.reranker).toBe(withReranker ? basename(withReranker) : null);
      for (const r of out.runs) expect(r.recallAtK).toBe(1); // k = 10 holds all four documents

      expectOk(keywordOnly);
      const kw = JSON.parse(keywordOnly.stdout) as Runs;
      expect(kw.runs).toEqual([{ model: '-', mode: 'keyword', reranked: false, recallAtK: 1, mrr: 1, ndcgAtK: 1 }]);
    } finally {
      if (withReranker) rmSync(withReranker, { recursive: true, force: true });
    }

    const bad = await Promise.all([
      semvec('eval', 'task.json', '--modes', 'vector,bm25'),
      semvec('eval', 'pairs.jsonl', '--rerank', 'some-model'),
      semvec('eval', 'task.json', '--modes', 'keyword', '--threshold', '0.7'),
      semvec('eval', 'pairs.jsonl', '--modes', 'keyword'),
    ]);
    expectOneLineError(bad[0]!, /--modes: each must be vector, keyword or hybrid; received "bm25"/);
    expectOneLineError(bad[1]!, /--rerank needs --modes/);
    expectOneLineError(bad[2]!, /--threshold applies to pairs, not to --modes/);
    expectOneLineError(bad[3]!, /pairs\.jsonl: not valid JSON .*with --modes the file is \{"documents"/);
  });

  it('cluster prints each cluster with its members; -k auto uses suggestK', async () => {
    const [three, auto] = await Promise.all([
      semvec('cluster', 'lines.txt', '-k', '3', '--model', model),
      semvec('cluster', 'lines.txt', '-k', 'auto', '--model', model, '--json'),
    ]);
    expectOk(three);
    const text = three.stdout;
    expect(text.split('\n')[0]).toBe('3 clusters of 6 texts');
    expect(text.match(/^Cluster \d \(\d texts?\)$/gm)).toHaveLength(3);
    for (const line of ['cats are cute pets', 'dogs are loyal pets', 'the stock market fell', 'shares dropped sharply', 'python is a language', 'javascript runs in browsers']) {
      expect(text.split('\n').filter((l) => l === `  ${line}`)).toHaveLength(1);
    }

    expectOk(auto);
    const c = JSON.parse(auto.stdout) as { k: number; texts: number; suggestK: { k: number; scores: unknown[] }; clusters: { size: number; members: { index: number; text: string }[] }[] };
    expect(c.texts).toBe(6);
    expect(c.k).toBe(c.suggestK.k);
    expect(c.k).toBeGreaterThanOrEqual(2);
    expect(c.suggestK.scores).toHaveLength(4); // k = 2..5 for 6 texts
    expect(c.clusters.reduce((s, x) => s + x.size, 0)).toBe(6);
    expect(c.clusters.flatMap((x) => x.members.map((m) => m.index)).sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('semvec help and errors', () => {
  it('--help for the root and every command, and --version', async () => {
    const [rootHelp, version, ...helps] = await Promise.all([
      semvec('--help'),
      semvec('--version'),
      ...['index', 'query', 'bench', 'eval', 'cluster'].map((c) => semvec(c, '--help')),
    ]);
    expectOk(rootHelp);
    expect(rootHelp.stdout).toMatch(/^Usage: semvec \[options\] \[command\]/);
    for (const c of ['index', 'query', 'bench', 'eval', 'cluster']) expect(rootHelp.stdout).toMatch(new RegExp(`\\n  ${c} `));
    expectOk(version);
    expect(version.stdout.trim()).toBe(pkg.version);
    expect(pkg.bin.semvec).toBe('./dist/cli/main.js');

    const expected: Record<string, string[]> = {
      index: ['Usage: semvec index [options] <paths...>', '--db <dir>', '--collection <name>', '--model <model>', '--split <mode>', '--window <n>', '--overlap <n>', '--dtype <dtype>', '--engine <engine>', '--text-field <name>', '--batch-size <n>'],
      query: ['Usage: semvec query [options] <text>', '--db <dir>', '-k, --top-k <n>', '--where <json>', '--min-score <score>', '--json'],
      bench: ['Usage: semvec bench [options]', '--n <n>', '--dim <dim>', '--nlist <n>', '--nprobe <list>', '--encoding <encoding>', '--queries <n>', '--metric <metric>', '--seed <seed>', '--out <file>', '--svg <file>'],
      eval: ['Usage: semvec eval [options] <file>', '--models <list>', '--threshold <t>', '--modes <list>', '--rerank <model>'],
      cluster: ['Usage: semvec cluster [options] <file>', '-k, --clusters <k>', '--model <model>', '--seed <seed>'],
    };
    Object.values(expected).forEach((needles, i) => {
      const r = helps[i]!;
      expectOk(r);
      for (const n of needles) expect(r.stdout).toContain(n);
    });
  });

  it('the process exits 2 for bad usage and 1 for other failures, with one line on stderr (every path: program.test.ts)', async () => {
    const cases: [string[], RegExp, number][] = [
      [[], /^semvec: missing command: index, query, bench, eval, cluster, serve, shards, node, router or doctor \(see 'semvec --help'\)$/, 2],
      [['query', 'hello', '--db', 'db', '--frobnicate'], /unknown option '--frobnicate' \(see 'semvec query --help'\)$/, 2],
      [['cluster', 'missing.txt'], /^semvec: no such file or directory: missing\.txt$/, 1],
    ];
    const runs = await Promise.all(cases.map(([args]) => semvec(...args)));
    runs.forEach((r, i) => {
      const [args, pattern, status] = cases[i]!;
      expectOneLineError(r, pattern);
      expect({ args, status: r.status }).toEqual({ args, status });
    });
  });

  it('--verbose adds the stack trace', async () => {
    const r = await semvec('cluster', 'missing.txt', '--verbose');
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe('semvec: no such file or directory: missing.txt');
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});

describe('test isolation', () => {
  let left: ChildProcess | undefined;

  it('a test that ends with a CLI process still running (as a timed-out test does) ...', () => {
    void semvec('bench', '--n', '200000', '--dim', '64');
    left = [...running][0];
    expect(left).toBeDefined();
  });

  it('... has it stopped before the next test starts', () => {
    expect(running.size).toBe(0);
    expect(left!.exitCode !== null || left!.signalCode !== null).toBe(true);
  });
});
