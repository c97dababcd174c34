/**
 * semvec/chroma: the `chromadb` JS client's API (3.x), in process, over
 * semvec collections. A Chroma program ports by changing its import (and
 * saying where the data lives: `new ChromaClient({ path })`).
 * @packageDocumentation
 */
export type { CollectionApi, CollectionBackend } from './backend.js';
export { ChromaClient } from './client.js';
export type { ChromaClientArgs, CreateCollectionArgs, CreateCollectionConfiguration } from './client.js';
export { Collection } from './collection.js';
export type { DeleteArgs, GetArgs, ModifyArgs, QueryArgs, RecordsArgs } from './collection.js';
export { SemvecEmbeddingFunction } from './embedding-function.js';
export type { EmbeddingFunction, SemvecEmbeddingFunctionOptions } from './embedding-function.js';
export { ChromaNotFoundError, ChromaUniqueError, ChromaUnsupportedError, ChromaValueError } from './errors.js';
export { GetResult, QueryResult } from './results.js';
export type { QueryRowResult } from './results.js';
export { DEFAULT_DATABASE, DEFAULT_TENANT, IncludeEnum, MAX_BATCH_SIZE, ReadLevel } from './types.js';
export type {
  ChecklistResponse,
  CollectionConfiguration,
  CollectionMetadata,
  DeleteResult,
  EmbeddingFunctionConfiguration,
  EmbeddingFunctionSpace,
  HNSWConfiguration,
  Include,
  LiteralValue,
  Metadata,
  MetadataScalar,
  OperatorExpression,
  Space,
  SpannConfiguration,
  UserIdentity,
  Where,
  WhereDocument,
} from './types.js';
