/**
 * Keyword search over a collection's FTS5 index: the records whose document
 * matches any of a query's phrases, best BM25 first, with the query's
 * filter applied before ranking.
 *
 * FTS5's bm25() costs about ten times more per row than finding the row (it
 * reads the row's size and every phrase's positions in it), and a query
 * holding a common word ("for", "line") matches a large share of the
 * collection: scoring every match was most of a keyword query's time. Two
 * ways around it, both exact (the same records, scores and order as
 * scoring every match, ties broken by the lower rowid):
 *
 * - A selective filter (at most {@link FILTER_IN_SQL} records) goes into
 *   the statement as `+rowid IN (...)`, so bm25() runs for the allowed
 *   matches only. (The `+` keeps SQLite from making it one FTS5 lookup per
 *   rowid, each of which would count every phrase's matches again.)
 * - Otherwise the ranking is pruned by score bounds (MaxScore): a phrase
 *   adds less than idf * (k1 + 1) to a record's BM25, so once the k-th best
 *   record among those matching the rarer ("essential") phrases scores more
 *   than the bounds of all the other phrases together, no record matching
 *   only those others can enter the top k, and bm25() runs for the
 *   essential phrases' matches only. When the bound is not met, more
 *   phrases become essential, up to all of them (every match scored).
 *
 * The phrases' document frequencies and the row count are read in the same
 * read transaction as the ranking, so the bounds hold for what it ranks.
 * (Ordered by bm25() rather than FTS5's rank column: the same order,
 * measured 1.7x faster on 100,000 manual-page paragraphs.)
 */
import type BetterSqlite3 from 'better-sqlite3';

import type { Matching } from './matching.js';

/** Most allowed records passed to SQLite as a rowid list; a larger filter is applied to the ranked rows. */
export const FILTER_IN_SQL = 20_000;

/** FTS5's bm25() k1: a phrase adds less than idf * (K1 + 1) to a score. */
const K1 = 1.2;
/** FTS5's bm25() floor for the idf of a phrase in half the rows or more. */
const MIN_IDF = 1e-6;
/** Share of the rows the first, partial ranking may score (see searchKeywords). */
const PROBE_SHARE = 1 / 200;
/** Relative slack on the bound, far above the rounding of a sum of 256 terms. */
const SLACK = 1e-9;

/** Prepared statements by SQL text (the store's cache). */
export type Statements = (sql: string) => BetterSqlite3.Statement;

/** Ranked records: rowids best first, with their BM25 (higher better). */
export interface KeywordHits {
  rids: number[];
  scores: number[];
}

/** A big-endian SQLite varint at the start of `b`, or undefined when cut short. */
function varint(b: Uint8Array): number | undefined {
  let v = 0;
  for (let i = 0; i < 9; i++) {
    if (i >= b.length) return undefined;
    const c = b[i] as number;
    if (i === 8) return v * 256 + c;
    v = v * 128 + (c & 0x7f);
    if ((c & 0x80) === 0) return v;
  }
  return undefined;
}

/**
 * The rows the index holds, as bm25() reads it (the first varint of the
 * averages record, id 1 of the %_data table), or undefined when it has none.
 */
function indexRows(sql: Statements, table: string): number | undefined {
  const block = sql(`SELECT block FROM "${table}_data" WHERE id = 1`).pluck().get() as Uint8Array | undefined;
  if (!(block instanceof Uint8Array)) return undefined;
  const n = varint(block);
  return n !== undefined && n > 0 ? n : undefined;
}

/**
 * Each phrase's upper bound on what it adds to a score, and its match count
 * (counted up to half the rows: from there on its idf is the floor).
 */
function phraseBounds(sql: Statements, table: string, phrases: readonly string[], rows: number): { bound: number; count: number }[] {
  const cap = Math.ceil(rows / 2);
  const stmt = sql(`SELECT count(*) FROM (SELECT 1 FROM ${table} WHERE ${table} MATCH ? LIMIT ?)`).pluck();
  const counts = new Map<string, number>();
  return phrases.map((p) => {
    let count = counts.get(p);
    if (count === undefined) counts.set(p, (count = stmt.get(p, cap) as number));
    const idf = Math.log((rows - count + 0.5) / (count + 0.5));
    return { bound: (idf > 0 ? idf : MIN_IDF) * (K1 + 1), count };
  });
}

/**
 * The best `limit` matches of `match` that `has` admits (all when absent),
 * among the rows matching `essential` (all matches when absent), and those
 * in `allowed` (a JSON array of rowids) when given.
 */
function ranked(sql: Statements, t: string, match: string, limit: number, essential?: string, allowed?: string, has?: (rid: number) => boolean): KeywordHits {
  const params: unknown[] = [match];
  let text = `SELECT rowid, bm25(${t}) AS s FROM ${t} WHERE ${t} MATCH ?`;
  if (essential !== undefined) {
    text += ` AND +rowid IN (SELECT rowid FROM ${t} WHERE ${t} MATCH ?)`;
    params.push(essential);
  }
  if (allowed !== undefined) {
    text += ' AND +rowid IN (SELECT value FROM json_each(?))';
    params.push(allowed);
  }
  text += ' ORDER BY s, rowid';
  const out: KeywordHits = { rids: [], scores: [] };
  if (has === undefined) {
    for (const [rid, s] of sql(`${text} LIMIT ?`).raw(true).all(...params, limit) as [number, number][]) {
      out.rids.push(rid);
      out.scores.push(-s);
    }
    return out;
  }
  for (const [rid, s] of sql(text).raw(true).iterate(...params) as IterableIterator<[number, number]>) {
    if (!has(rid)) continue;
    out.rids.push(rid);
    out.scores.push(-s);
    if (out.rids.length >= limit) break;
  }
  return out;
}

/**
 * The best `limit` records of an FTS5 table whose document matches any of
 * `phrases` (quoted FTS5 phrases, as keywordPhrases makes them), among
 * those `allow` selects (all when absent). Call it inside a read
 * transaction (CollectionStore.keywordSearch does).
 */
export function searchKeywords(sql: Statements, table: string, phrases: readonly string[], limit: number, allow?: Matching): KeywordHits {
  if (limit <= 0 || phrases.length === 0 || allow?.count === 0) return { rids: [], scores: [] };
  const match = phrases.join(' OR ');
  if (allow !== undefined && allow.count <= FILTER_IN_SQL) return ranked(sql, table, match, limit, undefined, JSON.stringify(Array.from(allow.rids())));
  const has = allow && ((rid: number) => allow.has(rid));
  const rows = indexRows(sql, table);
  if (rows === undefined || phrases.length === 1) return ranked(sql, table, match, limit, undefined, undefined, has);
  const bounds = phraseBounds(sql, table, phrases, rows);
  // Phrases by bound, highest (rarest) first; rest[i]: the bounds of order[i..] together.
  const order = bounds.map((_, i) => i).sort((a, b) => (bounds[b] as { bound: number }).bound - (bounds[a] as { bound: number }).bound || a - b);
  const count = (i: number | undefined) => (bounds[i as number] as { count: number }).count;
  const phrasesOf = (indexes: readonly number[]) => indexes.map((i) => phrases[i]).join(' OR ');
  const rest = new Array<number>(order.length + 1).fill(0);
  for (let i = order.length - 1; i >= 0; i--) rest[i] = (rest[i + 1] as number) + (bounds[order[i] as number] as { bound: number }).bound;
  // A lower bound of the k-th best score: the k-th best among the matches of
  // the rarest phrases, scored by those phrases alone (their idf is the same
  // in any query, so that score is at most the full one).
  const budget = Math.max(limit, Math.ceil(rows * PROBE_SHARE));
  let probe = 1;
  for (let seen = count(order[0]); probe < order.length && seen + count(order[probe]) <= budget; probe++) seen += count(order[probe]);
  const probed = ranked(sql, table, phrasesOf(order.slice(0, probe)), limit, undefined, undefined, has);
  if (probe === order.length) return probed;
  const kth = probed.rids.length >= limit ? (probed.scores[limit - 1] as number) : 0;
  // Essential: the phrases the others' bounds together cannot reach kth without.
  let essential = probe;
  while (essential < order.length && (rest[essential] as number) * (1 + SLACK) >= kth) essential++;
  if (essential < order.length) return ranked(sql, table, match, limit, phrasesOf(order.slice(0, essential)), undefined, has);
  return ranked(sql, table, match, limit, undefined, undefined, has);
}
