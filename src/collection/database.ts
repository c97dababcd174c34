/**
 * The SQLite database behind persistent collections (better-sqlite3, WAL,
 * synchronous = FULL: every acknowledged write is on disk). It is the
 * source of truth for ids, documents, metadata and embeddings; the native
 * indexes are caches rebuilt or caught up from it.
 *
 * Tables:
 *   collections  one row per collection (name, metric, dim, index kind, metadata)
 *   records      rid (the native index id, never reused), collection, id,
 *                document, metadata (JSON)
 *   embeddings   rid -> embedding (float32 blob), apart so that scans of
 *                metadata and documents do not read the vectors
 *   changes      an ordered log (seq) of puts and deletes of rids since each
 *                collection's last index snapshot
 *   snapshots    per collection: the seq its snapshot file covers, and the file
 */
import { createRequire } from 'node:module';

import type BetterSqlite3 from 'better-sqlite3';

import { ErrorCode, NativeError, SemvecError, SemvecIOError } from '../errors.js';

export type Db = BetterSqlite3.Database;

export const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS collections (
  cid INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  metric TEXT NOT NULL,
  dim INTEGER,
  index_kind TEXT NOT NULL,
  metadata TEXT,
  created_at TEXT NOT NULL
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
  file TEXT NOT NULL
);
`;

let driver: typeof BetterSqlite3 | undefined;

function loadDriver(): typeof BetterSqlite3 {
  if (!driver) {
    try {
      driver = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
    } catch (err) {
      throw new NativeError(
        ErrorCode.NATIVE_LOAD,
        `Collections need the package better-sqlite3, which could not be loaded: ${(err as Error).message}. Run npm rebuild better-sqlite3.`,
        { cause: err },
      );
    }
  }
  return driver;
}

/**
 * Opens (creating if needed) the database. A persistent database is locked
 * for this process alone (SQLite exclusive locking mode): a second process
 * gets ERR_LOCKED instead of corrupting it; the lock dies with the process.
 */
export function openDatabase(file: string | ':memory:'): Db {
  const Database = loadDriver();
  let db: Db;
  try {
    db = new Database(file, { timeout: 0 });
  } catch (err) {
    throw new SemvecIOError(ErrorCode.IO, `cannot open the database ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    if (file !== ':memory:') {
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      // Take the lock now, and keep it while the connection lives.
      db.exec('BEGIN EXCLUSIVE; COMMIT;');
    }
    db.pragma('foreign_keys = ON');
    db.exec(SCHEMA);
    const version = db.prepare('SELECT value FROM meta WHERE key = ?').get('schema_version') as { value: string } | undefined;
    if (version === undefined) {
      db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('schema_version', String(SCHEMA_VERSION));
    } else if (Number(version.value) > SCHEMA_VERSION) {
      throw new SemvecError(
        ErrorCode.UNSUPPORTED_VERSION,
        `the database ${file} has schema version ${version.value}, newer than this semvec reads (${SCHEMA_VERSION}); upgrade semvec`,
      );
    }
  } catch (err) {
    db.close();
    if (err instanceof SemvecError) throw err;
    const code = (err as { code?: string }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
      throw new SemvecIOError(
        ErrorCode.LOCKED,
        `the collection database ${file} is open in another process; only one process may open it at a time (close the other client first)`,
        { cause: err },
      );
    }
    if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
      throw new SemvecError(ErrorCode.CORRUPT_FILE, `the database ${file} is damaged or not a semvec database: ${(err as Error).message}`, { cause: err });
    }
    throw new SemvecIOError(ErrorCode.IO, `cannot open the database ${file}: ${(err as Error).message}`, { cause: err });
  }
  return db;
}
