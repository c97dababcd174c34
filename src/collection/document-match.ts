/**
 * The SQL functions behind `whereDocument`'s case-insensitive and regular
 * expression filters, registered on a client's reading connection (where
 * filters are evaluated). Regular expressions run on re2js, a linear-time
 * engine (RE2's syntax: no backreferences or lookaround), so a filter's
 * cost is bounded by the length of the documents it reads, whatever the
 * pattern: no pattern can make a search backtrack exponentially.
 */
import { RE2JS } from 're2js';

import { ErrorCode } from '../errors.js';
import { fail } from '../validate.js';
import type { Db } from './database.js';

/** Longest pattern a `$regex` / `$not_regex` filter may have, in characters. */
export const MAX_REGEX_LENGTH = 1_000;

/** Compiled patterns, by pattern (a query's filter calls once per document). */
const compiled = new Map<string, RE2JS>();
const CACHE = 64;

/** A pattern compiled, or ERR_INVALID_ARGUMENT saying what is wrong with it. */
export function compileRegex(pattern: string, at: string): RE2JS {
  let re = compiled.get(pattern);
  if (re) return re;
  if (pattern.length > MAX_REGEX_LENGTH) fail(ErrorCode.INVALID_ARGUMENT, `${at}: a pattern may have at most ${MAX_REGEX_LENGTH} characters; received ${pattern.length}`);
  try {
    re = RE2JS.compile(pattern);
  } catch (err) {
    return fail(ErrorCode.INVALID_ARGUMENT, `${at}: not a valid regular expression (RE2 syntax; no backreferences or lookaround): ${(err as Error).message}`);
  }
  if (compiled.size >= CACHE) compiled.delete(compiled.keys().next().value as string);
  compiled.set(pattern, re);
  return re;
}

/** Registers semvec_regex(document, pattern) and semvec_icontains(document, text) on a connection. */
export function registerDocumentFunctions(db: Db): void {
  db.function('semvec_regex', { deterministic: true }, (document: unknown, pattern: unknown) =>
    typeof document === 'string' && compileRegex(String(pattern), 'whereDocument').matcher(document).find() ? 1 : 0,
  );
  db.function('semvec_icontains', { deterministic: true }, (document: unknown, text: unknown) =>
    typeof document === 'string' && document.toLowerCase().includes(String(text).toLowerCase()) ? 1 : 0,
  );
}
