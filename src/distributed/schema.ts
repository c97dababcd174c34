/**
 * The PostgreSQL schema of distributed semvec (schema `semvec`), created
 * and migrated here, in one transaction per step under an advisory lock so
 * that several processes starting together migrate once.
 *
 * - `meta`: the schema version and the number of virtual shards (fixed
 *   when the schema is made).
 * - `collections`: name, metric, dimension, metadata; `cid` is never reused.
 * - `records`: the system of record: one row per (collection, id) with its
 *   shard, embedding (little-endian float32 bytes), document, metadata and
 *   `version` (the sequence number of the change that wrote it); `rowid`
 *   keeps insertion order for `get`. Metadata is `json`, not `jsonb`, so
 *   that its keys keep the order they were given in (filters cast it).
 * - `shard_seq`: one row per shard holding the last sequence number given
 *   out. A write locks the rows of its shards (in shard order) before it
 *   takes numbers and holds the locks until it commits, so the numbers of
 *   a shard follow commit order and have no gaps (see change-log.ts).
 * - `changes`: the per-shard change log: (shard, seq) -> (cid, id, op) and
 *   the writing transaction's random `token`, by which a node checks that
 *   the history it applied is still PostgreSQL's after a failover.
 * - `counts`: records per (collection, shard), kept by the writes.
 * - `shard_map`: per shard, its epoch, its replicas and a joining node
 *   (shard-map.ts).
 * - `nodes`, `progress`: each node's address and last heartbeat, and how
 *   far it has applied each shard it holds.
 */
import { createError, ErrorCode } from '../errors.js';
import type { Pg } from './pg.js';

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = 1;

/** Most virtual shards a deployment may have. */
export const MAX_SHARDS = 4096;

/** Shards made by default. */
export const DEFAULT_SHARDS = 64;

/** NOTIFY channels: changes (payload: shard numbers, comma-separated) and the map or collections. */
export const CHANGES_CHANNEL = 'semvec_changes';
export const MAP_CHANNEL = 'semvec_map';

/** Op codes of the change log. */
export const Op = { PUT: 1, DELETE: 2 } as const;

const MIGRATIONS: readonly string[] = [
  // 1: everything
  `
  CREATE TABLE semvec.collections (
    cid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE,
    metric text NOT NULL CHECK (metric IN ('cosine', 'ip', 'l2')),
    dim integer CHECK (dim > 0),
    metadata json
  );
  CREATE TABLE semvec.records (
    cid bigint NOT NULL REFERENCES semvec.collections (cid) ON DELETE CASCADE,
    id text NOT NULL,
    shard integer NOT NULL,
    rowid bigint GENERATED ALWAYS AS IDENTITY,
    embedding bytea NOT NULL,
    document text,
    metadata json,
    version bigint NOT NULL,
    PRIMARY KEY (cid, id)
  );
  CREATE INDEX records_by_shard ON semvec.records (shard, cid, id);
  CREATE INDEX records_in_order ON semvec.records (cid, rowid);
  CREATE TABLE semvec.shard_seq (shard integer PRIMARY KEY, last_seq bigint NOT NULL DEFAULT 0);
  CREATE TABLE semvec.changes (
    shard integer NOT NULL,
    seq bigint NOT NULL,
    cid bigint NOT NULL,
    id text NOT NULL,
    op smallint NOT NULL,
    token bigint NOT NULL,
    PRIMARY KEY (shard, seq)
  );
  CREATE TABLE semvec.counts (
    cid bigint NOT NULL REFERENCES semvec.collections (cid) ON DELETE CASCADE,
    shard integer NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (cid, shard)
  );
  CREATE TABLE semvec.shard_map (shard integer PRIMARY KEY, epoch bigint NOT NULL, replicas text[] NOT NULL, joining text);
  CREATE TABLE semvec.nodes (node text PRIMARY KEY, url text NOT NULL, started_at timestamptz NOT NULL, seen_at timestamptz NOT NULL);
  CREATE TABLE semvec.progress (node text NOT NULL, shard integer NOT NULL, seq bigint NOT NULL, PRIMARY KEY (node, shard));
  `,
];

/** What `ensureSchema` found or made. */
export interface SchemaInfo {
  version: number;
  shards: number;
}

/**
 * Creates or migrates the schema. `shards` is used only when the schema is
 * created; an existing deployment keeps its number (a different one asked
 * for is an error: virtual shards are fixed).
 */
export async function ensureSchema(db: Pg, shards?: number): Promise<SchemaInfo> {
  if (shards !== undefined && (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS)) {
    throw createError(ErrorCode.INVALID_ARGUMENT, `shards must be an integer from 1 to ${MAX_SHARDS}; received ${shards}`);
  }
  return db.transaction('creating the schema', async (c) => {
    await c.query("SELECT pg_advisory_xact_lock(hashtext('semvec.schema'))");
    await c.query('CREATE SCHEMA IF NOT EXISTS semvec');
    await c.query('CREATE TABLE IF NOT EXISTS semvec.meta (key text PRIMARY KEY, value bigint NOT NULL)');
    const rows = (await c.query<{ key: string; value: number }>('SELECT key, value FROM semvec.meta')).rows;
    const meta = new Map(rows.map((r) => [r.key, r.value]));
    let version = meta.get('schema_version') ?? 0;
    if (version > SCHEMA_VERSION) {
      throw createError(ErrorCode.UNSUPPORTED_VERSION, `the semvec schema in PostgreSQL is version ${version}; this semvec reads up to ${SCHEMA_VERSION}: upgrade semvec`);
    }
    for (; version < SCHEMA_VERSION; version++) await c.query(MIGRATIONS[version] as string);
    let count = meta.get('shards');
    if (count === undefined) {
      count = shards ?? DEFAULT_SHARDS;
      await c.query('INSERT INTO semvec.shard_seq (shard) SELECT generate_series(0, $1::int - 1)', [count]);
      await c.query("INSERT INTO semvec.meta (key, value) VALUES ('shards', $1)", [count]);
    } else if (shards !== undefined && shards !== count) {
      throw createError(ErrorCode.INVALID_ARGUMENT, `this deployment has ${count} virtual shards, fixed when it was made; received shards = ${shards}`);
    }
    await c.query("INSERT INTO semvec.meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", [SCHEMA_VERSION]);
    return { version: SCHEMA_VERSION, shards: count };
  });
}

/** The schema as it is, without changing it; ERR_NOT_FOUND when semvec's schema is not there. */
export async function readSchema(db: Pg): Promise<SchemaInfo> {
  const rows = await db.query<{ key: string; value: number }>('reading the schema', "SELECT key, value FROM semvec.meta WHERE key IN ('schema_version', 'shards')").catch((err) => {
    if ((err as { code?: string }).code === '42P01' || (err as { code?: string }).code === '3F000') {
      throw createError(ErrorCode.NOT_FOUND, 'PostgreSQL has no semvec schema yet: run `semvec shards init` first');
    }
    throw err;
  });
  const meta = new Map(rows.map((r) => [r.key, r.value]));
  const version = meta.get('schema_version');
  const shards = meta.get('shards');
  if (version === undefined || shards === undefined) throw createError(ErrorCode.NOT_FOUND, 'PostgreSQL has no semvec schema yet: run `semvec shards init` first');
  if (version > SCHEMA_VERSION) throw createError(ErrorCode.UNSUPPORTED_VERSION, `the semvec schema in PostgreSQL is version ${version}; this semvec reads up to ${SCHEMA_VERSION}: upgrade semvec`);
  return { version, shards };
}
