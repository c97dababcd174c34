/**
 * The shard map in PostgreSQL (table semvec.shard_map): read and checked,
 * written whole, and changed one shard at a time by a move.
 *
 * A move has two steps. First the new node becomes the shard's `joining`
 * node: it loads the shard and catches up while the old replicas keep
 * serving, and the epoch does not change. Once it has applied everything
 * written before the check (its reported progress), one transaction swaps
 * it in for the old node and raises the epoch by one: the epoch flips once,
 * and from then on the old node refuses the shard (node-query.ts).
 */
import { createError, ErrorCode } from '../errors.js';
import type { Pg } from './pg.js';
import { MAP_CHANNEL } from './schema.js';
import { checkShardMap, NODE_NAME, type ShardAssignment, type ShardMap } from './shard-map.js';

/** The map in PostgreSQL, checked (ERR_INVALID_ARGUMENT if malformed; ERR_NOT_FOUND if there is none yet). */
export async function loadShardMap(db: Pg, shards: number): Promise<ShardMap> {
  const rows = await db.query<ShardAssignment>('reading the shard map', 'SELECT shard, epoch, replicas, joining FROM semvec.shard_map ORDER BY shard');
  if (rows.length === 0) throw createError(ErrorCode.NOT_FOUND, 'there is no shard map yet: run `semvec shards init --nodes a,b,c`');
  return checkShardMap({ shards, assignments: rows }, shards);
}

/** Writes a whole new map (refused if malformed, or if a map exists and `replace` is not set). */
export async function writeShardMap(db: Pg, map: ShardMap, replace = false): Promise<void> {
  const checked = checkShardMap(map, map.shards);
  await db.transaction('writing the shard map', async (c) => {
    await c.query('LOCK TABLE semvec.shard_map IN EXCLUSIVE MODE');
    const existing = (await c.query<{ shard: number; epoch: number }>('SELECT shard, epoch FROM semvec.shard_map')).rows;
    if (existing.length > 0 && !replace) throw createError(ErrorCode.DUPLICATE_ID, 'a shard map exists already; move shards with `semvec shards move`, or pass --replace');
    const before = new Map(existing.map((r) => [r.shard, r.epoch]));
    await c.query('DELETE FROM semvec.shard_map');
    // A replaced map moves every shard to a newer epoch than any it had.
    const a = checked.assignments;
    await c.query(
      'INSERT INTO semvec.shard_map (shard, epoch, replicas, joining) SELECT s, e, string_to_array(r, \',\'), j FROM unnest($1::int[], $2::bigint[], $3::text[], $4::text[]) AS t(s, e, r, j)',
      [a.map((x) => x.shard), a.map((x) => Math.max(x.epoch, (before.get(x.shard) ?? 0) + 1)), a.map((x) => x.replicas.join(',')), a.map((x) => x.joining)],
    );
    await c.query('SELECT pg_notify($1, $2)', [MAP_CHANNEL, 'map']);
  });
}

/**
 * First step of a move: `to` starts loading `shard` (it becomes its joining
 * node); the replicas and the epoch do not change yet.
 */
export async function beginMove(db: Pg, shard: number, from: string, to: string): Promise<void> {
  if (!NODE_NAME.test(to)) throw createError(ErrorCode.INVALID_ARGUMENT, `to must be a node name; received ${JSON.stringify(to)}`);
  await db.transaction('starting a shard move', async (c) => {
    const row = (await c.query<ShardAssignment>('SELECT shard, epoch, replicas, joining FROM semvec.shard_map WHERE shard = $1 FOR UPDATE', [shard])).rows[0];
    if (!row) throw createError(ErrorCode.NOT_FOUND, `shard ${shard} is not in the shard map`);
    if (!row.replicas.includes(from)) throw createError(ErrorCode.INVALID_ARGUMENT, `node ${from} does not hold shard ${shard} (its replicas: ${row.replicas.join(', ')})`);
    if (row.replicas.includes(to)) throw createError(ErrorCode.INVALID_ARGUMENT, `node ${to} holds shard ${shard} already`);
    if (row.joining !== null && row.joining !== to) throw createError(ErrorCode.INVALID_ARGUMENT, `shard ${shard} is already moving to ${row.joining}`);
    await c.query('UPDATE semvec.shard_map SET joining = $2 WHERE shard = $1', [shard, to]);
    await c.query('SELECT pg_notify($1, $2)', [MAP_CHANNEL, String(shard)]);
  });
}

/**
 * Last step of a move, once `to` has caught up: in one transaction the
 * replicas become (replicas - from + to) and the epoch grows by one.
 * Returns the new epoch.
 */
export async function completeMove(db: Pg, shard: number, from: string, to: string): Promise<number> {
  return db.transaction('completing a shard move', async (c) => {
    const row = (await c.query<ShardAssignment>('SELECT shard, epoch, replicas, joining FROM semvec.shard_map WHERE shard = $1 FOR UPDATE', [shard])).rows[0];
    if (!row || row.joining !== to || !row.replicas.includes(from)) {
      throw createError(ErrorCode.INVALID_ARGUMENT, `shard ${shard} is not moving from ${from} to ${to} (replicas ${row?.replicas.join(', ') ?? 'none'}, joining ${row?.joining ?? 'none'})`);
    }
    const replicas = row.replicas.map((r) => (r === from ? to : r));
    const epoch = row.epoch + 1;
    await c.query('UPDATE semvec.shard_map SET replicas = $2, joining = NULL, epoch = $3 WHERE shard = $1', [shard, replicas, epoch]);
    await c.query('SELECT pg_notify($1, $2)', [MAP_CHANNEL, String(shard)]);
    return epoch;
  });
}

/** Gives up a move that has not completed (the joining node drops what it loaded). */
export async function abortMove(db: Pg, shard: number): Promise<void> {
  await db.transaction('aborting a shard move', async (c) => {
    await c.query('UPDATE semvec.shard_map SET joining = NULL WHERE shard = $1', [shard]);
    await c.query('SELECT pg_notify($1, $2)', [MAP_CHANNEL, String(shard)]);
  });
}

/**
 * Moves a shard from one node to another: `to` loads it and catches up
 * while `from` keeps serving; when `to` has applied everything written
 * before the check (its reported progress), the epoch flips once and `to`
 * replaces `from`. Waits at most `timeoutMs` for `to` to catch up.
 */
export async function moveShard(db: Pg, shard: number, from: string, to: string, options: { timeoutMs?: number; pollMs?: number } = {}): Promise<number> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = performance.now() + timeoutMs;
  await beginMove(db, shard, from, to);
  // The target: the head of the shard's log once the move has begun. Writes
  // go on meanwhile; the new node applies them from the log as any replica
  // does (and a query waits for the sequence numbers it needs), so the swap
  // needs only this much, not a pause in writes.
  const [start] = await db.query<{ last_seq: number }>('checking a move', 'SELECT last_seq FROM semvec.shard_seq WHERE shard = $1', [shard]);
  const target = start?.last_seq ?? 0;
  for (;;) {
    const [row] = await db.query<{ seq: number | null }>('checking a move', 'SELECT seq FROM semvec.progress WHERE shard = $1 AND node = $2', [shard, to]);
    const reached = row?.seq ?? null;
    if (reached !== null && reached >= target) return completeMove(db, shard, from, to);
    if (performance.now() > deadline) {
      await abortMove(db, shard);
      throw createError(ErrorCode.TIMEOUT, `node ${to} did not catch up with shard ${shard} within ${timeoutMs} ms (it reached ${reached ?? 'nothing'} of ${target}); the move was abandoned`);
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
  }
}
