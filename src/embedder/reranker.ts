/**
 * Cross-encoder reranking: a model that reads a query and a passage
 * together and gives one relevance score (a sequence-classification export
 * with one logit, such as the ms-marco MiniLM cross-encoders). Slower than
 * comparing embeddings, so it reorders the few best candidates of a search.
 *
 * Loaded as an Embedder is: a local directory, the cache, or the hub.
 */
import { basename } from 'node:path';

import type { InferenceSession, Tensor } from 'onnxruntime-node';
import type { Tokenizer } from '@huggingface/tokenizers';

import { createError, ErrorCode } from '../errors.js';
import { hardwareThreads } from '../system.js';
import { checkInteger, describe, fail, orDefault } from '../validate.js';
import { isHubId, resolveModelFiles, type ModelFiles, type ResolveOptions } from './model-files.js';
import { openSession, readModelText } from './model-load.js';
import { loadRuntime, type Ort } from './runtime.js';
import { TextEncoder, type Encoding } from './tokenize.js';

/** Cross-encoders semvec knows by short name. */
export const RERANKERS: Readonly<Record<string, { hubId: string; maxTokens: number; onnxFile: string; description: string }>> = {
  'ms-marco-MiniLM-L-6-v2': {
    hubId: 'cross-encoder/ms-marco-MiniLM-L-6-v2',
    maxTokens: 512,
    onnxFile: 'onnx/model.onnx',
    description: 'English passage reranker trained on MS MARCO (6 layers): fast.',
  },
  'ms-marco-MiniLM-L-12-v2': {
    hubId: 'cross-encoder/ms-marco-MiniLM-L-12-v2',
    maxTokens: 512,
    onnxFile: 'onnx/model.onnx',
    description: 'The same with 12 layers: better, about 2x slower.',
  },
};

export interface RerankerOptions extends ResolveOptions {
  /** Threads for the ONNX runtime's operators; default: every hardware thread. */
  threads?: number;
  /** Longest query + passage in tokens; default: the model's (512). Longer passages are cut. */
  maxTokens?: number;
}

export interface RerankOptions {
  /** How many of the best to return; default all. */
  topK?: number;
  /** Pairs per ONNX run; default 16. */
  batchSize?: number;
}

/** A reranked passage: its index in the passages given, and its score (the model's logit; higher is more relevant). */
export interface RerankResult {
  index: number;
  score: number;
}

/**
 * A cross-encoder reranker.
 *
 * @example
 * const reranker = await Reranker.load('ms-marco-MiniLM-L-6-v2');
 * const best = await reranker.rerank('how do I reset my password?', passages, { topK: 3 });
 * await reranker.close();
 */
export class Reranker {
  /** The model's name (short name, hub id or directory name). */
  readonly name: string;
  /** Longest query + passage in tokens. */
  readonly maxTokens: number;
  readonly files: ModelFiles;
  readonly #session: InferenceSession;
  readonly #ort: Ort;
  readonly #tokenizer: Tokenizer;
  readonly #encoder: TextEncoder;
  readonly #inputs: ReadonlySet<string>;
  readonly #output: string;
  #closed = false;

  private constructor(init: { name: string; files: ModelFiles; session: InferenceSession; ort: Ort; tokenizer: Tokenizer; encoder: TextEncoder }) {
    this.name = init.name;
    this.files = init.files;
    this.#session = init.session;
    this.#ort = init.ort;
    this.#tokenizer = init.tokenizer;
    this.#encoder = init.encoder;
    this.maxTokens = init.encoder.maxTokens;
    this.#inputs = new Set(init.session.inputNames);
    const outs = init.session.outputNames;
    this.#output = outs.includes('logits') ? 'logits' : (outs[0] as string);
  }

  /**
   * Loads a cross-encoder by short name (see {@link RERANKERS}), by hub id
   * (`'cross-encoder/ms-marco-MiniLM-L-6-v2'`) or from a local directory
   * holding `model.onnx` (or `onnx/model.onnx`), `tokenizer.json` and
   * `tokenizer_config.json`. Looks in the cache before downloading;
   * `SEMVEC_OFFLINE=1` forbids downloads.
   */
  static async load(nameOrPath: string, options: RerankerOptions = {}): Promise<Reranker> {
    if (typeof nameOrPath !== 'string' || nameOrPath.length === 0) {
      fail(ErrorCode.INVALID_ARGUMENT, `model must be a reranker name, hub id or directory; received ${describe(nameOrPath)}`);
    }
    if (options === null || typeof options !== 'object') fail(ErrorCode.INVALID_ARGUMENT, `options must be an object; received ${describe(options)}`);
    const threads = checkInteger(orDefault(options.threads, hardwareThreads()), 'threads', 1, 1024);
    const entry = Object.entries(RERANKERS).find(([short, info]) => nameOrPath === short || nameOrPath === info.hubId);
    const known = entry?.[1];
    const hubId = known?.hubId ?? (nameOrPath.includes('/') && isHubId(nameOrPath) ? nameOrPath : undefined);
    const { ort, Tokenizer } = await loadRuntime();
    const files = await resolveModelFiles(nameOrPath, hubId, { onnxFile: known?.onnxFile, ...options });
    const { tokenizer, config, padId, endToken } = await readModelText(files, Tokenizer);
    const positions = typeof config.max_position_embeddings === 'number' ? config.max_position_embeddings : 512;
    const maxTokens = checkInteger(orDefault(options.maxTokens, known?.maxTokens ?? positions), 'maxTokens', 8, 1 << 20);
    const encoder = new TextEncoder(tokenizer, maxTokens, padId, endToken);
    const session = await openSession(ort, files, threads, 'BERT-style cross-encoders');
    const name = entry?.[0] ?? hubId ?? basename(files.dir);
    const reranker = new Reranker({ name, files, session, ort, tokenizer, encoder });
    // One pair, to refuse a model without a one-logit head now rather than at the first query.
    await reranker.score('a', ['b']);
    return reranker;
  }

  /** The token ids of a (query, passage) pair, the passage cut (then the query) to fit maxTokens. */
  #encodePair(query: string, passage: string): Encoding {
    const encode = (q: string, p: string) => this.#tokenizer.encode(q, { text_pair: p, add_special_tokens: true, return_token_type_ids: true });
    let e = encode(query, passage);
    let q = query;
    let p = passage;
    for (let tries = 0; e.ids.length > this.maxTokens && tries < 8; tries++) {
      const over = e.ids.length - this.maxTokens;
      const pIds = this.#tokenizer.encode(p, { add_special_tokens: false }).ids;
      if (pIds.length > over + 1) {
        p = this.#tokenizer.decode(pIds.slice(0, pIds.length - over - 1 - tries * 4), { skip_special_tokens: true });
      } else {
        p = this.#tokenizer.decode(pIds.slice(0, 1), { skip_special_tokens: true });
        const qIds = this.#tokenizer.encode(q, { add_special_tokens: false }).ids;
        q = this.#tokenizer.decode(qIds.slice(0, Math.max(1, qIds.length - over - tries * 4)), { skip_special_tokens: true });
      }
      e = encode(q, p);
    }
    const ids = e.ids.slice(0, this.maxTokens);
    const typeIds = (e.token_type_ids ?? new Array<number>(e.ids.length).fill(0)).slice(0, this.maxTokens);
    return { ids, typeIds, truncated: q !== query || p !== passage || e.ids.length > this.maxTokens };
  }

  /**
   * The relevance score of each passage to the query (the model's logit:
   * higher is more relevant), in the order given.
   */
  async score(query: string, passages: readonly string[], options: { batchSize?: number } = {}): Promise<Float32Array> {
    if (this.#closed) throw createError(ErrorCode.CLOSED, `the reranker ${this.name} is closed`);
    if (typeof query !== 'string' || query.length === 0) fail(ErrorCode.INVALID_ARGUMENT, `query must be a non-empty string; received ${describe(query)}`);
    if (!Array.isArray(passages)) fail(ErrorCode.INVALID_ARGUMENT, `passages must be an array of strings; received ${describe(passages)}`);
    passages.forEach((p, i) => {
      if (typeof p !== 'string') fail(ErrorCode.INVALID_ARGUMENT, `passages[${i}] must be a string; received ${describe(p)}`);
    });
    if (options === null || typeof options !== 'object') fail(ErrorCode.INVALID_ARGUMENT, `options must be an object; received ${describe(options)}`);
    const batchSize = checkInteger(orDefault(options.batchSize, 16), 'batchSize', 1, 1 << 16);
    const out = new Float32Array(passages.length);
    const encodings = passages.map((p) => this.#encodePair(query, p));
    const order = encodings.map((_, i) => i).sort((a, b) => encodings[a]!.ids.length - encodings[b]!.ids.length || a - b);
    const ort = this.#ort;
    for (let start = 0; start < order.length; start += batchSize) {
      const rows = order.slice(start, start + batchSize);
      const batch = this.#encoder.batch(rows.map((i) => encodings[i]!));
      const shape = [batch.size, batch.seqLen];
      const feeds: Record<string, Tensor> = { input_ids: new ort.Tensor('int64', batch.inputIds, shape) };
      if (this.#inputs.has('attention_mask')) feeds.attention_mask = new ort.Tensor('int64', batch.attentionMask, shape);
      if (this.#inputs.has('token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', batch.tokenTypeIds, shape);
      const result = (await this.#session.run(feeds, [this.#output]))[this.#output] as Tensor;
      const dims = result.dims;
      if (!(dims.length === 2 && dims[0] === batch.size && dims[1] === 1) && !(dims.length === 1 && dims[0] === batch.size)) {
        throw createError(
          ErrorCode.INVALID_ARGUMENT,
          `the model's output ${this.#output} has shape [${dims.join(', ')}]; a reranker gives one logit per pair: [${batch.size}, 1] (is ${this.files.onnx} a cross-encoder?)`,
        );
      }
      const data = result.data as Float32Array;
      rows.forEach((row, b) => (out[row] = data[b] as number));
    }
    return out;
  }

  /**
   * Passages reordered by relevance to the query, best first (ties: the
   * earlier passage first), at most topK.
   *
   * @example
   * const [best] = await reranker.rerank('what is BM25?', docs, { topK: 1 });
   * console.log(docs[best.index], best.score);
   */
  async rerank(query: string, passages: readonly string[], options: RerankOptions = {}): Promise<RerankResult[]> {
    if (options === null || typeof options !== 'object') fail(ErrorCode.INVALID_ARGUMENT, `options must be an object; received ${describe(options)}`);
    const topK = options.topK === undefined ? undefined : checkInteger(options.topK, 'topK', 1, Number.MAX_SAFE_INTEGER);
    const scores = await this.score(query, passages, { batchSize: options.batchSize });
    const ranked = Array.from(scores, (score, index) => ({ index, score })).sort((a, b) => b.score - a.score || a.index - b.index);
    return topK === undefined ? ranked : ranked.slice(0, topK);
  }

  /** Frees the ONNX session. The reranker cannot be used afterwards. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#session.release();
  }
}
