/**
 * semvec: embeddable vector search for Node.js.
 * @packageDocumentation
 */
export {
  ErrorCode,
  FileFormatError,
  NativeError,
  NotFoundError,
  SemvecError,
  SemvecIOError,
  SemvecWarning,
  ValidationError,
  WarningCode,
} from './errors.js';
export { FlatIndex } from './flat-index.js';
export type { FlatIndexOptions } from './flat-index.js';
export { AUTO_IVF, DEFAULT_RERANK, IVF_ENCODINGS, IVF_TRAINING_DEFAULTS, IVFIndex, suggestNlist } from './ivf-index.js';
export type { IVFEncoding, IVFEncodingInfo, IVFIndexOptions, IVFMemoryParts, IVFOpenOptions, IVFSearchOptions, TrainResult } from './ivf-index.js';
export { GRAPH_DEFAULTS, GraphIndex } from './graph-index.js';
export type { GraphIndexOptions, GraphRerank, GraphSearchOptions } from './graph-index.js';
export { kmeans, kmeansAsync } from './cluster/kmeans.js';
export type { ClusteringOptions, KMeansOptions, KMeansResult } from './cluster/kmeans.js';
export type { KMeansDefaults } from './native.js';
export { recallAtK } from './evaluate/recall.js';
export type { ResultIds } from './evaluate/recall.js';
export { getThreads, hardwareThreads, setThreads, simdLevel } from './system.js';
export type { SimdLevel } from './system.js';
export { cosineSimilarity, normalize, normalizeInPlace, row, similarityMatrix } from './vectors.js';
export type { SimilarityMatrixOptions } from './vectors.js';
export type { IdsInput, VectorInput, VectorsInput } from './validate.js';
export { METRICS, VectorIndex } from './vector-index.js';
export type { Metric, OpenIndexOptions, SearchOptions, SearchResult } from './vector-index.js';
export { Embedder } from './embedder/embedder.js';
export type { EmbedderOptions, EmbedOptions, EmbedWork } from './embedder/embedder.js';
export { DEFAULT_MODEL, MODELS } from './embedder/registry.js';
export type { ModelInfo, Pooling } from './embedder/registry.js';
export { Reranker, RERANKERS } from './embedder/reranker.js';
export type { RerankerOptions, RerankOptions, RerankResult } from './embedder/reranker.js';
export { defaultCacheDir, resolveModelFiles } from './embedder/model-files.js';
export type { DownloadProgress, ModelFiles, ResolveOptions } from './embedder/model-files.js';
export type { Dtype, DtypeOption } from './embedder/precision.js';
export type { EngineName, EngineOption } from './embedder/engine-option.js';
export type { Chunk, ChunkMode, ChunkOptions } from './embedder/chunking.js';
export { Client, checkCollectionName } from './collection/client.js';
export type { ClientOptions, CollectionSummary, CreateCollectionOptions, GetCollectionOptions, OpenOptions } from './collection/client.js';
export { Collection, IVF_MIN_RECORDS } from './collection/collection.js';
export type { IngestOptions, IngestProgress, IngestRecord, IngestResult } from './collection/ingest.js';
export type {
  CollectionRecord,
  DeleteOptions,
  Filters,
  GetOptions,
  Include,
  IndexKind,
  MatchScores,
  ModifyCollectionOptions,
  QueryMatch,
  QueryMode,
  QueryOptions,
  RerankModel,
  RerankQueryOptions,
  RecordsInput,
  RefreshOptions,
  UpdateInput,
} from './collection/collection.js';
export type { FieldOperators, Where, WhereDocument } from './collection/filter.js';
export type { Fusion } from './collection/fusion.js';
export { MAX_KEYWORD_TERMS, TOKENIZERS } from './collection/keyword-index.js';
export type { Tokenizer } from './collection/keyword-index.js';
export type { Metadata, MetadataValue } from './collection/metadata.js';
export { SemanticSearch } from './search/semantic-search.js';
export type { IndexOptions, SearchHit, SemanticSearchOptions, SemanticSearchQuery } from './search/semantic-search.js';
export { clusterTexts, clusterVectors, suggestK } from './cluster/cluster.js';
export type { ClusterOptions, Clustering, SuggestKOptions, SuggestKResult, TextCluster, TextClustering } from './cluster/cluster.js';
export { compareModels, evaluateApproximate, evaluatePairs, evaluateRetrieval, rocAuc } from './evaluate/evaluate.js';
export type {
  ApproximateReport,
  ModelComparisonRow,
  Pair,
  PairsReport,
  PairVerdict,
  QueryScore,
  RetrievalComparison,
  RetrievalModesOptions,
  RetrievalReport,
  RetrievalRun,
  RetrievalTask,
} from './evaluate/evaluate.js';
