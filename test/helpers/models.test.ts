/**
 * Where the tests look for the shared models: a checkout beside
 * shared/models, one nested a level deeper, and SEMVEC_TEST_MODELS.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { findSharedModels } from './models.js';

const root = mkdtempSync(join(tmpdir(), 'semvec-shared-models-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('findSharedModels', () => {
  it('finds shared/models beside the repository or beside one of its parents', () => {
    const models = join(root, 'shared', 'models');
    mkdirSync(models, { recursive: true });
    mkdirSync(join(root, 'main'));
    mkdirSync(join(root, 'wt', 'branch'), { recursive: true });
    expect(findSharedModels(join(root, 'main'), undefined)).toBe(models);
    expect(findSharedModels(join(root, 'wt', 'branch'), undefined)).toBe(models);
    expect(findSharedModels(join(root, 'wt', 'branch'), join(root, 'elsewhere'))).toBe(join(root, 'elsewhere'));
  });
});
