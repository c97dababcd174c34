/**
 * A distributed deployment for tests, in this process: a throwaway
 * PostgreSQL (postgres.ts), the schema and a round-robin shard map, semvec
 * nodes (each with its HTTP server on a free loopback port and a data
 * directory of its own) and clients with their routers. Everything is
 * stopped by `close`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DistributedClient, type DistributedClientOptions } from '../../src/distributed/client.js';
import { initDeployment } from '../../src/distributed/admin.js';
import { startNodeServer, type NodeServer } from '../../src/distributed/node-server.js';
import { TestPostgres } from './postgres.js';

export interface TestClusterOptions {
  shards: number;
  nodes: string[];
  replicas?: number;
  pollMs?: number;
}

export class TestCluster {
  readonly pg: TestPostgres;
  readonly dir: string;
  readonly options: TestClusterOptions;
  readonly nodes = new Map<string, NodeServer>();
  readonly clients: DistributedClient[] = [];
  readonly logs: string[] = [];

  private constructor(pg: TestPostgres, options: TestClusterOptions) {
    this.pg = pg;
    this.options = options;
    this.dir = mkdtempSync(join(tmpdir(), 'semvec-cluster-'));
  }

  static async start(bin: string, options: TestClusterOptions): Promise<TestCluster> {
    const pg = await TestPostgres.start(bin);
    const cluster = new TestCluster(pg, options);
    try {
      await initDeployment(pg.url, { shards: options.shards, nodes: options.nodes, replicas: options.replicas });
      await Promise.all(options.nodes.map((n) => cluster.startNode(n)));
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  dataDir(node: string): string {
    return join(this.dir, node);
  }

  /** Starts a node (resolves once its shards are loaded and caught up). */
  async startNode(name: string): Promise<NodeServer> {
    const server = await startNodeServer({
      urls: [this.pg.url],
      node: name,
      dataDir: this.dataDir(name),
      pollMs: this.options.pollMs ?? 200,
      heartbeatMs: 200,
      log: (m) => this.logs.push(`${name}: ${m}`),
    });
    this.nodes.set(name, server);
    return server;
  }

  /** Stops a node cleanly (it snapshots its shards). */
  async stopNode(name: string): Promise<void> {
    const server = this.nodes.get(name);
    this.nodes.delete(name);
    await server?.close();
  }

  async client(options: Partial<DistributedClientOptions> = {}): Promise<DistributedClient> {
    const client = await DistributedClient.connect({ urls: [this.pg.url], refreshMs: 200, liveSeconds: 2, ...options });
    this.clients.push(client);
    return client;
  }

  async close(): Promise<void> {
    for (const c of this.clients.splice(0)) await c.close().catch(() => undefined);
    for (const name of [...this.nodes.keys()]) await this.stopNode(name).catch(() => undefined);
    this.pg.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
