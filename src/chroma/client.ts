/**
 * `ChromaClient` with the `chromadb` JS client's API (3.x), running in this
 * process over a semvec {@link Client}: `new ChromaClient()` keeps
 * everything in memory, `new ChromaClient({ path: dir })` persists to a
 * semvec collection directory (opened on first use), and
 * `new ChromaClient({ client })` wraps a semvec client already open.
 *
 * What semvec does not have (tenants and databases beyond Chroma's defaults,
 * forks, Cloud search, server connections) is a ChromaUnsupportedError
 * naming the feature, never a silent no-op.
 */
import { readFileSync } from 'node:fs';

import { Client, type ClientOptions } from '../collection/client.js';
import { ErrorCode, type SemvecWarning } from '../errors.js';
import { describe } from '../validate.js';
import { collectionMetadata, configuredSpace, options } from './arguments.js';
import type { CollectionApi, CollectionBackend } from './backend.js';
import { Collection } from './collection.js';
import { SemvecEmbeddingFunction, type EmbeddingFunction } from './embedding-function.js';
import { chroma, ChromaNotFoundError, invalid, unsupported } from './errors.js';
import { cidOf } from './ids.js';
import {
  DEFAULT_DATABASE,
  DEFAULT_TENANT,
  MAX_BATCH_SIZE,
  type ChecklistResponse,
  type CollectionMetadata,
  type HNSWConfiguration,
  type SpannConfiguration,
  type UserIdentity,
} from './types.js';

export interface ChromaClientArgs {
  /** A semvec collection directory (created if needed, opened on first use); without it, everything is in memory. */
  path?: string;
  /** An open semvec client to work through (its owner closes it): a {@link Client}, or another {@link CollectionBackend} (semvec/distributed's client). */
  client?: Client | CollectionBackend;
  /** Chroma's default tenant is the only one. */
  tenant?: string;
  /** Chroma's default database is the only one. */
  database?: string;
  /** Receives semvec's warnings (a damaged record left out, a snapshot rebuilt). */
  onWarning?: (warning: SemvecWarning) => void;
  /**
   * The embedding function of a collection got or created without one
   * (null: none). Default: semvec's all-MiniLM-L6-v2, Chroma's default
   * model, loaded on first use.
   */
  defaultEmbeddingFunction?: (collection: CollectionApi) => EmbeddingFunction | null;
}

export interface CreateCollectionConfiguration {
  /** Used when `embeddingFunction` is not given. */
  embeddingFunction?: EmbeddingFunction;
  /** Only `space` has a meaning for semvec; other settings are refused. */
  hnsw?: HNSWConfiguration | null;
  spann?: SpannConfiguration | null;
}

export interface CreateCollectionArgs {
  name: string;
  configuration?: CreateCollectionConfiguration;
  metadata?: CollectionMetadata;
  /** Default: semvec's all-MiniLM-L6-v2 (Chroma's default model), loaded on first use; null: none. */
  embeddingFunction?: EmbeddingFunction | null;
}

const CREATE_KEYS = ['name', 'configuration', 'metadata', 'embeddingFunction', 'schema'];
const CLIENT_KEYS = ['path', 'client', 'tenant', 'database', 'onWarning', 'defaultEmbeddingFunction'];
/** Options of chromadb's client that name a server; semvec/chroma runs in this process. */
const SERVER_KEYS = ['host', 'port', 'ssl', 'headers', 'fetchOptions', 'auth'];

let packageVersion: string | undefined;
function semvecVersion(): string {
  if (packageVersion === undefined) {
    try {
      packageVersion = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? '0.0.0';
    } catch {
      packageVersion = '0.0.0';
    }
  }
  return packageVersion;
}

/** The version of semvec, as a server's `version()` reports it. */
export { semvecVersion };

/** Whether a value has the methods of a collection client (semvec's Client, or the distributed one). */
function isBackend(value: unknown): value is CollectionBackend {
  const v = value as Record<string, unknown> | null;
  return value instanceof Client || (typeof v === 'object' && v !== null && ['listCollections', 'getCollection', 'createCollection', 'getOrCreateCollection', 'deleteCollection', 'collectionNameOf'].every((m) => typeof v[m] === 'function'));
}

function checkTenant(tenant: unknown, database: unknown): void {
  if (tenant !== undefined && tenant !== DEFAULT_TENANT) unsupported(`tenant ${JSON.stringify(tenant)}`, `semvec has one tenant, ${JSON.stringify(DEFAULT_TENANT)}; use a separate directory for separate data`);
  if (database !== undefined && database !== DEFAULT_DATABASE) {
    unsupported(`database ${JSON.stringify(database)}`, `semvec has one database per directory, ${JSON.stringify(DEFAULT_DATABASE)}; use a separate directory (path) for separate data`);
  }
}

export class ChromaClient {
  readonly #path: string | undefined;
  readonly #options: ClientOptions;
  #client: Promise<CollectionBackend> | undefined;
  readonly #owned: boolean;
  readonly #defaultEf: (collection: CollectionApi) => EmbeddingFunction | null;
  /** Chroma-side handles by core collection, so an embedding function given once stays with the collection. */
  readonly #handles = new WeakMap<CollectionApi, Collection>();

  /**
   * @example
   * const client = new ChromaClient({ path: './chroma-data' });
   */
  constructor(args: ChromaClientArgs = {}) {
    if (args === null || typeof args !== 'object') invalid(`ChromaClient expects an object; received ${describe(args)}`);
    for (const key of Object.keys(args)) {
      if (SERVER_KEYS.includes(key)) {
        unsupported(
          `ChromaClient option ${JSON.stringify(key)}`,
          'semvec/chroma runs in this process and connects to no server: give { path } for a persistent directory (or nothing, in memory); to talk to a server, keep the chromadb client and run `semvec serve`',
        );
      }
      if (!CLIENT_KEYS.includes(key)) invalid(`ChromaClient does not take the option ${JSON.stringify(key)}; it takes ${CLIENT_KEYS.join(', ')}`);
    }
    const a = args as ChromaClientArgs;
    checkTenant(a.tenant ?? process.env.CHROMA_TENANT, a.database ?? process.env.CHROMA_DATABASE);
    if (a.path !== undefined && (typeof a.path !== 'string' || a.path.length === 0)) invalid(`path must be a directory; received ${describe(a.path)}`);
    if (a.path !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(a.path)) {
      unsupported('a server URL as path', 'semvec/chroma keeps its data in a directory in this process; give a directory, or keep the chromadb client to talk to `semvec serve`');
    }
    if (a.client !== undefined && !isBackend(a.client)) invalid(`client must be a semvec Client (or a distributed client); received ${describe(a.client)}`);
    if (a.client !== undefined && a.path !== undefined) invalid('give path or client, not both');
    this.#path = a.path;
    this.#options = a.onWarning ? { onWarning: a.onWarning } : {};
    this.#owned = a.client === undefined;
    if (a.defaultEmbeddingFunction !== undefined && typeof a.defaultEmbeddingFunction !== 'function') {
      invalid(`defaultEmbeddingFunction must be a function; received ${describe(a.defaultEmbeddingFunction)}`);
    }
    this.#defaultEf = a.defaultEmbeddingFunction ?? (() => new SemvecEmbeddingFunction());
    if (a.client) this.#client = Promise.resolve(a.client);
  }

  get tenant(): string {
    return DEFAULT_TENANT;
  }
  get database(): string {
    return DEFAULT_DATABASE;
  }

  /** The semvec client underneath, opened on first use. */
  client(): Promise<CollectionBackend> {
    if (!this.#client) {
      const opening: Promise<CollectionBackend> = this.#path === undefined ? Promise.resolve(new Client(this.#options)) : Client.open(this.#path, this.#options);
      opening.catch(() => {
        if (this.#client === opening) this.#client = undefined;
      });
      this.#client = opening;
    }
    return this.#client;
  }

  #handle(core: CollectionApi, embeddingFunction: EmbeddingFunction | null | undefined): Collection {
    let handle = this.#handles.get(core);
    if (!handle || embeddingFunction !== undefined) {
      const ef = embeddingFunction === null ? undefined : (embeddingFunction ?? handle?.embeddingFunction ?? this.#defaultEf(core) ?? undefined);
      handle = new Collection(core, ef);
      this.#handles.set(core, handle);
    }
    return handle;
  }

  /** The user, tenant and databases, as Chroma's server reports them (there is no authentication in process). */
  async getUserIdentity(): Promise<UserIdentity> {
    return { user_id: '', tenant: DEFAULT_TENANT, databases: [DEFAULT_DATABASE] };
  }

  /** The time in nanoseconds since the epoch, as Chroma's server answers a heartbeat. */
  async heartbeat(): Promise<number> {
    return Date.now() * 1e6;
  }

  /** semvec's version. */
  async version(): Promise<string> {
    return semvecVersion();
  }

  async getPreflightChecks(): Promise<ChecklistResponse> {
    return { max_batch_size: MAX_BATCH_SIZE, supports_base64_encoding: false };
  }

  /** The most records one add, upsert or update may carry. */
  async getMaxBatchSize(): Promise<number> {
    return MAX_BATCH_SIZE;
  }

  async supportsBase64Encoding(): Promise<boolean> {
    return false;
  }

  /**
   * Collections by name, `limit` (default 100) from `offset`.
   *
   * @example
   * for (const col of await client.listCollections()) console.log(col.name, await col.count());
   */
  async listCollections(args?: { limit?: number; offset?: number }): Promise<Collection[]> {
    const a = options(args, 'listCollections', ['limit', 'offset']);
    const limit = a.limit ?? 100;
    const offset = a.offset ?? 0;
    if (!Number.isInteger(limit) || limit < 0) invalid(`listCollections: limit must be a non-negative integer; received ${describe(limit)}`);
    if (!Number.isInteger(offset) || offset < 0) invalid(`listCollections: offset must be a non-negative integer; received ${describe(offset)}`);
    return chroma(async () => {
      const client = await this.client();
      const names = (await client.listCollections()).map((c) => c.name).slice(offset, offset + limit);
      const out: Collection[] = [];
      for (const name of names) out.push(this.#handle(await client.getCollection(name), undefined));
      return out;
    });
  }

  async countCollections(): Promise<number> {
    return chroma(async () => (await this.client()).countCollections());
  }

  async #create(args: CreateCollectionArgs, call: string, getOrCreate: boolean): Promise<Collection> {
    const a = options(args as CreateCollectionArgs & { schema?: unknown }, call, CREATE_KEYS, true);
    if (a.schema !== undefined && a.schema !== null) unsupported(`${call}: schema`, 'semvec collections index metadata and documents without a schema; give configuration and metadata');
    const configuration = a.configuration === undefined ? undefined : options(a.configuration, `${call}: configuration`, ['embeddingFunction', 'hnsw', 'spann'], true);
    const space = configuredSpace(configuration);
    const ef = a.embeddingFunction === undefined ? configuration?.embeddingFunction : a.embeddingFunction;
    const metadata = collectionMetadata(a.metadata);
    // As Chroma: without a space in configuration or metadata, the embedding function's default space.
    const metric = space ?? (metadata?.['hnsw:space'] === undefined && ef?.defaultSpace ? ef.defaultSpace() : undefined);
    return chroma(async () => {
      const client = await this.client();
      const name = a.name as string;
      const create = { metric, metadata };
      const core = getOrCreate ? await client.getOrCreateCollection(name, create) : await client.createCollection(name, create);
      return this.#handle(core, ef);
    });
  }

  /**
   * Creates a collection; a ChromaUniqueError if the name is taken. The
   * space comes from `configuration.hnsw.space` (or `spann.space`), else
   * the legacy `metadata['hnsw:space']`, else the embedding function's
   * default space, else cosine.
   *
   * @example
   * const col = await client.createCollection({ name: 'docs', configuration: { hnsw: { space: 'l2' } } });
   */
  async createCollection(args: CreateCollectionArgs): Promise<Collection> {
    return this.#create(args, 'createCollection', false);
  }

  /** The collection, created as createCollection would when it does not exist (configuration and metadata are used only then). */
  async getOrCreateCollection(args: CreateCollectionArgs): Promise<Collection> {
    return this.#create(args, 'getOrCreateCollection', true);
  }

  /** An existing collection; a ChromaNotFoundError if there is none by that name. */
  async getCollection(args: { name: string; embeddingFunction?: EmbeddingFunction }): Promise<Collection> {
    const a = options(args, 'getCollection', ['name', 'embeddingFunction'], true);
    return chroma(async () => this.#handle(await (await this.client()).getCollection(a.name as string), a.embeddingFunction));
  }

  /** An existing collection by its UUID (the `id` of a Collection). */
  async getCollectionById(id: string): Promise<Collection> {
    if (typeof id !== 'string') invalid(`getCollectionById: id must be a string; received ${describe(id)}`);
    return chroma(async () => {
      const client = await this.client();
      const cid = cidOf(id);
      const summary = cid === undefined ? undefined : (await client.collectionNameOf(cid));
      if (summary === undefined) throw new ChromaNotFoundError(ErrorCode.NOT_FOUND, `no collection with id ${JSON.stringify(id)}`);
      return this.#handle(await client.getCollection(summary), undefined);
    });
  }

  /** Several collections by name (or { name, embeddingFunction }). */
  async getCollections(items: string[] | { name: string; embeddingFunction?: EmbeddingFunction }[]): Promise<Collection[]> {
    if (!Array.isArray(items)) invalid(`getCollections expects an array; received ${describe(items)}`);
    const out: Collection[] = [];
    for (const item of items) out.push(await this.getCollection(typeof item === 'string' ? { name: item } : item));
    return out;
  }

  /** Deletes a collection and its records; a ChromaNotFoundError if absent. */
  async deleteCollection(args: { name: string }): Promise<void> {
    const a = options(args, 'deleteCollection', ['name'], true);
    await chroma(async () => (await this.client()).deleteCollection(a.name as string));
  }

  /** Not in semvec: Chroma Cloud resource names. */
  async getCollectionByCrn(_crn: string): Promise<Collection> {
    return unsupported('getCollectionByCrn', 'Chroma resource names belong to Chroma Cloud; use getCollection({ name }) or getCollectionById(id)');
  }

  /** Not in semvec: use getCollectionById (collections are opened, not referenced remotely). */
  collection(_id: string): Collection {
    return unsupported('collection(id)', 'use await getCollectionById(id)');
  }

  /** Not in semvec: deleting every collection at once (Chroma's servers refuse it too unless configured). */
  async reset(): Promise<void> {
    return unsupported('reset', 'delete the collections one by one (listCollections, then deleteCollection)');
  }

  /** Snapshots the indexes and closes the directory (a client given as `client` is left open). Not in chromadb's client. */
  async close(): Promise<void> {
    const opening = this.#client;
    if (!opening || !this.#owned) return;
    this.#client = undefined;
    const client = await opening.catch(() => undefined);
    await client?.close();
  }
}
