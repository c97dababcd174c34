/**
 * The router: fans a query out to one live replica of every shard, asks
 * each node for the top k of the shards it was given (with the `where`
 * filter applied before the top-k on the node), and merges the lists into
 * the top k. Exact per shard means exact overall.
 *
 * - Replicas are chosen in rotation among the live ones: a node is live
 *   when its heartbeat is recent (PostgreSQL's clock) and no request to it
 *   has just failed. A node that does not answer, answers that a shard is
 *   loading, or cannot reach the asked sequence number in time is passed
 *   over for the other replica of those shards.
 * - Epochs: requests carry the epoch of each shard in the router's map.
 *   ERR_STALE_EPOCH makes the router read the map again and re-plan; an
 *   answer served under another epoch than asked is refused.
 * - Read-your-writes: the router remembers the last sequence number of
 *   each shard among the writes it acknowledged, and every query asks for
 *   at least those (a caller may ask for more: another router's receipts).
 *   So a client that writes and then queries through one router sees its
 *   writes, whichever replica answers.
 * - The map is read again on LISTEN/NOTIFY and every `refreshMs`; a
 *   malformed map is refused (the one in force is kept; at start, an
 *   error).
 */
import { createError, ErrorCode, type SemvecError } from '../errors.js';
import type { Metric } from '../vector-index.js';
import { Listener } from './listener.js';
import type { Pg } from './pg.js';
import { decodeMatches, encodeFloats, mergeTopK, type NodeAnswer, type NodeError, type NodeQuery } from './protocol.js';
import { MAP_CHANNEL, readSchema } from './schema.js';
import { loadShardMap } from './map-store.js';
import type { ShardMap } from './shard-map.js';
import type { SearchFilters, ShardMatch } from './shard-replica.js';

export interface RouterOptions {
  db: Pg;
  /** How long nodes may wait for a shard to reach a sequence number, in ms; default 10,000. */
  waitMs?: number;
  /** How long a request to a node may take beyond waitMs, in ms; default 30,000. */
  requestTimeoutMs?: number;
  /** Map and node list refresh interval, in ms; default 1,000. */
  refreshMs?: number;
  /** A node is live when its last heartbeat is younger than this, in seconds; default 3. */
  liveSeconds?: number;
  log?: (message: string) => void;
}

/** What one search needs. */
export interface SearchRequest {
  cid: number;
  metric: Metric;
  queries: Float32Array;
  nq: number;
  k: number;
  filters: SearchFilters;
  include: { metadatas: boolean; documents: boolean };
  /** Sequence numbers the shards must reflect (beyond this router's own writes). */
  minSeq?: ReadonlyMap<number, number>;
}

/** Rounds of re-planning a query may take (stale maps, failed replicas). */
const MAX_ROUNDS = 6;

export class Router {
  readonly db: Pg;
  readonly #waitMs: number;
  readonly #requestTimeoutMs: number;
  readonly #refreshMs: number;
  readonly #liveSeconds: number;
  readonly #log: (message: string) => void;
  #shardCount = 0;
  #map: ShardMap | undefined;
  #nodes = new Map<string, { url: string; age: number }>();
  readonly #down = new Map<string, number>();
  readonly #marks = new Map<number, number>();
  #rotation = 0;
  #listener: Listener | undefined;
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;

  constructor(options: RouterOptions) {
    this.db = options.db;
    this.#waitMs = options.waitMs ?? 10_000;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#refreshMs = options.refreshMs ?? 1_000;
    this.#liveSeconds = options.liveSeconds ?? 3;
    this.#log = options.log ?? (() => undefined);
  }

  get shardCount(): number {
    return this.#shardCount;
  }

  get map(): ShardMap | undefined {
    return this.#map;
  }

  /** Reads the schema, the map (a malformed one is an error) and the nodes, and starts following them. */
  async start(): Promise<void> {
    this.#shardCount = (await readSchema(this.db)).shards;
    this.#map = await loadShardMap(this.db, this.#shardCount);
    await this.#readNodes();
    this.#listener = new Listener(this.db, {
      channels: [MAP_CHANNEL],
      onNotification: () => void this.refresh().catch(() => undefined),
      onReconnect: () => void this.refresh().catch(() => undefined),
      onLost: () => this.db.invalidate(),
    });
    this.#listener.start();
    this.#timer = setInterval(() => void this.refresh().catch(() => undefined), this.#refreshMs);
  }

  async #readNodes(): Promise<void> {
    const rows = await this.db.query<{ node: string; url: string; age: number }>('reading the nodes', 'SELECT node, url, extract(epoch FROM now() - seen_at)::float8 AS age FROM semvec.nodes');
    this.#nodes = new Map(rows.map((r) => [r.node, { url: r.url, age: r.age }]));
  }

  /** Reads the map and the nodes again (one refresh at a time); a malformed map is refused and logged. */
  refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        try {
          this.#map = await loadShardMap(this.db, this.#shardCount);
        } catch (err) {
          if ((err as SemvecError).code === ErrorCode.INVALID_ARGUMENT) this.#log(`refusing the shard map in PostgreSQL: ${(err as Error).message}`);
          else throw err;
        }
        await this.#readNodes();
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  /** A write was acknowledged: later queries through this router must see it. */
  noteWrite(seqs: ReadonlyMap<number, number>): void {
    for (const [shard, seq] of seqs) if (seq > (this.#marks.get(shard) ?? 0)) this.#marks.set(shard, seq);
  }

  #live(node: string): boolean {
    const n = this.#nodes.get(node);
    return n !== undefined && n.age < this.#liveSeconds && (this.#down.get(node) ?? 0) < performance.now();
  }

  /** One node per pending shard: live replicas first, in rotation; passed-over nodes last. */
  #plan(pending: ReadonlySet<number>, avoid: ReadonlyMap<number, ReadonlySet<string>>): Map<string, number[]> {
    const map = this.#map as ShardMap;
    const plan = new Map<string, number[]>();
    const turn = this.#rotation++;
    for (const shard of pending) {
      const replicas = (map.assignments[shard] as ShardMap['assignments'][number]).replicas;
      const fresh = replicas.filter((r) => !avoid.get(shard)?.has(r));
      const live = fresh.filter((r) => this.#live(r));
      const pick = live.length > 0 ? live[(shard + turn) % live.length] : fresh.find((r) => this.#nodes.has(r));
      if (pick === undefined) {
        throw createError(ErrorCode.UNAVAILABLE, `no replica of shard ${shard} can answer (replicas: ${replicas.join(', ')}; live: ${replicas.filter((r) => this.#live(r)).join(', ') || 'none'})`);
      }
      plan.set(pick, [...(plan.get(pick) ?? []), shard]);
    }
    return plan;
  }

  async #ask(node: string, body: NodeQuery): Promise<NodeAnswer | NodeError> {
    const url = this.#nodes.get(node)?.url as string;
    try {
      const res = await fetch(`${url}/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(body.waitMs + this.#requestTimeoutMs),
      });
      const json = (await res.json()) as NodeAnswer | NodeError;
      if (!res.ok && !('code' in json)) return { code: ErrorCode.UNAVAILABLE, message: `node ${node} answered ${res.status}` };
      return json;
    } catch (err) {
      return { code: ErrorCode.UNAVAILABLE, message: `node ${node} at ${url} did not answer: ${(err as Error).message}` };
    }
  }

  /**
   * The top k of each query over the whole collection, best first. Throws
   * ERR_UNAVAILABLE when some shard has no replica that can answer,
   * ERR_TIMEOUT when none reaches the sequence numbers asked for in time.
   */
  async search(req: SearchRequest): Promise<ShardMatch[][]> {
    if (!this.#map) throw createError(ErrorCode.CLOSED, 'the router is not started');
    const pending = new Set(Array.from({ length: this.#shardCount }, (_, s) => s));
    const avoid = new Map<number, Set<string>>();
    const lists: ShardMatch[][][] = [];
    const queries = encodeFloats(req.queries);
    let lastError: NodeError | undefined;
    for (let round = 0; pending.size > 0; round++) {
      if (round >= MAX_ROUNDS) throw createError(lastError?.code ?? ErrorCode.UNAVAILABLE, `the query could not be answered after ${MAX_ROUNDS} rounds: ${lastError?.message ?? 'no answer'}`);
      const plan = this.#plan(pending, avoid);
      const asked = [...plan].map(async ([node, shards]) => {
        const body = this.#body(req, queries, shards);
        return { node, body, answer: await this.#ask(node, body) };
      });
      let stale = false;
      const before = pending.size;
      for (const { node, body, answer } of await Promise.all(asked)) {
        if ('results' in answer && body.shards.every((s) => answer.shards.some((a) => a.shard === s.shard && a.epoch === s.epoch))) {
          lists.push(answer.results.map(decodeMatches));
          for (const s of body.shards) pending.delete(s.shard);
          continue;
        }
        const error: NodeError = 'code' in answer ? answer : { code: ErrorCode.STALE_EPOCH, message: `node ${node} served another epoch than asked` };
        lastError = error;
        if (error.code === ErrorCode.STALE_EPOCH) stale = true;
        else if (error.code === ErrorCode.UNAVAILABLE || error.code === ErrorCode.TIMEOUT) {
          if (error.code === ErrorCode.UNAVAILABLE) this.#down.set(node, performance.now() + 1_000);
          for (const s of body.shards) avoid.set(s.shard, new Set([...(avoid.get(s.shard) ?? []), node]));
        } else throw createError(error.code, error.message);
      }
      if (stale) await this.refresh();
      else if (pending.size === before && pending.size > 0) await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** round, 1_000)));
      for (const [shard, nodes] of avoid) {
        const replicas = this.#map.assignments[shard]?.replicas ?? [];
        if (replicas.every((r) => nodes.has(r))) avoid.delete(shard); // every replica failed once: try them again
      }
    }
    return Array.from({ length: req.nq }, (_, i) => mergeTopK(lists.map((l) => l[i] ?? []), req.k, req.metric));
  }

  #body(req: SearchRequest, queries: string, shards: number[]): NodeQuery {
    const map = this.#map as ShardMap;
    return {
      cid: req.cid,
      nq: req.nq,
      k: req.k,
      queries,
      ...(req.filters.where !== undefined ? { where: req.filters.where } : {}),
      ...(req.filters.whereDocument !== undefined ? { whereDocument: req.filters.whereDocument } : {}),
      ...(req.filters.ids !== undefined ? { ids: [...req.filters.ids] } : {}),
      include: req.include,
      shards: shards.map((shard) => ({
        shard,
        epoch: (map.assignments[shard] as ShardMap['assignments'][number]).epoch,
        minSeq: Math.max(this.#marks.get(shard) ?? 0, req.minSeq?.get(shard) ?? 0),
      })),
      waitMs: this.#waitMs,
    };
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#listener?.stop();
  }
}
