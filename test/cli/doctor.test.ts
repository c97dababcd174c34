/**
 * `semvec doctor`: the report a bug report needs. The native module here is
 * the build made in this checkout; the ONNX runtime is installed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it, vi } from 'vitest';

import { cachedModels, diagnose } from '../../src/cli/commands/doctor.js';
import { main } from '../../src/cli/program.js';
import { simdLevel } from '../../src/index.js';
import { tempDir } from '../helpers/temp.js';

function valueOf(items: { label: string; value: string }[], label: string): string {
  const item = items.find((i) => i.label === label);
  if (!item) throw new Error(`no ${label} in the report`);
  return item.value;
}

describe('semvec doctor', () => {
  it('reports versions, the native module this checkout built, its SIMD level and the runtime', async () => {
    const cache = tempDir('semvec-doctor-');
    vi.stubEnv('SEMVEC_CACHE', cache);
    try {
      const { items, ok } = await diagnose();
      expect(ok).toBe(true);
      expect(valueOf(items, 'Node.js')).toContain(process.version);
      expect(valueOf(items, 'platform')).toContain(`${process.platform}-${process.arch}`);
      expect(valueOf(items, 'native module')).toBe(`source build (${join('build', 'Release', 'semvec.node')})`);
      expect(valueOf(items, 'SIMD level')).toBe(simdLevel());
      expect(valueOf(items, 'onnxruntime-node')).toMatch(/^1\.\d+\.\d+ \(loads\)$/);
      expect(valueOf(items, 'tokenizers')).toMatch(/^\d+\.\d+\.\d+ \(loads\)$/);
      expect(valueOf(items, 'model cache')).toBe(`${cache} (SEMVEC_CACHE)`);
      expect(valueOf(items, 'models')).toBe('none');
      expect(items.some((i) => i.problem)).toBe(false);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('lists the models in the cache with their revision and size', () => {
    const cache = tempDir('semvec-doctor-');
    mkdirSync(join(cache, 'sentence-transformers--all-MiniLM-L6-v2', 'main'), { recursive: true });
    writeFileSync(join(cache, 'sentence-transformers--all-MiniLM-L6-v2', 'main', 'model.onnx'), Buffer.alloc(1500));
    mkdirSync(join(cache, 'BAAI--bge-small-en-v1.5', 'v2'), { recursive: true });
    writeFileSync(join(cache, 'stray-file'), 'x');
    expect(cachedModels(cache)).toEqual([
      { id: 'BAAI/bge-small-en-v1.5', revision: 'v2', bytes: 0 },
      { id: 'sentence-transformers/all-MiniLM-L6-v2', revision: 'main', bytes: 1500 },
    ]);
    expect(cachedModels(join(cache, 'absent'))).toEqual([]);
  });

  it('is a command of the program, with --json', async () => {
    let stdout = '';
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      stdout += String(chunk);
      return true;
    });
    try {
      expect(await main([process.execPath, 'semvec', 'doctor', '--json'])).toBe(0);
    } finally {
      out.mockRestore();
    }
    const report = JSON.parse(stdout) as { ok: boolean; items: { label: string }[] };
    expect(report.ok).toBe(true);
    expect(report.items.map((i) => i.label)).toEqual([
      'semvec', 'Node.js', 'platform', 'CPU', 'native module', 'SIMD level', 'threads',
      'onnxruntime-node', 'tokenizers', 'model cache', 'models', 'downloads',
    ]);
  });
});
