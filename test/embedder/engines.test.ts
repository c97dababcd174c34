import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Embedder } from '../../src/index.js';
import { findBert } from '../../src/embedder/bert-graph.js';
import { agreement, checkedEngine, NativeEngine, OrtEngine } from '../../src/embedder/engines.js';
import { resolveModelFiles } from '../../src/embedder/model-files.js';
import { openSession, readModelText } from '../../src/embedder/model-load.js';
import { readOnnxGraph } from '../../src/embedder/onnx-file.js';
import { loadRuntime } from '../../src/embedder/runtime.js';
import { TextEncoder } from '../../src/embedder/tokenize.js';
import { native, type NativeEncoderSpec } from '../../src/native.js';
import { simdLevel } from '../../src/index.js';
import { haveMiniLmShapeQ8, haveToyModel, miniLmShapeQ8, miniLmShapeQ8Dir, toyModelDir } from '../helpers/models.js';

/** Texts of 1 to ~200 tokens, words repeating as in real text. */
function corpus(n: number): string[] {
  const words = 'vector index search query graph layer token model batch thread memory file cluster score recall'.split(' ');
  return Array.from({ length: n }, (_, i) => {
    const len = 1 + ((i * 37) % 150);
    return Array.from({ length: len }, (_, j) => words[(i * 5 + j * j) % words.length]).join(' ') + (i % 3 === 0 ? '.' : '');
  });
}

function spec(): NativeEncoderSpec {
  const found = findBert(readOnnxGraph(readFileSync(miniLmShapeQ8)), { heads: 12 });
  if ('reason' in found) throw new Error(found.reason);
  return found.spec;
}

/** onnxruntime on a model directory's int8 file, as an Embedder would run it. */
async function ortEngine(dir: string): Promise<OrtEngine> {
  const { ort, Tokenizer } = await loadRuntime();
  const files = await resolveModelFiles(dir, undefined, { dtype: 'q8' });
  const text = await readModelText(files, Tokenizer);
  const encoder = new TextEncoder(text.tokenizer, 256, text.padId, text.endToken);
  return new OrtEngine(await openSession(ort, files, 2, 'BERT'), ort, encoder);
}

describe.skipIf(!haveMiniLmShapeQ8)("semvec's int8 encoder on the MiniLM-shaped int8 export", () => {
  let dir: string;
  let mine: Embedder;
  let theirs: Embedder;
  beforeAll(async () => {
    dir = miniLmShapeQ8Dir();
    mine = await Embedder.load(dir, { dtype: 'q8', threads: 2, engine: 'semvec' });
    theirs = await Embedder.load(dir, { dtype: 'q8', threads: 2, engine: 'onnxruntime' });
  });
  afterAll(async () => {
    await mine?.close();
    await theirs?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("its vectors agree with onnxruntime's for the same file (centred cosine >= 0.99 for every text)", async () => {
    expect(mine.engine).toBe('semvec');
    expect(mine.engineNote).toBeUndefined();
    expect(theirs.engine).toBe('onnxruntime');
    const texts = corpus(60);
    const a = await mine.embed(texts);
    const b = await theirs.embed(texts);
    const agree = agreement(a, b, 384);
    expect(agree.centred).toBeGreaterThanOrEqual(0.99);
    expect(agree.cosine).toBeGreaterThanOrEqual(0.999);
    // Two different computations ran.
    expect(a.some((x, i) => x !== b[i])).toBe(true);
  });

  it('a text embeds bit for bit the same alone, in any batch, at any place in it, and with 1 or 2 threads', async () => {
    const texts = corpus(24);
    const together = mine.rows(await mine.embed(texts));
    const reversed = mine.rows(await mine.embed([...texts].reverse(), { batchSize: 5 }));
    const one = await Embedder.load(dir, { dtype: 'q8', threads: 1, engine: 'semvec' });
    try {
      expect(one.engine).toBe('semvec');
      for (const i of [0, 3, 11, 23]) {
        const alone = await mine.embed(texts[i]!);
        expect(Buffer.from(alone.buffer).equals(Buffer.from(together[i]!.slice().buffer)), `text ${i}`).toBe(true);
        expect(Buffer.from(alone.buffer).equals(Buffer.from(reversed[texts.length - 1 - i]!.slice().buffer)), `text ${i} reversed`).toBe(true);
        expect(Buffer.from(alone.buffer).equals(Buffer.from((await one.embed(texts[i]!)).buffer)), `text ${i}, 1 thread`).toBe(true);
      }
    } finally {
      await one.close();
    }
  });

  it('a weight in the wrong role (query and value swapped) fails the probe comparison with onnxruntime', async () => {
    // (Query and key swapped would pass here: with random weights the attention is nearly uniform either way,
    // so the swap changes no output.)
    const good = spec();
    const bad: NativeEncoderSpec = { ...good, layers: good.layers.map((l) => ({ ...l, query: l.value, value: l.query })) };
    const reference = await ortEngine(dir);
    try {
      const ok = await checkedEngine(good, 2, reference, 'mean', 'the good spec');
      expect(ok).toBeInstanceOf(NativeEngine);
      await (ok as NativeEngine).close();
      const refused = await checkedEngine(bad, 2, reference, 'mean', 'the swapped spec');
      expect(refused).toEqual({ reason: expect.stringMatching(/disagree on the swapped spec: lowest centred cosine 0?\.\d+ over 12 probe texts/) });
    } finally {
      await reference.close();
    }
  });
});

describe.skipIf(!haveMiniLmShapeQ8)("engine 'auto' and the SIMD level", () => {
  it("below AVX-512 VNNI (SEMVEC_SIMD=avx2) 'auto' keeps onnxruntime and says why; 'semvec' still runs the AVX2 kernels, agreeing with onnxruntime", () => {
    const child = fileURLToPath(new URL('../helpers/engine-child.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', child], { env: { ...process.env, SEMVEC_SIMD: 'avx2' }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { auto: string; note?: string; semvec: string; agreement: { cosine: number; centred: number } };
    expect(out.auto).toBe('onnxruntime');
    expect(out.note).toMatch(/only on AVX-512 VNNI/);
    expect(out.semvec).toBe('semvec');
    expect(out.agreement.cosine).toBeGreaterThan(0.999);
  });

  it("at this machine's level 'auto' picks semvec's encoder exactly when the kernels are VNNI", async () => {
    const dir = miniLmShapeQ8Dir();
    try {
      const m = await Embedder.load(dir, { dtype: 'q8', threads: 1 });
      const vnni = simdLevel() === 'avx512' && native().cpuFeatures().avx512Vnni;
      expect(m.engine).toBe(vnni ? 'semvec' : 'onnxruntime');
      await m.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!haveToyModel)('engine choice on a model semvec does not run itself', () => {
  let dir: string;
  beforeAll(() => {
    dir = toyModelDir();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("engine 'semvec' is ERR_UNSUPPORTED saying why; 'auto' runs onnxruntime; a bad engine is ERR_INVALID_ARGUMENT", async () => {
    await expect(Embedder.load(dir, { engine: 'semvec' })).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED',
      message: expect.stringMatching(/engine 'semvec' cannot run this model: semvec's encoder runs int8 \(q8\) models; this one is fp32/),
    });
    const m = await Embedder.load(dir, { engine: 'auto' });
    expect(m.engine).toBe('onnxruntime');
    expect(m.engineNote).toBeUndefined(); // fp32: nothing to explain
    await m.close();
    await expect(Embedder.load(dir, { engine: 'gpu' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/engine must be one of 'auto', 'semvec', 'onnxruntime'; received the string "gpu"/) });
  });
});
