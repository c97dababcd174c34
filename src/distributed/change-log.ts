/**
 * Reading the change log, as nodes do: the changes of a shard after the
 * last one a node applied, or the whole shard when it must start again.
 *
 * Each read runs in one REPEATABLE READ transaction, so the log, the shard's
 * head (`shard_seq.last_seq`) and the records are read at one snapshot.
 * Sequence numbers follow commit order without gaps (writes.ts), so the
 * snapshot holds every change up to the head and the records reflect them:
 * a node that applies the records read with the changes reflects the shard
 * at that sequence number (a record may show a newer version, never an
 * older one).
 *
 * Continuity: a node remembers the sequence number and the write token of
 * the last change it applied. A read starts at that change and checks it is
 * still there with the same token. It is not when PostgreSQL's history is
 * no longer the one the node applied: a failover lost changes that were
 * committed on the old primary but not acknowledged (a node may have read
 * them before the standby had them), or the log was pruned past the node.
 * The node then rebuilds the shard from the records.
 */
import type pg from 'pg';

import type { Metadata } from '../collection/metadata.js';
import type { Metric } from '../vector-index.js';
import type { Pg } from './pg.js';

export interface StoredRecord {
  cid: number;
  id: string;
  /** Little-endian float32 values (a copy, aligned). */
  embedding: Float32Array;
  document: string | null;
  metadata: Metadata | null;
}

/** Changes read after a node's position. */
export interface LogRead {
  kind: 'changes';
  /** The last change read (the node's new position) and its token. */
  seq: number;
  token: number;
  /** The (collection, id) keys changed, each once. */
  changed: { cid: number; id: string }[];
  /** The current records of the changed keys that exist (the others were deleted). */
  records: StoredRecord[];
}

/** The node cannot continue from its position: rebuild the shard. */
export interface LogBroken {
  kind: 'rebuild';
  reason: string;
}

export interface CollectionDescription {
  cid: number;
  name: string;
  metric: Metric;
  dim: number | null;
}

const READ = 'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY';

/** A bytea of float32 values as an aligned Float32Array (a copy). */
export function floats(bytes: Buffer): Float32Array {
  const copy = new Uint8Array(bytes.length - (bytes.length % 4));
  copy.set(bytes.subarray(0, copy.length));
  return new Float32Array(copy.buffer);
}

interface RecordRow {
  cid: number;
  id: string;
  embedding: Buffer;
  document: string | null;
  metadata: Metadata | null;
}

const toRecord = (r: RecordRow): StoredRecord => ({ cid: r.cid, id: r.id, embedding: floats(r.embedding), document: r.document, metadata: r.metadata });

async function head(c: pg.ClientBase, shard: number): Promise<number> {
  return (await c.query<{ last_seq: number }>('SELECT last_seq FROM semvec.shard_seq WHERE shard = $1', [shard])).rows[0]?.last_seq ?? 0;
}

/**
 * The changes of `shard` after position (`seq`, `token`), at most `limit`
 * of them, with the current records they touched; or why the node must
 * rebuild. Returns changes with none inside when there is nothing new.
 */
export async function readChanges(db: Pg, shard: number, seq: number, token: number, limit: number): Promise<LogRead | LogBroken> {
  return db.transaction(
    'reading the change log',
    async (c) => {
      const last = await head(c, shard);
      const upTo = Math.min(last, seq + limit);
      const { rows } = await c.query<{ seq: number; token: number; cid: number; id: string }>(
        'SELECT seq, token, cid, id FROM semvec.changes WHERE shard = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq',
        [shard, Math.max(seq, 1), Math.max(upTo, seq)],
      );
      if (seq > 0) {
        const first = rows[0];
        if (!first || first.seq !== seq) return { kind: 'rebuild', reason: `change ${seq} of shard ${shard} is no longer in the log (pruned, or lost in a failover; the log ends at ${last})` };
        if (first.token !== token) return { kind: 'rebuild', reason: `change ${seq} of shard ${shard} was written by another transaction than the one applied (history replaced by a failover)` };
        rows.shift();
      } else if (rows.length > 0 && rows[0]?.seq !== 1) {
        return { kind: 'rebuild', reason: `the log of shard ${shard} starts at ${rows[0]?.seq}: it was pruned` };
      }
      for (let i = 0; i < rows.length; i++) {
        if (rows[i]?.seq !== seq + i + 1) return { kind: 'rebuild', reason: `the log of shard ${shard} has a gap before ${rows[i]?.seq}` };
      }
      if (rows.length === 0) return { kind: 'changes', seq, token, changed: [], records: [] };
      const keys = new Map<string, { cid: number; id: string }>();
      for (const r of rows) keys.set(`${r.cid}\u0000${r.id}`, { cid: r.cid, id: r.id });
      const changed = [...keys.values()];
      const records = await c.query<RecordRow>(
        'SELECT r.cid, r.id, r.embedding, r.document, r.metadata FROM semvec.records r JOIN unnest($2::bigint[], $3::text[]) AS k(cid, id) ON r.cid = k.cid AND r.id = k.id WHERE r.shard = $1',
        [shard, changed.map((k) => k.cid), changed.map((k) => k.id)],
      );
      const end = rows[rows.length - 1] as { seq: number; token: number };
      return { kind: 'changes', seq: end.seq, token: end.token, changed, records: records.rows.map(toRecord) };
    },
    'ISOLATION LEVEL REPEATABLE READ, READ ONLY',
  );
}

/**
 * Every record of a shard, in chunks given to `onChunk`, and the position
 * (sequence number and token) they reflect, read at one snapshot.
 */
export async function readShard(db: Pg, shard: number, onChunk: (records: StoredRecord[]) => Promise<void> | void, chunk = 2_000): Promise<{ seq: number; token: number }> {
  return db.with('reading a shard', async (c) => {
    await c.query(READ);
    try {
      const seq = await head(c, shard);
      const token = seq === 0 ? 0 : ((await c.query<{ token: number }>('SELECT token FROM semvec.changes WHERE shard = $1 AND seq = $2', [shard, seq])).rows[0]?.token ?? 0);
      let after: [number, string] = [-1, ''];
      for (;;) {
        const { rows } = await c.query<RecordRow>(
          'SELECT cid, id, embedding, document, metadata FROM semvec.records WHERE shard = $1 AND (cid, id) > ($2, $3) ORDER BY cid, id LIMIT $4',
          [shard, after[0], after[1], chunk],
        );
        if (rows.length === 0) break;
        await onChunk(rows.map(toRecord));
        const last = rows[rows.length - 1] as RecordRow;
        after = [last.cid, last.id];
      }
      await c.query('COMMIT');
      return { seq, token };
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  });
}

/** The collections (nodes need their metric and dimension). */
export async function readCollections(db: Pg): Promise<Map<number, CollectionDescription>> {
  const rows = await db.query<CollectionDescription>('reading the collections', 'SELECT cid, name, metric, dim FROM semvec.collections');
  return new Map(rows.map((r) => [r.cid, r]));
}

/**
 * Removes changes every holder of a shard has applied, keeping `retain`
 * more behind the slowest one, and always the change each holder stands
 * on (nodes check it). Returns the changes removed.
 */
export async function pruneLog(db: Pg, retain: number): Promise<number> {
  return db.transaction('pruning the change log', async (c) => {
    const locked = (await c.query<{ ok: boolean }>("SELECT pg_try_advisory_xact_lock(hashtext('semvec.prune')) AS ok")).rows[0]?.ok;
    if (!locked) return 0;
    const res = await c.query(
      `WITH holders AS (SELECT m.shard, h.node FROM semvec.shard_map m, unnest(m.replicas || coalesce(ARRAY[m.joining], '{}')) AS h(node)),
            floor AS (SELECT h.shard, min(coalesce(p.seq, 0)) AS seq FROM holders h LEFT JOIN semvec.progress p ON p.node = h.node AND p.shard = h.shard GROUP BY h.shard)
       DELETE FROM semvec.changes c USING floor f WHERE c.shard = f.shard AND c.seq < f.seq - $1`,
      [retain],
    );
    return res.rowCount ?? 0;
  });
}
