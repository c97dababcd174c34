/**
 * Virtual shards and the shard map.
 *
 * A record lives in shard `shardOf(cid, id, shards)`: FNV-1a (32 bits) of
 * its collection number and id, modulo the fixed number of shards. The map
 * says, per shard, which nodes hold it (`replicas`, two by default), a node
 * that is `joining` it (loading it before a move), and an `epoch` that
 * grows by one each time the replicas change. Nodes and routers refuse
 * requests made under another epoch than the one in force (see node.ts and
 * router.ts), so a node that lost a shard cannot answer for it.
 *
 * A map is checked whole before it is written and whenever it is read: a
 * malformed one (a shard missing or repeated, no replicas, a replica
 * listed twice, a bad node name or epoch) is refused with a message that
 * says what is wrong.
 */
import { createError, ErrorCode } from '../errors.js';

/** The shard of a record: FNV-1a over "cid:id" (UTF-8), modulo the shard count. */
export function shardOf(cid: number, id: string, shards: number): number {
  if (!Number.isSafeInteger(cid) || cid < 0) throw createError(ErrorCode.INVALID_ARGUMENT, `cid must be a collection number (an integer >= 0); received ${JSON.stringify(cid)}`);
  if (typeof id !== 'string') throw createError(ErrorCode.INVALID_ARGUMENT, `id must be a string; received ${typeof id}`);
  if (!Number.isInteger(shards) || shards < 1) throw createError(ErrorCode.INVALID_ARGUMENT, `shards must be a positive integer; received ${JSON.stringify(shards)}`);
  let h = 0x811c9dc5;
  const bytes = Buffer.from(`${cid}:${id}`, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i] as number;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}

export interface ShardAssignment {
  shard: number;
  epoch: number;
  replicas: string[];
  joining: string | null;
}

export interface ShardMap {
  shards: number;
  assignments: ShardAssignment[];
}

/** Node names: 1-64 letters, digits, '.', '_', '-'. */
export const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function malformed(message: string): never {
  throw createError(ErrorCode.INVALID_ARGUMENT, `malformed shard map: ${message}`);
}

/** Checks a map whole; returns it with assignments in shard order. */
export function checkShardMap(map: unknown, shards: number): ShardMap {
  if (!Number.isInteger(shards) || shards < 1) throw createError(ErrorCode.INVALID_ARGUMENT, `shards must be a positive integer; received ${JSON.stringify(shards)}`);
  if (map === null || typeof map !== 'object' || !Array.isArray((map as ShardMap).assignments)) malformed('expected { assignments: [{ shard, epoch, replicas, joining }] }');
  const list = (map as ShardMap).assignments;
  if (list.length !== shards) malformed(`expected one assignment for each of the ${shards} shards; received ${list.length}`);
  const seen = new Set<number>();
  for (const [i, a] of list.entries()) {
    if (a === null || typeof a !== 'object') malformed(`assignments[${i}] must be an object`);
    if (!Number.isInteger(a.shard) || a.shard < 0 || a.shard >= shards) malformed(`assignments[${i}].shard must be an integer from 0 to ${shards - 1}; received ${JSON.stringify(a.shard)}`);
    if (seen.has(a.shard)) malformed(`shard ${a.shard} is assigned twice`);
    seen.add(a.shard);
    if (!Number.isSafeInteger(a.epoch) || a.epoch < 1) malformed(`shard ${a.shard}: epoch must be a positive integer; received ${JSON.stringify(a.epoch)}`);
    if (!Array.isArray(a.replicas) || a.replicas.length === 0) malformed(`shard ${a.shard} has no replicas`);
    for (const r of a.replicas) if (typeof r !== 'string' || !NODE_NAME.test(r)) malformed(`shard ${a.shard}: replica ${JSON.stringify(r)} is not a node name (letters, digits, '.', '_', '-')`);
    if (new Set(a.replicas).size !== a.replicas.length) malformed(`shard ${a.shard} lists a replica twice: ${JSON.stringify(a.replicas)}`);
    if (a.joining !== null && a.joining !== undefined) {
      if (typeof a.joining !== 'string' || !NODE_NAME.test(a.joining)) malformed(`shard ${a.shard}: joining ${JSON.stringify(a.joining)} is not a node name`);
      if (a.replicas.includes(a.joining)) malformed(`shard ${a.shard}: joining node ${a.joining} is already a replica`);
    }
  }
  const assignments = list.map((a) => ({ shard: a.shard, epoch: a.epoch, replicas: [...a.replicas], joining: a.joining ?? null })).sort((x, y) => x.shard - y.shard);
  return { shards, assignments };
}

/** Each shard on `replicas` nodes, round robin: shard s on nodes s, s+1, ... (mod the node count). */
export function roundRobinMap(shards: number, nodes: readonly string[], replicas: number): ShardMap {
  if (!Number.isInteger(shards) || shards < 1) throw createError(ErrorCode.INVALID_ARGUMENT, `shards must be a positive integer; received ${JSON.stringify(shards)}`);
  if (!Array.isArray(nodes)) throw createError(ErrorCode.INVALID_ARGUMENT, `nodes must be a list of node names; received ${typeof nodes}`);
  if (nodes.length === 0) throw createError(ErrorCode.INVALID_ARGUMENT, 'a shard map needs at least one node');
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > nodes.length) {
    throw createError(ErrorCode.INVALID_ARGUMENT, `replicas must be an integer from 1 to the number of nodes (${nodes.length}); received ${replicas}`);
  }
  const assignments = Array.from({ length: shards }, (_, shard) => ({
    shard,
    epoch: 1,
    replicas: Array.from({ length: replicas }, (_, r) => nodes[(shard + r) % nodes.length] as string),
    joining: null,
  }));
  return checkShardMap({ shards, assignments }, shards);
}
