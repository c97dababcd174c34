/**
 * The client of a distributed deployment: semvec's collection API over
 * PostgreSQL (the system of record) and semvec nodes (the indexes),
 * through a router running in this process. `semvec router` serves it over
 * Chroma's HTTP API; semvec/chroma's ChromaClient takes it as `client`.
 *
 * @example
 * const client = await DistributedClient.connect({ urls: ['postgres://semvec@db1/semvec', 'postgres://semvec@db2/semvec'] });
 * const docs = await client.getOrCreateCollection('docs', { metric: 'cosine' });
 * const { seqs } = await docs.add({ ids: ['a'], embeddings: [[0.1, 0.2, 0.3]] });
 * const [hits] = await docs.query({ queryEmbeddings: [[0.1, 0.2, 0.3]], nResults: 5 });
 */
import { checkCollectionName } from '../collection/client.js';
import { checkMetadata, type Metadata } from '../collection/metadata.js';
import type { ModifyCollectionOptions } from '../collection/types.js';
import { createError, ErrorCode } from '../errors.js';
import { checkInteger, checkOneOf, describe } from '../validate.js';
import { METRICS, type Metric } from '../vector-index.js';
import { DistributedCollection, type DistributedCollectionInfo, type DistributedHost } from './collection.js';
import { Pg, waitForPostgres } from './pg.js';
import { Router } from './router.js';
import { MAP_CHANNEL } from './schema.js';
import type { ShardMap } from './shard-map.js';
import { ChangeNotifier } from './writes.js';

export interface DistributedClientOptions {
  /** PostgreSQL URLs: the primary and its standbys (the writable one is used). */
  urls: string | readonly string[];
  /** Connections to PostgreSQL; default 8. */
  connections?: number;
  /** How long nodes may wait for a shard to reach a sequence number, in ms; default 10,000. */
  waitMs?: number;
  /** How long a request to a node may take beyond waitMs, in ms; default 30,000. */
  requestTimeoutMs?: number;
  /** Map and node list refresh interval, in ms; default 1,000. */
  refreshMs?: number;
  /** A node is live when its last heartbeat is younger than this, in seconds; default 3. */
  liveSeconds?: number;
  /** How long to wait for PostgreSQL at connect, retrying with backoff, in ms (0: forever); default 10,000. */
  connectTimeoutMs?: number;
  /** Receives what the router logs (a refused shard map, retries at connect). */
  log?: (message: string) => void;
}

export interface DistributedCollectionOptions {
  metric?: Metric;
  metadata?: Metadata;
}

export interface DistributedCollectionSummary {
  name: string;
  metric: Metric;
  dim: number | undefined;
  index: 'flat';
  count: number;
  metadata: Metadata | null;
}

const HNSW_SPACE = 'hnsw:space';

/** The metric of a new collection: `metric`, or Chroma's 'hnsw:space'; other 'hnsw:*' keys are refused. */
function metricOf(metric: unknown, metadata: Metadata | null, current?: Metric): Metric {
  for (const key of Object.keys(metadata ?? {})) {
    if (key.startsWith('hnsw:') && key !== HNSW_SPACE) throw createError(ErrorCode.INVALID_ARGUMENT, `metadata ${JSON.stringify(key)} configures Chroma's HNSW index, which semvec collections do not have; remove it`);
  }
  const chosen = metric === undefined ? undefined : checkOneOf(metric, 'metric', METRICS);
  const space = metadata?.[HNSW_SPACE] === undefined ? undefined : checkOneOf(metadata[HNSW_SPACE], `metadata["${HNSW_SPACE}"]`, METRICS);
  const picked = chosen ?? space ?? current ?? 'cosine';
  if ((space !== undefined && space !== picked) || (current !== undefined && picked !== current)) {
    throw createError(ErrorCode.INVALID_ARGUMENT, `the metric ${JSON.stringify(current ?? chosen)} disagrees with metadata["${HNSW_SPACE}"] ${JSON.stringify(space)}; the metric cannot change`);
  }
  return picked;
}

export class DistributedClient {
  readonly #db: Pg;
  readonly #router: Router;
  readonly #notifier: ChangeNotifier;
  readonly #host: DistributedHost;
  readonly #handles = new Map<number, DistributedCollection>();
  #closed = false;

  private constructor(db: Pg, router: Router) {
    this.#db = db;
    this.#router = router;
    this.#notifier = new ChangeNotifier(db);
    this.#host = { db, router, notifier: this.#notifier, modify: (col, changes) => this.#modify(col, changes) };
  }

  /** Connects to PostgreSQL (whose semvec schema and shard map must exist: `semvec shards init`) and starts the router. */
  static async connect(options: DistributedClientOptions): Promise<DistributedClient> {
    if (options === null || typeof options !== 'object') throw createError(ErrorCode.INVALID_ARGUMENT, `options must be an object like { urls }; received ${describe(options)}`);
    const urls = typeof options.urls === 'string' ? [options.urls] : options.urls;
    const db = new Pg({ urls, max: options.connections ?? 8, application: 'semvec router' });
    const router = new Router({ ...options, db });
    try {
      const timeoutMs = options.connectTimeoutMs === undefined ? 10_000 : checkInteger(options.connectTimeoutMs, 'connectTimeoutMs', 0, Number.MAX_SAFE_INTEGER);
      await waitForPostgres(db, { timeoutMs, onRetry: (m, ms) => options.log?.(`${m}; retrying in ${Math.round(ms)} ms`) });
      await router.start();
    } catch (err) {
      await router.close();
      await db.close();
      throw err;
    }
    return new DistributedClient(db, router);
  }

  /** The number of virtual shards of the deployment. */
  get shardCount(): number {
    return this.#router.shardCount;
  }

  /** The shard map the router follows (epochs, replicas). */
  get shardMap(): ShardMap | undefined {
    return this.#router.map;
  }

  #check(): void {
    if (this.#closed) throw createError(ErrorCode.CLOSED, 'the client is closed');
  }

  #handle(row: DistributedCollectionInfo): DistributedCollection {
    let col = this.#handles.get(row.cid);
    if (col) col.setInfo(row);
    else {
      col = new DistributedCollection(this.#host, row);
      this.#handles.set(row.cid, col);
    }
    return col;
  }

  async #row(name: string): Promise<DistributedCollectionInfo | undefined> {
    const [row] = await this.#db.query<DistributedCollectionInfo>('reading a collection', 'SELECT cid, name, metric, dim, metadata FROM semvec.collections WHERE name = $1', [name]);
    return row;
  }

  /** Creates a collection; ERR_DUPLICATE_ID if the name is taken. */
  async createCollection(name: string, options: DistributedCollectionOptions = {}): Promise<DistributedCollection> {
    this.#check();
    checkCollectionName(name);
    const metadata = checkMetadata(options?.metadata, 'metadata');
    const metric = metricOf(options?.metric, metadata);
    try {
      const [row] = await this.#db.query<DistributedCollectionInfo>(
        'creating a collection',
        'INSERT INTO semvec.collections (name, metric, metadata) VALUES ($1, $2, $3) RETURNING cid, name, metric, dim, metadata',
        [name, metric, metadata === null ? null : JSON.stringify(metadata)],
      );
      return this.#handle(row as DistributedCollectionInfo);
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw createError(ErrorCode.DUPLICATE_ID, `a collection named ${JSON.stringify(name)} exists already`);
      throw err;
    }
  }

  /** An existing collection; ERR_NOT_FOUND if there is none by that name. */
  async getCollection(name: string): Promise<DistributedCollection> {
    this.#check();
    checkCollectionName(name);
    const row = await this.#row(name);
    if (!row) throw createError(ErrorCode.NOT_FOUND, `no collection named ${JSON.stringify(name)}`);
    return this.#handle(row);
  }

  /** The collection, created with `options` when it does not exist. */
  async getOrCreateCollection(name: string, options: DistributedCollectionOptions = {}): Promise<DistributedCollection> {
    this.#check();
    checkCollectionName(name);
    const row = await this.#row(name);
    if (row) return this.#handle(row);
    try {
      return await this.createCollection(name, options);
    } catch (err) {
      if ((err as { code?: string }).code === ErrorCode.DUPLICATE_ID) return this.getCollection(name); // created meanwhile
      throw err;
    }
  }

  /** Every collection with its record count. */
  async listCollections(): Promise<DistributedCollectionSummary[]> {
    this.#check();
    const rows = await this.#db.query<DistributedCollectionInfo & { count: number }>(
      'listing collections',
      'SELECT c.cid, c.name, c.metric, c.dim, c.metadata, coalesce((SELECT sum(n) FROM semvec.counts k WHERE k.cid = c.cid), 0)::int8 AS count FROM semvec.collections c ORDER BY c.name',
    );
    return rows.map((r) => ({ name: r.name, metric: r.metric, dim: r.dim ?? undefined, index: 'flat', count: r.count, metadata: r.metadata }));
  }

  async countCollections(): Promise<number> {
    this.#check();
    const [row] = await this.#db.query<{ n: number }>('counting collections', 'SELECT count(*)::int8 AS n FROM semvec.collections');
    return row?.n ?? 0;
  }

  /** @internal The name of collection number `cid`, if it exists. */
  async collectionNameOf(cid: number): Promise<string | undefined> {
    this.#check();
    const [row] = await this.#db.query<{ name: string }>('reading a collection', 'SELECT name FROM semvec.collections WHERE cid = $1', [cid]);
    return row?.name;
  }

  /** Deletes a collection and its records; ERR_NOT_FOUND if absent. Nodes drop their parts of it. */
  async deleteCollection(name: string): Promise<void> {
    this.#check();
    checkCollectionName(name);
    const cid = await this.#db.transaction('deleting a collection', async (c) => {
      const row = (await c.query<{ cid: number }>('DELETE FROM semvec.collections WHERE name = $1 RETURNING cid', [name])).rows[0];
      if (!row) throw createError(ErrorCode.NOT_FOUND, `no collection named ${JSON.stringify(name)}`);
      await c.query('SELECT pg_notify($1, $2)', [MAP_CHANNEL, 'collections']);
      return row.cid;
    });
    this.#handles.get(cid)?.invalidate();
    this.#handles.delete(cid);
  }

  /** Renames a collection and/or replaces its metadata (the metric cannot change). */
  async modifyCollection(name: string, changes: ModifyCollectionOptions): Promise<void> {
    await this.#modify(await this.getCollection(name), changes);
  }

  async #modify(col: DistributedCollection, changes: ModifyCollectionOptions): Promise<void> {
    this.#check();
    if (changes === null || typeof changes !== 'object') throw createError(ErrorCode.INVALID_ARGUMENT, `modify expects an object like { name, metadata }; received ${describe(changes)}`);
    for (const key of Object.keys(changes)) if (key !== 'name' && key !== 'metadata') throw createError(ErrorCode.INVALID_ARGUMENT, `modify takes name and metadata; received the option ${JSON.stringify(key)}`);
    const name = changes.name === undefined ? col.name : checkCollectionName(changes.name);
    const metadata = changes.metadata === undefined ? col.metadata : checkMetadata(changes.metadata, 'metadata');
    if (changes.metadata !== undefined) metricOf(undefined, metadata, col.metric);
    try {
      const [row] = await this.#db.query<DistributedCollectionInfo>(
        'modifying a collection',
        'UPDATE semvec.collections SET name = $2, metadata = $3 WHERE cid = $1 RETURNING cid, name, metric, dim, metadata',
        [col.cid, name, metadata === null ? null : JSON.stringify(metadata)],
      );
      if (!row) throw createError(ErrorCode.NOT_FOUND, `the collection ${JSON.stringify(col.name)} was deleted`);
      col.setInfo(row);
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw createError(ErrorCode.DUPLICATE_ID, `a collection named ${JSON.stringify(name)} exists already`);
      throw err;
    }
  }

  /** Stops the router and closes the connections (pending notices to nodes are sent first). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#notifier.flush();
    await this.#router.close();
    await this.#db.close();
  }
}
