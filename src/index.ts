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
  ValidationError,
} from './errors.js';
export { FlatIndex, METRICS } from './flat-index.js';
export type { FlatIndexOptions, Metric, SearchResult } from './flat-index.js';
export { getThreads, hardwareThreads, setThreads, simdLevel } from './system.js';
export type { SimdLevel } from './system.js';
export { normalize, normalizeInPlace, row } from './vectors.js';
export type { IdsInput, VectorInput, VectorsInput } from './validate.js';
