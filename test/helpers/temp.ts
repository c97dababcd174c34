/**
 * Temporary directories for tests, removed after the importing test file's
 * tests (the hook below registers in each test file that imports this).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll } from 'vitest';

const made: string[] = [];

afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A new empty directory under the system's temp directory, removed after this file's tests. */
export function tempDir(prefix = 'semvec-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
