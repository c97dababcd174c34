/**
 * The filter module on its own: `where` parsed into conditions and
 * evaluated over metadata columns, `whereDocument` compiled to SQL that
 * SQLite runs, and the bounds on both.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { compileWhereDocument, evaluate, MAX_DOCUMENT_TERMS, MAX_FILTER_DEPTH, MAX_WHERE_CONDITIONS, parseWhere } from '../../src/collection/filter.js';
import { MAX_REGEX_LENGTH, registerDocumentFunctions } from '../../src/collection/document-match.js';
import { MetadataColumns } from '../../src/collection/metadata-columns.js';
import type { Metadata } from '../../src/index.js';
import { expectCode } from '../helpers/errors.js';

const records: Metadata[] = [
  { kind: 'a', n: 1, ok: true },
  { kind: 'b', n: 2, ok: false },
  { kind: 'a', n: 3 },
  { n: '3' as unknown as number },
  {},
];

function columns(): MetadataColumns {
  const cols = new MetadataColumns();
  records.forEach((m, i) => cols.set(100 + i, m));
  return cols;
}

/** The rids a where selects. */
function select(where: unknown): number[] {
  const cols = columns();
  return Array.from(cols.select(evaluate(parseWhere(where), cols)));
}

describe('where: parse and evaluate', () => {
  it('each operator, by type', () => {
    expect(select({ kind: 'a' })).toEqual([100, 102]);
    expect(select({ kind: { $ne: 'a' } })).toEqual([101, 103, 104]);
    expect(select({ n: { $gte: 2 } })).toEqual([101, 102]);
    expect(select({ n: { $lt: 2 } })).toEqual([100]);
    expect(select({ n: 3 })).toEqual([102]); // '3' is a string: not equal to 3
    expect(select({ n: { $in: [1, '3'] } })).toEqual([100, 103]);
    expect(select({ n: { $nin: [1, 2, 3] } })).toEqual([103, 104]);
    expect(select({ ok: false })).toEqual([101]);
    expect(select({ ok: { $in: [true, false] } })).toEqual([100, 101]);
  });

  it('$and, $or and several fields in one object', () => {
    expect(select({ $or: [{ kind: 'b' }, { n: 3 }] })).toEqual([101, 102]);
    expect(select({ $and: [{ kind: 'a' }, { n: { $gt: 1 } }] })).toEqual([102]);
    expect(select({ kind: 'a', ok: true })).toEqual([100]);
  });

  it('columns follow updates and deletes', () => {
    const cols = columns();
    cols.set(101, { kind: 'a' });
    cols.delete(100);
    expect(Array.from(cols.select(evaluate(parseWhere({ kind: 'a' }), cols))).sort()).toEqual([101, 102]);
    expect(cols.size).toBe(4);
    expect(cols.slotOf(100)).toBeUndefined();
  });

  it('is bounded: nesting depth and the number of conditions', () => {
    let deep: Record<string, unknown> = { n: 1 };
    for (let d = 0; d <= MAX_FILTER_DEPTH; d++) deep = { $or: [deep] };
    expectCode(() => parseWhere(deep), 'ERR_INVALID_ARGUMENT', /nested at most/);
    const many = { $or: Array.from({ length: MAX_WHERE_CONDITIONS + 1 }, (_, i) => ({ n: i })) };
    expectCode(() => parseWhere(many), 'ERR_INVALID_ARGUMENT', /conditions/);
  });

  it('bad shapes are typed errors naming where they are', () => {
    expectCode(() => parseWhere({}), 'ERR_INVALID_ARGUMENT', /empty/);
    expectCode(() => parseWhere({ n: { $gt: 'x' } }), 'ERR_INVALID_ARGUMENT', /where\.n\.\$gt/);
    expectCode(() => parseWhere({ $or: [{ n: { $bogus: 1 } }] }), 'ERR_INVALID_ARGUMENT', /where\.\$or\[0\]\.n: unknown operator/);
    expectCode(() => parseWhere({ $not: [] }), 'ERR_INVALID_ARGUMENT', /unknown operator/);
  });
});

describe('whereDocument: compiled SQL run by SQLite', () => {
  const db = new Database(':memory:');
  registerDocumentFunctions(db);
  db.exec('CREATE TABLE records (rid INTEGER PRIMARY KEY, document TEXT)');
  const docs = ['alpha beta', 'beta gamma', null, 'Gamma'];
  docs.forEach((d, i) => db.prepare('INSERT INTO records VALUES (?, ?)').run(i, d));
  const run = (where: unknown) => {
    const { sql, params } = compileWhereDocument(where);
    return db.prepare(`SELECT rid FROM records WHERE ${sql} ORDER BY rid`).pluck().all(...params);
  };

  it('$contains is case-sensitive; $not_contains includes records without a document', () => {
    expect(run({ $contains: 'beta' })).toEqual([0, 1]);
    expect(run({ $contains: 'gamma' })).toEqual([1]);
    expect(run({ $not_contains: 'beta' })).toEqual([2, 3]);
    expect(run({ $and: [{ $contains: 'beta' }, { $not_contains: 'alpha' }] })).toEqual([1]);
    expect(run({ $or: [{ $contains: 'alpha' }, { $contains: 'Gamma' }] })).toEqual([0, 3]);
  });

  it('$icontains folds case (beyond ASCII); $not_icontains includes records without a document', () => {
    expect(run({ $icontains: 'GAMMA' })).toEqual([1, 3]);
    expect(run({ $not_icontains: 'gamma' })).toEqual([0, 2]);
    const db2 = new Database(':memory:');
    registerDocumentFunctions(db2);
    expect(db2.prepare('SELECT semvec_icontains(?, ?)').pluck().get('STRASSE ÉCOLE', 'école')).toBe(1);
    db2.close();
  });

  it('$regex matches anywhere in the document (RE2 syntax); $not_regex is its negation, with records without a document', () => {
    expect(run({ $regex: '^beta' })).toEqual([1]);
    expect(run({ $regex: 'a\\s+[bg]' })).toEqual([0, 1]);
    expect(run({ $regex: '(?i)^gamma$' })).toEqual([3]);
    expect(run({ $not_regex: 'mm' })).toEqual([0, 2]);
    expect(run({ $or: [{ $regex: '^alpha' }, { $icontains: 'GAMMA' }] })).toEqual([0, 1, 3]);
  });

  it('$regex patterns are checked up front: bad syntax, backreferences, lookaround and over-long patterns are refused', () => {
    expectCode(() => compileWhereDocument({ $regex: '(a' }), 'ERR_INVALID_ARGUMENT', /not a valid regular expression/);
    expectCode(() => compileWhereDocument({ $regex: '(a)\\1' }), 'ERR_INVALID_ARGUMENT', /not a valid regular expression/);
    expectCode(() => compileWhereDocument({ $not_regex: '(?=a)' }), 'ERR_INVALID_ARGUMENT', /not a valid regular expression/);
    expectCode(() => compileWhereDocument({ $regex: 'a{2000}' }), 'ERR_INVALID_ARGUMENT', /not a valid regular expression/);
    expectCode(() => compileWhereDocument({ $regex: 'a'.repeat(MAX_REGEX_LENGTH + 1) }), 'ERR_INVALID_ARGUMENT', /at most 1000 characters/);
    expectCode(() => compileWhereDocument({ $regex: 3 }), 'ERR_INVALID_ARGUMENT', /non-empty string/);
    expectCode(() => compileWhereDocument({ $matches: 'a' }), 'ERR_INVALID_ARGUMENT', /unknown operator "\$matches"/);
  });

  it('a pattern that backtracks exponentially in a backtracking engine runs in linear time', () => {
    // (a+)+$ on 'aaaa...!' takes 2^n steps in a backtracking engine; with n = 5000 it would never finish.
    const long = `${'a'.repeat(5000)}!`;
    const db2 = new Database(':memory:');
    registerDocumentFunctions(db2);
    expect(db2.prepare('SELECT semvec_regex(?, ?)').pluck().get(long, '(a+)+$')).toBe(0);
    expect(db2.prepare('SELECT semvec_regex(?, ?)').pluck().get(long, '(a|aa)+!$')).toBe(1);
    db2.close();
  });

  it('user text is a bound parameter, never SQL', () => {
    expect(run({ $contains: "') OR 1=1 --" })).toEqual([]);
  });

  it('long $or lists compile to shallow SQL; more terms than the limit are refused', () => {
    const terms = Array.from({ length: MAX_DOCUMENT_TERMS }, (_, i) => ({ $contains: `t${i}` }));
    expect(run({ $or: [...terms.slice(1), { $contains: 'alpha' }] })).toEqual([0]);
    expectCode(() => compileWhereDocument({ $or: [...terms, { $contains: 'x' }] }), 'ERR_INVALID_ARGUMENT', /terms/);
    expectCode(() => compileWhereDocument({ $contains: '' }), 'ERR_INVALID_ARGUMENT', /non-empty/);
  });
});
