/**
 * The connection to PostgreSQL, the system of record: one or more server
 * URLs (a primary and its standbys, in any order), of which the writable
 * one is used. node-postgres connects to one host per URL, so finding the
 * primary after a failover is done here: every URL is tried in turn and the
 * first that is not in recovery (`pg_is_in_recovery()`) is taken. A query
 * that fails because the connection or the server went away marks the pool
 * broken; the next query looks for the primary again.
 *
 * int8 values (sequence numbers, collection numbers) arrive as JavaScript
 * numbers: they stay far below 2^53.
 */
import pg from 'pg';

import { createError, ErrorCode, type SemvecError } from '../errors.js';

/** How long one connection attempt may take, in ms. */
export const CONNECT_TIMEOUT_MS = 3_000;

/** The type parsers of semvec's pools: int8 as a number (sequence numbers stay below 2^53). */
const TYPES = {
  getTypeParser: ((oid: number, format?: string) => (oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser,
};

/**
 * node-postgres emits 'error' on a connection when the server sends an error
 * while no query is running (a FATAL "terminating connection" when the
 * server dies), and an 'error' with no listener ends the process. The pool
 * takes its listener off a connection it hands out before the borrower can
 * put one on, and a new connection's ReadyForQuery and a FATAL can arrive in
 * one read: so every connection carries a listener from its construction.
 * Failures are reported through the queries that fail and the pool's
 * 'error' event.
 */
class Connection extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    this.on('error', () => undefined);
  }
}

/** A URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(a malformed URL)';
  }
}

/** SQLSTATE classes and codes that mean the server or the connection is gone, not that the query is wrong. */
function isConnectionFailure(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  const code = typeof e?.code === 'string' ? e.code : '';
  if (/^(08|57P)/.test(code) || code === '25006' || code === '53300') return true; // connection, shutdown, read-only standby, too many clients
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(e?.message ?? '');
}

/** The error a caller sees when PostgreSQL cannot be used; the cause is kept. */
export function unavailable(what: string, err: unknown): SemvecError {
  const why = (err as Error)?.message ?? String(err);
  return createError(ErrorCode.UNAVAILABLE, `${what}: ${why}`, { cause: err });
}

/** Whether an error is PostgreSQL (or the way to it) being unavailable. */
export function isUnavailable(err: unknown): boolean {
  return (err as { code?: string })?.code === ErrorCode.UNAVAILABLE || isConnectionFailure(err);
}

export interface PgOptions {
  /** Server URLs: the primary and its standbys, in any order. */
  urls: readonly string[];
  /** Connections in the pool (default 4). */
  max?: number;
  /** application_name, as pg_stat_activity shows it. */
  application?: string;
}

export class Pg {
  readonly urls: readonly string[];
  readonly #max: number;
  readonly #application: string;
  #pool: pg.Pool | undefined;
  #finding: Promise<pg.Pool> | undefined;
  #closed = false;
  /** The URL of the primary in use (undefined until found). */
  primary: string | undefined;
  /** Grows each time the connection to PostgreSQL is lost (a failover may have replaced the primary). */
  generation = 0;

  constructor(options: PgOptions) {
    if (!Array.isArray(options.urls) || options.urls.length === 0 || options.urls.some((u) => typeof u !== 'string' || !/^postgres(ql)?:\/\//.test(u))) {
      throw createError(ErrorCode.INVALID_ARGUMENT, `PostgreSQL URLs must be postgres://user@host:port/database strings; received ${JSON.stringify(options.urls?.map?.(redact) ?? options.urls)}`);
    }
    this.urls = options.urls;
    this.#max = options.max ?? 4;
    this.#application = options.application ?? 'semvec';
  }

  /** A description of where this looks for PostgreSQL, for messages. */
  describe(): string {
    return this.urls.map(redact).join(', ');
  }

  /** A new connection to one URL (the caller ends it). */
  async client(url: string): Promise<pg.Client> {
    const c = new Connection({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: this.#application, types: TYPES });
    await c.connect();
    return c;
  }

  /** The URL of the writable server, trying each in turn. */
  async findPrimary(): Promise<string> {
    const failures: string[] = [];
    for (const url of this.urls) {
      let c: pg.Client | undefined;
      try {
        c = await this.client(url);
        const { rows } = await c.query<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby');
        if (!rows[0]?.standby) return url;
        failures.push(`${redact(url)} is a standby`);
      } catch (err) {
        failures.push(`${redact(url)}: ${(err as Error).message || (err as { code?: string }).code}`);
      } finally {
        await c?.end().catch(() => undefined);
      }
    }
    throw createError(ErrorCode.UNAVAILABLE, `no writable PostgreSQL server among ${this.urls.length} URL${this.urls.length === 1 ? '' : 's'} (${failures.join('; ')})`);
  }

  /** The pool of the primary, found when needed. */
  async pool(): Promise<pg.Pool> {
    if (this.#closed) throw createError(ErrorCode.CLOSED, 'the PostgreSQL connection is closed');
    if (this.#pool) return this.#pool;
    this.#finding ??= (async () => {
      try {
        const url = await this.findPrimary();
        const pool = new pg.Pool({ connectionString: url, max: this.#max, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: this.#application, types: TYPES, idleTimeoutMillis: 30_000, Client: Connection });
        pool.on('error', () => this.#broken(pool));
        this.primary = url;
        this.#pool = pool;
        return pool;
      } finally {
        this.#finding = undefined;
      }
    })();
    return this.#finding;
  }

  /** Forgets a pool whose server went away (its connections are ended in the background). */
  #broken(pool: pg.Pool): void {
    if (this.#pool !== pool) return;
    this.invalidate();
  }

  /** The server went away (seen by a connection of another kind, a listener): look for the primary again. */
  invalidate(): void {
    const pool = this.#pool;
    this.#pool = undefined;
    this.primary = undefined;
    this.generation++;
    void pool?.end().catch(() => undefined);
  }

  /**
   * Runs `fn` with a connection of the primary's pool. A connection
   * failure marks the pool broken and is rethrown as ERR_UNAVAILABLE;
   * other errors (a bad query, a constraint) pass through.
   */
  async with<T>(what: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let pool: pg.Pool;
    try {
      pool = await this.pool();
    } catch (err) {
      throw isUnavailable(err) && (err as SemvecError).code !== ErrorCode.UNAVAILABLE ? unavailable(what, err) : err;
    }
    let c: pg.PoolClient;
    try {
      c = await pool.connect();
    } catch (err) {
      // Every connection busy for longer than the connect timeout is a busy
      // pool, not a lost server: the pool is kept.
      const busy = pool.totalCount >= this.#max && /timeout exceeded when trying to connect/i.test((err as Error)?.message ?? '');
      if (!busy) this.#broken(pool);
      throw unavailable(what, err);
    }
    let failed: unknown;
    // node-postgres emits 'error' on a checked-out connection when the
    // server goes away between queries; without a listener that would
    // end the process. The connection is dropped at release instead.
    const onError = (err: unknown) => {
      failed ??= err;
      this.#broken(pool);
    };
    c.on('error', onError);
    try {
      return await fn(c);
    } catch (err) {
      failed ??= err;
      if (isConnectionFailure(err)) {
        this.#broken(pool);
        throw unavailable(what, err);
      }
      throw err;
    } finally {
      c.off('error', onError);
      c.release(failed !== undefined && isConnectionFailure(failed) ? (failed as Error) : undefined);
    }
  }

  /** Runs `fn` in a transaction (READ COMMITTED unless `mode` says otherwise), committing on success. */
  async transaction<T>(what: string, fn: (c: pg.PoolClient) => Promise<T>, mode = ''): Promise<T> {
    return this.with(what, async (c) => {
      await c.query(`BEGIN${mode ? ` ${mode}` : ''}`);
      try {
        const out = await fn(c);
        await c.query('COMMIT');
        return out;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  /** One query on the primary. */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(what: string, sql: string, params: unknown[] = []): Promise<R[]> {
    return this.with(what, async (c) => (await c.query<R>(sql, params)).rows);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.end().catch(() => undefined);
  }
}

/**
 * Waits until PostgreSQL answers, retrying with exponential backoff (0.25 s
 * doubling to 5 s) and reporting each failed attempt, until `timeoutMs`
 * (0: forever). Throws ERR_UNAVAILABLE with the last reason after that.
 */
export async function waitForPostgres(db: Pg, options: { timeoutMs: number; onRetry?: (message: string, delayMs: number) => void; signal?: AbortSignal }): Promise<void> {
  const start = performance.now();
  for (let delay = 250; ; delay = Math.min(delay * 2, 5_000)) {
    try {
      await db.query('connecting', 'SELECT 1');
      return;
    } catch (err) {
      const message = (err as Error).message;
      const left = options.timeoutMs === 0 ? Infinity : options.timeoutMs - (performance.now() - start);
      if (left <= 0 || options.signal?.aborted) {
        throw createError(ErrorCode.UNAVAILABLE, `PostgreSQL is unreachable at ${db.describe()} after ${Math.round((performance.now() - start) / 1000)} s: ${message}`, { cause: err });
      }
      const wait = Math.min(delay, left);
      options.onRetry?.(`PostgreSQL is unreachable at ${db.describe()}: ${message}`, wait);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
