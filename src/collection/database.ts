/**
 * The SQLite database behind persistent collections (better-sqlite3, WAL,
 * synchronous = FULL: every acknowledged write is on disk). It is the
 * source of truth for ids, documents, metadata and embeddings; the native
 * indexes are caches rebuilt or caught up from it.
 *
 * A client reads on its main connection and writes on a second one owned by
 * its writer thread (writer.ts). One client at a time may write a
 * directory: it holds an exclusive lock on `semvec.lock` (flock, so the lock
 * dies with the process). Read-only clients, in any number of processes,
 * take no lock: SQLite's WAL lets them read while the writer commits.
 *
 * Tables:
 *   meta         key/value: schema_version, next_cid
 *   collections  one row per collection: cid (never reused), name, metric,
 *                dim, index kind, metadata, the embedder it was built with,
 *                the tokenizer of its keyword index, and its record count
 *                (kept by triggers)
 *   records      rid (the native index id, never reused), collection, id,
 *                document, metadata (JSON)
 *   embeddings   rid -> embedding (float32 blob), apart so that scans of
 *                metadata and documents do not read the vectors
 *   changes      an ordered log (seq) of changes to records since each
 *                collection's last index snapshot: put (vector), meta
 *                (document or metadata only), delete
 *   snapshots    per collection: the seq its snapshot file covers, the file,
 *                the file's size and payload checksum (a file that does not
 *                match is not trusted), and pruned_seq: changes up to it
 *                have been dropped (a reader behind it reloads the snapshot)
 *   fts_<cid>    per collection: its keyword index (FTS5 over records'
 *                documents, kept in step by triggers; keyword-index.ts)
 */
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';

import type BetterSqlite3 from 'better-sqlite3';

import { createError, ErrorCode, SemvecError } from '../errors.js';
import { native } from '../native.js';
import { registerDocumentFunctions } from './document-match.js';
import { createStatements, dropStatements, fillStatements, keywordIndexComplete, TOKENIZERS, type Tokenizer } from './keyword-index.js';

export type Db = BetterSqlite3.Database;

export const SCHEMA_VERSION = 3;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS collections (
  cid INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  metric TEXT NOT NULL,
  dim INTEGER,
  index_kind TEXT NOT NULL,
  metadata TEXT,
  created_at TEXT NOT NULL,
  embedder TEXT,
  tokenizer TEXT NOT NULL DEFAULT 'unicode61',
  records INTEGER NOT NULL DEFAULT 0,
  ivf_encoding TEXT
);
CREATE TABLE IF NOT EXISTS records (
  rid INTEGER PRIMARY KEY AUTOINCREMENT,
  cid INTEGER NOT NULL REFERENCES collections(cid) ON DELETE CASCADE,
  id TEXT NOT NULL,
  document TEXT,
  metadata TEXT,
  UNIQUE (cid, id)
);
CREATE TABLE IF NOT EXISTS embeddings (
  rid INTEGER PRIMARY KEY REFERENCES records(rid) ON DELETE CASCADE,
  embedding BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  cid INTEGER NOT NULL,
  rid INTEGER NOT NULL,
  op INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS changes_by_collection ON changes (cid, seq);
CREATE TABLE IF NOT EXISTS snapshots (
  cid INTEGER PRIMARY KEY REFERENCES collections(cid) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  file TEXT NOT NULL,
  bytes INTEGER,
  crc INTEGER,
  pruned_seq INTEGER NOT NULL DEFAULT 0
);
`;

/** Schema 1 -> 2: the embedder of a collection, snapshot size and checksum, cids never reused. */
const MIGRATE_1_TO_2 = `
ALTER TABLE collections ADD COLUMN embedder TEXT;
ALTER TABLE snapshots ADD COLUMN bytes INTEGER;
ALTER TABLE snapshots ADD COLUMN crc INTEGER;
ALTER TABLE snapshots ADD COLUMN pruned_seq INTEGER NOT NULL DEFAULT 0;
`;

/**
 * Schema 2 -> 3: a keyword index per collection (made by
 * ensureKeywordIndexes) with its tokenizer, each collection's record count
 * (kept by triggers), and the IVF list encoding of an 'ivf' collection.
 */
const MIGRATE_2_TO_3 = `
ALTER TABLE collections ADD COLUMN tokenizer TEXT NOT NULL DEFAULT 'unicode61';
ALTER TABLE collections ADD COLUMN ivf_encoding TEXT;
ALTER TABLE collections ADD COLUMN records INTEGER NOT NULL DEFAULT 0;
UPDATE collections SET records = (SELECT count(*) FROM records r WHERE r.cid = collections.cid);
`;

/**
 * The record count of a collection, kept in its row in the transaction of
 * every insert and delete (cascades included), so that reading it costs
 * nothing at any size.
 */
const COUNT_TRIGGERS = `
CREATE TRIGGER IF NOT EXISTS records_counted_in AFTER INSERT ON records
  BEGIN UPDATE collections SET records = records + 1 WHERE cid = NEW.cid; END;
CREATE TRIGGER IF NOT EXISTS records_counted_out AFTER DELETE ON records
  BEGIN UPDATE collections SET records = records - 1 WHERE cid = OLD.cid; END;
`;

let driver: typeof BetterSqlite3 | undefined;

function loadDriver(): typeof BetterSqlite3 {
  if (!driver) {
    try {
      driver = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
    } catch (err) {
      throw createError(
        ErrorCode.NATIVE_LOAD,
        `Collections need the package better-sqlite3, which could not be loaded: ${(err as Error).message}. Run npm rebuild better-sqlite3.`,
        { cause: err },
      );
    }
  }
  return driver;
}

/** The error for a failure of SQLite on `file`, classed by SQLite's code. */
export function databaseError(err: unknown, file: string, doing: string): Error {
  const code = (err as { code?: string } | null)?.code ?? '';
  const message = (err as Error | null)?.message ?? String(err);
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return createError(ErrorCode.CORRUPT_FILE, `the database ${file} is damaged or not a semvec database (${doing}): ${message}`, { cause: err });
  }
  if (code.startsWith('SQLITE_FULL')) {
    return createError(ErrorCode.IO, `the disk holding ${file} is full (${doing}); nothing was written`, { cause: err });
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return createError(ErrorCode.IO, `the database ${file} is read-only (${doing}): ${message}`, { cause: err });
  }
  return createError(ErrorCode.IO, `cannot ${doing} the database ${file}: ${message}`, { cause: err });
}

/** Creates the tables, or brings an older schema up to date. Throws for a newer one. */
function prepareSchema(db: Db, file: string): void {
  db.exec(SCHEMA);
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get('schema_version') as { value: string } | undefined;
  const version = row === undefined ? SCHEMA_VERSION : Number(row.value);
  if (version > SCHEMA_VERSION) {
    throw createError(
      ErrorCode.UNSUPPORTED_VERSION,
      `the database ${file} has schema version ${row?.value}, newer than this semvec reads (${SCHEMA_VERSION}); upgrade semvec`,
    );
  }
  db.transaction(() => {
    if (version === 1) db.exec(MIGRATE_1_TO_2);
    if (version <= 2) db.exec(MIGRATE_2_TO_3);
    db.exec(COUNT_TRIGGERS);
    db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(String(SCHEMA_VERSION));
    // Collection ids are never reused: a handle of a deleted collection can
    // never reach a new one of the same name.
    db.prepare("INSERT INTO meta (key, value) VALUES ('next_cid', (SELECT coalesce(max(cid), 0) + 1 FROM collections)) ON CONFLICT (key) DO NOTHING").run();
    ensureKeywordIndexes(db);
  })();
}

/**
 * Builds the keyword index of every collection whose table or triggers are
 * missing (a database migrated from an older schema, or one whose index was
 * dropped): what is left of it is dropped, then it is made again from the
 * records. Runs in the caller's transaction.
 */
function ensureKeywordIndexes(db: Db): void {
  const names = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') AND name LIKE 'fts\\_%' ESCAPE '\\'").pluck().all() as string[]);
  const rows = db.prepare('SELECT cid, tokenizer FROM collections').all() as { cid: number; tokenizer: string }[];
  for (const { cid, tokenizer } of rows) {
    if (keywordIndexComplete(names, cid)) continue;
    const tok = (TOKENIZERS as readonly string[]).includes(tokenizer) ? (tokenizer as Tokenizer) : 'unicode61';
    for (const sql of [...dropStatements(cid), ...createStatements(cid, tok), ...fillStatements(cid)]) db.prepare(sql).run();
  }
}

/**
 * Opens (creating if needed) the main connection of a client. A file
 * database is set up (WAL, schema) and then used for reads only; writes go
 * through the writer thread. The caller holds the writer lock.
 */
export function openDatabase(file: string | ':memory:'): Db {
  const Database = loadDriver();
  let db: Db;
  try {
    db = new Database(file, { timeout: 5000 });
  } catch (err) {
    throw databaseError(err, file, 'open');
  }
  try {
    if (file !== ':memory:') {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
    }
    db.pragma('foreign_keys = ON');
    registerDocumentFunctions(db);
    prepareSchema(db, file);
    if (file !== ':memory:') db.pragma('query_only = ON');
  } catch (err) {
    db.close();
    if (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('ERR_')) throw err;
    throw databaseError(err, file, 'open');
  }
  return db;
}

/** The schema version of an existing database, checked for a reader (which cannot upgrade it). */
function checkReaderSchema(db: Db, file: string): void {
  let version: string | undefined;
  try {
    version = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get() as string | undefined;
  } catch (err) {
    throw databaseError(err, file, 'read');
  }
  if (version === undefined) throw createError(ErrorCode.CORRUPT_FILE, `${file} is not a semvec database (it has no schema version)`);
  const v = Number(version);
  if (v > SCHEMA_VERSION) {
    throw createError(ErrorCode.UNSUPPORTED_VERSION, `the database ${file} has schema version ${version}, newer than this semvec reads (${SCHEMA_VERSION}); upgrade semvec`);
  }
  if (v < SCHEMA_VERSION) {
    throw createError(
      ErrorCode.UNSUPPORTED_VERSION,
      `the database ${file} has schema version ${version}; this semvec reads ${SCHEMA_VERSION}: open the directory once with a writing client to upgrade it`,
    );
  }
}

/**
 * Opens the connection of a read-only client: the database must exist and
 * have the current schema; nothing is ever written through it. On a
 * read-only file system it opens the file read-only.
 */
export function openReaderDatabase(file: string, dir: string): Db {
  const Database = loadDriver();
  let db: Db;
  try {
    db = new Database(file, { fileMustExist: true, timeout: 5000 });
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (code === 'SQLITE_CANTOPEN') {
      throw createError(ErrorCode.NOT_FOUND, `${dir} is not a semvec collection directory: it has no semvec.db (open it with a writing client first)`, { cause: err });
    }
    try {
      db = new Database(file, { fileMustExist: true, readonly: true, timeout: 5000 });
    } catch (again) {
      throw readerError(again, file, dir);
    }
  }
  try {
    db.pragma('query_only = ON');
    registerDocumentFunctions(db);
    checkReaderSchema(db, file);
  } catch (err) {
    db.close();
    const code = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : '';
    if (code.startsWith('ERR_') && code !== ErrorCode.IO) throw err;
    throw readerError(err, file, dir);
  }
  return db;
}

/** A reader's failure to open: on a read-only file system, say what it lacks. */
function readerError(err: unknown, file: string, dir: string): Error {
  if (!onReadOnlyFileSystem(dir)) return err instanceof SemvecError ? err : databaseError(err, file, 'open');
  return createError(
    ErrorCode.IO,
    `cannot read ${dir}: it is on a read-only file system, and a reader needs to create SQLite's shared-memory file (semvec.db-shm) beside the database; copy the directory to writable storage, or mount it writable`,
    { cause: err },
  );
}

function onReadOnlyFileSystem(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EROFS';
  }
}

/** The lock held by the one process that writes a directory. */
export class WriterLock {
  readonly #fd: number;

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /**
   * Takes the lock on `file`, waiting up to `timeoutMs` for another client
   * to let it go; ERR_LOCKED when it does not.
   */
  static async acquire(file: string, dir: string, timeoutMs = 0): Promise<WriterLock> {
    const deadline = Date.now() + timeoutMs;
    let fd = native().tryLockFile(file, true);
    while (fd < 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, Math.min(50, Math.max(1, deadline - Date.now()))));
      fd = native().tryLockFile(file, true);
    }
    if (fd < 0) {
      throw createError(
        ErrorCode.LOCKED,
        `the collection directory ${dir} is open in another process or client that writes to it; only one writing client at a time may open it ` +
          `(close the other one first, wait with { lockTimeoutMs }, or open it with { readOnly: true })${timeoutMs > 0 ? `; waited ${timeoutMs} ms` : ''}`,
      );
    }
    return new WriterLock(fd);
  }

  release(): void {
    native().unlockFile(this.#fd);
  }
}
