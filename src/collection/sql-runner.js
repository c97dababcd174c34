// @ts-check
/**
 * Runs a write program: a list of SQL statements, each run once per row of
 * parameters, all in one IMMEDIATE transaction, so a program commits whole
 * or not at all. Used on the writer thread of a persistent client
 * (sql-worker.js) and inline by an in-memory one. Plain JavaScript: the
 * writer thread loads it without a TypeScript loader.
 *
 * A step with `returning` collects the rows its statement returns (a SELECT
 * or a statement with RETURNING) by column: result[j] holds column j of
 * every returned row, in order (a `required` step of statements returning
 * one row per run gives one value per run). A `required`
 * step must return a row (or change one) for every parameter row: the first
 * that does not stops the program and rolls it back, as does any SQLite
 * error; the failure names the step and the parameter row.
 *
 * A step with `from` is SQL that names a value only an earlier step of the
 * program knows (such as a new collection's id, in the name of its tables):
 * every `{{value}}` in its text becomes the first value step `from`
 * returned, which must be an integer.
 */

/**
 * Parameters are given by column, so a program of many rows crosses to the
 * writer thread as a few arrays instead of one small array per row:
 *   { v: value }          the same value in every run
 *   { c: values }         run r gets values[r]
 *   { f32: x, dim }       run r gets row r of x (n * dim floats) as a blob
 * @typedef {{ v: unknown } | { c: readonly unknown[] } | { f32: Float32Array, dim: number }} Param
 */

/**
 * @typedef {object} Step
 * @property {string} sql
 * @property {number} count runs of the statement
 * @property {Param[]} params
 * @property {boolean} [returning] collect the returned rows
 * @property {boolean} [required] every run must return or change a row
 * @property {number} [from] the earlier step whose first returned value replaces `{{value}}` in sql
 */

/**
 * The parameters of run r.
 * @param {Param[]} params
 * @param {number} r
 */
function paramsOf(params, r) {
  return params.map((p) => {
    if ('v' in p) return p.v;
    if ('c' in p) return p.c[r];
    return new Uint8Array(p.f32.buffer, p.f32.byteOffset + r * p.dim * 4, p.dim * 4);
  });
}

/**
 * @typedef {object} StepFailure
 * @property {'missing' | 'sqlite'} kind
 * @property {number} step
 * @property {number} row
 * @property {string} [code] SQLite's error code (kind 'sqlite')
 * @property {string} message
 */

/**
 * @typedef {{ ok: true, results: (unknown[][] | number)[] } | { ok: false, failure: StepFailure }} ProgramResult
 * results[s]: for a returning step, the returned columns; else the number
 * of rows changed.
 */

class Stop extends Error {
  /** @param {StepFailure} failure */
  constructor(failure) {
    super(failure.message);
    this.failure = failure;
  }
}

/**
 * SQL with `{{value}}` replaced by the first value a step returned.
 * @param {string} sql
 * @param {unknown[][] | number | undefined} returned
 */
function withValue(sql, returned) {
  const value = Array.isArray(returned) ? returned[0]?.[0] : undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new Error(`a step names a value its program did not return as an integer: ${String(value)}`);
  return sql.replaceAll('{{value}}', String(value));
}

/**
 * @param {import('better-sqlite3').Database} db
 * @param {Map<string, import('better-sqlite3').Statement>} cache prepared statements by SQL text
 * @param {Step[]} steps
 * @returns {ProgramResult}
 */
export function runProgram(db, cache, steps) {
  /** @param {string} sql */
  const prepare = (sql) => {
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      cache.set(sql, stmt);
    }
    return stmt;
  };
  /** @type {(unknown[][] | number)[]} */
  const results = [];
  let at = { step: 0, row: 0 };
  try {
    db.transaction(() => {
      steps.forEach((step, s) => {
        at = { step: s, row: 0 }; // a failure to prepare names this step
        const stmt = prepare(step.from === undefined ? step.sql : withValue(step.sql, results[step.from]));
        if (step.returning) {
          const raw = stmt.raw(true);
          /** @type {unknown[][]} */
          const out = stmt.columns().map(() => []);
          for (let r = 0; r < step.count; r++) {
            at = { step: s, row: r };
            const rows = /** @type {unknown[][]} */ (raw.all(...paramsOf(step.params, r)));
            if (step.required && rows.length === 0) throw new Stop({ kind: 'missing', step: s, row: r, message: 'no row' });
            for (const row of rows) row.forEach((value, j) => /** @type {unknown[]} */ (out[j]).push(value));
          }
          results.push(out);
        } else {
          let changes = 0;
          for (let r = 0; r < step.count; r++) {
            at = { step: s, row: r };
            const info = stmt.run(...paramsOf(step.params, r));
            if (step.required && info.changes === 0) throw new Stop({ kind: 'missing', step: s, row: r, message: 'no row changed' });
            changes += info.changes;
          }
          results.push(changes);
        }
      });
    }).immediate();
  } catch (err) {
    if (err instanceof Stop) return { ok: false, failure: err.failure };
    const e = /** @type {{ code?: unknown, message?: unknown }} */ (err);
    return {
      ok: false,
      failure: {
        kind: 'sqlite',
        step: at.step,
        row: at.row,
        code: typeof e.code === 'string' ? e.code : undefined,
        message: typeof e.message === 'string' ? e.message : String(err),
      },
    };
  }
  return { ok: true, results };
}
