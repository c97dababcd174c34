/**
 * A semvec node: holds the shards the map gives it (as a replica, or
 * joining before a move), each as semvec indexes in memory with a snapshot
 * on disk, and keeps them caught up with PostgreSQL's change log.
 *
 * - Start: each shard is loaded from its snapshot and caught up from the
 *   position it records, or rebuilt from PostgreSQL when there is no usable
 *   snapshot (a lost disk) or the log can no longer continue it.
 * - Catching up: woken by LISTEN/NOTIFY, and by a poll every `pollMs` as a
 *   fallback (notifications are lost while the connection is down). One
 *   catch-up runs per shard at a time; a wake-up during one runs another.
 * - After the connection to PostgreSQL is lost, a shard counts as caught
 *   up to a sequence number only once it has read the log again (which
 *   checks that its history is still PostgreSQL's: see change-log.ts).
 * - Heartbeats record the node's address, liveness and progress per shard
 *   (synchronous_commit off: they are hints, not data).
 * - Queries (node-query.ts) are served under the epoch the map gives.
 */
import { mkdir } from 'node:fs/promises';

import { createError, ErrorCode } from '../errors.js';
import { pruneLog, readChanges, readCollections, readShard, type CollectionDescription } from './change-log.js';
import { Listener } from './listener.js';
import type { Pg } from './pg.js';
import { CHANGES_CHANNEL, MAP_CHANNEL, readSchema } from './schema.js';
import { loadShardMap } from './map-store.js';
import type { ShardAssignment, ShardMap } from './shard-map.js';
import { ShardReplica } from './shard-replica.js';
import { loadShard, removeShard, saveShard } from './shard-snapshot.js';

/** Shards loaded (rebuilt, or read from a snapshot) at once, and change-log reads at once; a node's pool has 4 connections. */
const LOADS_AT_ONCE = 2;
const READS_AT_ONCE = 2;

/** Runs at most `limit` functions at a time, in call order. */
class Limiter {
  #running = 0;
  readonly #queue: (() => void)[] = [];
  constructor(readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#running >= this.limit) await new Promise<void>((r) => this.#queue.push(r));
    this.#running++;
    try {
      return await fn();
    } finally {
      this.#running--;
      this.#queue.shift()?.();
    }
  }
}

export interface ShardNodeOptions {
  db: Pg;
  /** This node's name in the shard map. */
  node: string;
  /** Where shard snapshots are kept. */
  dataDir: string;
  /** Poll interval (ms) when no notification arrives; default 1,000. */
  pollMs?: number;
  /** Heartbeat interval (ms); default 1,000. */
  heartbeatMs?: number;
  /** Snapshot a shard after this many applied changes; default 50,000. */
  snapshotEvery?: number;
  /** Changes read per catch-up step; default 20,000. */
  batch?: number;
  /** Changes kept in the log behind the slowest holder of a shard; default 100,000. */
  pruneRetain?: number;
  log?: (message: string) => void;
}

export interface ShardStatus {
  shard: number;
  role: 'replica' | 'joining';
  epoch: number;
  state: 'loading' | 'ready';
  seq: number;
  records: number;
}

export class ShardNode {
  readonly name: string;
  readonly db: Pg;
  readonly #dir: string;
  readonly #pollMs: number;
  readonly #heartbeatMs: number;
  readonly #snapshotEvery: number;
  readonly #batch: number;
  readonly #pruneRetain: number;
  readonly #log: (message: string) => void;
  #url = '';
  #shardCount = 0;
  #map: ShardMap | undefined;
  #collections = new Map<number, CollectionDescription>();
  readonly #held = new Map<number, ShardReplica>();
  readonly #loading = new Map<number, Promise<void>>();
  readonly #runs = new Map<number, { again: boolean; done: Promise<void> }>();
  /** The connection generation at which each shard last read the log (see Pg.generation). */
  readonly #verified = new Map<number, number>();
  readonly #waiters = new Set<() => void>();
  #listener: Listener | undefined;
  readonly #timers: NodeJS.Timeout[] = [];
  #stopped = false;
  #polls = 0;
  /** Shard loads and log reads run a few at a time: each holds one of the pool's connections while it reads, and heartbeats and queries' catch-ups need theirs. */
  readonly #loads = new Limiter(LOADS_AT_ONCE);
  readonly #reads = new Limiter(READS_AT_ONCE);

  constructor(options: ShardNodeOptions) {
    this.name = options.node;
    this.db = options.db;
    this.#dir = options.dataDir;
    this.#pollMs = options.pollMs ?? 1_000;
    this.#heartbeatMs = options.heartbeatMs ?? 1_000;
    this.#snapshotEvery = options.snapshotEvery ?? 50_000;
    this.#batch = options.batch ?? 20_000;
    this.#pruneRetain = options.pruneRetain ?? 100_000;
    this.#log = options.log ?? (() => undefined);
  }

  /** The map in force as this node knows it. */
  get map(): ShardMap | undefined {
    return this.#map;
  }

  /** The shard, if this node holds it and has loaded it. */
  replica(shard: number): ShardReplica | undefined {
    return this.#held.get(shard);
  }

  /** Whether a shard has read the log since the connection to PostgreSQL was last lost. */
  verified(shard: number): boolean {
    return this.#verified.get(shard) === this.db.generation;
  }

  /**
   * Registers the node at `url`, reads the map (refusing a malformed one)
   * and starts loading its shards, listening and polling. Resolves once
   * every shard it holds is loaded and caught up.
   */
  async start(url: string): Promise<void> {
    this.#url = url;
    await mkdir(this.#dir, { recursive: true });
    this.#shardCount = (await readSchema(this.db)).shards;
    await this.#heartbeat();
    this.#map = await loadShardMap(this.db, this.#shardCount);
    this.#collections = await readCollections(this.db);
    this.#listener = new Listener(this.db, {
      channels: [CHANGES_CHANNEL, MAP_CHANNEL],
      onNotification: (channel, payload) => this.#notified(channel, payload),
      onReconnect: () => this.#wakeAll(),
      onLost: () => this.db.invalidate(),
    });
    this.#listener.start();
    this.#timers.push(setInterval(() => this.#poll(), this.#pollMs), setInterval(() => void this.#heartbeat().catch(() => undefined), this.#heartbeatMs));
    // Every shard this node holds is loaded before start resolves; a load
    // that failed (PostgreSQL away a moment) is tried again after a pause.
    const started = performance.now();
    for (let delay = 250; ; delay = Math.min(delay * 2, 5_000)) {
      await this.#syncShards();
      await Promise.allSettled([...this.#loading.values()]);
      const missing = (this.#map?.assignments ?? []).filter((a) => this.#role(a) !== undefined && !this.#held.has(a.shard));
      if (missing.length === 0 || this.#stopped) {
        const held = [...this.#held.values()];
        this.#log(`${held.length} shards loaded and caught up in ${Math.round(performance.now() - started)} ms (${held.reduce((n, r) => n + r.size, 0)} records)`);
        return;
      }
      await new Promise((r) => setTimeout(r, delay));
      this.#map = await loadShardMap(this.db, this.#shardCount).catch(() => this.#map as ShardMap);
    }
  }

  #notified(channel: string, payload: string): void {
    if (channel === MAP_CHANNEL) {
      void this.refreshMap().catch(() => undefined);
      return;
    }
    for (const s of payload.split(',')) {
      const shard = Number(s);
      if (this.#held.has(shard)) void this.kick(shard);
    }
  }

  #wakeAll(): void {
    void this.refreshMap().catch(() => undefined);
    for (const shard of this.#held.keys()) void this.kick(shard);
  }

  #poll(): void {
    if (this.#stopped) return;
    this.#polls++;
    this.#wakeAll();
    if (this.#polls % 30 === 0) void pruneLog(this.db, this.#pruneRetain).catch(() => undefined);
  }

  /** This node's assignment of a shard, if it holds or joins it. */
  #role(a: ShardAssignment): 'replica' | 'joining' | undefined {
    if (a.replicas.includes(this.name)) return 'replica';
    return a.joining === this.name ? 'joining' : undefined;
  }

  /**
   * Reads the map again. A malformed map is refused (logged) and the one in
   * force is kept. Shards given to this node start loading; shards taken
   * from it are dropped with their snapshots.
   */
  async refreshMap(): Promise<void> {
    let map: ShardMap;
    try {
      map = await loadShardMap(this.db, this.#shardCount);
    } catch (err) {
      if ((err as { code?: string }).code === ErrorCode.INVALID_ARGUMENT) this.#log(`refusing the shard map in PostgreSQL: ${(err as Error).message}`);
      throw err;
    }
    this.#map = map;
    this.#collections = await readCollections(this.db);
    for (const replica of this.#held.values()) replica.dropMissing(this.#collections);
    await this.#syncShards();
  }

  async #syncShards(): Promise<void> {
    const map = this.#map as ShardMap;
    for (const a of map.assignments) {
      const mine = this.#role(a) !== undefined;
      if (mine && !this.#held.has(a.shard) && !this.#loading.has(a.shard)) {
        const loading = this.#loads.run(() => this.#loadShard(a.shard)).finally(() => this.#loading.delete(a.shard));
        this.#loading.set(a.shard, loading);
        loading.catch((err) => this.#log(`shard ${a.shard}: loading failed (${(err as Error).message}); retrying at the next poll`));
      } else if (!mine && this.#held.has(a.shard)) {
        const replica = this.#held.get(a.shard) as ShardReplica;
        this.#held.delete(a.shard);
        this.#verified.delete(a.shard);
        await replica.lock.run(true, () => removeShard(this.#dir, a.shard));
        this.#log(`shard ${a.shard}: no longer held at epoch ${a.epoch}; dropped`);
      }
    }
  }

  /** Loads a shard from its snapshot and catches it up, or rebuilds it. */
  async #loadShard(shard: number): Promise<void> {
    const snap = await loadShard(this.#dir, shard);
    if (snap instanceof ShardReplica) {
      const from = snap.seq;
      const start = performance.now();
      this.#held.set(shard, snap);
      await this.kick(shard);
      if (this.#held.get(shard) === snap) this.#log(`shard ${shard}: loaded from its snapshot at ${from}, caught up to ${snap.seq} (${snap.seq - from} changes, ${Math.round(performance.now() - start)} ms)`);
      return;
    }
    await this.#rebuild(shard, snap.reason);
  }

  /** Builds a shard anew from PostgreSQL's records and puts it in place of the one held (if any). */
  async #rebuild(shard: number, reason: string): Promise<void> {
    const start = performance.now();
    const generation = this.db.generation;
    const replica = new ShardReplica(shard);
    this.#collections = await readCollections(this.db);
    const at = await readShard(this.db, shard, (records) => replica.load(records, this.#collections));
    replica.seq = at.seq;
    replica.token = at.token;
    await replica.lock.run(false, () => saveShard(this.#dir, replica));
    this.#held.set(shard, replica);
    this.#verified.set(shard, generation);
    this.#log(`shard ${shard}: rebuilt from PostgreSQL at ${at.seq} (${replica.size} records, ${Math.round(performance.now() - start)} ms): ${reason}`);
    this.#notifyWaiters();
    await this.kick(shard);
  }

  /** Catches a shard up (one run at a time; a call during a run makes it run again). */
  kick(shard: number): Promise<void> {
    const run = this.#runs.get(shard);
    if (run) {
      run.again = true;
      return run.done;
    }
    const state = { again: false, done: Promise.resolve() };
    state.done = (async () => {
      try {
        do {
          state.again = false;
          await this.#catchUp(shard);
        } while (state.again && !this.#stopped);
      } catch (err) {
        if (!this.#stopped) this.#log(`shard ${shard}: catching up failed: ${(err as Error).message}`);
      } finally {
        this.#runs.delete(shard);
      }
    })();
    this.#runs.set(shard, state);
    return state.done;
  }

  async #catchUp(shard: number): Promise<void> {
    for (;;) {
      const replica = this.#held.get(shard);
      if (!replica || this.#stopped) return;
      const generation = this.db.generation;
      const read = await this.#reads.run(() => readChanges(this.db, shard, replica.seq, replica.token, this.#batch));
      if (this.#held.get(shard) !== replica) return;
      if (read.kind === 'rebuild') {
        this.#verified.delete(shard);
        await this.#rebuild(shard, read.reason);
        return;
      }
      if (read.records.some((r) => !this.#collections.get(r.cid)?.dim)) this.#collections = await readCollections(this.db);
      if (read.changed.length > 0) {
        await replica.lock.run(true, async () => {
          await replica.apply(read.changed, read.records, this.#collections);
          replica.seq = read.seq;
          replica.token = read.token;
        });
      }
      this.#verified.set(shard, generation);
      this.#notifyWaiters();
      if (replica.unsaved >= this.#snapshotEvery) await replica.lock.run(false, () => saveShard(this.#dir, replica));
      if (read.changed.length < this.#batch) return;
    }
  }

  #notifyWaiters(): void {
    for (const w of [...this.#waiters]) w();
  }

  /**
   * Waits until a shard reflects `seq` (and has read the log since the
   * connection was last lost), or until `deadline` (performance.now());
   * false if it did not get there.
   */
  async waitFor(shard: number, seq: number, deadline: number): Promise<boolean> {
    const ok = () => {
      const r = this.#held.get(shard);
      return r !== undefined && r.seq >= seq && this.verified(shard);
    };
    if (ok()) return true;
    void this.kick(shard);
    return new Promise((resolve) => {
      const done = (value: boolean) => {
        clearTimeout(timer);
        clearInterval(retry);
        this.#waiters.delete(check);
        resolve(value);
      };
      const check = () => ok() && done(true);
      const timer = setTimeout(() => done(ok()), Math.max(0, deadline - performance.now()));
      const retry = setInterval(() => void this.kick(shard), 100);
      this.#waiters.add(check);
    });
  }

  /** Records liveness, address and progress (a hint: synchronous_commit off). */
  async #heartbeat(): Promise<void> {
    const shards = [...this.#held.values()];
    await this.db.transaction('heartbeat', async (c) => {
      await c.query('SET LOCAL synchronous_commit TO off');
      await c.query(
        'INSERT INTO semvec.nodes (node, url, started_at, seen_at) VALUES ($1, $2, now(), now()) ON CONFLICT (node) DO UPDATE SET url = EXCLUDED.url, seen_at = now()',
        [this.name, this.#url],
      );
      await c.query('DELETE FROM semvec.progress WHERE node = $1 AND NOT (shard = ANY($2::int[]))', [this.name, shards.map((r) => r.shard)]);
      await c.query(
        'INSERT INTO semvec.progress (node, shard, seq) SELECT $1, s, q FROM unnest($2::int[], $3::bigint[]) AS t(s, q) ON CONFLICT (node, shard) DO UPDATE SET seq = EXCLUDED.seq',
        [this.name, shards.map((r) => r.shard), shards.map((r) => r.seq)],
      );
    });
  }

  /** Reports progress now (a move waits for it). */
  async reportProgress(): Promise<void> {
    await this.#heartbeat();
  }

  /** What the node holds, per shard. */
  status(): { node: string; url: string; shards: ShardStatus[] } {
    const shards: ShardStatus[] = [];
    for (const a of this.#map?.assignments ?? []) {
      const role = this.#role(a);
      if (!role) continue;
      const r = this.#held.get(a.shard);
      shards.push({ shard: a.shard, role, epoch: a.epoch, state: r ? 'ready' : 'loading', seq: r?.seq ?? 0, records: r?.size ?? 0 });
    }
    return { node: this.name, url: this.#url, shards };
  }

  /** Stops catching up and snapshots every shard changed since its last snapshot. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    await this.#listener?.stop();
    await Promise.allSettled([...this.#runs.values()].map((r) => r.done));
    await Promise.allSettled([...this.#loading.values()]);
    for (const replica of this.#held.values()) {
      if (replica.unsaved > 0) await replica.lock.run(false, () => saveShard(this.#dir, replica)).catch((err) => this.#log(`shard ${replica.shard}: snapshot failed: ${(err as Error).message}`));
    }
  }

  /** @internal For errors that name the node. */
  unavailable(message: string): Error {
    return createError(ErrorCode.UNAVAILABLE, `node ${this.name}: ${message}`);
  }
}
