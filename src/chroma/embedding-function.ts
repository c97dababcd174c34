/**
 * Chroma's embedding-function interface, so that any Chroma embedding
 * function (OpenAI, Cohere, transformers.js, ...) plugs into semvec/chroma,
 * and semvec's local {@link Embedder} offered as one.
 */
import type { Embedder, EmbedderOptions } from '../embedder/embedder.js';
import { DEFAULT_MODEL } from '../embedder/registry.js';
import { ErrorCode } from '../errors.js';
import { describe, fail } from '../validate.js';
import type { EmbeddingFunctionSpace } from './types.js';

/** What Chroma's client asks of an embedding function: `generate`, and optionally the rest. */
export interface EmbeddingFunction {
  /** Embeds documents (one vector per text). */
  generate(texts: string[]): Promise<number[][]>;
  /** Embeds query texts; `generate` is used when absent. */
  generateForQueries?(texts: string[]): Promise<number[][]>;
  name?: string;
  defaultSpace?(): EmbeddingFunctionSpace;
  supportedSpaces?(): EmbeddingFunctionSpace[];
  getConfig?(): Record<string, any>;
  validateConfigUpdate?(newConfig: Record<string, any>): void;
  validateConfig?(config: Record<string, any>): void;
}

export interface SemvecEmbeddingFunctionOptions extends EmbedderOptions {
  /** A loaded embedder (the function does not close it), or ... */
  embedder?: Embedder;
  /** ... the model to load on first use: a known name, a hub id or a directory (default all-MiniLM-L6-v2, Chroma's default model too). */
  model?: string;
}

/**
 * semvec's {@link Embedder} as a Chroma embedding function: local ONNX
 * inference, no service. The model loads on first use (or give a loaded
 * `embedder`). The default model, all-MiniLM-L6-v2, is the one Chroma's
 * default embedding function runs.
 *
 * @example
 * const ef = new SemvecEmbeddingFunction({ model: 'all-MiniLM-L6-v2' });
 * const notes = await client.createCollection({ name: 'notes', embeddingFunction: ef });
 */
export class SemvecEmbeddingFunction implements EmbeddingFunction {
  readonly name = 'semvec';
  readonly #model: string;
  readonly #options: EmbedderOptions;
  #embedder: Promise<Embedder> | undefined;
  readonly #owned: boolean;

  constructor(options: SemvecEmbeddingFunctionOptions = {}) {
    if (options === null || typeof options !== 'object') fail(ErrorCode.INVALID_ARGUMENT, `options must be an object; received ${describe(options)}`);
    const { embedder, model, ...rest } = options;
    if (embedder !== undefined && model !== undefined) fail(ErrorCode.INVALID_ARGUMENT, 'give embedder or model, not both');
    if (model !== undefined && (typeof model !== 'string' || model.length === 0)) fail(ErrorCode.INVALID_ARGUMENT, `model must be a model name, hub id or directory; received ${describe(model)}`);
    this.#model = embedder?.name ?? model ?? DEFAULT_MODEL;
    this.#options = rest;
    this.#owned = embedder === undefined;
    if (embedder) this.#embedder = Promise.resolve(embedder);
  }

  /** Chroma's convention: rebuild from {@link getConfig}'s output. */
  static buildFromConfig(config: Record<string, any>): SemvecEmbeddingFunction {
    return new SemvecEmbeddingFunction({ model: config.model as string | undefined });
  }

  /** The embedder, loaded on first call. */
  embedder(): Promise<Embedder> {
    if (!this.#embedder) {
      const loading = import('../embedder/embedder.js').then(({ Embedder }) => Embedder.load(this.#model, this.#options));
      // A failed load is not cached: the next call tries again.
      loading.catch(() => {
        if (this.#embedder === loading) this.#embedder = undefined;
      });
      this.#embedder = loading;
    }
    return this.#embedder;
  }

  /** The vectors of `texts` as one Float32Array (n * dim), without the number[][] round trip. */
  async embed(texts: readonly string[]): Promise<{ vectors: Float32Array; dim: number }> {
    const e = await this.embedder();
    return { vectors: await e.embed(texts), dim: e.dim };
  }

  async generate(texts: string[]): Promise<number[][]> {
    const { vectors, dim } = await this.embed(texts);
    return Array.from({ length: vectors.length / dim }, (_, i) => Array.from(vectors.subarray(i * dim, (i + 1) * dim)));
  }

  async generateForQueries(texts: string[]): Promise<number[][]> {
    return this.generate(texts);
  }

  defaultSpace(): EmbeddingFunctionSpace {
    return 'cosine';
  }

  supportedSpaces(): EmbeddingFunctionSpace[] {
    return ['cosine', 'ip', 'l2'];
  }

  getConfig(): Record<string, any> {
    return { model: this.#model };
  }

  /** Releases a model this function loaded (one given as `embedder` is the caller's to close). */
  async close(): Promise<void> {
    const loading = this.#embedder;
    this.#embedder = undefined;
    if (loading && this.#owned) await (await loading.catch(() => undefined))?.close();
  }
}
