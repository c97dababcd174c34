/**
 * The distributed deployment's commands (semvec/distributed):
 *
 * - `semvec shards init|show|move`: the schema and the shard map in PostgreSQL;
 * - `semvec node`: a node holding shards, for routers;
 * - `semvec router`: Chroma's HTTP API v2 (as `semvec serve`) over the
 *   deployment: writes to PostgreSQL, queries fanned out to the nodes.
 *
 * PostgreSQL is named by --pg (URLs, comma-separated: the primary and its
 * standbys) or SEMVEC_PG; the node's name by --name or SEMVEC_NODE, its
 * directory by --data or SEMVEC_DATA. SIGTERM or SIGINT stop a node or a
 * router cleanly (a node snapshots its shards).
 */
import type { Command } from 'commander';

import { CliError, usage } from '../output.js';
import { nonEmpty, nonNegativeInt, port, positiveInt } from '../options.js';

function pgUrls(opts: Record<string, unknown>): string[] {
  const raw = (opts.pg as string | undefined) ?? process.env.SEMVEC_PG;
  if (!raw) throw usage('name PostgreSQL with --pg postgres://user@host:port/db (several URLs, comma-separated: the primary and its standbys) or SEMVEC_PG');
  const urls = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (urls.some((u) => !/^postgres(ql)?:\/\//.test(u))) throw usage(`--pg: expected postgres:// URLs separated by commas; received ${JSON.stringify(raw)}`);
  return urls;
}

/** Resolves when SIGTERM or SIGINT arrives; returns the signal. */
function untilSignal(): { wait: Promise<string>; dispose: () => void } {
  let resolve!: (s: string) => void;
  const wait = new Promise<string>((r) => (resolve = r));
  const on = (s: string) => resolve(s);
  process.on('SIGTERM', on);
  process.on('SIGINT', on);
  return { wait, dispose: () => (process.off('SIGTERM', on), process.off('SIGINT', on)) };
}

function listenError(err: unknown, host: string, p: number): never {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EADDRINUSE') throw new CliError(`port ${p} on ${host} is in use; choose another with --port`);
  if (e.code === 'EACCES') throw new CliError(`not allowed to listen on ${host}:${p}; choose a port above 1023 with --port`);
  if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') throw new CliError(`cannot listen on ${host}: no such local address`);
  throw err;
}

async function runNode(opts: Record<string, unknown>): Promise<void> {
  const urls = pgUrls(opts);
  const name = (opts.name as string | undefined) ?? process.env.SEMVEC_NODE;
  const data = (opts.data as string | undefined) ?? process.env.SEMVEC_DATA;
  if (!name) throw usage('name the node with --name (or SEMVEC_NODE), as in the shard map');
  if (!data) throw usage('give the node a data directory with --data (or SEMVEC_DATA)');
  const signals = untilSignal();
  const { startNodeServer } = await import('../../distributed/node-server.js');
  const log = (m: string) => process.stdout.write(`semvec node ${name}: ${m}\n`);
  try {
    const server = await startNodeServer({
      urls,
      node: name,
      dataDir: data,
      host: opts.host as string,
      port: opts.port as number,
      advertise: opts.advertise as string | undefined,
      connectTimeoutMs: (opts.connectTimeout as number) * 1000,
      pollMs: opts.pollMs as number,
      log,
    }).catch((err) => listenError(err, opts.host as string, opts.port as number));
    const status = server.node.status();
    log(`listening on ${server.url}; ${status.shards.length} shard${status.shards.length === 1 ? '' : 's'} ready (${status.shards.reduce((n, s) => n + s.records, 0)} records)`);
    const signal = await signals.wait;
    log(`${signal}: snapshotting, stopping`);
    await server.close();
    log('stopped');
  } finally {
    signals.dispose();
  }
}

async function runRouter(opts: Record<string, unknown>): Promise<void> {
  const urls = pgUrls(opts);
  const authToken = (opts.authToken as string | undefined) ?? (process.env.SEMVEC_AUTH_TOKEN || undefined);
  if (authToken !== undefined && authToken.length < 8) throw usage('--auth-token: use at least 8 characters');
  const signals = untilSignal();
  const { DistributedClient } = await import('../../distributed/client.js');
  const { createServer } = await import('../../server/app.js');
  const log = (m: string) => process.stdout.write(`semvec router: ${m}\n`);
  try {
    const client = await DistributedClient.connect({ urls, waitMs: opts.waitMs as number, connectTimeoutMs: (opts.connectTimeout as number) * 1000, log });
    let server;
    try {
      server = await createServer({ client, authToken });
      await server.app.listen({ host: opts.host as string, port: opts.port as number });
    } catch (err) {
      await server?.close();
      await client.close();
      listenError(err, opts.host as string, opts.port as number);
    }
    const address = server.app.server.address();
    const p = typeof address === 'object' && address ? address.port : opts.port;
    log(`listening on http://${opts.host as string}:${p as number} (${client.shardCount} shards${authToken ? ', token required' : ''})`);
    const signal = await signals.wait;
    log(`${signal}: finishing requests in flight`);
    await server.close();
    await client.close();
    log('stopped');
  } finally {
    signals.dispose();
  }
}

async function runShards(action: 'init' | 'show' | 'move', opts: Record<string, unknown>): Promise<void> {
  const urls = pgUrls(opts);
  const admin = await import('../../distributed/admin.js');
  const out = (s: string) => process.stdout.write(`${s}\n`);
  if (action === 'init') {
    const nodes = (opts.nodes as string).split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    const map = await admin.initDeployment(urls, { nodes, shards: opts.shards as number | undefined, replicas: opts.replicas as number | undefined, replace: opts.replace === true });
    out(`semvec shards: ${map.shards} shards on ${nodes.length} node${nodes.length === 1 ? '' : 's'}, ${map.assignments[0]?.replicas.length} replica${map.assignments[0]?.replicas.length === 1 ? '' : 's'} each`);
    return;
  }
  if (action === 'move') {
    const epoch = await admin.moveShardAt(urls, opts.shard as number, opts.from as string, opts.to as string, { timeoutMs: (opts.timeout as number) * 1000 });
    out(`semvec shards: shard ${opts.shard as number} moved from ${opts.from as string} to ${opts.to as string} (epoch ${epoch})`);
    return;
  }
  const view = await admin.describeDeployment(urls);
  if (opts.json) {
    out(JSON.stringify(view, null, 2));
    return;
  }
  out(`${view.shards} shards`);
  for (const a of view.map.assignments) out(`shard ${a.shard}\tepoch ${a.epoch}\t${a.replicas.join(',')}${a.joining ? `\tjoining ${a.joining}` : ''}\thead ${view.heads[a.shard] ?? 0}`);
  for (const n of view.nodes) out(`node ${n.node}\t${n.url}\tseen ${n.age.toFixed(1)} s ago`);
}

/** Registers `semvec shards`, `semvec node` and `semvec router`. */
export function register(program: Command): void {
  const pgHelp = 'PostgreSQL URLs, comma-separated: the primary and its standbys (default: SEMVEC_PG)';
  const shards = program.command('shards').description('Set up and inspect a distributed deployment on PostgreSQL: its virtual shards and the shard map.');
  shards
    .command('init')
    .description('Create the schema in PostgreSQL and a shard map: each shard on --replicas nodes, round robin.')
    .option('--pg <urls>', pgHelp, nonEmpty)
    .requiredOption('--nodes <names>', 'the nodes, comma-separated (names as given to semvec node --name)', nonEmpty)
    .option('--shards <n>', 'virtual shards, fixed for the life of the deployment (default 64)', positiveInt)
    .option('--replicas <n>', 'replicas per shard (default 2)', positiveInt)
    .option('--replace', 'replace an existing map (every epoch grows)')
    .action(async (opts: Record<string, unknown>) => runShards('init', opts));
  shards
    .command('show')
    .description('Print the shard map (epochs, replicas, log heads) and the nodes with their last heartbeat.')
    .option('--pg <urls>', pgHelp, nonEmpty)
    .option('--json', 'print JSON')
    .action(async (opts: Record<string, unknown>) => runShards('show', opts));
  shards
    .command('move')
    .description('Move a shard to another node without a pause: it loads and catches up while the old node serves, then the epoch flips once.')
    .option('--pg <urls>', pgHelp, nonEmpty)
    .requiredOption('--shard <n>', 'the shard', nonNegativeInt)
    .requiredOption('--from <node>', 'the node giving it up', nonEmpty)
    .requiredOption('--to <node>', 'the node taking it', nonEmpty)
    .option('--timeout <seconds>', 'give up if the new node has not caught up by then', positiveInt, 120)
    .action(async (opts: Record<string, unknown>) => runShards('move', opts));

  program
    .command('node')
    .description('Run a node of a distributed deployment: it holds the shards the map gives it, kept up to date from PostgreSQL, and answers routers.')
    .option('--pg <urls>', pgHelp, nonEmpty)
    .option('--name <name>', 'this node in the shard map (default: SEMVEC_NODE)', nonEmpty)
    .option('--data <dir>', 'directory for shard snapshots (default: SEMVEC_DATA)', nonEmpty)
    .option('--host <host>', 'address to listen on', nonEmpty, '127.0.0.1')
    .option('--port <port>', 'port (0: any free port)', port, 0)
    .option('--advertise <url>', 'the URL routers reach this node at (default: http://host:port)', nonEmpty)
    .option('--connect-timeout <seconds>', 'how long to retry PostgreSQL at start (0: forever)', nonNegativeInt, 60)
    .option('--poll-ms <ms>', 'poll the change log this often when no notification comes', positiveInt, 1000)
    .addHelpText('after', '\nExample:\n  $ semvec node --pg postgres://semvec@db1/semvec --name n1 --data ./n1 --port 7001')
    .action(async (opts: Record<string, unknown>) => runNode(opts));

  program
    .command('router')
    .description("Serve a distributed deployment over Chroma's HTTP API v2: writes go to PostgreSQL, queries fan out to the nodes and merge.")
    .option('--pg <urls>', pgHelp, nonEmpty)
    .option('--host <host>', 'address to listen on', nonEmpty, '127.0.0.1')
    .option('--port <port>', 'port (0: any free port)', port, 8000)
    .option('--auth-token <token>', 'require this token on every request (default: SEMVEC_AUTH_TOKEN)', nonEmpty)
    .option('--wait-ms <ms>', 'how long nodes may wait to reflect a write before a query fails', positiveInt, 10_000)
    .option('--connect-timeout <seconds>', 'how long to retry PostgreSQL at start (0: forever)', nonNegativeInt, 60)
    .addHelpText('after', "\nExample:\n  $ semvec router --pg postgres://semvec@db1/semvec --port 8000\n  then new ChromaClient({ host: 'localhost', port: 8000 }) (the chromadb package)")
    .action(async (opts: Record<string, unknown>) => runRouter(opts));
}
