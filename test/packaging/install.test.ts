/**
 * The install step (native/packaging/install.mjs): it uses a prebuilt addon
 * that loads, falls back to a source build otherwise, and without cmake fails
 * at once saying what to install. Run here on copies of the package layout in
 * temporary directories; test/packaging/fresh-project.mjs runs it from a real
 * npm install.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { buildHelp, probePrebuilt, sourceBuildReason } from '../../native/packaging/install.mjs';
import { prebuiltName } from '../../native/packaging/prebuild.mjs';
import { addonPath } from '../../src/native.js';
import { tempDir } from '../helpers/temp.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const tuple = `${process.platform}-${process.arch}`;

/** A package directory with the install script, node_modules of this checkout, and optionally a prebuilt file. */
function fakePackage(prebuilt?: string | Buffer): string {
  const dir = tempDir('semvec-install-');
  mkdirSync(join(dir, 'native', 'packaging'), { recursive: true });
  copyFileSync(join(repo, 'native', 'packaging', 'install.mjs'), join(dir, 'native', 'packaging', 'install.mjs'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'semvec', version: '0.0.0' }));
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
  if (prebuilt !== undefined) {
    mkdirSync(join(dir, 'prebuilds', tuple), { recursive: true });
    const file = join(dir, 'prebuilds', tuple, prebuiltName() as string);
    if (typeof prebuilt === 'string') copyFileSync(prebuilt, file);
    else writeFileSync(file, prebuilt);
  }
  return dir;
}

/** A PATH with node and sh only: no cmake. */
function pathWithoutCmake(): string {
  const bin = tempDir('semvec-bin-');
  symlinkSync(process.execPath, join(bin, 'node'));
  symlinkSync('/bin/sh', join(bin, 'sh'));
  return bin;
}

function install(dir: string, env: Record<string, string | undefined>) {
  return spawnSync(process.execPath, [join(dir, 'native', 'packaging', 'install.mjs')], { cwd: dir, env, encoding: 'utf8' });
}

describe('the install step', () => {
  it('builds from source in a source checkout, or when asked', () => {
    expect(sourceBuildReason({}, repo)).toBe('this is a source checkout');
    const pkg = fakePackage();
    expect(sourceBuildReason({}, pkg)).toBeUndefined();
    expect(sourceBuildReason({ SEMVEC_BUILD_FROM_SOURCE: '1' }, pkg)).toBe('SEMVEC_BUILD_FROM_SOURCE is set');
    expect(sourceBuildReason({ npm_config_build_from_source: 'true' }, pkg)).toBe('npm_config_build_from_source is set');
    expect(sourceBuildReason({ SEMVEC_BUILD_FROM_SOURCE: '0' }, pkg)).toBeUndefined();
  });

  it('finds a prebuilt addon that loads, and reports one that does not', () => {
    const good = probePrebuilt(fakePackage(addonPath));
    expect(good).toMatchObject({ ok: true, simd: expect.stringMatching(/^(scalar|avx2|avx512)$/) });
    expect(good.file).toContain(join('prebuilds', tuple));
    const none = probePrebuilt(fakePackage());
    expect(none).toMatchObject({ ok: false, missing: true });
    expect(none.reason).toMatch(/No native build was found for platform=/);
    const garbage = probePrebuilt(fakePackage(Buffer.from('not a shared library')));
    expect(garbage.ok).toBe(false);
    expect(garbage.missing).toBeUndefined();
    expect(garbage.reason).toMatch(/invalid ELF header|file too short|not a valid/);
  });

  it('uses a prebuilt addon that loads: nothing is built, even without cmake', () => {
    const dir = fakePackage(addonPath);
    const r = install(dir, { PATH: pathWithoutCmake() });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`semvec: using the prebuilt native module prebuilds/${tuple}/`));
  });

  it('without a prebuilt addon that loads and without cmake, fails saying what to install', () => {
    const dir = fakePackage(Buffer.from('not a shared library'));
    const r = install(dir, { PATH: pathWithoutCmake() });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/the prebuilt native module .* does not load here .*; building from source/);
    expect(r.stderr).toMatch(/cmake was not found on PATH/);
    expect(r.stderr).toContain(buildHelp().split('\n')[0]);
    expect(r.stderr).toMatch(/npm rebuild semvec/);
    expect(r.stderr).not.toMatch(/ERROR OMG/);
  });

  it('names what to install on each system', () => {
    expect(buildHelp('linux')).toMatch(/apt-get install cmake g\+\+ make/);
    expect(buildHelp('darwin')).toMatch(/brew install cmake/);
    expect(buildHelp('win32')).toMatch(/Visual Studio Build Tools/);
  });
});
