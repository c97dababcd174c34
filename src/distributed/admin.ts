/**
 * Setting up a deployment: the schema with its fixed number of virtual
 * shards and a first shard map (each shard on `replicas` nodes, round
 * robin), as `semvec shards init` does; and reading the map back.
 */
import { createError, ErrorCode } from '../errors.js';
import { checkInteger } from '../validate.js';
import { loadShardMap, moveShard, writeShardMap } from './map-store.js';
import { Pg } from './pg.js';
import { ensureSchema, MAX_SHARDS, readSchema } from './schema.js';
import { NODE_NAME, roundRobinMap, type ShardMap } from './shard-map.js';

export interface InitOptions {
  /** Virtual shards (fixed for the life of the deployment); default 64. */
  shards?: number;
  /** The nodes that hold the shards. */
  nodes: readonly string[];
  /** Replicas per shard; default 2 (or 1 with one node). */
  replicas?: number;
  /** Replace an existing map (every shard's epoch grows). */
  replace?: boolean;
}

/**
 * Creates the schema (if needed) and writes the first shard map at the
 * PostgreSQL of `urls`; returns the map written.
 *
 * @example
 * await initDeployment('postgres://semvec@db1/semvec', { shards: 64, nodes: ['n1', 'n2', 'n3'], replicas: 2 });
 */
export async function initDeployment(urls: string | readonly string[], options: InitOptions): Promise<ShardMap> {
  const db = new Pg({ urls: typeof urls === 'string' ? [urls] : urls, max: 1, application: 'semvec shards' });
  try {
    return await initWith(db, options);
  } finally {
    await db.close();
  }
}

/**
 * Moves a shard from one node to another without a pause in service: `to`
 * loads it and catches up while `from` serves, then the epoch flips once.
 * Returns the new epoch.
 */
export async function moveShardAt(urls: string | readonly string[], shard: number, from: string, to: string, options: { timeoutMs?: number } = {}): Promise<number> {
  const db = new Pg({ urls: typeof urls === 'string' ? [urls] : urls, max: 1, application: 'semvec shards' });
  try {
    const { shards } = await readSchema(db);
    checkInteger(shard, 'shard', 0, shards - 1);
    if (typeof from !== 'string' || !NODE_NAME.test(from)) throw createError(ErrorCode.INVALID_ARGUMENT, `from must be a node name; received ${JSON.stringify(from)}`);
    return await moveShard(db, shard, from, to, options);
  } finally {
    await db.close();
  }
}

/** initDeployment on an open connection. */
async function initWith(db: Pg, options: InitOptions): Promise<ShardMap> {
  if (options === null || typeof options !== 'object') throw createError(ErrorCode.INVALID_ARGUMENT, `init expects { nodes, shards?, replicas? }; received ${String(options)}`);
  const { nodes } = options;
  if (!Array.isArray(nodes) || nodes.length === 0 || nodes.some((n) => typeof n !== 'string' || !NODE_NAME.test(n))) {
    throw createError(ErrorCode.INVALID_ARGUMENT, `nodes must be a non-empty list of node names (letters, digits, '.', '_', '-'); received ${JSON.stringify(nodes)}`);
  }
  if (new Set(nodes).size !== nodes.length) throw createError(ErrorCode.INVALID_ARGUMENT, `nodes lists a node twice: ${JSON.stringify(nodes)}`);
  if (options.shards !== undefined) checkInteger(options.shards, 'shards', 1, MAX_SHARDS);
  const replicas = options.replicas ?? Math.min(2, nodes.length);
  const info = await ensureSchema(db, options.shards);
  const map = roundRobinMap(info.shards, nodes, replicas);
  await writeShardMap(db, map, options.replace === true);
  return loadShardMap(db, info.shards);
}

/** The deployment as PostgreSQL has it: the map, each shard's log head, the nodes and their last heartbeat. */
export interface DeploymentView {
  shards: number;
  map: ShardMap;
  heads: Record<number, number>;
  nodes: { node: string; url: string; age: number }[];
}

export async function describeDeployment(urls: string | readonly string[]): Promise<DeploymentView> {
  const db = new Pg({ urls: typeof urls === 'string' ? [urls] : urls, max: 1, application: 'semvec shards' });
  try {
    const { shards } = await readSchema(db);
    const map = await loadShardMap(db, shards);
    const heads = await db.query<{ shard: number; last_seq: number }>('reading the log heads', 'SELECT shard, last_seq FROM semvec.shard_seq ORDER BY shard');
    const nodes = await db.query<{ node: string; url: string; age: number }>('reading the nodes', 'SELECT node, url, extract(epoch FROM now() - seen_at)::float8 AS age FROM semvec.nodes ORDER BY node');
    return { shards, map, heads: Object.fromEntries(heads.map((h) => [h.shard, h.last_seq])), nodes };
  } finally {
    await db.close();
  }
}
