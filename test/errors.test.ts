import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import {
  ErrorCode,
  FileFormatError,
  FlatIndex,
  NativeError,
  NotFoundError,
  SemvecError,
  SemvecIOError,
  ValidationError,
} from '../src/index.js';
import { createError } from '../src/errors.js';
import { addonPath } from '../src/native.js';

describe('SemvecError', () => {
  it('maps every code to its family, with name and code', () => {
    const families: Record<string, unknown> = {
      ERR_INVALID_ARGUMENT: ValidationError,
      ERR_DIMENSION_MISMATCH: ValidationError,
      ERR_DUPLICATE_ID: ValidationError,
      ERR_NOT_FOUND: NotFoundError,
      ERR_NOT_TRAINED: ValidationError,
      ERR_CLOSED: ValidationError,
      ERR_EMBEDDER_MISMATCH: ValidationError,
      ERR_READ_ONLY: ValidationError,
      ERR_CORRUPT_FILE: FileFormatError,
      ERR_UNSUPPORTED_VERSION: FileFormatError,
      ERR_WRONG_INDEX_KIND: FileFormatError,
      ERR_IO: SemvecIOError,
      ERR_LOCKED: SemvecIOError,
      ERR_TIMEOUT: SemvecIOError,
      ERR_UNAVAILABLE: SemvecIOError,
      ERR_STALE_EPOCH: SemvecIOError,
      ERR_DOWNLOAD: SemvecIOError,
      ERR_OFFLINE: SemvecIOError,
      ERR_UNSUPPORTED: NativeError,
      ERR_NATIVE_LOAD: NativeError,
      ERR_OUT_OF_MEMORY: NativeError,
      ERR_INTERNAL: NativeError,
    };
    expect(Object.values(ErrorCode).sort()).toEqual(Object.keys(families).sort());
    for (const [code, cls] of Object.entries(families)) {
      const e = createError(code, 'msg');
      expect(e).toBeInstanceOf(cls as typeof SemvecError);
      expect(e).toBeInstanceOf(SemvecError);
      expect(e).toBeInstanceOf(Error);
      expect(e.code).toBe(code);
      expect(e.name).toBe((cls as typeof SemvecError).name);
    }
    expect(createError('ERR_SOMETHING_NEW', 'm').code).toBe('ERR_INTERNAL');
  });

  it('errors raised in C++ arrive as SemvecError subclasses', () => {
    const index = new FlatIndex({ dim: 2, metric: 'ip' });
    index.add([[1, 2]], [1]);
    let err: unknown;
    try {
      index.add([[1, 2]], [1]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as SemvecError).code).toBe('ERR_DUPLICATE_ID');
    expect((err as Error).stack).toContain('errors.test.ts');
  });
});

describe('native module loading', () => {
  it('explains what to do when the module cannot be loaded', async () => {
    const { explainLoadFailure } = await import('../src/native.js');
    const missing = explainLoadFailure(new Error('No native build was found for platform=linux arch=riscv64'), undefined);
    expect(missing).toBeInstanceOf(NativeError);
    expect(missing.code).toBe('ERR_NATIVE_LOAD');
    expect(missing.message).toMatch(/no prebuilt native module for \S+-\S+/);
    expect(missing.message).toMatch(/npm rebuild semvec/);
    expect(missing.message).toMatch(/cmake >= 3\.15 and a C\+\+17 compiler/);
    expect(missing.message).toMatch(/Cause: No native build was found/);
    const broken = explainLoadFailure(new Error('invalid ELF header'), '/x/node_modules/semvec/build/Release/semvec.node');
    expect(broken.message).toMatch(/built for another platform, CPU architecture or Node\.js ABI/);
    const simd = explainLoadFailure(Object.assign(new Error('SEMVEC_SIMD must be ...'), { code: 'ERR_UNSUPPORTED' }), addonPath);
    expect(simd.code).toBe('ERR_UNSUPPORTED');
  });

  it('says which system a prebuilt binary needs when it does not load, and how to build one', async () => {
    const { explainLoadFailure } = await import('../src/native.js');
    const prebuilt = join(fileURLToPath(new URL('..', import.meta.url)), 'prebuilds', 'linux-x64', 'semvec.napi.glibc.node');
    const err = explainLoadFailure(new Error("version `GLIBC_2.34' not found"), prebuilt);
    expect(err.code).toBe('ERR_NATIVE_LOAD');
    expect(err.message).toContain(`prebuilt native module ${prebuilt} does not load`);
    expect(err.message).toMatch(/glibc >= 2\.34/);
    expect(err.message).toMatch(/`npm rebuild semvec`/);
    expect(err.message).toMatch(/Cause: version `GLIBC_2\.34' not found/);
  });

  it('loads a build made here before a prebuilt binary, and says which it loaded', async () => {
    const { addonOrigin } = await import('../src/native.js');
    const origin = addonOrigin();
    // The test suite runs in a source checkout, where the install step builds.
    expect(origin).toEqual({ path: addonPath, kind: 'source' });
  });
});
