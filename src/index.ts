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
export { AUTO_IVF, DEFAULT_RERANK, IVF_TRAINING_DEFAULTS, IVFIndex, suggestNlist } from './ivf-index.js';
export { GRAPH_DEFAULTS, GraphIndex } from './graph-index.js';
export type { GraphIndexOptions, GraphSearchOptions } from './graph-index.js';
export type { IVFEncoding, IVFIndexOptions, IVFSearchOptions, TrainResult } from './ivf-index.js';
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
export type { EmbedderOptions, EmbedOptions } from './embedder/embedder.js';
export { DEFAULT_MODEL, MODELS } from './embedder/registry.js';
export type { ModelInfo, Pooling } from './embedder/registry.js';
export { defaultCacheDir, resolveModelFiles } from './embedder/model-files.js';
export type { DownloadProgress, ModelFiles, ResolveOptions } from './embedder/model-files.js';
export { Client, checkCollectionName } from './collection/client.js';
export type { ClientOptions, CollectionSummary, CreateCollectionOptions, GetCollectionOptions, OpenOptions } from './collection/client.js';
export { Collection, IVF_MIN_RECORDS } from './collection/collection.js';
export type {
  CollectionRecord,
  DeleteOptions,
  Filters,
  GetOptions,
  Include,
  IndexKind,
  ModifyCollectionOptions,
  QueryMatch,
  QueryOptions,
  RecordsInput,
  RefreshOptions,
  UpdateInput,
} from './collection/collection.js';
export type { FieldOperators, Where, WhereDocument } from './collection/filter.js';
export type { Metadata, MetadataValue } from './collection/metadata.js';
export { SemanticSearch } from './search/semantic-search.js';
export type { IndexOptions, SearchHit, SemanticSearchOptions, SemanticSearchQuery } from './search/semantic-search.js';
export { clusterTexts, clusterVectors, suggestK } from './cluster/cluster.js';
export type { ClusterOptions, Clustering, SuggestKOptions, SuggestKResult, TextCluster, TextClustering } from './cluster/cluster.js';
export { compareModels, evaluateApproximate, evaluatePairs, evaluateRetrieval, rocAuc } from './evaluate/evaluate.js';
export type { ApproximateReport, ModelComparisonRow, Pair, PairsReport, PairVerdict, RetrievalReport, RetrievalTask } from './evaluate/evaluate.js';
