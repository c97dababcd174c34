/**
 * Loading the ONNX runtime: when onnxruntime-node is missing or broken,
 * Embedder.load says which, and gives the one command that fixes it (with
 * the CUDA download turned off where the package would make one). The
 * failures here are real errors: an import of a package that is not
 * installed, and a native file that is not a shared library.
 * test/packaging/fresh-project.mjs runs the same cases on a real install.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import pkg from '../../package.json' with { type: 'json' };
import {
  explainOrtFailure,
  installedOrt,
  loadRuntime,
  ortInstallCommand,
  ortRepairCommand,
  semvecInstall,
  supportedOrtRange,
} from '../../src/embedder/runtime.js';
import { NativeError } from '../../src/index.js';
import { tempDir } from '../helpers/temp.js';

async function importError(specifier: string): Promise<unknown> {
  try {
    await import(/* @vite-ignore */ specifier);
  } catch (err) {
    return err;
  }
  throw new Error(`${specifier} imported`);
}

describe('the ONNX runtime', () => {
  it('the supported versions are the peer dependency range of package.json', () => {
    expect(supportedOrtRange()).toBe(pkg.peerDependencies['onnxruntime-node']);
    expect(pkg.peerDependenciesMeta['onnxruntime-node'].optional).toBe(true);
    expect(Object.keys(pkg.dependencies)).not.toContain('onnxruntime-node');
  });

  it('the install command turns the CUDA download off on linux-x64 only, where it happens', () => {
    const range = pkg.peerDependencies['onnxruntime-node'];
    expect(ortInstallCommand('linux', 'x64')).toBe(`ONNXRUNTIME_NODE_INSTALL=skip npm install "onnxruntime-node@${range}"`);
    expect(ortInstallCommand('linux', 'arm64')).toBe(`npm install "onnxruntime-node@${range}"`);
    expect(ortInstallCommand('darwin', 'arm64')).toBe(`npm install "onnxruntime-node@${range}"`);
    expect(ortInstallCommand('win32', 'x64')).toBe(`npm install "onnxruntime-node@${range}"`);
    expect(ortInstallCommand('linux', 'x64', true)).toBe(`ONNXRUNTIME_NODE_INSTALL=skip npm install -g "onnxruntime-node@${range}"`);
  });

  it('a broken install is removed before it is installed again (npm keeps a package it finds, even with --force)', () => {
    const range = pkg.peerDependencies['onnxruntime-node'];
    expect(ortRepairCommand('/app/node_modules/onnxruntime-node', 'linux', 'x64', false)).toBe(
      `rm -rf "/app/node_modules/onnxruntime-node" && ONNXRUNTIME_NODE_INSTALL=skip npm install "onnxruntime-node@${range}"`,
    );
    expect(ortRepairCommand('C:\\app\\node_modules\\onnxruntime-node', 'win32', 'x64', true)).toBe(
      `npm uninstall -g onnxruntime-node && npm install -g "onnxruntime-node@${range}"`,
    );
  });

  it('tells a project install from a global one', () => {
    const project = tempDir('semvec-project-');
    writeFileSync(join(project, 'package.json'), '{}');
    expect(semvecInstall(join(project, 'node_modules', 'semvec'))).toEqual({ global: false, project });
    const prefix = tempDir('semvec-prefix-');
    expect(semvecInstall(join(prefix, 'lib', 'node_modules', 'semvec'))).toEqual({ global: true });
    expect(semvecInstall(project)).toEqual({ global: false });
  });

  it('a missing package: says it is not installed, why semvec leaves it out, and the command', async () => {
    const cause = await importError('onnxruntime-node-not-installed-here');
    const err = explainOrtFailure(cause, undefined, 'linux', 'x64');
    expect(err).toBeInstanceOf(NativeError);
    expect(err.code).toBe('ERR_NATIVE_LOAD');
    expect(err.message).toMatch(/onnxruntime-node, which is not installed/);
    expect(err.message).toMatch(/downloads CUDA libraries from outside npm/);
    expect(err.message).toContain(`Install it next to semvec: ${ortInstallCommand('linux', 'x64')}\n`);
    expect(err.message).toMatch(/Cause: Cannot find package 'onnxruntime-node-not-installed-here'/);
    expect(err.cause).toBe(cause);
  });

  it('a package whose native binding does not load: says which version and where, and the reinstall command', () => {
    const dir = tempDir('semvec-ort-');
    const binding = join(dir, 'onnxruntime_binding.node');
    writeFileSync(binding, 'not a shared library');
    let cause: unknown;
    try {
      createRequire(import.meta.url)(binding);
    } catch (err) {
      cause = err;
    }
    const err = explainOrtFailure(cause, { version: '1.30.0', dir: '/app/node_modules/onnxruntime-node' }, 'linux', 'x64');
    expect(err.code).toBe('ERR_NATIVE_LOAD');
    expect(err.message).toMatch(/^onnxruntime-node 1\.30\.0 is installed \(\/app\/node_modules\/onnxruntime-node\) but does not load/);
    expect(err.message).toContain(`Reinstall it: ${ortRepairCommand('/app/node_modules/onnxruntime-node', 'linux', 'x64', false)}\n`);
    expect(err.message).toMatch(/Cause: .*(invalid ELF header|file too short)/);
  });

  it('loads here, from the installed package', async () => {
    const { ort, Tokenizer } = await loadRuntime();
    expect(typeof ort.InferenceSession.create).toBe('function');
    expect(typeof Tokenizer).toBe('function');
    expect(installedOrt()?.version).toMatch(/^1\./);
  });
});
