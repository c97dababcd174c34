/**
 * A node answering a query for some of its shards.
 *
 * Epochs: the caller names, per shard, the epoch of the map it routed by.
 * A newer epoch than the node's makes the node read the map first; after
 * that, any other epoch than the node's, or a shard the node does not hold
 * as a replica at that epoch, is refused with ERR_STALE_EPOCH (carrying
 * the node's epochs), so a node that lost a shard never answers for it and
 * a router with an old map learns it.
 *
 * Read-your-writes: each shard must reflect the caller's `minSeq` (see
 * ShardNode.waitFor); the node waits up to `waitMs`, then answers
 * ERR_TIMEOUT. A shard still loading is ERR_UNAVAILABLE (the router asks the
 * other replica).
 */
import { parseWhere } from '../collection/filter.js';
import { createError, ErrorCode } from '../errors.js';
import { documentPredicate } from './filters.js';
import type { ShardNode } from './node.js';
import { decodeFloats, encodeMatches, mergeTopK, type NodeAnswer, type NodeQuery } from './protocol.js';
import type { ShardMatch } from './shard-replica.js';

/** Most a query may wait for shards to catch up, in ms. */
export const MAX_WAIT_MS = 60_000;

function stale(node: ShardNode, message: string, shards: readonly number[]): Error {
  const err = createError(ErrorCode.STALE_EPOCH, `node ${node.name}: ${message}`) as Error & { epochs?: Record<number, number> };
  err.epochs = Object.fromEntries(shards.map((s) => [s, node.map?.assignments[s]?.epoch ?? 0]));
  return err;
}

/** Checks the request's epochs against the node's map (reading it again when the request is newer). */
async function checkEpochs(node: ShardNode, q: NodeQuery): Promise<void> {
  const newer = q.shards.some((s) => s.epoch > (node.map?.assignments[s.shard]?.epoch ?? 0));
  if (newer) await node.refreshMap().catch(() => undefined);
  for (const s of q.shards) {
    const a = node.map?.assignments[s.shard];
    if (!a) throw createError(ErrorCode.INVALID_ARGUMENT, `node ${node.name}: there is no shard ${s.shard}`);
    if (a.epoch !== s.epoch) throw stale(node, `shard ${s.shard} is at epoch ${a.epoch}, not ${s.epoch}`, q.shards.map((x) => x.shard));
    if (!a.replicas.includes(node.name)) throw stale(node, `this node does not hold shard ${s.shard} at epoch ${a.epoch}`, q.shards.map((x) => x.shard));
  }
}

/** Validates what the node reads of a query (the router validated the caller's arguments). */
function checkQuery(q: NodeQuery): void {
  const ok =
    q !== null &&
    typeof q === 'object' &&
    Number.isSafeInteger(q.cid) &&
    Number.isInteger(q.nq) &&
    q.nq > 0 &&
    Number.isInteger(q.k) &&
    q.k > 0 &&
    typeof q.queries === 'string' &&
    Array.isArray(q.shards) &&
    q.shards.every((s) => Number.isInteger(s?.shard) && Number.isSafeInteger(s?.epoch) && Number.isSafeInteger(s?.minSeq)) &&
    Number.isFinite(q.waitMs);
  if (!ok) throw createError(ErrorCode.INVALID_ARGUMENT, 'a node query needs cid, nq, k, queries (base64 float32), shards [{ shard, epoch, minSeq }] and waitMs');
  if (q.where !== undefined) parseWhere(q.where);
  if (q.whereDocument !== undefined) documentPredicate(q.whereDocument);
}

/** Answers a query for some of the node's shards: per query, the merged top k. */
export async function answerQuery(node: ShardNode, q: NodeQuery): Promise<NodeAnswer> {
  checkQuery(q);
  if (!node.map) throw createError(ErrorCode.UNAVAILABLE, `node ${node.name}: still starting`);
  await checkEpochs(node, q);
  const deadline = performance.now() + Math.min(Math.max(q.waitMs, 0), MAX_WAIT_MS);
  for (const s of q.shards) {
    if (!node.replica(s.shard)) throw createError(ErrorCode.UNAVAILABLE, `node ${node.name}: shard ${s.shard} is still loading`);
  }
  const reached = await Promise.all(q.shards.map((s) => node.waitFor(s.shard, s.minSeq, deadline)));
  const late = q.shards.filter((_, i) => !reached[i]);
  if (late.length > 0) {
    const s = late[0] as NodeQuery['shards'][number];
    throw createError(ErrorCode.TIMEOUT, `node ${node.name}: shard ${s.shard} reached ${node.replica(s.shard)?.seq ?? 0}, not ${s.minSeq}, within ${q.waitMs} ms`);
  }
  const queries = decodeFloats(q.queries);
  const filters = { ids: q.ids, where: q.where, whereDocument: q.whereDocument };
  const served: NodeAnswer['shards'] = [];
  let metric: 'cosine' | 'ip' | 'l2' = 'cosine';
  const replicas = q.shards.map((s) => {
    const replica = node.replica(s.shard);
    if (!replica) throw createError(ErrorCode.UNAVAILABLE, `node ${node.name}: shard ${s.shard} was dropped meanwhile`);
    const part = replica.parts.get(q.cid);
    if (part) {
      if (queries.length !== q.nq * part.dim) throw createError(ErrorCode.DIMENSION_MISMATCH, `queries must have dim = ${part.dim}; received ${queries.length / q.nq}`);
      metric = part.metric;
    }
    return replica;
  });
  // The shards are searched together (each search runs off the event loop).
  const per: ShardMatch[][][] = await Promise.all(
    replicas.map((replica) =>
      replica.lock.run(false, async () => {
        const found = await replica.search(q.cid, queries, q.nq, q.k, filters, q.include);
        served.push({ shard: replica.shard, epoch: node.map?.assignments[replica.shard]?.epoch ?? 0, seq: replica.seq });
        return found;
      }),
    ),
  );
  // The map may have moved on while searching: what was served under another epoch is refused.
  for (const s of served) if (s.epoch !== q.shards.find((x) => x.shard === s.shard)?.epoch) throw stale(node, `shard ${s.shard} changed epoch during the query`, [s.shard]);
  const results = Array.from({ length: q.nq }, (_, i) => encodeMatches(mergeTopK(per.map((p) => p[i] ?? []), q.k, metric), q.include));
  return { results, shards: served };
}
