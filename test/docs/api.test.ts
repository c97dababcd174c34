/**
 * The API reference (docs/tools/api.mjs, `npm run docs:api`): API Extractor
 * reads the TSDoc of the compiled declarations in dist/ (built before the
 * tests) and must report no warning, no {@link} it cannot resolve among them;
 * API Documenter writes the pages, and no relative link in them may point at
 * a missing file. The pages are built here, not committed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { brokenLinks } from '../../docs/tools/api.mjs';
import { tempDir } from '../helpers/temp.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));

describe('API reference', () => {
  it('builds from the TSDoc with no warning and no broken link, and rolls the types up into one file', () => {
    const r = spawnSync(process.execPath, [join(repo, 'docs', 'tools', 'api.mjs')], { cwd: repo, encoding: 'utf8' });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/API reference: docs\/api\/index\.md \(\d+ pages\)/);
    const page = readFileSync(join(repo, 'docs', 'api', 'semvec.flatindex.md'), 'utf8');
    expect(page).toContain('[searchAsync(query, k, options)](./semvec.flatindex.searchasync.md)');
    const rollup = readFileSync(join(repo, 'dist', 'semvec.d.ts'), 'utf8');
    expect(rollup).toMatch(/export declare class FlatIndex/);
    expect(rollup).not.toMatch(/better-sqlite3|onnxruntime-node/);
    expect(rollup).not.toMatch(/explainLoadFailure|explainOrtFailure/);
  });

  it('finds relative links whose file is missing, and only those', () => {
    const dir = tempDir('semvec-links-');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'a.md'), '[ok](./sub/b.md) [anchor](#x) [web](https://example.org/x.md) [gone](./missing.md#y)\n');
    writeFileSync(join(dir, 'sub', 'b.md'), '[up](../a.md) [gone too](c.md)\n');
    const broken = brokenLinks(dir) as string[];
    expect(broken).toHaveLength(2);
    expect(broken.some((b) => b.endsWith('a.md: ./missing.md#y'))).toBe(true);
    expect(broken.some((b) => b.endsWith(`${join('sub', 'b.md')}: c.md`))).toBe(true);
    expect(existsSync(join(dir, 'sub', 'b.md'))).toBe(true);
  });
});
