/**
 * The keyword index of a collection: an SQLite FTS5 table over the
 * documents of its records, ranked by BM25. Each collection has its own
 * table (`fts_<cid>`, so that its term statistics are its own and its
 * tokenizer can differ), an external-content table reading `records`, kept
 * in step by three triggers on `records`: every write of a record updates
 * the index in the same transaction, so the two cannot disagree, even after
 * a crash. A missing table or trigger is rebuilt when the writing client
 * opens the database.
 *
 * User text never reaches FTS5's query syntax: each whitespace-separated
 * piece becomes a quoted phrase (quotes doubled, control characters
 * dropped), and the phrases are joined with OR.
 */
import { ErrorCode } from '../errors.js';
import { describe, fail } from '../validate.js';

/** Tokenizers a collection's keyword index may use. */
export const TOKENIZERS = ['unicode61', 'porter', 'trigram'] as const;
/**
 * How the keyword index splits text: 'unicode61' (default: words, case and
 * diacritics folded), 'porter' (the same, with English stemming: "running"
 * finds "runs"), or 'trigram' (any substring of three characters or more).
 */
export type Tokenizer = (typeof TOKENIZERS)[number];

/** FTS5's tokenize argument for each tokenizer. */
const TOKENIZE: Record<Tokenizer, string> = {
  unicode61: 'unicode61 remove_diacritics 2',
  porter: 'porter unicode61 remove_diacritics 2',
  trigram: 'trigram remove_diacritics 1',
};

/** Most terms one keyword query may hold. */
export const MAX_KEYWORD_TERMS = 256;

/** The tokenizer option, checked. */
export function checkTokenizer(value: unknown): Tokenizer {
  if (value === undefined) return 'unicode61';
  if (typeof value !== 'string' || !(TOKENIZERS as readonly string[]).includes(value)) {
    fail(ErrorCode.INVALID_ARGUMENT, `tokenizer must be one of ${TOKENIZERS.map((t) => `'${t}'`).join(', ')}; received ${describe(value)}`);
  }
  return value as Tokenizer;
}

/** The name of a collection's keyword table. */
export function keywordTable(cid: number): string {
  if (!Number.isSafeInteger(cid) || cid < 1) throw new Error(`bad collection id ${cid}`);
  return `fts_${cid}`;
}

/** The names of a collection's triggers. */
function triggers(cid: number): string[] {
  const t = keywordTable(cid);
  return [`${t}_insert`, `${t}_delete`, `${t}_update`];
}

/**
 * The statements that create a collection's keyword index and its triggers
 * (empty; see {@link fillStatements}). `cid` may be a placeholder the
 * write program replaces (see sql-runner.js).
 */
export function createStatements(cid: number | string, tokenizer: Tokenizer): string[] {
  const t = `fts_${cid}`;
  return [
    `CREATE VIRTUAL TABLE ${t} USING fts5(document, content='records', content_rowid='rid', tokenize='${TOKENIZE[tokenizer]}')`,
    `CREATE TRIGGER ${t}_insert AFTER INSERT ON records WHEN new.cid = ${cid} BEGIN INSERT INTO ${t} (rowid, document) VALUES (new.rid, new.document); END`,
    `CREATE TRIGGER ${t}_delete AFTER DELETE ON records WHEN old.cid = ${cid} BEGIN INSERT INTO ${t} (${t}, rowid, document) VALUES ('delete', old.rid, old.document); END`,
    `CREATE TRIGGER ${t}_update AFTER UPDATE OF document ON records WHEN new.cid = ${cid} AND old.document IS NOT new.document BEGIN ` +
      `INSERT INTO ${t} (${t}, rowid, document) VALUES ('delete', old.rid, old.document); INSERT INTO ${t} (rowid, document) VALUES (new.rid, new.document); END`,
  ];
}

/** The statements that index the documents a collection already holds (its table must be empty). */
export function fillStatements(cid: number): string[] {
  const t = keywordTable(cid);
  return [`INSERT INTO ${t} (rowid, document) SELECT rid, document FROM records WHERE cid = ${cid}`];
}

/** The statements that remove a collection's keyword index (before its records are deleted: no trigger work). */
export function dropStatements(cid: number): string[] {
  return [...triggers(cid).map((name) => `DROP TRIGGER IF EXISTS ${name}`), `DROP TABLE IF EXISTS ${keywordTable(cid)}`];
}

/** True when a collection's table and its three triggers all exist. */
export function keywordIndexComplete(names: ReadonlySet<string>, cid: number): boolean {
  return names.has(keywordTable(cid)) && triggers(cid).every((t) => names.has(t));
}

/** Characters FTS5 cannot take inside a quoted phrase, or that mean nothing to a tokenizer. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g;

/**
 * The FTS5 phrases of user text: its whitespace-separated pieces, each
 * quoted (quotes doubled), or undefined when the text holds no piece.
 * ERR_INVALID_ARGUMENT for more than {@link MAX_KEYWORD_TERMS} pieces.
 */
export function keywordPhrases(text: string, at = 'queryTexts'): string[] | undefined {
  const pieces = text.replace(CONTROL, ' ').split(/\s+/u).filter((p) => p.length > 0);
  if (pieces.length > MAX_KEYWORD_TERMS) {
    fail(ErrorCode.INVALID_ARGUMENT, `${at}: a keyword query may hold at most ${MAX_KEYWORD_TERMS} terms; received ${pieces.length}`);
  }
  if (pieces.length === 0) return undefined;
  return pieces.map((p) => `"${p.replaceAll('"', '""')}"`);
}

/**
 * An FTS5 query for user text: its phrases ({@link keywordPhrases}) joined
 * with OR (a record matching more of them ranks higher), or undefined when
 * the text holds no piece.
 */
export function keywordQuery(text: string, at = 'queryTexts'): string | undefined {
  return keywordPhrases(text, at)?.join(' OR ');
}
