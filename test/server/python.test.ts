/**
 * A Python service talks to `semvec serve` with nothing but the standard
 * library (test/server/python/client.py). Chroma's Python client cannot be
 * installed here (not in Debian 12, PyPI out of reach); skipped without
 * python3.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { startServe } from '../helpers/serve.js';
import { tempDir } from '../helpers/temp.js';

const python = '/usr/bin/python3';
const script = fileURLToPath(new URL('./python/client.py', import.meta.url));

function run(url: string): Promise<string> {
  return new Promise((resolve, reject) => execFile(python, [script, url], (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))));
}

describe('semvec serve from Python', () => {
  it('creates, adds, queries with a filter and reads Chroma\'s error JSON with urllib', async (ctx) => {
    const { existsSync } = await import('node:fs');
    if (!existsSync(python)) ctx.skip();
    const server = await startServe(tempDir('semvec-python-'));
    const out = JSON.parse(await run(server.url));
    await server.stop();
    expect(out).toEqual({ add: 201, ids: [['a', 'c']], distances: [[expect.closeTo(0.82, 5), expect.closeTo(1.62, 5)]], missing: [404, 'NotFoundError'], count: 3 });
  });
});
