/**
 * semvec's filters where the distributed mode needs them. Filters are
 * validated once, by the collection layer's own parsers (`parseWhere`,
 * `compileWhereDocument`: same messages, same limits), and then:
 *
 * - on nodes, `where` runs as in a collection, over in-memory metadata
 *   columns (`evaluate`), and `whereDocument` over the documents in memory
 *   (`documentPredicate`), before the top-k;
 * - in PostgreSQL (get, count, delete by filter), the same condition tree
 *   is translated to SQL over the `metadata` (json, read as jsonb) and `document` columns
 *   (`whereSql`, `whereDocumentSql`), with the same meaning: values match
 *   by type (1 never equals '1'), a missing field fails $eq, $in and
 *   comparisons and passes $ne and $nin.
 */
import { compileWhereDocument, parseWhere, type Condition } from '../collection/filter.js';
import { isPlainObject } from '../collection/metadata.js';

/** Pushes a parameter and returns its placeholder. */
function param(params: unknown[], value: unknown): string {
  params.push(value);
  return `$${params.length}`;
}

function balanced(terms: string[], op: string): string {
  if (terms.length === 1) return terms[0] as string;
  const mid = terms.length >> 1;
  return `(${balanced(terms.slice(0, mid), op)} ${op} ${balanced(terms.slice(mid), op)})`;
}

function conditionSql(cond: Condition, params: unknown[]): string {
  switch (cond.kind) {
    case 'and':
    case 'or':
      return balanced(
        cond.parts.map((p) => conditionSql(p, params)),
        cond.kind === 'and' ? 'AND' : 'OR',
      );
    case 'eq':
      return `COALESCE((metadata::jsonb -> ${param(params, cond.field)}) = ${param(params, JSON.stringify(cond.value))}::jsonb, false)`;
    case 'ne':
      return `((metadata::jsonb -> ${param(params, cond.field)}) IS DISTINCT FROM ${param(params, JSON.stringify(cond.value))}::jsonb)`;
    case 'in':
    case 'nin': {
      const test = `COALESCE((metadata::jsonb -> ${param(params, cond.field)}) = ANY(${param(params, cond.values.map((v) => JSON.stringify(v)))}::jsonb[]), false)`;
      return cond.kind === 'in' ? test : `(NOT ${test})`;
    }
    case 'cmp': {
      const op = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' }[cond.op];
      const key = param(params, cond.field);
      return `(CASE WHEN jsonb_typeof(metadata::jsonb -> ${key}) = 'number' THEN (metadata::jsonb ->> ${key})::float8 ${op} ${param(params, cond.value)}::float8 ELSE false END)`;
    }
  }
}

/** SQL for a `where` (validated here), with its parameters appended to `params`. */
export function whereSql(where: unknown, params: unknown[]): string {
  return conditionSql(parseWhere(where), params);
}

/** SQL for a `whereDocument` (validated here), with its parameters appended to `params`. */
export function whereDocumentSql(where: unknown, params: unknown[]): string {
  compileWhereDocument(where);
  const walk = (w: Record<string, unknown>): string => {
    const [key, value] = Object.entries(w)[0] as [string, unknown];
    if (key === '$contains') return `(document IS NOT NULL AND strpos(document, ${param(params, value)}) > 0)`;
    if (key === '$not_contains') return `(document IS NULL OR strpos(document, ${param(params, value)}) = 0)`;
    return balanced(
      (value as Record<string, unknown>[]).map(walk),
      key === '$and' ? 'AND' : 'OR',
    );
  };
  return walk(where as Record<string, unknown>);
}

/** A predicate over a document for a `whereDocument` (validated here). */
export function documentPredicate(where: unknown): (document: string | null) => boolean {
  compileWhereDocument(where);
  const build = (w: Record<string, unknown>): ((d: string | null) => boolean) => {
    const [key, value] = Object.entries(w)[0] as [string, unknown];
    if (key === '$contains') return (d) => d !== null && d.includes(value as string);
    if (key === '$not_contains') return (d) => d === null || !d.includes(value as string);
    const parts = (value as Record<string, unknown>[]).filter(isPlainObject).map(build);
    return key === '$and' ? (d) => parts.every((p) => p(d)) : (d) => parts.some((p) => p(d));
  };
  return build(where as Record<string, unknown>);
}
