/**
 * `semvec serve --db <dir>`: Chroma's HTTP API v2 and a page to look at the
 * collections, over one collection directory (src/server/). Binds to the
 * loopback interface unless told otherwise. SIGTERM or SIGINT stop it
 * cleanly: no new connections, the requests in flight finish, the indexes
 * are checkpointed, exit 0. Every write is committed before it is answered,
 * so a SIGKILL loses no acknowledged write either.
 *
 * Opening the directory is the one place a read-only mode would change
 * (collections opened read-only by several processes); the server already
 * refuses writes in one place when told it is read-only.
 */
import { CliError, usage } from '../output.js';
import type { Command } from 'commander';
import { nonEmpty, originList, port, positiveInt } from '../options.js';

export interface ServeCommandOptions {
  db: string;
  host: string;
  port: number;
  /** From --auth-token, else SEMVEC_AUTH_TOKEN. */
  authToken?: string;
  corsOrigins: string[];
  /** Largest request body, in MiB. */
  bodyLimitMiB: number;
  logRequests: boolean;
  /** Serve beside the directory's writer: reads only, caught up every refreshMs. */
  readOnly: boolean;
  refreshMs: number;
  /** A cross-encoder (name, hub id or directory) for queries that ask for `rerank`. */
  reranker?: string;
}

const LOOPBACK = (host: string) => host === 'localhost' || host === '::1' || host.startsWith('127.');

export async function runServe(o: ServeCommandOptions): Promise<void> {
  if (o.authToken !== undefined && o.authToken.length < 8) throw usage('--auth-token: use at least 8 characters');
  // Signals are watched from the start: one that arrives while the server
  // is starting stops it as soon as it has started.
  let requested: string | undefined;
  let wake: (() => void) | undefined;
  const onSignal = (signal: string) => {
    requested ??= signal;
    wake?.();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await serve(o, () => requested, (fn) => (wake = fn));
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

async function serve(o: ServeCommandOptions, requested: () => string | undefined, onWake: (fn: () => void) => void): Promise<void> {
  const { Client } = await import('../../collection/client.js');
  const { createServer } = await import('../../server/app.js');
  let reranker: import('../../embedder/reranker.js').Reranker | undefined;
  if (o.reranker !== undefined) {
    const { Reranker } = await import('../../embedder/reranker.js');
    reranker = await Reranker.load(o.reranker);
  }
  const client = await Client.open(o.db, o.readOnly ? { readOnly: true, refreshMs: o.refreshMs } : {}).catch(async (err: unknown) => {
    await reranker?.close();
    throw err;
  });
  let server;
  try {
    server = await createServer({
      reranker,
      client,
      authToken: o.authToken,
      corsOrigins: o.corsOrigins,
      bodyLimit: Math.round(o.bodyLimitMiB * 2 ** 20),
      logRequests: o.logRequests,
    });
    await server.app.listen({ host: o.host, port: o.port });
  } catch (err) {
    await server?.close();
    await client.close();
    await reranker?.close();
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') throw new CliError(`port ${o.port} on ${o.host} is in use; choose another with --port`);
    if (e.code === 'EACCES') throw new CliError(`not allowed to listen on ${o.host}:${o.port}; choose a port above 1023 with --port`);
    if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') throw new CliError(`cannot listen on ${o.host}: no such local address`);
    throw err;
  }
  const address = server.app.server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  const shown = o.host.includes(':') ? `[${o.host}]` : o.host;
  const count = await client.countCollections();
  process.stdout.write(`semvec serve: listening on http://${shown}:${port} (${o.db}: ${count} collection${count === 1 ? '' : 's'}${o.readOnly ? ', read-only' : ''}${o.authToken ? ', token required' : ''})\n`);
  if (!LOOPBACK(o.host) && !o.authToken) {
    process.stderr.write(`semvec serve: warning: listening on ${o.host} without --auth-token: anyone who can reach this port can read and change the data\n`);
  }

  await new Promise<void>((resolve) => {
    onWake(resolve);
    if (requested()) resolve();
  });
  process.stdout.write(`semvec serve: ${requested()}: finishing requests in flight${o.readOnly ? '' : ', checkpointing'}\n`);
  await server.close();
  await client.close();
  await reranker?.close();
  process.stdout.write('semvec serve: stopped\n');
}

/** Registers `semvec serve`. */
export function register(program: Command): void {
  program
    .command('serve')
    .description("Serve a collection directory over Chroma's HTTP API v2 (for chromadb clients in any language), with a page to look at it.")
    .requiredOption('--db <dir>', 'database directory (created if needed)', nonEmpty)
    .option('--host <host>', 'address to listen on (loopback by default; anything else wants --auth-token)', nonEmpty, '127.0.0.1')
    .option('--port <port>', 'port (0: any free port)', port, 8000)
    .option('--auth-token <token>', 'require this token on every request (x-chroma-token or Authorization: Bearer); default: SEMVEC_AUTH_TOKEN', nonEmpty)
    .option('--cors-origin <origins>', "browser origins allowed to call the API, comma-separated ('*': any); CORS is off by default", originList)
    .option('--body-limit <MiB>', 'largest request body, in MiB', positiveInt, 64)
    .option('--log-requests', 'log every request (JSON lines on stdout)')
    .option('--read-only', "serve reads only, beside the directory's writing process (any number of read-only servers may share a directory); writes answer 403")
    .option('--refresh-ms <ms>', 'with --read-only: the most a read lags behind the writer, in ms', positiveInt, 1000)
    .option('--reranker <model>', 'cross-encoder (name, hub id or directory) for queries that send "rerank": { "candidates": N }', nonEmpty)
    .addHelpText(
      'after',
      `
Example:
  $ semvec serve --db ./vectors --port 8000
  then, from JavaScript: new ChromaClient({ host: 'localhost', port: 8000 }) (the chromadb package),
  or open http://localhost:8000/ in a browser.`,
    )
    .action(async (opts: Record<string, unknown>) => {
      await runServe({
        db: opts.db as string,
        host: opts.host as string,
        port: opts.port as number,
        authToken: (opts.authToken as string | undefined) ?? (process.env.SEMVEC_AUTH_TOKEN || undefined),
        corsOrigins: (opts.corsOrigin as string[] | undefined) ?? [],
        bodyLimitMiB: opts.bodyLimit as number,
        logRequests: opts.logRequests === true,
        readOnly: opts.readOnly === true,
        refreshMs: opts.refreshMs as number,
        reranker: opts.reranker as string | undefined,
      });
    });
}
