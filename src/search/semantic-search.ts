/**
 * The walkthrough's SemanticSearch: index a list of documents, ask questions
 * in plain language, get the most similar documents with their scores.
 */
import { Embedder } from '../embedder/embedder.js';
import { DEFAULT_MODEL } from '../embedder/registry.js';
import { ErrorCode } from '../errors.js';
import { FlatIndex } from '../flat-index.js';
import { GraphIndex } from '../graph-index.js';
import { AUTO_IVF, IVFIndex, suggestNlist } from '../ivf-index.js';
import { nativeConstants } from '../native.js';
import { checkInteger, checkOneOf, describe, fail, orDefault } from '../validate.js';

export interface SemanticSearchOptions {
  /** An Embedder, or a model name / hub id / directory to load. Default 'all-MiniLM-L6-v2'. */
  model?: Embedder | string;
  /**
   * 'flat' (exact), 'ivf' (approximate), 'graph' (approximate, a
   * GraphIndex), or 'auto' (default): IVF from `ivfThreshold` documents on.
   */
  index?: 'flat' | 'ivf' | 'graph' | 'auto';
  /** Documents from which 'auto' uses IVF; default AUTO_IVF.minVectors (50,000). */
  ivfThreshold?: number;
  /**
   * IVF: lists probed per query; default AUTO_IVF.nprobe (16). Graph: the
   * groups of its partition whose members also start each walk (GraphIndex's
   * `nprobe`); default none, the walk alone.
   */
  nprobe?: number;
}

export interface IndexOptions {
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface SearchHit {
  document: string;
  /** Cosine similarity to the query, in [-1, 1]. */
  score: number;
  /** Position of the document in the indexed list. */
  index: number;
}

export interface SemanticSearchQuery {
  /** Results to return; default 3. */
  topK?: number;
  /** Only results with score >= minScore. */
  minScore?: number;
}

/**
 * @example
 * const engine = new SemanticSearch({ model: 'all-MiniLM-L6-v2' });
 * await engine.index(documents);
 * const hits = await engine.search('What is overfitting?', { topK: 3, minScore: 0.3 });
 */
export class SemanticSearch {
  readonly #model: Embedder | string;
  readonly #kind: 'flat' | 'ivf' | 'graph' | 'auto';
  readonly #threshold: number;
  readonly #nprobe: number;
  readonly #graphProbes: number | undefined;
  #embedder: Embedder | undefined;
  #documents: string[] = [];
  #index: FlatIndex | IVFIndex | GraphIndex | undefined;

  constructor(options: SemanticSearchOptions = {}) {
    if (options === null || typeof options !== 'object') fail(ErrorCode.INVALID_ARGUMENT, `options must be an object; received ${describe(options)}`);
    const model = orDefault(options.model, DEFAULT_MODEL);
    if (!(model instanceof Embedder) && (typeof model !== 'string' || model.length === 0)) {
      fail(ErrorCode.INVALID_ARGUMENT, `model must be an Embedder or a model name; received ${describe(model)}`);
    }
    this.#model = model;
    this.#kind = checkOneOf(orDefault(options.index, 'auto'), 'index', ['flat', 'ivf', 'graph', 'auto'] as const);
    this.#threshold = checkInteger(orDefault(options.ivfThreshold, AUTO_IVF.minVectors), 'ivfThreshold', 1, Number.MAX_SAFE_INTEGER);
    this.#nprobe = checkInteger(orDefault(options.nprobe, AUTO_IVF.nprobe), 'nprobe', 1, nativeConstants().limits.maxNlist);
    this.#graphProbes = options.nprobe === undefined ? undefined : this.#nprobe;
  }

  async #load(): Promise<Embedder> {
    if (!this.#embedder) this.#embedder = this.#model instanceof Embedder ? this.#model : await Embedder.load(this.#model);
    return this.#embedder;
  }

  /** Documents indexed. */
  get size(): number {
    return this.#documents.length;
  }

  /** Which index the engine uses now. */
  get indexKind(): 'flat' | 'ivf' | 'graph' | undefined {
    if (this.#index instanceof IVFIndex) return 'ivf';
    if (this.#index instanceof GraphIndex) return 'graph';
    return this.#index ? 'flat' : undefined;
  }

  /** Embeds and indexes documents, replacing any indexed before. */
  async index(documents: readonly string[], options: IndexOptions = {}): Promise<void> {
    if (!Array.isArray(documents)) fail(ErrorCode.INVALID_ARGUMENT, `documents must be an array of strings; received ${describe(documents)}`);
    const model = await this.#load();
    const vectors = await model.embed(documents, { batchSize: options.batchSize, onProgress: options.onProgress });
    const useIvf = this.#kind === 'ivf' || (this.#kind === 'auto' && documents.length >= this.#threshold);
    let index: FlatIndex | IVFIndex | GraphIndex;
    if (this.#kind === 'graph') {
      index = new GraphIndex({ dim: model.dim, metric: 'cosine' });
    } else if (useIvf && documents.length > 0) {
      const nlist = Math.max(1, Math.min(suggestNlist(documents.length), documents.length));
      const ivf = new IVFIndex({ dim: model.dim, metric: 'cosine', nlist, nprobe: Math.min(this.#nprobe, nlist) });
      await ivf.trainAsync(vectors);
      index = ivf;
    } else {
      index = new FlatIndex({ dim: model.dim, metric: 'cosine' });
    }
    if (documents.length > 0) await index.addAsync(vectors);
    this.#index = index;
    this.#documents = [...documents];
  }

  /** The documents most similar to the query, best first. */
  async search(query: string, options: SemanticSearchQuery = {}): Promise<SearchHit[]> {
    if (typeof query !== 'string' || query.length === 0) fail(ErrorCode.INVALID_ARGUMENT, `query must be a non-empty string; received ${describe(query)}`);
    if (options === null || typeof options !== 'object') fail(ErrorCode.INVALID_ARGUMENT, `options must be an object; received ${describe(options)}`);
    const topK = checkInteger(orDefault(options.topK, 3), 'topK', 1, 1_000_000);
    const minScore = options.minScore;
    if (minScore !== undefined && (typeof minScore !== 'number' || Number.isNaN(minScore))) {
      fail(ErrorCode.INVALID_ARGUMENT, `minScore must be a number; received ${describe(minScore)}`);
    }
    if (!this.#index || this.#documents.length === 0) return [];
    const q = await (await this.#load()).embedOne(query);
    const { ids, scores } =
      this.#index instanceof GraphIndex ? await this.#index.searchAsync(q, topK, { nprobe: this.#graphProbes }) : await this.#index.searchAsync(q, topK);
    const hits: SearchHit[] = [];
    ids.forEach((id, j) => {
      const score = scores[j] as number;
      if (minScore === undefined || score >= minScore) hits.push({ document: this.#documents[id] as string, score, index: id });
    });
    return hits;
  }
}
