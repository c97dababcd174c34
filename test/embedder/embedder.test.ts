import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { Embedder, MODELS, SemvecError } from '../../src/index.js';
import { findModel } from '../../src/embedder/registry.js';
import { loadRuntime, sessionOptions } from '../../src/embedder/runtime.js';
import { codeOf } from '../helpers/errors.js';
import { haveToyModel, sharedModels, toyModelDir } from '../helpers/models.js';

const texts = [
  'The cat sat on the mat.',
  'A considerably longer sentence about vector search engines, inverted files and k-means clustering.',
  'Hi',
  'Semantic search finds documents by meaning rather than by exact keywords.',
];

function close(a: Float32Array, b: Float32Array, tol = 1e-5): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs((a[i] as number) - (b[i] as number))).toBeLessThanOrEqual(tol);
}

describe.skipIf(!haveToyModel)('Embedder on the toy model with the MiniLM tokenizer', () => {
  let dir: string;
  let model: Embedder;
  beforeAll(async () => {
    dir = toyModelDir();
    model = await Embedder.load(dir, { threads: 2 });
  });
  afterAll(async () => {
    await model.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads from a local directory and finds the output size', () => {
    expect(model.dim).toBe(16);
    expect(model.maxTokens).toBe(512);
    expect(model.pooling).toBe('mean');
    expect(model.files.onnx).toMatch(/model\.onnx$/);
  });

  it('returns one row per text, in order, whatever the batching', async () => {
    const all = await model.embed(texts);
    expect(all).toHaveLength(texts.length * 16);
    for (const batchSize of [1, 2, 3, 64]) close(await model.embed(texts, { batchSize }), all);
    // Row i is text i embedded alone: order survives length sorting.
    for (let i = 0; i < texts.length; i++) close(model.rows(all)[i]!, await model.embedOne(texts[i]!));
  });

  it('padding does not change a vector: alone and in a padded batch agree', async () => {
    const alone = await model.embed(['Hi']);
    const padded = await model.embed(['Hi', texts[1]!], { batchSize: 2 });
    close(model.rows(padded)[0]!, alone);
  });

  it('normalises by default, and not when asked', async () => {
    const unit = await model.embed(texts);
    for (const r of model.rows(unit)) expect(Math.hypot(...r)).toBeCloseTo(1, 5);
    const raw = await model.embed(texts, { normalize: false });
    expect(model.rows(raw).some((r) => Math.abs(Math.hypot(...r) - 1) > 1e-3)).toBe(true);
  });

  it('truncates long texts at maxTokens, keeping [SEP] last', async () => {
    const short = await Embedder.load(dir, { maxTokens: 16 });
    try {
      const long = 'word '.repeat(2000);
      expect(short.countTokens(long)).toBe(16);
      // Texts that agree on their first 14 word tokens embed identically.
      close(await short.embedOne(`${long} apple`), await short.embedOne(`${long} banana orange`));
      expect(model.countTokens(long)).toBe(512);
      const v = await model.embedOne(long);
      expect(v.every(Number.isFinite)).toBe(true);
    } finally {
      await short.close();
    }
  });

  it('reports progress per batch', async () => {
    const seen: Array<[number, number]> = [];
    await model.embed(texts, { batchSize: 3, onProgress: (d, n) => void seen.push([d, n]) });
    expect(seen).toEqual([
      [3, 4],
      [4, 4],
    ]);
  });

  it('batchTokens caps a run at that many positions: short texts run many at a time, long ones few, one always', async () => {
    const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i % 7}`).join(' ');
    const mixed = [words(2), words(40), words(3), words(120), words(2), words(40)];
    const lengths = mixed.map((t) => model.countTokens(t)).sort((a, b) => a - b);
    const budget = 2 * lengths[3]!; // two of the mid-length texts fit, the longest runs alone
    const done: number[] = [];
    const capped = await model.embed(mixed, { batchTokens: budget, onProgress: (d) => void done.push(d) });
    // Each run: at most budget positions (count x the longest of the run), or a single text.
    let start = 0;
    for (const end of done) {
      expect(end - start === 1 || (end - start) * lengths[end - 1]! <= budget).toBe(true);
      start = end;
    }
    expect(done.at(-1)).toBe(mixed.length);
    expect(done.length).toBeGreaterThan(1);
    expect(done.slice(-2)).toEqual([mixed.length - 1, mixed.length]); // the longest alone
    close(capped, await model.embed(mixed, { batchTokens: 1 << 20 })); // the same vectors as one run
    close(capped, await model.embed(mixed, { batchTokens: 1 })); // and as one text per run
    await expect(model.embed(mixed, { batchTokens: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: /batchTokens/ });
  });

  it('an empty list gives an empty result; bad input is a typed error', async () => {
    expect(await model.embed([])).toHaveLength(0);
    await expect(model.embed([''])).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: /texts\[0\] is an empty string/ });
    await expect(model.embed([1 as never])).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: /texts\[0\] must be a string; received the number 1/ });
    await expect(model.embed({} as never)).rejects.toBeInstanceOf(SemvecError);
    await expect(model.embed(texts, { batchSize: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('sessions run with the intra-op threads asked for, sleeping instead of spinning between operators', async () => {
    const { ort } = await loadRuntime();
    const create = vi.spyOn(ort.InferenceSession, 'create');
    try {
      const m = await Embedder.load(dir, { threads: 2 });
      await m.close();
      expect(create).toHaveBeenCalledTimes(1);
      expect(create.mock.calls[0]![1]).toEqual(sessionOptions(2));
      expect(sessionOptions(2)).toMatchObject({ intraOpNumThreads: 2, interOpNumThreads: 1, extra: { session: { intra_op: { allow_spinning: '0' } } } });
    } finally {
      create.mockRestore();
    }
  });

  it('a closed embedder refuses work', async () => {
    const m = await Embedder.load(dir);
    await m.close();
    await expect(m.embed(['x'])).rejects.toMatchObject({ code: 'ERR_CLOSED', message: /closed/ });
  });

  it('rejects bad arguments and directories that are not models', async () => {
    await expect(Embedder.load('' as string)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(Embedder.load(dir, { threads: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(Embedder.load(dir, { pooling: 'max' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});

const toyQuantized = join(sharedModels, 'toy-random-bert', 'model_quantized.onnx');
describe.skipIf(!haveToyModel || !existsSync(toyQuantized))('precision: the toy model and its int8 export', () => {
  let dir: string;
  beforeAll(() => {
    dir = toyModelDir();
    mkdirSync(join(dir, 'onnx'));
    copyFileSync(toyQuantized, join(dir, 'onnx', 'model_quantized.onnx'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("dtype 'q8' runs the int8 file, 'fp32' the fp32 one, and their vectors agree", async () => {
    const q8 = await Embedder.load(dir, { dtype: 'q8', threads: 2 });
    const fp32 = await Embedder.load(dir, { dtype: 'fp32', threads: 2 });
    try {
      expect(q8.dtype).toBe('q8');
      expect(q8.files.onnx).toBe(join(dir, 'onnx', 'model_quantized.onnx'));
      expect(fp32.dtype).toBe('fp32');
      expect(fp32.files.onnx).toBe(join(dir, 'model.onnx'));
      expect(q8.dim).toBe(fp32.dim);
      const a = q8.rows(await q8.embed(texts));
      const b = fp32.rows(await fp32.embed(texts));
      for (let i = 0; i < texts.length; i++) {
        const cos = a[i]!.reduce((s, x, j) => s + x * (b[i]![j] as number), 0);
        expect(cos, texts[i]).toBeGreaterThan(0.95);
        expect(a[i]!.some((x, j) => x !== b[i]![j])).toBe(true); // two different graphs ran
      }
    } finally {
      await q8.close();
      await fp32.close();
    }
  });

  it("dtype 'q8' on a directory without an int8 file is ERR_NOT_FOUND; a bad dtype is ERR_INVALID_ARGUMENT", async () => {
    const plain = toyModelDir();
    try {
      await expect(Embedder.load(plain, { dtype: 'q8' })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND', message: /no int8 \(q8\) export: looked for .*model_quantized\.onnx/ });
      await expect(Embedder.load(plain, { dtype: 'fp16' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: /options\.dtype/ });
      expect((await Embedder.load(plain, { dtype: 'auto' }).then(async (m) => (await m.close(), m.dtype)))).toBe('fp32');
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
  });
});

describe('model names and paths', () => {
  it('a relative path that does not exist is ERR_NOT_FOUND naming it, not a malformed hub id', async () => {
    for (const path of ['./no-such-model', '../no-such-model', './models/no-such-model']) {
      const err = await Embedder.load(path, { offline: true }).then(
        () => undefined,
        (e: unknown) => e as SemvecError,
      );
      expect(err).toBeInstanceOf(SemvecError);
      expect(err!.code).toBe('ERR_NOT_FOUND');
      expect(err!.message).toContain(`${JSON.stringify(path)} is neither a local directory nor a known model name`);
    }
  });
});

describe('model registry', () => {
  it("knows the walkthrough's models by short name and hub id", () => {
    expect(Object.keys(MODELS)).toEqual([
      'all-MiniLM-L6-v2',
      'all-mpnet-base-v2',
      'paraphrase-multilingual-MiniLM-L12-v2',
      'msmarco-distilbert-base-v4',
    ]);
    expect(findModel('sentence-transformers/all-MiniLM-L6-v2')).toMatchObject({ name: 'all-MiniLM-L6-v2', dim: 384, maxTokens: 256 });
    expect(findModel('all-mpnet-base-v2')?.dim).toBe(768);
    expect(findModel('nope')).toBeUndefined();
    expect(codeOf(() => undefined)).toBeUndefined();
  });
});

const realDir = process.env.SEMVEC_MODEL_DIR;
describe('real all-MiniLM-L6-v2 weights', () => {
  it.skipIf(!realDir)(
    `matches the published reference values${realDir ? '' : ' (skipped: set SEMVEC_MODEL_DIR to a directory with the real model.onnx to run)'}`,
    async () => {
      const model = await Embedder.load(realDir as string);
      try {
        expect(model.dim).toBe(384);
        const v = await model.embedOne('This is an example sentence');
        [0.0676, 0.0634, 0.0488, 0.0793, 0.0374].forEach((ref, i) => expect(Math.abs((v[i] as number) - ref)).toBeLessThan(0.01));
        const [cat, feline, ml] = model.rows(await model.embed(['A cat sits on the mat.', 'A feline rests on a rug.', 'Gradient descent minimises a loss.']));
        const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * (b[i] as number), 0);
        expect(dot(cat!, feline!)).toBeGreaterThan(dot(cat!, ml!) + 0.2);
      } finally {
        await model.close();
      }
    },
  );
  if (!realDir) console.log('real-model embedding test skipped: set SEMVEC_MODEL_DIR to the all-MiniLM-L6-v2 directory (with model.onnx) to run it');
});
