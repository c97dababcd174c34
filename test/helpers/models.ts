/**
 * Test models: shared/models beside the repository (or beside one of its
 * parent directories). The toy model is a random-weight BERT (16-d output)
 * with the real export's inputs and outputs; it is paired here with the real
 * all-MiniLM-L6-v2 tokenizer files. Without them the model tests are skipped.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll } from 'vitest';

import { Embedder } from '../../src/index.js';

/**
 * The shared models directory: SEMVEC_TEST_MODELS when set, else the
 * nearest `shared/models` beside the repository or one of its parents, so a
 * checkout nested a level deeper (a git worktree under `wt/`, say) finds the
 * same models as the main checkout.
 */
export function findSharedModels(repo: string, fromEnv: string | undefined): string {
  if (fromEnv) return resolve(fromEnv);
  for (let dir = resolve(repo); dirname(dir) !== dir; dir = dirname(dir)) {
    const candidate = join(dirname(dir), 'shared', 'models');
    if (existsSync(candidate)) return candidate;
  }
  return join(dirname(resolve(repo)), 'shared', 'models');
}

export const sharedModels = findSharedModels(fileURLToPath(new URL('../../', import.meta.url)), process.env.SEMVEC_TEST_MODELS);
export const miniLmDir = join(sharedModels, 'all-MiniLM-L6-v2');
export const toyOnnx = join(sharedModels, 'toy-random-bert', 'model.onnx');
export const haveToyModel = existsSync(toyOnnx) && existsSync(join(miniLmDir, 'tokenizer.json'));

/** A temporary model directory: the toy ONNX file with the MiniLM tokenizer. */
export function toyModelDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'semvec-toy-model-'));
  mkdirSync(dir, { recursive: true });
  copyFileSync(toyOnnx, join(dir, 'model.onnx'));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(miniLmDir, f), join(dir, f));
  return dir;
}

/**
 * Registers hooks that load the toy model before the tests of the calling
 * describe block and release it after; returns accessors for it.
 */
export function useToyModel(): { dir(): string; model(): Embedder } {
  let dir: string | undefined;
  let model: Embedder | undefined;
  beforeAll(async () => {
    dir = toyModelDir();
    model = await Embedder.load(dir);
  });
  afterAll(async () => {
    await model?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return { dir: () => dir as string, model: () => model as Embedder };
}

/** The toy cross-encoder (random weights, one-logit head) made by test/fixtures/make-cross-encoder.py. */
export const toyRerankerOnnx = fileURLToPath(new URL('../fixtures/toy-cross-encoder/model.onnx', import.meta.url));
export const haveToyReranker = existsSync(toyRerankerOnnx) && existsSync(join(miniLmDir, 'tokenizer.json'));

/** A temporary reranker directory: the toy cross-encoder with the MiniLM tokenizer. */
export function toyRerankerDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'semvec-toy-reranker-'));
  copyFileSync(toyRerankerOnnx, join(dir, 'model.onnx'));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(miniLmDir, f), join(dir, f));
  return dir;
}

/** The MiniLM-shaped int8 export (random weights, quantised as the hub's int8 exports are). */
export const miniLmShapeQ8 = join(sharedModels, 'minilm-shape-qint8', 'model_quantized.onnx');
export const haveMiniLmShapeQ8 = existsSync(miniLmShapeQ8) && existsSync(join(miniLmDir, 'tokenizer.json'));

/** A temporary model directory: the MiniLM-shaped int8 export (linked) with MiniLM's tokenizer and config. */
export function miniLmShapeQ8Dir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'semvec-minilm-q8-'));
  mkdirSync(join(dir, 'onnx'));
  symlinkSync(miniLmShapeQ8, join(dir, 'onnx', 'model_quantized.onnx'));
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'config.json']) copyFileSync(join(miniLmDir, f), join(dir, f));
  return dir;
}
