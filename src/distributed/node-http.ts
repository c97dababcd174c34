/**
 * A node's HTTP API, for routers: `POST /query` (protocol.ts), `GET
 * /status` (the shards it holds, their state and position). Errors are
 * `{ code, message }` with semvec's codes: 409 for a stale epoch (with the
 * node's `epochs`), 503 while a shard loads or PostgreSQL is away, 504 when
 * a shard did not reach the sequence number asked for in time, 400 for bad
 * requests.
 */
import Fastify, { type FastifyInstance } from 'fastify';

import { ErrorCode } from '../errors.js';
import type { ShardNode } from './node.js';
import { answerQuery } from './node-query.js';
import type { NodeError, NodeQuery } from './protocol.js';

/** Largest query body (64 MiB, as semvec serve). */
const BODY_LIMIT = 64 * 1024 * 1024;

const STATUS: Record<string, number> = {
  [ErrorCode.STALE_EPOCH]: 409,
  [ErrorCode.UNAVAILABLE]: 503,
  [ErrorCode.TIMEOUT]: 504,
  [ErrorCode.INVALID_ARGUMENT]: 400,
  [ErrorCode.DIMENSION_MISMATCH]: 400,
};

export function nodeApp(node: ShardNode): FastifyInstance {
  const app = Fastify({ bodyLimit: BODY_LIMIT, logger: false, forceCloseConnections: true });
  app.setErrorHandler(async (err, _req, reply) => {
    const e = err as Error & { code?: string; epochs?: Record<number, number>; statusCode?: number };
    const code = typeof e.code === 'string' && e.code.startsWith('ERR_') ? e.code : ErrorCode.INVALID_ARGUMENT;
    const status = STATUS[code] ?? (e.statusCode && e.statusCode < 500 ? e.statusCode : 500);
    const body: NodeError = { code, message: e.message, ...(e.epochs ? { epochs: e.epochs } : {}) };
    return reply.code(status).send(body);
  });
  app.get('/status', async () => node.status());
  app.post('/query', async (req) => answerQuery(node, req.body as NodeQuery));
  return app;
}
