/**
 * A throwaway PostgreSQL server for tests: Debian's PostgreSQL binaries,
 * a cluster made by initdb in a temporary directory, started by pg_ctl on
 * a free loopback port with trust authentication, and removed afterwards.
 * The server refuses to run as root, so as root the cluster is made and
 * run as the `postgres` user (runuser).
 *
 * `postgresBin()` is undefined when PostgreSQL is not installed: tests
 * then skip with `POSTGRES_MISSING` as their reason.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why PostgreSQL tests are skipped. */
export const POSTGRES_MISSING = 'PostgreSQL is not installed (apt-get install postgresql; .ci/run does it): the distributed tests need initdb and pg_ctl';

/** The directory of initdb, pg_ctl and postgres, if PostgreSQL is installed. */
export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  const which = spawnSync('sh', ['-c', 'command -v pg_ctl'], { encoding: 'utf8' });
  const found = which.stdout.trim();
  if (which.status === 0 && found) {
    const dir = found.replace(/\/pg_ctl$/, '');
    if (existsSync(join(dir, 'initdb'))) return dir;
  }
  return undefined;
}

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const asRoot = process.getuid?.() === 0;

function run(bin: string, tool: string, args: string[]): string {
  const cmd = asRoot ? 'runuser' : join(bin, tool);
  const argv = asRoot ? ['-u', 'postgres', '--', join(bin, tool), ...args] : args;
  return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd: tmpdir() });
}

export class TestPostgres {
  readonly dir: string;
  readonly data: string;
  readonly port: number;
  readonly #bin: string;
  running = false;

  private constructor(bin: string, dir: string, port: number) {
    this.#bin = bin;
    this.dir = dir;
    this.data = join(dir, 'data');
    this.port = port;
  }

  static async #make(bin: string): Promise<TestPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'semvec-pg-'));
    chmodSync(dir, 0o755);
    if (asRoot) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      chownSync(dir, uid, gid);
    }
    return new TestPostgres(bin, dir, await freePort());
  }

  /** A new cluster, started. */
  static async start(bin: string): Promise<TestPostgres> {
    const pg = await TestPostgres.#make(bin);
    run(bin, 'initdb', ['-D', pg.data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
    pg.start();
    return pg;
  }

  /**
   * A streaming standby of this (running) server, started: a base backup
   * with the replication settings written (-R), on a port of its own.
   */
  async standby(): Promise<TestPostgres> {
    const standby = await TestPostgres.#make(this.#bin);
    run(this.#bin, 'pg_basebackup', ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', '-D', standby.data, '-R', '-X', 'stream', '--no-sync']);
    standby.start();
    return standby;
  }

  /** Promotes a standby to a primary (waits until it accepts writes). */
  promote(): void {
    run(this.#bin, 'pg_ctl', ['-D', this.data, '-w', '-t', '120', 'promote']);
  }

  /** Kills the server's postmaster with SIGKILL, as a crash of the machine's database would. */
  kill(): void {
    const pid = Number(readFileSync(join(this.data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    this.running = false;
  }

  /** The connection URL of the postgres database. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Starts the server (waits until it accepts connections). */
  start(): void {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 -c shared_buffers=32MB`;
    run(this.#bin, 'pg_ctl', ['-D', this.data, '-l', join(this.dir, 'log'), '-o', options, '-w', '-t', '120', 'start']);
    this.running = true;
  }

  /** Stops the server: 'fast' (clean) or 'immediate' (as a crash). */
  stop(mode: 'fast' | 'immediate' = 'fast'): void {
    if (!this.running) return;
    run(this.#bin, 'pg_ctl', ['-D', this.data, '-m', mode, '-w', '-t', '120', 'stop']);
    this.running = false;
  }

  /** Stops the server and removes its directory. */
  destroy(): void {
    try {
      this.stop('immediate');
    } catch {
      // already down
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
