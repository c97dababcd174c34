/**
 * JSON schemas of the request bodies and queries of Chroma's HTTP API v2,
 * as semvec serves it. Unknown fields are refused (additionalProperties:
 * false), types are not coerced, batches are bounded by MAX_BATCH_SIZE.
 * Filters (`where`, `where_document`) are objects here and are checked in
 * depth by the collection layer.
 */
import { MAX_BATCH_SIZE } from '../chroma/types.js';

const string = { type: 'string' } as const;
const filter = { type: ['object', 'null'] } as const;
const ids = { type: 'array', items: string, maxItems: MAX_BATCH_SIZE } as const;
const vector = { type: 'array', items: { type: 'number' } } as const;
const scalarOrNull = { type: ['string', 'number', 'boolean', 'null'] } as const;
const metadata = { type: ['object', 'null'], additionalProperties: scalarOrNull } as const;
const include = { type: 'array', items: { enum: ['distances', 'documents', 'embeddings', 'metadatas', 'uris'] } } as const;
const nullableInt = { type: ['integer', 'null'], minimum: 0 } as const;

/** Records of add, upsert and update. `embeddings` may be left out when the collection has a semvec model to embed the documents. */
const records = {
  type: 'object',
  additionalProperties: false,
  required: ['ids'],
  properties: {
    ids,
    embeddings: { type: ['array', 'null'], items: vector, maxItems: MAX_BATCH_SIZE },
    documents: { type: ['array', 'null'], items: { type: ['string', 'null'] }, maxItems: MAX_BATCH_SIZE },
    metadatas: { type: ['array', 'null'], items: metadata, maxItems: MAX_BATCH_SIZE },
    uris: { type: ['array', 'null'], items: { type: ['string', 'null'] } },
  },
} as const;

const space = { enum: ['l2', 'cosine', 'ip', null] } as const;
/** Index settings: any value is accepted here; everything but `space` is refused (501) as semvec has no HNSW or SPANN index. */
const indexConfig = { type: ['object', 'null'], properties: { space } } as const;
const efConfig = { type: ['object', 'null'], properties: { type: string, name: string } } as const;

export const schemas = {
  createTenant: { body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: string } } },
  createDatabase: { body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: string } } },
  page: { querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'string', pattern: '^[0-9]{1,9}$' }, offset: { type: 'string', pattern: '^[0-9]{1,15}$' } } } },
  readLevel: { querystring: { type: 'object', additionalProperties: false, properties: { read_level: { enum: ['index_and_wal', 'index_only', 'index_and_bounded_wal'] } } } },
  createCollection: {
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: {
        name: string,
        configuration: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { hnsw: indexConfig, spann: indexConfig, embedding_function: efConfig },
        },
        metadata,
        get_or_create: { type: 'boolean' },
        schema: {},
      },
    },
  },
  updateCollection: {
    body: {
      type: 'object',
      additionalProperties: false,
      properties: {
        new_name: { type: ['string', 'null'] },
        new_metadata: metadata,
        new_configuration: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { hnsw: { type: ['object', 'null'] }, spann: { type: ['object', 'null'] }, embedding_function: efConfig },
        },
      },
    },
  },
  records: { body: records },
  get: {
    body: {
      type: 'object',
      additionalProperties: false,
      properties: { ids: { type: ['array', 'null'], items: string }, where: filter, where_document: filter, limit: nullableInt, offset: nullableInt, include },
    },
  },
  delete: {
    body: {
      type: 'object',
      additionalProperties: false,
      properties: { ids: { type: ['array', 'null'], items: string }, where: filter, where_document: filter, limit: nullableInt },
    },
  },
  query: {
    body: {
      type: 'object',
      additionalProperties: false,
      properties: {
        query_embeddings: { type: ['array', 'null'], items: vector, maxItems: MAX_BATCH_SIZE },
        /** semvec's addition: texts embedded with the collection's semvec model. */
        query_texts: { type: ['array', 'null'], items: string, maxItems: MAX_BATCH_SIZE },
        ids: { type: ['array', 'null'], items: string },
        n_results: { type: ['integer', 'null'], minimum: 1, maximum: 100_000 },
        where: filter,
        where_document: filter,
        include,
        /**
         * semvec's additions (any value here: the collection layer checks
         * them and answers 400 with its error code): mode ('vector',
         * 'keyword', 'hybrid'), fusion ({ method: 'rrf', k } or
         * { method: 'weighted', alpha }), candidates (hybrid), and rerank
         * ({ candidates }: the server's --reranker model).
         */
        mode: {},
        fusion: {},
        candidates: {},
        rerank: {},
      },
    },
  },
} as const;

