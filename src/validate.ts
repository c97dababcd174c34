/**
 * Argument validation at the public edge. Every check throws a
 * ValidationError whose message says what was expected and what was received.
 */
import { createError, ErrorCode } from './errors.js';
import { nativeConstants } from './native.js';

/** The ways a set of vectors may be given. */
export type VectorsInput = Float32Array | ReadonlyArray<ArrayLike<number>>;
/** The ways a single vector may be given. */
export type VectorInput = Float32Array | ArrayLike<number>;
/** The ways a list of ids may be given: non-negative safe integers. */
export type IdsInput = ArrayLike<number>;

// The limits (largest dim, largest k) are read from the addon when first
// needed, not at import: modules that only validate paths and strings must
// load without the native module (semvec doctor reports when it does not).

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') {
    return Number.isNaN(value) ? 'NaN' : `the number ${value}`;
  }
  if (typeof value === 'string') {
    const s = value.length > 40 ? `${value.slice(0, 40)}...` : value;
    return `the string ${JSON.stringify(s)}`;
  }
  if (typeof value === 'bigint') return `the bigint ${value}n`;
  if (ArrayBuffer.isView(value)) {
    const len = (value as unknown as { length?: number }).length ?? value.byteLength;
    return `a ${value.constructor.name} of length ${len}`;
  }
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') {
    const name = (value as object).constructor?.name;
    return name && name !== 'Object' ? `a ${name}` : 'an object';
  }
  return typeof value;
}

/** Throws the error of `code` (its class follows from the code). */
export function fail(code: ErrorCode, message: string): never {
  throw createError(code, message);
}

/**
 * An option's value, or `fallback` when it is undefined. Only undefined
 * means "not given": null is a value like any other, and is then refused by
 * the option's check (unlike `value ?? fallback`, which would take it for the
 * default).
 */
export function orDefault<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

export function checkBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') {
    fail(ErrorCode.INVALID_ARGUMENT, `${name} must be true or false; received ${describe(value)}`);
  }
  return value;
}

export function checkInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(
      ErrorCode.INVALID_ARGUMENT,
      `${name} must be an integer from ${min} to ${max}; received ${describe(value)}`,
    );
  }
  return value;
}

export function checkDim(dim: unknown): number {
  return checkInteger(dim, 'dim', 1, nativeConstants().limits.maxDim);
}

/**
 * k of a search: any positive integer. A search returns at most as many
 * results as it has candidates, so a k beyond them returns them all; k
 * above 2^53 - 1 (the largest the native search takes) is clamped to it.
 */
export function checkK(k: unknown): number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) {
    fail(ErrorCode.INVALID_ARGUMENT, `k must be a positive integer; received ${describe(k)}`);
  }
  return Math.min(k, nativeConstants().limits.maxK);
}

export function checkOneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    const list = allowed.map((a) => `'${a}'`).join(', ');
    fail(ErrorCode.INVALID_ARGUMENT, `${name} must be one of ${list}; received ${describe(value)}`);
  }
  return value as T;
}

export function checkPath(path: unknown, name = 'path'): string {
  if (typeof path !== 'string' || path.length === 0) {
    fail(ErrorCode.INVALID_ARGUMENT, `${name} must be a non-empty string; received ${describe(path)}`);
  }
  if (path.includes('\0')) fail(ErrorCode.INVALID_ARGUMENT, `${name} must not contain NUL bytes`);
  return path;
}

function checkRow(row: ArrayLike<number>, dim: number, out: Float32Array, offset: number, what: string): void {
  for (let c = 0; c < dim; c++) {
    const v = row[c];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      fail(
        ErrorCode.INVALID_ARGUMENT,
        `${what} must contain only finite numbers; received ${describe(v)} at component ${c}`,
      );
    }
    out[offset + c] = v;
  }
}

/**
 * Vectors as one contiguous Float32Array of n * dim. A Float32Array is
 * passed through without copying; arrays of rows are copied once.
 */
export function toVectors(input: unknown, dim: number, name = 'vectors', allowEmpty = false): Float32Array {
  let out: Float32Array;
  if (input instanceof Float32Array) {
    if (input.length % dim !== 0) {
      fail(
        ErrorCode.DIMENSION_MISMATCH,
        `${name} must hold a multiple of dim (${dim}) values; received a Float32Array of length ${input.length}`,
      );
    }
    out = input;
  } else if (Array.isArray(input)) {
    out = new Float32Array(input.length * dim);
    for (let i = 0; i < input.length; i++) {
      const row: unknown = input[i];
      if (!(row instanceof Float32Array || Array.isArray(row) || ArrayBuffer.isView(row))) {
        fail(
          ErrorCode.INVALID_ARGUMENT,
          `${name} must be a Float32Array or an array of number arrays; ${name}[${i}] is ${describe(row)}`,
        );
      }
      const r = row as ArrayLike<number>;
      if (r.length !== dim) {
        fail(
          ErrorCode.DIMENSION_MISMATCH,
          `${name}[${i}] must have dim = ${dim} values; received ${r.length}`,
        );
      }
      checkRow(r, dim, out, i * dim, `${name}[${i}]`);
    }
  } else {
    fail(
      ErrorCode.INVALID_ARGUMENT,
      `${name} must be a Float32Array of n * dim values or an array of number arrays; received ${describe(input)}` +
        (ArrayBuffer.isView(input) ? ' (convert it with Float32Array.from)' : ''),
    );
  }
  if (out.length === 0 && !allowEmpty) {
    fail(ErrorCode.INVALID_ARGUMENT, `${name} must hold at least one vector; received none`);
  }
  return out;
}

/**
 * A Float32Array that an async call may read in place while the caller goes
 * on: its memory must not be able to change size. A view of a resizable
 * ArrayBuffer or of a growable SharedArrayBuffer could shrink under the
 * worker thread reading it, so it is refused (synchronous calls read such
 * views in place: nothing can resize them during the call).
 */
export function checkFixedLength(x: Float32Array, name: string): Float32Array {
  const buffer = x.buffer as { resizable?: unknown; growable?: unknown };
  if (buffer.resizable === true || buffer.growable === true) {
    const kind = buffer.resizable === true ? 'a resizable ArrayBuffer' : 'a growable SharedArrayBuffer';
    fail(
      ErrorCode.INVALID_ARGUMENT,
      `${name} is a Float32Array over ${kind}, which could shrink while async work reads it; ` +
        `pass a copy (new Float32Array(${name})) or use the synchronous method`,
    );
  }
  return x;
}

/** One vector of exactly dim values, as a Float32Array (copied only if needed). */
export function toVector(input: unknown, dim: number, name = 'query'): Float32Array {
  if (input instanceof Float32Array) {
    if (input.length !== dim) {
      fail(ErrorCode.DIMENSION_MISMATCH, `${name} must have dim = ${dim} values; received ${input.length}`);
    }
    return input;
  }
  if (Array.isArray(input) || (ArrayBuffer.isView(input) && !(input instanceof DataView))) {
    const r = input as ArrayLike<number>;
    if (r.length !== dim) {
      fail(ErrorCode.DIMENSION_MISMATCH, `${name} must have dim = ${dim} values; received ${r.length}`);
    }
    const out = new Float32Array(dim);
    checkRow(r, dim, out, 0, name);
    return out;
  }
  return fail(
    ErrorCode.INVALID_ARGUMENT,
    `${name} must be a Float32Array or an array of ${dim} numbers; received ${describe(input)}`,
  );
}

/** Ids as a Float64Array of non-negative safe integers, one per vector. */
export function toIds(input: unknown, count: number | undefined, name = 'ids'): Float64Array {
  if (!(Array.isArray(input) || (ArrayBuffer.isView(input) && !(input instanceof DataView)))) {
    fail(ErrorCode.INVALID_ARGUMENT, `${name} must be an array of integers; received ${describe(input)}`);
  }
  const arr = input as ArrayLike<number | bigint>;
  if (count !== undefined && arr.length !== count) {
    fail(
      ErrorCode.INVALID_ARGUMENT,
      `${name} must have one id per vector (${count}); received ${arr.length}`,
    );
  }
  const out = new Float64Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const raw = arr[i];
    const v = typeof raw === 'bigint' && raw <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(raw) : raw;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      fail(
        ErrorCode.INVALID_ARGUMENT,
        `${name} must be integers from 0 to 2^53-1; ${name}[${i}] is ${describe(raw)}`,
      );
    }
    out[i] = v;
  }
  return out;
}
