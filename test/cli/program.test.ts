/**
 * The `semvec` program run in this process (main() of src/cli/program.ts,
 * with stdout and stderr captured): every bad usage is exit code 2 with one
 * line on stderr, every other failure exit code 1. cli.test.ts runs the real
 * process.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { main } from '../../src/cli/program.js';

const work = mkdtempSync(join(tmpdir(), 'semvec-program-'));

beforeAll(() => {
  mkdirSync(join(work, 'docs'));
  writeFileSync(join(work, 'docs', 'a.txt'), 'Transformers use attention.\n');
  writeFileSync(join(work, 'pairs.jsonl'), `${JSON.stringify({ a: 'a cat', b: 'a kitten', label: 1 })}\n`);
  writeFileSync(join(work, 'lines.txt'), ['cats', 'dogs', 'stocks', 'shares', 'python', 'javascript'].join('\n'));
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs main() in `work`, offline, capturing what it writes. */
async function semvec(...args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const capture = (append: (s: string) => void) => (chunk: unknown) => {
    append(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString());
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture((s) => (stdout += s)));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture((s) => (stderr += s)));
  vi.stubEnv('SEMVEC_OFFLINE', '1');
  vi.stubEnv('SEMVEC_CACHE', join(work, 'cache'));
  const cwd = process.cwd();
  process.chdir(work);
  try {
    const status = await main([process.execPath, 'semvec', ...args]);
    return { status, stdout, stderr };
  } finally {
    process.chdir(cwd);
    out.mockRestore();
    err.mockRestore();
    vi.unstubAllEnvs();
  }
}

describe('semvec exit codes', () => {
  it('bad usage exits 2 and other failures exit 1, each with one line on stderr and no stack trace', async () => {
    const usageErrors: [string[], RegExp][] = [
      [[], /^semvec: missing command: index, query, bench, eval, cluster, serve, shards, node, router or doctor \(see 'semvec --help'\)$/],
      [['--verbose', '--no-color'], /^semvec: missing command: /],
      [['frobnicate'], /^semvec: unknown command 'frobnicate' \(see 'semvec --help'\)$/],
      [['qeury', 'hello'], /unknown command 'qeury'.*Did you mean query\?/],
      [['help', 'frobnicate'], /^semvec: unknown command 'frobnicate' \(see 'semvec --help'\)$/],
      [['--frobnicate'], /^semvec: unknown option '--frobnicate' \(see 'semvec --help'\)$/],
      [['query', 'hello', '--db', 'db', '--frobnicate'], /unknown option '--frobnicate' \(see 'semvec query --help'\)$/],
      [['query', 'hello'], /required option '--db <dir>' not specified \(see 'semvec query --help'\)$/],
      [['query', 'index'], /required option '--db <dir>' not specified \(see 'semvec query --help'\)$/],
      [['query', 'hello', '--db'], /option '--db <dir>' argument missing/],
      [['eval'], /missing required argument 'file' \(see 'semvec eval --help'\)$/],
      [['bench', 'extra'], /too many arguments for 'bench'/],
      [['bench', '--n', 'abc'], /option '--n <n>' argument 'abc' is invalid\. expected a positive integer/],
      [['bench', '--nprobe', '1,x'], /--nprobe <list>' argument '1,x' is invalid/],
      [['bench', '--metric', 'hamming'], /--metric <metric>' argument 'hamming' is invalid\. Allowed choices are l2, ip, cosine/],
      [['bench', '--seed', '-1'], /--seed <seed>' argument '-1' is invalid/],
      [['bench', '--n', '100', '--nlist', '200'], /--nlist 200 is larger than --n 100/],
      [['eval', 'pairs.jsonl', '--threshold', 'high'], /--threshold <t>' argument 'high' is invalid\. expected a number/],
      [['cluster', 'lines.txt', '-k', '0'], /-k, --clusters <k>' argument '0' is invalid/],
      [['cluster', 'lines.txt', '-k', '99'], /-k 99 is more than the 6 texts in lines\.txt/],
      [['query', 'hello', '--db', 'db', '--where', '{"category": ml}'], /--where is not valid JSON/],
      [['query', 'hello', '--db', 'db', '--where', '{"year": {"$near": 3}}'], /--where.*\$near/],
      [['query', '  ', '--db', 'db'], /the query text is empty/],
      [['index', 'docs', '--db', ''], /option '--db <dir>' argument '' is invalid\. expected a non-empty value/],
      [['index', 'docs', '--db', 'db2', '--text-field', ''], /option '--text-field <name>' argument '' is invalid/],
      [['cluster', 'lines.txt', '--model', ''], /option '--model <model>' argument '' is invalid/],
      [['query', 'hello', '--db', 'db', '--collection', 'a/b'], /--collection: collection names must be .*received the string "a\/b"$/],
      [['index', 'docs', '--db', 'db2', '--collection', 'x'], /--collection: collection names must be/],
      [['serve'], /required option '--db <dir>' not specified \(see 'semvec serve --help'\)$/],
      [['serve', '--db', 'db', '--port', '70000'], /--port <port>' argument '70000' is invalid\. expected a port number/],
      [['serve', '--db', 'db', '--cors-origin', ','], /--cors-origin <origins>' argument ',' is invalid/],
      [['serve', '--db', 'db', '--auth-token', 'short'], /--auth-token: use at least 8 characters/],
      [['node', '--name', 'n1', '--data', 'd'], /name PostgreSQL with --pg postgres:\/\/.* or SEMVEC_PG$/],
      [['node', '--pg', 'mysql://db/x', '--name', 'n1', '--data', 'd'], /--pg: expected postgres:\/\/ URLs separated by commas/],
      [['node', '--pg', 'postgres://db/x', '--data', 'd'], /name the node with --name \(or SEMVEC_NODE\)/],
      [['node', '--pg', 'postgres://db/x', '--name', 'n1'], /give the node a data directory with --data \(or SEMVEC_DATA\)/],
      [['node', '--pg', 'postgres://db/x', '--name', 'n1', '--data', 'd', '--connect-timeout', 'soon'], /--connect-timeout <seconds>' argument 'soon' is invalid/],
      [['router', '--pg', 'postgres://db/x', '--auth-token', 'short'], /--auth-token: use at least 8 characters/],
      [['shards', 'init', '--pg', 'postgres://db/x'], /required option '--nodes <names>' not specified/],
      [['shards', 'move', '--pg', 'postgres://db/x', '--shard', '-1', '--from', 'a', '--to', 'b'], /--shard <n>' argument '-1' is invalid/],
    ];
    const failures: [string[], RegExp][] = [
      [['query', 'hello', '--db', 'no-such-db'], /no semvec database in no-such-db/],
      [['index', 'no-such-dir', '--db', 'db2'], /no such file or directory: no-such-dir/],
      [['index', 'pairs.jsonl', '--db', 'db2', '--text-field', 'body'], /pairs\.jsonl:1: no string field "body"/],
      [['eval', 'missing.jsonl'], /no such file or directory: missing\.jsonl/],
      [['cluster', 'missing.txt'], /no such file or directory: missing\.txt/],
      [['shards', 'show', '--pg', 'postgres://nobody@127.0.0.1:1/none'], /no writable PostgreSQL server among 1 URL \(postgres:\/\/nobody@127\.0\.0\.1:1\/none: /],
      [['shards', 'init', '--pg', 'postgres://127.0.0.1:1/none', '--nodes', 'a,a'], /nodes lists a node twice/],
    ];
    const cases = [...usageErrors.map(([args, re]) => [args, re, 2] as const), ...failures.map(([args, re]) => [args, re, 1] as const)];
    for (const [args, pattern, status] of cases) {
      const r = await semvec(...args);
      expect({ args, status: r.status, stdout: r.stdout }).toEqual({ args, status, stdout: '' });
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, args.join(' ')).toHaveLength(1);
      expect(lines[0]).toMatch(/^semvec: /);
      expect(lines[0]).toMatch(pattern);
    }
  });
});
