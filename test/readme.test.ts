/**
 * Every ```ts block of the README runs as written, importing the built
 * package ('semvec' resolves to dist/ through the package's own exports, so
 * run `npm run build:ts` after changing src/).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { haveToyModel, toyModelDir } from './helpers/models.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const dir = fileURLToPath(new URL('.readme-blocks/', import.meta.url));
mkdirSync(dir, { recursive: true });
// Examples that embed text run on the toy model, never the network.
const modelDir = haveToyModel ? toyModelDir() : undefined;
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  if (modelDir) rmSync(modelDir, { recursive: true, force: true });
});

describe('README examples run', () => {
  it('has examples', () => expect(blocks.length).toBeGreaterThan(3));
  blocks.forEach((code, i) => {
    const title = code.split('\n').find((l) => l.trim() && !l.startsWith('import')) ?? '';
    it.skipIf(code.includes('SEMVEC_MODEL_DIR') && !modelDir)(`block ${i + 1}: ${title.slice(0, 60)}`, () => {
      const file = `${dir}block-${i + 1}.ts`;
      writeFileSync(file, code);
      const env = { ...process.env, SEMVEC_OFFLINE: '1', ...(modelDir ? { SEMVEC_MODEL_DIR: modelDir } : {}) };
      const r = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', env });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      // Outputs promised in comments ("// 1 8") must be what that console.log
      // printed (one line each); prose comments are not checked.
      const logs = [...code.matchAll(/console\.log\([^\n]*?\);([ \t]*\/\/ ([^\n]+))?/g)];
      const printed = r.stdout.trim().split('\n');
      logs.forEach((m, j) => {
        const promise = m[2];
        if (promise !== undefined && /^[\w.-]+( [\w.-]+)*$/.test(promise)) expect(printed[j]).toBe(promise);
      });
    });
  });
});
