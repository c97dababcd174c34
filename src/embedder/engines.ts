/**
 * What runs a model for an Embedder: onnxruntime, or semvec's own int8
 * encoder (native/core/encoder.h) for the int8 BERT exports it recognises.
 *
 * semvec's encoder takes the int8 weights out of the ONNX file
 * (bert-graph.ts) and runs the whole forward pass in the native core:
 * int8 matrix products on VNNI, fused attention, no padding (sequences
 * are packed), activations quantised per token, so a text's vector never
 * depends on the other texts of its batch. Before it is used, its vectors
 * for a set of probe texts are compared with onnxruntime's for the same
 * file; a model that disagrees (an architecture the graph reader cannot
 * see, such as another attention scaling) stays on onnxruntime.
 */
import { readFile } from 'node:fs/promises';

import type { InferenceSession, Tensor } from 'onnxruntime-node';

import { createError, ErrorCode } from '../errors.js';
import { native, type NativeEncoder, type NativeEncoderSpec } from '../native.js';
import { findBert } from './bert-graph.js';
import type { EngineName } from './engine-option.js';
import type { ModelFiles } from './model-files.js';
import { readOnnxGraph } from './onnx-file.js';
import type { Pooling } from './registry.js';
import type { Ort } from './runtime.js';
import { clsPool, meanPool, type Encoding, type TextEncoder } from './tokenize.js';


/** Runs batches of encoded texts: one pooled row of `dim` floats per text. */
export interface Engine {
  readonly name: EngineName;
  pooled(encodings: readonly Encoding[], pooling: Pooling): Promise<{ rows: Float32Array; dim: number }>;
  close(): Promise<void>;
}

/** onnxruntime: padded int64 batches, pooled here. */
export class OrtEngine implements Engine {
  readonly name = 'onnxruntime';
  readonly #inputs: ReadonlySet<string>;
  readonly #output: string;

  constructor(
    readonly session: InferenceSession,
    readonly ort: Ort,
    readonly encoder: TextEncoder,
  ) {
    this.#inputs = new Set(session.inputNames);
    const outs = session.outputNames;
    this.#output = outs.includes('last_hidden_state') ? 'last_hidden_state' : (outs[0] as string);
  }

  async pooled(encodings: readonly Encoding[], pooling: Pooling): Promise<{ rows: Float32Array; dim: number }> {
    const batch = this.encoder.batch(encodings);
    const ort = this.ort;
    const shape = [batch.size, batch.seqLen];
    const feeds: Record<string, Tensor> = { input_ids: new ort.Tensor('int64', batch.inputIds, shape) };
    if (this.#inputs.has('attention_mask')) feeds.attention_mask = new ort.Tensor('int64', batch.attentionMask, shape);
    if (this.#inputs.has('token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', batch.tokenTypeIds, shape);
    const out = await this.session.run(feeds, [this.#output]);
    const t = out[this.#output] as Tensor;
    const dims = t.dims;
    if (dims.length !== 3 || dims[0] !== batch.size || dims[1] !== batch.seqLen) {
      throw createError(
        ErrorCode.INVALID_ARGUMENT,
        `the model's output ${this.#output} has shape [${dims.join(', ')}]; expected [batch, sequence, hidden] = [${batch.size}, ${batch.seqLen}, ...]`,
      );
    }
    const dim = dims[2] as number;
    const rows = new Float32Array(batch.size * dim);
    (pooling === 'cls' ? clsPool : meanPool)(t.data as Float32Array, batch, dim, rows, encodings.map((_, i) => i));
    return { rows, dim };
  }

  close(): Promise<void> {
    return this.session.release();
  }
}

/** semvec's int8 encoder: packed sequences, pooled in the native core. */
export class NativeEngine implements Engine {
  readonly name = 'semvec';
  constructor(readonly encoder: NativeEncoder) {}

  async pooled(encodings: readonly Encoding[], pooling: Pooling): Promise<{ rows: Float32Array; dim: number }> {
    const { ids, typeIds, lengths } = pack(encodings);
    const rows = await this.encoder.encodeAsync(ids, typeIds, lengths, pooling);
    return { rows, dim: this.encoder.hidden };
  }

  async close(): Promise<void> {
    this.encoder.release();
  }
}

function pack(encodings: readonly Encoding[]): { ids: Int32Array; typeIds: Int32Array; lengths: Uint32Array } {
  const total = encodings.reduce((n, e) => n + e.ids.length, 0);
  const ids = new Int32Array(total);
  const typeIds = new Int32Array(total);
  const lengths = new Uint32Array(encodings.length);
  let at = 0;
  encodings.forEach((e, i) => {
    ids.set(e.ids, at);
    for (let t = 0; t < e.ids.length; t++) typeIds[at + t] = e.typeIds[t] ?? 0;
    lengths[i] = e.ids.length;
    at += e.ids.length;
  });
  return { ids, typeIds, lengths };
}

/** Texts of many lengths, run by both engines before semvec's is trusted with a model. */
const PROBE_WORDS = (
  'search engines rank documents by the meaning of their words rather than the words alone so a question ' +
  'finds answers written in other terms vectors of nearby texts point the same way and a library keeps ' +
  'millions of them in memory to compare a query with each in a few milliseconds on one machine'
).split(' ');

export function probeTexts(): string[] {
  const lengths = [1, 2, 3, 5, 8, 12, 17, 23, 30, 38, 47, 57];
  return lengths.map((n, i) => Array.from({ length: n }, (_, j) => PROBE_WORDS[(i * 7 + j * 3) % PROBE_WORDS.length]).join(' '));
}

/**
 * How far two sets of pooled rows agree: the lowest cosine of a row pair,
 * plain and after taking away the mean row of each set (the centred
 * cosine: BERT vectors share a large common part that makes plain cosines
 * of unrelated texts high).
 */
export function agreement(a: Float32Array, b: Float32Array, dim: number): { cosine: number; centred: number } {
  const n = a.length / dim;
  const mean = (x: Float32Array) => {
    const m = new Float64Array(dim);
    for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) m[d]! += (x[i * dim + d] as number) / n;
    return m;
  };
  const ma = mean(a);
  const mb = mean(b);
  let cosine = 1;
  let centred = 1;
  for (let i = 0; i < n; i++) {
    let ab = 0, aa = 0, bb = 0, cab = 0, caa = 0, cbb = 0;
    for (let d = 0; d < dim; d++) {
      const x = a[i * dim + d] as number;
      const y = b[i * dim + d] as number;
      ab += x * y; aa += x * x; bb += y * y;
      const cx = x - (ma[d] as number);
      const cy = y - (mb[d] as number);
      cab += cx * cy; caa += cx * cx; cbb += cy * cy;
    }
    cosine = Math.min(cosine, ab / Math.sqrt(aa * bb || 1));
    centred = Math.min(centred, cab / Math.sqrt(caa * cbb || 1));
  }
  return { cosine, centred };
}

/**
 * Whether semvec's encoder runs its int8 products on AVX-512 VNNI here
 * (`vpdpbusd`). Its other kernels (16-bit multiply-adds on AVX-512 or AVX2,
 * scalar elsewhere) run at a third of that or less, so `engine: 'auto'`
 * leaves int8 models to onnxruntime on such CPUs (and under SEMVEC_SIMD
 * below avx512).
 */
export function vnniEncoder(): boolean {
  const addon = native();
  return addon.simdLevel() === 'avx512' && addon.cpuFeatures().avx512Vnni;
}

/** The centred cosine every probe text must reach for semvec's encoder to run a model. */
export const PROBE_AGREEMENT = 0.99;

/**
 * semvec's encoder for an int8 model file, checked against onnxruntime on
 * the probe texts; `{ reason }` when the file is not an int8 BERT export
 * semvec recognises, or when the two disagree.
 */
export async function nativeEngineFor(
  files: ModelFiles,
  config: Record<string, unknown>,
  threads: number,
  reference: OrtEngine,
  pooling: Pooling,
): Promise<NativeEngine | { reason: string }> {
  if (files.dtype !== 'q8') return { reason: `semvec's encoder runs int8 (q8) models; this one is ${files.dtype}` };
  let found;
  try {
    const heads = typeof config.num_attention_heads === 'number' ? config.num_attention_heads : undefined;
    found = findBert(readOnnxGraph(await readFile(files.onnx)), heads === undefined ? {} : { heads });
  } catch (err) {
    return { reason: `cannot read ${files.onnx}: ${(err as Error).message}` };
  }
  if ('reason' in found) return found;
  return checkedEngine(found.spec, threads, reference, pooling, files.onnx);
}

/**
 * semvec's encoder for `spec` if its vectors for the probe texts agree with
 * the reference engine's (see {@link PROBE_AGREEMENT}); else `{ reason }`.
 */
export async function checkedEngine(
  spec: NativeEncoderSpec,
  threads: number,
  reference: OrtEngine,
  pooling: Pooling,
  what: string,
): Promise<NativeEngine | { reason: string }> {
  const engine = new NativeEngine(new (native().Encoder)(spec, threads));
  let agree = { cosine: 0, centred: 0 };
  const texts = probeTexts().map((t) => reference.encoder.encode(t));
  try {
    const [mine, theirs] = [await engine.pooled(texts, pooling), await reference.pooled(texts, pooling)];
    if (mine.dim === theirs.dim) agree = agreement(mine.rows, theirs.rows, mine.dim);
  } finally {
    // The encoder is freed unless it is returned: a failed probe frees it too.
    if (agree.centred < PROBE_AGREEMENT) await engine.close();
  }
  if (agree.centred < PROBE_AGREEMENT) {
    return {
      reason:
        `semvec's encoder and onnxruntime disagree on ${what}: lowest centred cosine ${agree.centred.toFixed(4)} ` +
        `over ${texts.length} probe texts (needs ${PROBE_AGREEMENT})`,
    };
  }
  return engine;
}
