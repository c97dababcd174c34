/**
 * Errors as Chroma's server answers them: a status code and
 * `{ "error": <name>, "message": <text> }`, plus semvec's error code
 * (`"code": "ERR_INVALID_ARGUMENT"`, ...) when the error is a SemvecError
 * (Chroma's clients read error and message and ignore the rest).
 *
 *   400 InvalidArgumentError   a bad value: NaN or infinite numbers, a wrong dimension, a bad filter, malformed JSON
 *   401 AuthError              no token, or a wrong one (the body says nothing more)
 *   404 NotFoundError          no such collection, tenant, database or route
 *   409 UniqueConstraintError  a name or record id that is taken
 *   403 ForbiddenError         a write to a server started with --read-only
 *   413 PayloadTooLargeError   a body over the limit
 *   422 UnprocessableEntityError  a body that does not match the route's schema (unknown field, wrong type, too many records)
 *   501 UnimplementedError     a Chroma feature semvec does not have (the message names it)
 *   500 InternalError          anything else (the message says what failed)
 */
import { ErrorCode, SemvecError } from '../errors.js';
import { ChromaUnsupportedError } from '../chroma/errors.js';

export interface HttpError {
  status: number;
  body: { error: string; message: string; code?: string };
}

export const httpError = (status: number, error: string, message: string): HttpError => ({ status, body: { error, message } });

export const notFound = (message: string) => httpError(404, 'NotFoundError', message);
export const unimplemented = (message: string) => httpError(501, 'UnimplementedError', message);

const BY_CODE: Partial<Record<string, [number, string]>> = {
  [ErrorCode.INVALID_ARGUMENT]: [400, 'InvalidArgumentError'],
  [ErrorCode.DIMENSION_MISMATCH]: [400, 'InvalidArgumentError'],
  [ErrorCode.EMBEDDER_MISMATCH]: [400, 'InvalidArgumentError'],
  [ErrorCode.NOT_FOUND]: [404, 'NotFoundError'],
  [ErrorCode.DUPLICATE_ID]: [409, 'UniqueConstraintError'],
  [ErrorCode.READ_ONLY]: [403, 'ForbiddenError'],
  [ErrorCode.UNSUPPORTED]: [501, 'UnimplementedError'],
};

const withCode = (http: HttpError, code: string): HttpError => ({ status: http.status, body: { ...http.body, code } });

/** Fastify's own errors that are the client's fault. */
interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  validation?: unknown;
  message: string;
}

/** The HTTP answer for an error thrown while serving a request. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof ChromaUnsupportedError) return withCode(unimplemented(err.message), err.code);
  if (err instanceof SemvecError) {
    const mapped = BY_CODE[err.code];
    if (mapped) return withCode(httpError(mapped[0], mapped[1], err.message), err.code);
    return withCode(httpError(500, 'InternalError', `${err.code}: ${err.message}`), err.code);
  }
  const e = err as FastifyLikeError;
  if (e && e.validation) return httpError(422, 'UnprocessableEntityError', e.message);
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return httpError(413, 'PayloadTooLargeError', e.message);
  if (e?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return httpError(415, 'UnsupportedMediaTypeError', e.message);
  if (e && typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return httpError(400, 'InvalidArgumentError', e.message);
  }
  return httpError(500, 'InternalError', e instanceof Error ? e.message : String(err));
}
