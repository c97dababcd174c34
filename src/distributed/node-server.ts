/**
 * A semvec node as a server (what `semvec node` runs): waits for
 * PostgreSQL (retrying with backoff; a clear error after `connectTimeoutMs`),
 * listens for routers on HTTP (node-http.ts), then registers and loads its
 * shards (node.ts). `close` stops it cleanly: no new requests, shards
 * snapshotted, connections closed.
 */
import type { FastifyInstance } from 'fastify';

import { createError, ErrorCode } from '../errors.js';
import { checkInteger } from '../validate.js';
import { ShardNode } from './node.js';
import { nodeApp } from './node-http.js';
import { Pg, waitForPostgres } from './pg.js';
import { NODE_NAME } from './shard-map.js';

export interface NodeServerOptions {
  /** PostgreSQL URLs: the primary and its standbys. */
  urls: readonly string[];
  /** This node's name in the shard map. */
  node: string;
  /** Where shard snapshots are kept. */
  dataDir: string;
  /** Address and port to listen on (default 127.0.0.1, any free port). */
  host?: string;
  port?: number;
  /** The URL routers use to reach this node (default http://host:port). */
  advertise?: string;
  /** How long to wait for PostgreSQL at start, in ms (0: forever); default 60,000. */
  connectTimeoutMs?: number;
  pollMs?: number;
  heartbeatMs?: number;
  snapshotEvery?: number;
  log?: (message: string) => void;
}

export interface NodeServer {
  node: ShardNode;
  app: FastifyInstance;
  /** The URL routers reach the node at. */
  url: string;
  close(): Promise<void>;
}

export async function startNodeServer(options: NodeServerOptions): Promise<NodeServer> {
  if (options === null || typeof options !== 'object') throw createError(ErrorCode.INVALID_ARGUMENT, 'startNodeServer expects { urls, node, dataDir }');
  if (typeof options.node !== 'string' || !NODE_NAME.test(options.node)) {
    throw createError(ErrorCode.INVALID_ARGUMENT, `node must be a node name (1-64 letters, digits, '.', '_', '-'); received ${JSON.stringify(options.node)}`);
  }
  if (typeof options.dataDir !== 'string' || options.dataDir.length === 0) throw createError(ErrorCode.INVALID_ARGUMENT, `dataDir must be a directory path; received ${JSON.stringify(options.dataDir)}`);
  if (options.port !== undefined) checkInteger(options.port, 'port', 0, 65535);
  const log = options.log ?? (() => undefined);
  const db = new Pg({ urls: options.urls, max: 4, application: `semvec node ${options.node}` });
  try {
    await waitForPostgres(db, { timeoutMs: options.connectTimeoutMs ?? 60_000, onRetry: (m, ms) => log(`${m}; retrying in ${Math.round(ms)} ms`) });
  } catch (err) {
    await db.close();
    throw err;
  }
  const node = new ShardNode({ db, node: options.node, dataDir: options.dataDir, pollMs: options.pollMs, heartbeatMs: options.heartbeatMs, snapshotEvery: options.snapshotEvery, log });
  const app = nodeApp(node);
  const host = options.host ?? '127.0.0.1';
  try {
    await app.listen({ host, port: options.port ?? 0 });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    const url = options.advertise ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    await node.start(url);
    let closing: Promise<void> | undefined;
    return {
      node,
      app,
      url,
      close: () =>
        (closing ??= (async () => {
          await app.close();
          await node.stop();
          await db.close();
        })()),
    };
  } catch (err) {
    await app.close().catch(() => undefined);
    await node.stop().catch(() => undefined);
    await db.close();
    throw err;
  }
}
