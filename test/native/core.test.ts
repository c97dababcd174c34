/**
 * The C++ core tests (test/native/*.cpp, built by `npm install` into
 * build/semvec_core_tests) run here, one vitest case per C++ case, so that
 * `npm test` reports them with everything else.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const binary = fileURLToPath(new URL('../../build/semvec_core_tests', import.meta.url));

describe('native core (C++)', () => {
  it('the core test binary was built', () => {
    expect(existsSync(binary), `${binary} is missing: run npm install`).toBe(true);
  });
  if (!existsSync(binary)) return;

  const names = execFileSync(binary, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const run = spawnSync(binary, [], { encoding: 'utf8' });
  const lines = run.stdout.split('\n');

  it('runs to completion', () => {
    expect(run.error).toBeUndefined();
    expect(run.signal, run.stderr).toBeNull();
    expect(lines.some((l) => /^\d+ passed, \d+ failed$/.test(l)), run.stdout + run.stderr).toBe(true);
  });

  for (const name of names) {
    it(name, () => {
      const line = lines.find((l) => l === `PASS ${name}` || l.startsWith(`FAIL ${name}:`));
      expect(line, `no result for ${name}`).toBeDefined();
      expect(line).toBe(`PASS ${name}`);
    });
  }
});
