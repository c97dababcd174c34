/**
 * Chroma-style filters: validation, evaluation of `where` over in-memory
 * metadata columns, and SQL for `whereDocument`.
 *
 * where:
 *   { field: value }                      shorthand for { field: { $eq: value } }
 *   { field: { $eq | $ne: value } }       string, number or boolean
 *   { field: { $gt | $gte | $lt | $lte: number } }
 *   { field: { $in | $nin: value[] } }
 *   { $and: [where, ...] }, { $or: [where, ...] }
 *   Several fields in one object must all match.
 * Values match by type: 1 never equals '1' or true. A record without the
 * field never matches $eq, $in or a comparison, and always matches $ne and
 * $nin (they are the negations of $eq and $in).
 *
 * whereDocument:
 *   { $contains: text }, { $not_contains: text }      substring, case-sensitive
 *   { $icontains: text }, { $not_icontains: text }    substring, case-insensitive
 *   { $regex: pattern }, { $not_regex: pattern }      RE2 syntax, matched anywhere
 *   and $and / $or of these. A record without a document matches only the
 *   negative operators.
 */
import { ErrorCode } from '../errors.js';
import { describe, fail } from '../validate.js';
import { compileRegex } from './document-match.js';
import { checkMetadataKey, isMetadataValue, isPlainObject, type MetadataValue } from './metadata.js';
import type { MetadataColumns } from './metadata-columns.js';

export interface FieldOperators {
  $eq?: MetadataValue;
  $ne?: MetadataValue;
  $gt?: number;
  $gte?: number;
  $lt?: number;
  $lte?: number;
  $in?: MetadataValue[];
  $nin?: MetadataValue[];
}

export type Where = { $and: Where[] } | { $or: Where[] } | { [field: string]: MetadataValue | FieldOperators };

export type WhereDocument =
  | { $contains: string }
  | { $not_contains: string }
  | { $icontains: string }
  | { $not_icontains: string }
  | { $regex: string }
  | { $not_regex: string }
  | { $and: WhereDocument[] }
  | { $or: WhereDocument[] };

const DOCUMENT_OPERATORS = ['$contains', '$not_contains', '$icontains', '$not_icontains', '$regex', '$not_regex', '$and', '$or'];
const OPERATORS = ['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin'];

/** Deepest nesting of $and / $or a filter may have. */
export const MAX_FILTER_DEPTH = 32;
/** Most conditions (field operators) one `where` may hold. */
export const MAX_WHERE_CONDITIONS = 10_000;
/** Most terms ($contains, $regex, ...) one `whereDocument` may hold. */
export const MAX_DOCUMENT_TERMS = 1_000;

function bad(message: string): never {
  return fail(ErrorCode.INVALID_ARGUMENT, message);
}

/** A validated `where`, ready to evaluate. */
export type Condition =
  | { kind: 'and' | 'or'; parts: Condition[] }
  | { kind: 'eq' | 'ne'; field: string; value: MetadataValue }
  | { kind: 'in' | 'nin'; field: string; values: MetadataValue[] }
  | { kind: 'cmp'; field: string; op: '$gt' | '$gte' | '$lt' | '$lte'; value: number };

function fieldCondition(field: string, cond: unknown, at: string): Condition {
  checkMetadataKey(field, at);
  if (isMetadataValue(cond)) return { kind: 'eq', field, value: cond };
  if (!isPlainObject(cond)) {
    bad(`${at}.${field} must be a string, number, boolean or an operator object like { $gt: 3 }; received ${describe(cond)}`);
  }
  const ops = Object.keys(cond);
  if (ops.length === 0) bad(`${at}.${field} has no operator; use one of ${OPERATORS.join(', ')}`);
  const parts: Condition[] = ops.map((op) => {
    const v = cond[op];
    switch (op) {
      case '$eq':
      case '$ne':
        if (!isMetadataValue(v)) bad(`${at}.${field}.${op} must be a string, number or boolean; received ${describe(v)}`);
        return { kind: op === '$eq' ? 'eq' : 'ne', field, value: v };
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        if (typeof v !== 'number' || !Number.isFinite(v)) bad(`${at}.${field}.${op} must be a finite number; received ${describe(v)}`);
        return { kind: 'cmp', field, op, value: v };
      case '$in':
      case '$nin':
        if (!Array.isArray(v) || v.length === 0 || !v.every(isMetadataValue)) {
          bad(`${at}.${field}.${op} must be a non-empty array of strings, numbers or booleans; received ${describe(v)}`);
        }
        return { kind: op === '$in' ? 'in' : 'nin', field, values: v as MetadataValue[] };
      default:
        return bad(`${at}.${field}: unknown operator ${JSON.stringify(op)}; use one of ${OPERATORS.join(', ')}`);
    }
  });
  return parts.length === 1 ? (parts[0] as Condition) : { kind: 'and', parts };
}

/** Validates a `where` filter into a condition tree. */
export function parseWhere(where: unknown, at = 'where'): Condition {
  const budget = { conditions: 0 };
  return parseWhereAt(where, at, 0, budget);
}

function parseWhereAt(where: unknown, at: string, depth: number, budget: { conditions: number }): Condition {
  if (!isPlainObject(where)) bad(`${at} must be an object like { category: 'ml' }; received ${describe(where)}`);
  if (depth > MAX_FILTER_DEPTH) bad(`${at}: $and / $or may be nested at most ${MAX_FILTER_DEPTH} deep`);
  const keys = Object.keys(where);
  if (keys.length === 0) bad(`${at} is empty; give at least one condition`);
  const parts: Condition[] = keys.map((key) => {
    const value = where[key];
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0) bad(`${at}.${key} must be a non-empty array of conditions; received ${describe(value)}`);
      return { kind: key === '$and' ? 'and' : 'or', parts: value.map((w, i) => parseWhereAt(w, `${at}.${key}[${i}]`, depth + 1, budget)) };
    }
    if (key.startsWith('$')) bad(`${at}: unknown operator ${JSON.stringify(key)} at the top level; use $and or $or`);
    budget.conditions += isPlainObject(value) ? Math.max(1, Object.keys(value).length) : 1;
    if (budget.conditions > MAX_WHERE_CONDITIONS) bad(`where holds more than ${MAX_WHERE_CONDITIONS} conditions; use $in for long lists of values`);
    return fieldCondition(key, value, at);
  });
  return parts.length === 1 ? (parts[0] as Condition) : { kind: 'and', parts };
}

/** Evaluates a condition over every slot of the columns: 1 where it holds. */
export function evaluate(cond: Condition, cols: MetadataColumns): Uint8Array {
  const n = cols.size;
  switch (cond.kind) {
    case 'and':
    case 'or': {
      const out = evaluate(cond.parts[0] as Condition, cols);
      for (const p of cond.parts.slice(1)) {
        const m = evaluate(p, cols);
        if (cond.kind === 'and') for (let i = 0; i < n; i++) out[i]! &= m[i]!;
        else for (let i = 0; i < n; i++) out[i]! |= m[i]!;
      }
      return out;
    }
    case 'eq':
      return cols.equals(cond.field, cond.value);
    case 'ne': {
      const m = cols.equals(cond.field, cond.value);
      for (let i = 0; i < n; i++) m[i] = m[i]! ^ 1;
      return m;
    }
    case 'in':
    case 'nin': {
      const m = cols.equalsAny(cond.field, cond.values);
      if (cond.kind === 'nin') for (let i = 0; i < n; i++) m[i] = m[i]! ^ 1;
      return m;
    }
    case 'cmp':
      return cols.compare(cond.field, cond.op, cond.value);
  }
}

/** SQL (a boolean expression over the `document` column) for whereDocument. */
export function compileWhereDocument(where: unknown, params: unknown[] = [], at = 'whereDocument'): { sql: string; params: unknown[] } {
  const budget = { terms: 0 };
  return { sql: compileAt(where, params, at, 0, budget), params };
}

/** Joins SQL terms as a balanced tree, so long lists stay shallow for SQLite's parser. */
function balanced(terms: string[], op: string): string {
  if (terms.length === 1) return terms[0] as string;
  const mid = terms.length >> 1;
  return `(${balanced(terms.slice(0, mid), op)} ${op} ${balanced(terms.slice(mid), op)})`;
}

function compileAt(where: unknown, params: unknown[], at: string, depth: number, budget: { terms: number }): string {
  if (!isPlainObject(where)) bad(`${at} must be an object like { $contains: 'text' }; received ${describe(where)}`);
  if (depth > MAX_FILTER_DEPTH) bad(`${at}: $and / $or may be nested at most ${MAX_FILTER_DEPTH} deep`);
  const keys = Object.keys(where);
  if (keys.length !== 1) bad(`${at} must have exactly one operator (${DOCUMENT_OPERATORS.join(', ')}); received ${keys.length}`);
  const key = keys[0] as string;
  const value = where[key];
  switch (key) {
    case '$contains':
    case '$not_contains':
    case '$icontains':
    case '$not_icontains':
    case '$regex':
    case '$not_regex': {
      if (typeof value !== 'string' || value.length === 0) bad(`${at}.${key} must be a non-empty string; received ${describe(value)}`);
      if (++budget.terms > MAX_DOCUMENT_TERMS) bad(`whereDocument holds more than ${MAX_DOCUMENT_TERMS} terms`);
      if (key.endsWith('regex')) compileRegex(value, `${at}.${key}`);
      params.push(value);
      const test = key.endsWith('regex') ? 'semvec_regex(document, ?)' : key.endsWith('icontains') ? 'semvec_icontains(document, ?)' : 'instr(document, ?)';
      return key.startsWith('$not_') ? `(document IS NULL OR ${test} = 0)` : `(document IS NOT NULL AND ${test} > 0)`;
    }
    case '$and':
    case '$or': {
      if (!Array.isArray(value) || value.length === 0) bad(`${at}.${key} must be a non-empty array; received ${describe(value)}`);
      const inner = value.map((w, i) => compileAt(w, params, `${at}.${key}[${i}]`, depth + 1, budget));
      return balanced(inner, key === '$and' ? 'AND' : 'OR');
    }
    default:
      return bad(`${at}: unknown operator ${JSON.stringify(key)}; use one of ${DOCUMENT_OPERATORS.join(', ')}`);
  }
}
