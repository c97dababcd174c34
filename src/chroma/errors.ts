/**
 * The errors of the Chroma-compatible API, named as the `chromadb` client
 * names them so that `catch` blocks port unchanged, and still semvec
 * errors: each is a {@link SemvecError} with a stable `code`.
 *
 *   ChromaNotFoundError     ERR_NOT_FOUND         a collection that does not exist
 *   ChromaUniqueError       ERR_DUPLICATE_ID      a name or id that is taken
 *   ChromaValueError        ERR_INVALID_ARGUMENT, ERR_DIMENSION_MISMATCH, ERR_EMBEDDER_MISMATCH
 *   ChromaUnsupportedError  ERR_UNSUPPORTED       a Chroma feature semvec does not have (its `feature` names it)
 *
 * Other semvec errors (ERR_LOCKED, ERR_IO, ERR_CLOSED, ...) pass through as
 * they are.
 */
import { ErrorCode, NotFoundError, SemvecError, ValidationError } from '../errors.js';

export class ChromaNotFoundError extends NotFoundError {}

export class ChromaUniqueError extends ValidationError {}

export class ChromaValueError extends ValidationError {}

/** A Chroma feature semvec does not have: never a silent no-op. */
export class ChromaUnsupportedError extends SemvecError {
  /** The feature, as Chroma names it (`fork`, `search`, `tenant`, `hnsw.ef_search`, ...). */
  readonly feature: string;

  constructor(feature: string, message: string) {
    super(ErrorCode.UNSUPPORTED, message);
    this.feature = feature;
  }
}

/** Refuses a Chroma feature, naming it and saying what to do instead. */
export function unsupported(feature: string, instead: string): never {
  throw new ChromaUnsupportedError(feature, `${feature} is not supported by semvec; ${instead}`);
}

/** A bad argument, as Chroma's client reports it. */
export function invalid(message: string): never {
  throw new ChromaValueError(ErrorCode.INVALID_ARGUMENT, message);
}

const classOf: Partial<Record<string, new (code: ErrorCode, message: string, options?: { cause?: unknown }) => SemvecError>> = {
  [ErrorCode.NOT_FOUND]: ChromaNotFoundError,
  [ErrorCode.DUPLICATE_ID]: ChromaUniqueError,
  [ErrorCode.INVALID_ARGUMENT]: ChromaValueError,
  [ErrorCode.DIMENSION_MISMATCH]: ChromaValueError,
  [ErrorCode.EMBEDDER_MISMATCH]: ChromaValueError,
};

/** The Chroma-named error for a semvec error (same code, message and stack; the original as cause); others unchanged. */
export function toChromaError(err: unknown): unknown {
  if (!(err instanceof SemvecError) || err instanceof ChromaUnsupportedError) return err;
  const e: SemvecError = err;
  const Class = classOf[e.code];
  if (!Class || e.constructor === Class) return e;
  const out = new Class(e.code, e.message, { cause: e });
  if (e.stack) out.stack = e.stack.replace(/^[^:\n]*/, out.name);
  return out;
}

/** Runs fn, turning semvec errors into their Chroma-named classes. */
export async function chroma<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toChromaError(err);
  }
}
