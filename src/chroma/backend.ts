/**
 * What semvec/chroma (and so `semvec serve`) needs of semvec's collection
 * API: a client that creates, finds, lists and deletes collections, and
 * collections that write, read and query. semvec's {@link Client} is one;
 * the distributed client (semvec/distributed) is another, so `semvec
 * router` serves Chroma's HTTP API with the same routes.
 */

import type { Metadata } from '../collection/metadata.js';
import type { RecordsInput, UpdateInput } from '../collection/records-input.js';
import type { CollectionRecord, DeleteOptions, GetOptions, ModifyCollectionOptions, QueryMatch, QueryOptions } from '../collection/types.js';
import type { Metric } from '../vector-index.js';

/** A collection as semvec/chroma uses it (semvec's Collection has this shape). */
export interface CollectionApi {
  readonly cid: number;
  readonly name: string;
  readonly metric: Metric;
  readonly dim: number | undefined;
  readonly metadata: Metadata | null;
  count(): Promise<number>;
  add(input: RecordsInput): Promise<unknown>;
  upsert(input: RecordsInput): Promise<unknown>;
  update(input: UpdateInput): Promise<unknown>;
  delete(options: DeleteOptions): Promise<number>;
  get(options?: GetOptions): Promise<CollectionRecord[]>;
  query(options: QueryOptions): Promise<QueryMatch[][]>;
  modify(changes: ModifyCollectionOptions): Promise<void>;
}

/** A client as semvec/chroma uses it (semvec's Client has this shape). */
export interface CollectionBackend {
  listCollections(): Promise<{ name: string }[]>;
  countCollections(): Promise<number>;
  getCollection(name: string): Promise<CollectionApi>;
  createCollection(name: string, options: { metric?: Metric; metadata?: Metadata }): Promise<CollectionApi>;
  getOrCreateCollection(name: string, options: { metric?: Metric; metadata?: Metadata }): Promise<CollectionApi>;
  collectionNameOf(cid: number): Promise<string | undefined>;
  deleteCollection(name: string): Promise<void>;
  close(): Promise<void>;
}

