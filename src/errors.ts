/**
 * Every error semvec throws is a {@link SemvecError} with a stable `code`.
 * Errors from the native core arrive as the same classes.
 */

/** The stable error codes. Match on `err.code`, never on the message. */
export const ErrorCode = {
  /** An argument has the wrong type, range or shape. */
  INVALID_ARGUMENT: 'ERR_INVALID_ARGUMENT',
  /** A vector's length does not match the index dimension. */
  DIMENSION_MISMATCH: 'ERR_DIMENSION_MISMATCH',
  /** An id is already present, or repeated within one call. */
  DUPLICATE_ID: 'ERR_DUPLICATE_ID',
  /** An id or file does not exist. */
  NOT_FOUND: 'ERR_NOT_FOUND',
  /** An approximate index was used before training. */
  NOT_TRAINED: 'ERR_NOT_TRAINED',
  /** A client, collection or embedder was used after it was closed. */
  CLOSED: 'ERR_CLOSED',
  /** An embedder other than the one a collection was built with. */
  EMBEDDER_MISMATCH: 'ERR_EMBEDDER_MISMATCH',
  /** A write to something opened read-only (a read-only client, a mapped index). */
  READ_ONLY: 'ERR_READ_ONLY',
  /** A file failed its integrity checks (truncated, bit flips, bad fields). */
  CORRUPT_FILE: 'ERR_CORRUPT_FILE',
  /** A file was written by a newer, incompatible format version. */
  UNSUPPORTED_VERSION: 'ERR_UNSUPPORTED_VERSION',
  /** A file holds another kind of index than the one asked for. */
  WRONG_INDEX_KIND: 'ERR_WRONG_INDEX_KIND',
  /** The operating system refused a read or write. */
  IO: 'ERR_IO',
  /** Another process holds the collection database. */
  LOCKED: 'ERR_LOCKED',
  /** Waiting for another process took longer than allowed (a lock, a refresh to a sequence number). */
  TIMEOUT: 'ERR_TIMEOUT',
  /** A service semvec depends on cannot be reached (PostgreSQL, the nodes of a shard). */
  UNAVAILABLE: 'ERR_UNAVAILABLE',
  /** A distributed request named an older or newer shard map epoch than the one in force. */
  STALE_EPOCH: 'ERR_STALE_EPOCH',
  /** A model file could not be downloaded (HTTP error, dropped connection, wrong size). */
  DOWNLOAD: 'ERR_DOWNLOAD',
  /** A model is not on disk and downloads are turned off (offline mode). */
  OFFLINE: 'ERR_OFFLINE',
  /** This machine, build or semvec cannot do what was asked (a SIMD level; a Chroma feature semvec does not have). */
  UNSUPPORTED: 'ERR_UNSUPPORTED',
  /** The native module could not be loaded. */
  NATIVE_LOAD: 'ERR_NATIVE_LOAD',
  /** Memory could not be allocated. */
  OUT_OF_MEMORY: 'ERR_OUT_OF_MEMORY',
  /** A bug in semvec: please report it. */
  INTERNAL: 'ERR_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class of every semvec error. */
export class SemvecError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** Bad arguments: wrong type, range, shape, dimension or duplicate ids. */
export class ValidationError extends SemvecError {}

/** A requested id or file does not exist. */
export class NotFoundError extends SemvecError {}

/** A file is corrupt, of a newer format, or of another index kind. */
export class FileFormatError extends SemvecError {}

/** The operating system refused a read or write, or a download failed or was not allowed. */
export class SemvecIOError extends SemvecError {}

/** The native module failed to load, lacks a capability, or failed internally. */
export class NativeError extends SemvecError {}

const familyOf: Record<ErrorCode, new (code: ErrorCode, message: string, options?: { cause?: unknown }) => SemvecError> = {
  ERR_INVALID_ARGUMENT: ValidationError,
  ERR_DIMENSION_MISMATCH: ValidationError,
  ERR_DUPLICATE_ID: ValidationError,
  ERR_NOT_FOUND: NotFoundError,
  ERR_NOT_TRAINED: ValidationError,
  ERR_CLOSED: ValidationError,
  ERR_EMBEDDER_MISMATCH: ValidationError,
  ERR_READ_ONLY: ValidationError,
  ERR_CORRUPT_FILE: FileFormatError,
  ERR_UNSUPPORTED_VERSION: FileFormatError,
  ERR_WRONG_INDEX_KIND: FileFormatError,
  ERR_IO: SemvecIOError,
  ERR_LOCKED: SemvecIOError,
  ERR_TIMEOUT: SemvecIOError,
  ERR_UNAVAILABLE: SemvecIOError,
  ERR_STALE_EPOCH: SemvecIOError,
  ERR_DOWNLOAD: SemvecIOError,
  ERR_OFFLINE: SemvecIOError,
  ERR_UNSUPPORTED: NativeError,
  ERR_NATIVE_LOAD: NativeError,
  ERR_OUT_OF_MEMORY: NativeError,
  ERR_INTERNAL: NativeError,
};

/** Builds the error of the right family for a code (unknown codes: internal). */
export function createError(code: string, message: string, options?: { cause?: unknown }): SemvecError {
  const known = Object.prototype.hasOwnProperty.call(familyOf, code);
  const c = (known ? code : ErrorCode.INTERNAL) as ErrorCode;
  return new familyOf[c](c, message, options);
}

/** The stable codes of {@link SemvecWarning}s. */
export const WarningCode = {
  /** A stored record could not be indexed (its embedding is damaged) and was left out of search. */
  SKIPPED_RECORD: 'SEMVEC_SKIPPED_RECORD',
  /** An index snapshot did not match its collection and was rebuilt from the database. */
  SNAPSHOT_REBUILT: 'SEMVEC_SNAPSHOT_REBUILT',
} as const;

export type WarningCode = (typeof WarningCode)[keyof typeof WarningCode];

/**
 * Something went wrong that semvec worked around without failing the call
 * (a damaged record skipped, a snapshot rebuilt). Delivered to an
 * `onWarning` callback where the API takes one, else emitted with
 * `process.emitWarning` (listen with `process.on('warning', ...)`).
 */
export class SemvecWarning extends Error {
  readonly code: WarningCode;

  constructor(code: WarningCode, message: string) {
    super(message);
    this.code = code;
  }

  override get name(): string {
    return 'SemvecWarning';
  }
}

/** Delivers a warning to `onWarning`, or emits it as a process warning. */
export function warn(warning: SemvecWarning, onWarning?: (w: SemvecWarning) => void): void {
  if (onWarning) onWarning(warning);
  else process.emitWarning(warning);
}

/**
 * Awaits a native promise and, on failure, gives the error the stack of the
 * call that started the work (native async errors otherwise have none).
 */
export async function withCallerStack<T>(promise: Promise<T>, caller: { stack?: string }): Promise<T> {
  try {
    return await promise;
  } catch (err) {
    if (err instanceof Error && caller.stack) {
      const frames = caller.stack.split('\n').slice(1).join('\n');
      err.stack = `${err.name}: ${err.message}\n${frames}`;
    }
    throw err;
  }
}
