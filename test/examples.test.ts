/**
 * The examples run as a user runs them (importing the built package), on the
 * toy model when they need one: this checks they execute, not what a real
 * model would rank first.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { haveToyModel, toyModelDir } from './helpers/models.js';

const examples = fileURLToPath(new URL('../examples/', import.meta.url));
const modelDir = haveToyModel ? toyModelDir() : undefined;
afterAll(() => {
  if (modelDir) rmSync(modelDir, { recursive: true, force: true });
});

describe('examples run', () => {
  for (const file of readdirSync(examples).filter((f) => f.endsWith('.ts'))) {
    it.skipIf(!modelDir)(file, () => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', `${examples}${file}`], {
        encoding: 'utf8',
        env: { ...process.env, SEMVEC_OFFLINE: '1', SEMVEC_MODEL_DIR: modelDir },
        timeout: 120_000,
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(0);
    });
  }
});
