/**
 * bench/embed/model.ts: the model bench:embed runs, and what it costs. By
 * default a random-weight BERT of exactly all-MiniLM-L6-v2's architecture
 * and size, made by ../shared/models/make_bert.py into bench/.models/ next
 * to the real tokenizer files (same compute as the real weights; the
 * embeddings mean nothing); or any export laid out as on the hub.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { BenchError } from '../lib/args.js';
import { progress } from '../lib/format.js';

const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED_MODELS = resolve(BENCH_DIR, '..', '..', 'shared', 'models');
const MAKE_BERT = join(SHARED_MODELS, 'make_bert.py');
const TOKENIZER_SOURCE = join(SHARED_MODELS, 'all-MiniLM-L6-v2');
/** The int8 twin of make_bert.py's model (onnxruntime's dynamic quantisation), copied beside it. */
const SHARED_INT8 = join(SHARED_MODELS, 'minilm-shape-qint8', 'model_quantized.onnx');
export const DEFAULT_MODEL_DIR = join(BENCH_DIR, '.models', 'minilm-random');
const PYTHON = '/usr/bin/python3';
/** Files both libraries need, as laid out in a hub repository. */
export const MODEL_FILES = ['onnx/model.onnx', 'onnx/model_quantized.onnx', 'config.json', 'tokenizer.json', 'tokenizer_config.json'] as const;
/** The fp32 and int8 files, by the precision both libraries name them with. */
export const ONNX_FILES = { fp32: 'onnx/model.onnx', q8: 'onnx/model_quantized.onnx' } as const;
const TOKENIZER_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'];

function missingFiles(dir: string): string[] {
  return MODEL_FILES.filter((f) => !existsSync(join(dir, f)));
}

/** Why the default model cannot be made here, or null when make_bert.py can run. */
function cannotMake(modelDir: string): string | null {
  for (const f of [MAKE_BERT, join(TOKENIZER_SOURCE, 'tokenizer.json')]) {
    if (!existsSync(f)) return `cannot make the benchmark model: ${f} is missing (expected beside the repository), or pass --model-dir DIR`;
  }
  const probe = spawnSync(PYTHON, ['-c', 'import onnx, numpy'], { encoding: 'utf8' });
  if (!probe.error && probe.status === 0) return null;
  const why = probe.error ? `${PYTHON} cannot be run (${probe.error.message})` : `${PYTHON} cannot import onnx and numpy`;
  return (
    `the benchmark model is missing from ${modelDir} and cannot be made: ${why}.\n` +
    "make_bert.py needs Debian's python3-onnx and python3-numpy. Install them, then run the benchmark again:\n" +
    '    apt-get update && apt-get install -y python3-onnx python3-numpy\n' +
    '(or pass --model-dir DIR with an exported model).'
  );
}

/** Makes the default random-weight model if it is not there yet (`generated`); checks a given directory. */
export function ensureModel(modelDir: string, generated: boolean): void {
  if (generated) ensureInt8(modelDir);
  const missing = missingFiles(modelDir);
  if (missing.length === 0) return;
  if (!generated) {
    throw new BenchError(
      `--model-dir ${modelDir} lacks ${missing.join(', ')}. Both libraries read a directory laid out as on the ` +
        `Hugging Face hub: ${MODEL_FILES.join(', ')}.`,
    );
  }
  const why = cannotMake(modelDir);
  if (why !== null) throw new BenchError(why);
  progress(`making the random-weight benchmark model in ${modelDir} (make_bert.py, ~5 s)`);
  mkdirSync(join(modelDir, 'onnx'), { recursive: true });
  for (const f of TOKENIZER_FILES) {
    const from = join(TOKENIZER_SOURCE, f);
    if (existsSync(from)) copyFileSync(from, join(modelDir, f));
  }
  // make_bert.py writes <out>.tmp and renames it: the model file is complete or absent.
  const made = spawnSync(PYTHON, [MAKE_BERT, '--out', join(modelDir, 'onnx', 'model.onnx')], { stdio: ['ignore', 2, 2] });
  if (made.error || made.status !== 0) {
    throw new BenchError(`make_bert.py failed (${made.error?.message ?? `exit ${made.status}`}); see its output above`);
  }
  ensureInt8(modelDir);
  const still = missingFiles(modelDir);
  if (still.length > 0) throw new BenchError(`after make_bert.py, ${modelDir} still lacks ${still.join(', ')}`);
}

/** Copies the shared int8 twin beside the generated fp32 model when it is not there yet. */
function ensureInt8(modelDir: string): void {
  const int8 = join(modelDir, ONNX_FILES.q8);
  if (existsSync(int8) || !existsSync(join(modelDir, ONNX_FILES.fp32))) return;
  if (!existsSync(SHARED_INT8)) throw new BenchError(`the int8 model ${SHARED_INT8} is missing; pass --model-dir DIR with both precisions`);
  progress(`copying the int8 export ${SHARED_INT8} beside the fp32 model`);
  copyFileSync(SHARED_INT8, int8);
}

export interface ModelShape {
  layers: number;
  hidden: number;
  intermediate: number;
  heads: number;
  vocab: number;
  matmulWeights: number; // weights of the encoder matmuls
}

export function modelShape(dir: string): ModelShape {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const num = (key: string): number => {
    const v = config[key];
    if (typeof v !== 'number') throw new BenchError(`${join(dir, 'config.json')} has no numeric ${key}`);
    return v;
  };
  const layers = num('num_hidden_layers');
  const hidden = num('hidden_size');
  const intermediate = num('intermediate_size');
  return {
    layers,
    hidden,
    intermediate,
    heads: num('num_attention_heads'),
    vocab: num('vocab_size'),
    matmulWeights: layers * (4 * hidden * hidden + 2 * hidden * intermediate),
  };
}

/** FLOPs to run one token in a sequence of `seqLen` positions. */
export function flopsPerToken(m: ModelShape, seqLen: number): number {
  return 2 * m.matmulWeights + m.layers * 2 * 2 * seqLen * m.hidden;
}

function fileInfo(path: string) {
  const bytes = readFileSync(path);
  return { path, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.byteLength };
}

/** The model's directory, its two ONNX files (checksum, size) and its shape, as reported. */
export function modelInfo(dir: string, randomWeights: boolean) {
  return { dir, randomWeights, fp32: fileInfo(join(dir, ONNX_FILES.fp32)), q8: fileInfo(join(dir, ONNX_FILES.q8)), ...modelShape(dir) };
}
