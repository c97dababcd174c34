/**
 * The HTTP server of `semvec serve`: Chroma's API v2 (routes.ts) and the
 * page (page.ts) on Fastify, over one open semvec client.
 *
 * - Bodies: JSON only, at most `bodyLimit` bytes (413 beyond), validated by
 *   each route's schema without coercion (422 for unknown fields, wrong
 *   types, too many records; 400 for malformed JSON and bad values).
 * - Auth: with `authToken`, every route needs it (auth.ts); a request
 *   without it gets 401 and nothing else.
 * - CORS: off unless `corsOrigins` lists origins (or '*').
 * - The event loop's delay is measured all along and reported at
 *   `/semvec/stats` (for benchmarks and monitoring).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

import Fastify, { type FastifyInstance } from 'fastify';

import type { CollectionBackend } from '../chroma/backend.js';
import type { RerankModel } from '../collection/types.js';
import { presentedToken, tokenChecker } from './auth.js';
import { ServedCollections } from './collections.js';
import { httpError, notFound, toHttpError } from './http-errors.js';
import { PAGE_ROUTES, registerPage } from './page.js';
import { Answer, registerRoutes } from './routes.js';

/** Default request body limit: 64 MiB (a full batch of 4,096 384-d vectors in JSON takes about 15 MiB). */
export const DEFAULT_BODY_LIMIT = 64 * 1024 * 1024;

export interface ServerOptions {
  /** The open semvec client to serve (the caller closes it): a Client, or semvec/distributed's client. */
  client: CollectionBackend;
  /** Every request must present this token (x-chroma-token or Authorization: Bearer). */
  authToken?: string;
  /** Origins allowed to call from a browser ('*' for any); none by default. */
  corsOrigins?: readonly string[];
  /** Largest request body in bytes. */
  bodyLimit?: number;
  /** Refuse every write (403). */
  readOnly?: boolean;
  /** Log each request (pino, to stdout). */
  logRequests?: boolean;
  /** The cross-encoder of queries that ask for `rerank` (the caller closes it); without one, such a query is a 400. */
  reranker?: RerankModel;
}

export interface SemvecServer {
  app: FastifyInstance;
  /** Stops accepting connections, finishes the requests in flight, releases the models (the client stays open). */
  close(): Promise<void>;
}

function percentiles(h: IntervalHistogram) {
  const ms = (ns: number) => Math.round(ns / 1e3) / 1e3;
  return { p50_ms: ms(h.percentile(50)), p99_ms: ms(h.percentile(99)), max_ms: ms(h.max), samples: h.count };
}

export async function createServer(options: ServerOptions): Promise<SemvecServer> {
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    logger: options.logRequests ?? false,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    ajv: { customOptions: { allowUnionTypes: true, removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
  });
  const served = new ServedCollections(options.client);
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();

  const origins = options.corsOrigins ?? [];
  const check = options.authToken === undefined ? undefined : tokenChecker(options.authToken);

  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin;
    const allowed = typeof origin === 'string' && (origins.includes('*') || origins.includes(origin));
    if (allowed) {
      reply.header('access-control-allow-origin', origins.includes('*') ? '*' : origin).header('vary', 'origin');
      if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
        return reply
          .code(204)
          .header('access-control-allow-methods', 'GET, POST, PUT, DELETE, PATCH')
          .header('access-control-allow-headers', 'content-type, authorization, x-chroma-token')
          .header('access-control-max-age', '600')
          .send();
      }
    }
    if (check && !check(presentedToken(req.headers))) {
      // Browsers opening the page are asked for the token (as the password).
      if (req.method === 'GET' && PAGE_ROUTES.includes(req.url.split('?')[0] as string)) reply.header('www-authenticate', 'Basic realm="semvec", charset="UTF-8"');
      return reply.code(401).send({ error: 'AuthError', message: 'Unauthorized' });
    }
    if (options.readOnly && req.routeOptions.config && (req.routeOptions.config as { write?: boolean }).write) {
      return reply.code(403).send(httpError(403, 'ForbiddenError', 'this server is read-only').body);
    }
  });

  app.setErrorHandler(async (err, _req, reply) => {
    const http = err instanceof Answer ? err.http : toHttpError(err);
    if (http.status >= 500 && http.status !== 501) app.log.error(err);
    return reply.code(http.status).send(http.body);
  });
  app.setNotFoundHandler(async (req, reply) => reply.code(404).send(notFound(`no route ${req.method} ${req.url.split('?')[0]}`).body));

  registerRoutes(app, served, { reranker: options.reranker });
  registerPage(app);
  app.get('/semvec/stats', async (req) => {
    const out = { event_loop_delay: percentiles(lag), memory_rss_mb: Math.round(process.memoryUsage.rss() / 2 ** 20) };
    if ((req.query as { reset?: string }).reset === '1') lag.reset();
    return out;
  });

  // Requests in flight per connection, for a shutdown that waits for them only.
  const requestsOn = new Map<Socket, number>();
  app.server.on('connection', (socket: Socket) => {
    requestsOn.set(socket, 0);
    socket.once('close', () => requestsOn.delete(socket));
  });
  app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    requestsOn.set(socket, (requestsOn.get(socket) ?? 0) + 1);
    res.once('close', () => {
      if (requestsOn.has(socket)) requestsOn.set(socket, (requestsOn.get(socket) ?? 1) - 1);
    });
  });

  await app.ready();
  return {
    app,
    close: async () => {
      // Requests in flight finish; connections with none (kept alive, or
      // opened and never used) are closed as soon as they have none, so a
      // client holding one cannot hold the shutdown.
      const reap = setInterval(() => {
        for (const [socket, n] of requestsOn) if (n === 0) socket.destroy();
      }, 50);
      try {
        await app.close();
      } finally {
        clearInterval(reap);
      }
      lag.disable();
      await served.close();
    },
  };
}
