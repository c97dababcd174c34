/**
 * Record metadata: a flat object of string, finite number and boolean
 * values, with keys that are non-empty and do not start with '$' (the
 * filter operators' prefix).
 */
import { ErrorCode } from '../errors.js';
import { describe, fail } from '../validate.js';

export type MetadataValue = string | number | boolean;
export type Metadata = Record<string, MetadataValue>;

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

function bad(message: string): never {
  return fail(ErrorCode.INVALID_ARGUMENT, message);
}

export function isMetadataValue(v: unknown): v is MetadataValue {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

/** Checks a metadata key: non-empty, not starting with '$'. */
export function checkMetadataKey(key: string, at: string): string {
  if (key.length === 0 || key.startsWith('$')) {
    bad(`${at}: metadata keys must be non-empty and must not start with '$'; received ${JSON.stringify(key)}`);
  }
  return key;
}

/** Validates one record's metadata: a plain object of string, finite number or boolean values. */
export function checkMetadata(m: unknown, at: string): Metadata | null {
  if (m === null || m === undefined) return null;
  if (!isPlainObject(m)) bad(`${at} must be an object of string, number or boolean values; received ${describe(m)}`);
  for (const [k, v] of Object.entries(m)) {
    checkMetadataKey(k, at);
    if (!isMetadataValue(v)) bad(`${at}.${k} must be a string, a finite number or a boolean; received ${describe(v)}`);
  }
  return m as Metadata;
}
