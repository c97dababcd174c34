/**
 * The write path: every write is one PostgreSQL transaction that changes
 * `records`, appends to the per-shard change log and keeps `counts`, and is
 * acknowledged when PostgreSQL commits it (after the synchronous standby
 * has it, when one is configured).
 *
 * Sequence numbers follow commit order. A write first locks the
 * `shard_seq` rows of the shards it touches, in shard order (so two writes
 * never wait for each other in a cycle), then takes its numbers by
 * incrementing `last_seq`, and holds the locks until it commits. A second
 * write to the same shard therefore cannot take numbers before the first
 * has committed (or rolled back, which returns its numbers: no gaps), and
 * PostgreSQL makes a committed transaction visible before it releases its
 * locks. So within a shard, a reader that sees sequence number n sees every
 * number below n: a poller can never skip a row that commits late.
 *
 * Large batches are sent with COPY (binary) into a temporary table first,
 * then moved into `records` and `changes` by one statement; small ones pass
 * as arrays. The records of a write are numbered in input order per shard.
 */
import { randomBytes } from 'node:crypto';

import type pg from 'pg';

import type { Metadata } from '../collection/metadata.js';
import { createError, ErrorCode } from '../errors.js';
import { copyIn, CopyRows } from './copy.js';
import type { Pg } from './pg.js';
import { CHANGES_CHANNEL, Op } from './schema.js';
import { shardOf } from './shard-map.js';

/** Batches from this many records on go through COPY. */
export const COPY_MIN_ROWS = 256;

/** What a committed write returns: the last sequence number it took in each shard it changed. */
export interface WriteReceipt {
  seqs: Map<number, number>;
}

export interface PutBatch {
  ids: readonly string[];
  /** ids.length * dim values. */
  vectors: Float32Array;
  dim: number;
  documents: readonly (string | null | undefined)[] | undefined;
  metadatas: readonly (Metadata | null)[];
}

/** A random 48-bit token naming one write transaction in the change log. */
function writeToken(): number {
  return randomBytes(6).readUIntBE(0, 6);
}

/** The shard of each id, its rank among the ids of its shard, and the count per shard. */
function placeIds(cid: number, ids: readonly string[], shards: number) {
  const shard = new Int32Array(ids.length);
  const rank = new Int32Array(ids.length);
  const counts = new Map<number, number>();
  ids.forEach((id, i) => {
    const s = shardOf(cid, id, shards);
    const r = (counts.get(s) ?? 0) + 1;
    counts.set(s, r);
    shard[i] = s;
    rank[i] = r;
  });
  return { shard, rank, counts };
}

/** Locks the sequence rows of these shards, in shard order. */
async function lockShards(c: pg.ClientBase, shards: Iterable<number>): Promise<void> {
  const list = [...shards].sort((a, b) => a - b);
  await c.query('SELECT shard FROM semvec.shard_seq WHERE shard = ANY($1::int[]) ORDER BY shard FOR UPDATE', [list]);
}

/** Takes `n` numbers per shard (the rows are locked); returns each shard's base (its first number - 1). */
async function takeSeqs(c: pg.ClientBase, counts: ReadonlyMap<number, number>): Promise<Map<number, number>> {
  const shards = [...counts.keys()].filter((s) => (counts.get(s) ?? 0) > 0);
  const { rows } = await c.query<{ shard: number; last_seq: number }>(
    'UPDATE semvec.shard_seq s SET last_seq = s.last_seq + v.n FROM unnest($1::int[], $2::bigint[]) AS v(shard, n) WHERE s.shard = v.shard RETURNING s.shard, s.last_seq',
    [shards, shards.map((s) => counts.get(s))],
  );
  return new Map(rows.map((r) => [r.shard, r.last_seq - (counts.get(r.shard) as number)]));
}

function receipt(bases: ReadonlyMap<number, number>, counts: ReadonlyMap<number, number>): WriteReceipt {
  return { seqs: new Map([...bases].map(([s, base]) => [s, base + (counts.get(s) as number)])) };
}

/** Sets the collection's dimension on its first write, or checks it. */
async function checkDim(c: pg.ClientBase, cid: number, name: string, dim: number): Promise<void> {
  await c.query('UPDATE semvec.collections SET dim = $2 WHERE cid = $1 AND dim IS NULL', [cid, dim]);
  const row = (await c.query<{ dim: number }>('SELECT dim FROM semvec.collections WHERE cid = $1', [cid])).rows[0];
  if (!row) throw createError(ErrorCode.NOT_FOUND, `the collection ${JSON.stringify(name)} was deleted`);
  if (row.dim !== dim) throw createError(ErrorCode.DIMENSION_MISMATCH, `embeddings must have dim = ${row.dim}; received ${dim}`);
}

/** The little-endian float32 bytes of vector i. */
function vectorBytes(vectors: Float32Array, dim: number, i: number): Buffer {
  return Buffer.from(vectors.buffer, vectors.byteOffset + i * dim * 4, dim * 4);
}

/** Loads the batch into a temporary table (COPY) or names it as arrays; returns the SQL source of its rows. */
async function batchSource(c: pg.ClientBase, batch: PutBatch, shard: Int32Array, rank: Int32Array, params: unknown[]): Promise<string> {
  const { ids, vectors, dim, documents, metadatas } = batch;
  const meta = metadatas.map((m) => (m === null || m === undefined ? null : JSON.stringify(m)));
  if (ids.length >= COPY_MIN_ROWS) {
    await c.query('CREATE TEMPORARY TABLE semvec_load (shard int4, rank int4, id text, embedding bytea, document text, metadata json) ON COMMIT DROP');
    const rows = new CopyRows(['int4', 'int4', 'text', 'bytea', 'text', 'json']);
    ids.forEach((id, i) => rows.add([shard[i] as number, rank[i] as number, id, vectorBytes(vectors, dim, i), documents?.[i] ?? null, meta[i] ?? null]));
    await copyIn(c, 'semvec_load', ['shard', 'rank', 'id', 'embedding', 'document', 'metadata'], rows);
    return 'semvec_load AS src';
  }
  const at = params.length;
  params.push(Array.from(shard), Array.from(rank), ids, ids.map((_, i) => vectorBytes(vectors, dim, i)), ids.map((_, i) => documents?.[i] ?? null), meta);
  return `unnest($${at + 1}::int[], $${at + 2}::int[], $${at + 3}::text[], $${at + 4}::bytea[], $${at + 5}::text[], $${at + 6}::json[]) AS src(shard, rank, id, embedding, document, metadata)`;
}

/** The id of a unique violation's detail ("Key (cid, id)=(3, a) already exists."). */
function duplicateOf(err: unknown): string | undefined {
  const e = err as { code?: string; detail?: string };
  if (e?.code !== '23505') return undefined;
  return /=\(\d+, (.*)\) already exists/.exec(e.detail ?? '')?.[1] ?? '?';
}

/**
 * add (ids must be new: ERR_DUPLICATE_ID and nothing written otherwise) or
 * upsert (new ids added, existing ones replaced whole).
 */
export async function putRecords(db: Pg, shards: number, cid: number, name: string, batch: PutBatch, upsert: boolean): Promise<WriteReceipt> {
  const { shard, rank, counts } = placeIds(cid, batch.ids, shards);
  const token = writeToken();
  try {
    return await db.transaction(upsert ? 'upsert' : 'add', async (c) => {
      await checkDim(c, cid, name, batch.dim);
      const params: unknown[] = [cid, token];
      const source = await batchSource(c, batch, shard, rank, params);
      await lockShards(c, counts.keys());
      const bases = await takeSeqs(c, counts);
      const b = params.length;
      params.push([...bases.keys()], [...bases.values()]);
      const conflict = upsert
        ? 'ON CONFLICT (cid, id) DO UPDATE SET embedding = EXCLUDED.embedding, document = EXCLUDED.document, metadata = EXCLUDED.metadata, version = EXCLUDED.version'
        : '';
      await c.query(
        `WITH l AS (SELECT src.*, b.base + src.rank AS seq FROM ${source} JOIN unnest($${b + 1}::int[], $${b + 2}::bigint[]) AS b(shard, base) ON b.shard = src.shard),
         w AS (INSERT INTO semvec.records AS r (cid, id, shard, embedding, document, metadata, version)
               SELECT $1, id, shard, embedding, document, metadata, seq FROM l ${conflict} RETURNING r.shard, (r.xmax = 0) AS inserted),
         n AS (INSERT INTO semvec.counts AS k (cid, shard, n) SELECT $1, shard, count(*) FILTER (WHERE inserted) FROM w GROUP BY shard
               ON CONFLICT (cid, shard) DO UPDATE SET n = k.n + EXCLUDED.n)
         INSERT INTO semvec.changes (shard, seq, cid, id, op, token) SELECT shard, seq, $1, id, ${Op.PUT}, $2 FROM l`,
        params,
      );
      return receipt(bases, counts);
    });
  } catch (err) {
    const dup = duplicateOf(err);
    if (dup !== undefined) throw createError(ErrorCode.DUPLICATE_ID, `id ${JSON.stringify(dup)} is already in the collection ${JSON.stringify(name)}; nothing was added (use upsert to replace it)`);
    throw err;
  }
}

type MetadataPatch = Record<string, Metadata[string] | null>;

/** A record's metadata with a patch merged in, as semvec's collections do (JSON merge patch): keys keep their places, new keys go last, null removes a key; nothing left is null. */
export function mergePatch(base: Metadata | null, patch: MetadataPatch): Metadata | null {
  const out: Record<string, Metadata[string]> = { ...(base ?? {}) };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = value;
  }
  return Object.keys(out).length > 0 ? (out as Metadata) : null;
}

export interface UpdateBatch {
  ids: readonly string[];
  documents: readonly (string | null | undefined)[] | undefined;
  patches: readonly (Record<string, Metadata[string] | null> | undefined)[];
  /** New embeddings (ids.length * dim), or undefined to keep them. */
  vectors: Float32Array | undefined;
  dim: number | undefined;
}

/** Updates existing records (ERR_NOT_FOUND and nothing written if one is missing); metadata is merged, null removes a key. */
export async function updateRecords(db: Pg, shards: number, cid: number, name: string, batch: UpdateBatch): Promise<WriteReceipt> {
  const { ids, documents, patches, vectors, dim } = batch;
  const { shard, rank, counts } = placeIds(cid, ids, shards);
  const token = writeToken();
  return db.transaction('update', async (c) => {
    if (vectors) await checkDim(c, cid, name, dim as number);
    await lockShards(c, counts.keys());
    const found = (await c.query<{ id: string; metadata: Metadata | null }>('SELECT id, metadata FROM semvec.records WHERE cid = $1 AND id = ANY($2::text[])', [cid, ids])).rows;
    if (found.length !== ids.length) {
      const have = new Set(found.map((r) => r.id));
      const missing = ids.find((id) => !have.has(id));
      throw createError(ErrorCode.NOT_FOUND, `id ${JSON.stringify(missing)} is not in the collection ${JSON.stringify(name)}; nothing was updated (use upsert to add it)`);
    }
    // The shards are locked: no other write changes these records before this one commits.
    const current = new Map(found.map((r) => [r.id, r.metadata]));
    const merged = ids.map((id, i) => (patches[i] ? mergePatch(current.get(id) ?? null, patches[i] as MetadataPatch) : undefined));
    const bases = await takeSeqs(c, counts);
    await c.query(
      `WITH u AS (SELECT u.*, b.base + u.rank AS seq FROM unnest($2::text[], $3::int[], $4::int[], $5::bool[], $6::text[], $7::bool[], $8::json[], $12::bytea[]) AS u(id, shard, rank, setdoc, document, setmeta, metadata, embedding)
                  JOIN unnest($9::int[], $10::bigint[]) AS b(shard, base) ON b.shard = u.shard),
       w AS (UPDATE semvec.records r SET
               document = CASE WHEN u.setdoc THEN u.document ELSE r.document END,
               metadata = CASE WHEN u.setmeta THEN u.metadata ELSE r.metadata END,
               embedding = coalesce(u.embedding, r.embedding),
               version = u.seq
             FROM u WHERE r.cid = $1 AND r.id = u.id)
       INSERT INTO semvec.changes (shard, seq, cid, id, op, token) SELECT shard, seq, $1, id, ${Op.PUT}, $11 FROM u`,
      [
        cid,
        ids,
        Array.from(shard),
        Array.from(rank),
        ids.map((_, i) => documents?.[i] !== undefined),
        ids.map((_, i) => documents?.[i] ?? null),
        merged.map((m) => m !== undefined),
        merged.map((m) => (m ? JSON.stringify(m) : null)),
        [...bases.keys()],
        [...bases.values()],
        token,
        ids.map((_, i) => (vectors ? vectorBytes(vectors, dim as number, i) : null)),
      ],
    );
    return receipt(bases, counts);
  });
}

/**
 * Deletes records: `ids` (when given) that also match `filterSql` (when
 * given, over `params` after $1 = cid). The candidates are read first;
 * their shards are then locked and the delete re-checks the filter, so only
 * records deleted in this transaction are logged. Returns how many were
 * deleted and the receipt.
 */
export async function deleteRecords(db: Pg, shards: number, cid: number, ids: readonly string[] | undefined, filterSql: string | undefined, params: unknown[]): Promise<{ deleted: number; receipt: WriteReceipt }> {
  const token = writeToken();
  return db.transaction('delete', async (c) => {
    const where = [`cid = $1`, ...(ids ? [`id = ANY($${params.length + 2}::text[])`] : []), ...(filterSql ? [filterSql] : [])].join(' AND ');
    const all = [cid, ...params, ...(ids ? [ids] : [])];
    const candidates = (await c.query<{ shard: number }>(`SELECT DISTINCT shard FROM semvec.records WHERE ${where}`, all)).rows.map((r) => r.shard);
    if (candidates.length === 0) return { deleted: 0, receipt: { seqs: new Map() } };
    await lockShards(c, candidates);
    const gone = (await c.query<{ id: string; shard: number }>(`DELETE FROM semvec.records WHERE ${where} AND shard = ANY($${all.length + 1}::int[]) RETURNING id, shard`, [...all, candidates])).rows;
    if (gone.length === 0) return { deleted: 0, receipt: { seqs: new Map() } };
    const counts = new Map<number, number>();
    const rank = gone.map((g) => {
      const r = (counts.get(g.shard) ?? 0) + 1;
      counts.set(g.shard, r);
      return r;
    });
    const bases = await takeSeqs(c, counts);
    await c.query(
      `INSERT INTO semvec.changes (shard, seq, cid, id, op, token)
       SELECT g.shard, b.base + g.rank, $1, g.id, ${Op.DELETE}, $2 FROM unnest($3::text[], $4::int[], $5::int[]) AS g(id, shard, rank) JOIN unnest($6::int[], $7::bigint[]) AS b(shard, base) ON b.shard = g.shard`,
      [cid, token, gone.map((g) => g.id), gone.map((g) => g.shard), rank, [...bases.keys()], [...bases.values()]],
    );
    await c.query('UPDATE semvec.counts k SET n = k.n - v.n FROM unnest($2::int[], $3::bigint[]) AS v(shard, n) WHERE k.cid = $1 AND k.shard = v.shard', [cid, [...counts.keys()], [...counts.values()]]);
    return { deleted: gone.length, receipt: receipt(bases, counts) };
  });
}

/**
 * Wakes the nodes of the shards a write changed. It is a hint (nodes poll
 * as well), sent after the commit on a connection of its own with
 * synchronous_commit off, so the write's acknowledgement never waits for
 * it; notices that pile up while one is sent go out together.
 */
export class ChangeNotifier {
  readonly #db: Pg;
  #pending = new Set<number>();
  #sending: Promise<void> | undefined;

  constructor(db: Pg) {
    this.#db = db;
  }

  notify(receipt: WriteReceipt): void {
    for (const s of receipt.seqs.keys()) this.#pending.add(s);
    this.#sending ??= this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.size > 0) {
        const shards = [...this.#pending];
        this.#pending = new Set();
        await this.#db
          .transaction('notifying nodes', async (c) => {
            await c.query('SET LOCAL synchronous_commit TO off');
            await c.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, shards.join(',')]);
          })
          .catch(() => undefined); // nodes poll too
      }
    } finally {
      this.#sending = undefined;
    }
  }

  /** Resolves once the notices pending now are sent. */
  async flush(): Promise<void> {
    await this.#sending;
  }
}
