/**
 * Every ```ts block of the README runs as written, importing the built
 * package ('semvec' resolves to dist/ through the package's own exports, so
 * run `npm run build:ts` after changing src/).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const dir = fileURLToPath(new URL('.readme-blocks/', import.meta.url));
mkdirSync(dir, { recursive: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README examples run', () => {
  it('has examples', () => expect(blocks.length).toBeGreaterThan(3));
  blocks.forEach((code, i) => {
    const title = code.split('\n').find((l) => l.trim() && !l.startsWith('import')) ?? '';
    it(`block ${i + 1}: ${title.slice(0, 60)}`, () => {
      const file = `${dir}block-${i + 1}.ts`;
      writeFileSync(file, code);
      const r = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      // Outputs promised in comments ("// 1 8") must be what it prints.
      const promised = [...code.matchAll(/console\.log\([^\n]*?\);\s*\/\/ ([^\n]+)/g)].map((m) => m[1]!);
      const printed = r.stdout.trim().split('\n');
      promised.forEach((p, j) => {
        if (/^[\w.-]+( [\w.-]+)*$/.test(p)) expect(printed[j]).toBe(p);
      });
    });
  });
});
