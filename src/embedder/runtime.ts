/**
 * Loads the ONNX runtime (onnxruntime-node) and the tokenizer library when the
 * first embedder is made, and says exactly what went wrong, with one command
 * that fixes it, when they do not load.
 *
 * onnxruntime-node is an optional peer dependency: a plain `npm install semvec`
 * leaves it out (it is ~290 MB unpacked, and on linux-x64 its install step
 * downloads CUDA libraries from outside the npm registry, which the CPU path
 * never uses). The command given installs it with that download skipped.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Tokenizer } from '@huggingface/tokenizers';

import { createError, ErrorCode, type SemvecError } from '../errors.js';

/** @internal The onnxruntime-node module. */
export type Ort = typeof import('onnxruntime-node');

/** @internal What loadRuntime returns. */
export interface Runtime {
  ort: Ort;
  Tokenizer: typeof Tokenizer;
}

/**
 * @internal The options of every ONNX session semvec makes (embedders and
 * rerankers): `threads` intra-op threads, operators run one after another,
 * every graph optimisation, and intra-op threads that sleep instead of
 * spinning between operators. A spinning thread holds its core while it
 * waits for work; an int8 model's operators are short, so the threads
 * spin often, and when other processes share the cores the spinning took
 * their time: 1.18x faster without it (bench:embed, paired rounds, int8
 * MiniLM-shaped model, 2 threads on 2 shared cores).
 */
export function sessionOptions(threads: number) {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all' as const,
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

/** @internal An installed package: its version and directory. */
export interface InstalledPackage {
  version: string;
  dir: string;
}

const require = createRequire(import.meta.url);

/** @internal The onnxruntime-node versions semvec supports: its peer dependency range in package.json. */
export function supportedOrtRange(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    peerDependencies?: Record<string, string>;
  };
  return pkg.peerDependencies?.['onnxruntime-node'] ?? '*';
}

/**
 * @internal Where semvec is installed: in a project's node_modules (the
 * project's directory), or globally (`npm install -g`: no package.json
 * above its node_modules), or neither (a source checkout).
 */
export function semvecInstall(root: string = fileURLToPath(new URL('../..', import.meta.url))): { global: boolean; project?: string } {
  const parent = dirname(resolve(root));
  if (basename(parent) !== 'node_modules') return { global: false };
  const project = dirname(parent);
  return existsSync(join(project, 'package.json')) ? { global: false, project } : { global: true };
}

/**
 * @internal The one command that installs onnxruntime-node for semvec. Only
 * linux-x64 has an install step that downloads (CUDA libraries from NuGet):
 * there the command turns it off with ONNXRUNTIME_NODE_INSTALL=skip.
 */
export function ortInstallCommand(platform: string = process.platform, arch: string = process.arch, global = semvecInstall().global): string {
  const spec = `"onnxruntime-node@${supportedOrtRange()}"`;
  const npm = `npm install${global ? ' -g' : ''} ${spec}`;
  return platform === 'linux' && arch === 'x64' ? `ONNXRUNTIME_NODE_INSTALL=skip ${npm}` : npm;
}

/**
 * @internal The one command that replaces a broken onnxruntime-node at `dir`
 * (npm does not reinstall a package it finds in node_modules, even with
 * --force, so it is removed first).
 */
export function ortRepairCommand(
  dir: string,
  platform: string = process.platform,
  arch: string = process.arch,
  global = semvecInstall().global,
): string {
  const remove = platform === 'win32' ? `npm uninstall${global ? ' -g' : ''} onnxruntime-node` : `rm -rf "${dir}"`;
  return `${remove} && ${ortInstallCommand(platform, arch, global)}`;
}

/** @internal The onnxruntime-node package that `import('onnxruntime-node')` finds from semvec, if any. */
export function installedOrt(): InstalledPackage | undefined {
  return installed('onnxruntime-node');
}

function installed(name: string): InstalledPackage | undefined {
  try {
    const file = require.resolve(`${name}/package.json`);
    const { version } = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
    return { version: typeof version === 'string' ? version : 'unknown', dir: dirname(file) };
  } catch {
    return undefined;
  }
}

function causeOf(err: unknown): string {
  return err instanceof Error ? err.message.trim() : String(err);
}

/**
 * @internal The error for an onnxruntime-node that cannot be imported:
 * `ort` is the package found on disk (undefined: not installed).
 */
export function explainOrtFailure(
  err: unknown,
  ort: InstalledPackage | undefined,
  platform: string = process.platform,
  arch: string = process.arch,
): SemvecError {
  const where = semvecInstall();
  const inProject = where.project ? ` (in ${where.project})` : '';
  const message =
    ort === undefined
      ? 'Embedding text needs the ONNX runtime, onnxruntime-node, which is not installed. semvec does not install it ' +
        'by default (it is large, and its install step on linux-x64 downloads CUDA libraries from outside npm; where that ' +
        'download fails, npm drops the package without an error).\n' +
        `Install it next to semvec${inProject}: ${ortInstallCommand(platform, arch, where.global)}`
      : `onnxruntime-node ${ort.version} is installed (${ort.dir}) but does not load: its native files are missing or ` +
        `do not fit this system (${platform}-${arch}, Node.js ${process.versions.node}).\n` +
        `Reinstall it${inProject}: ${ortRepairCommand(ort.dir, platform, arch, where.global)}`;
  return createError(ErrorCode.NATIVE_LOAD, `${message}\nCause: ${causeOf(err)}`, { cause: err });
}

/** @internal The error for a tokenizer library that cannot be imported (a semvec dependency). */
export function explainTokenizerFailure(err: unknown, platform: string = process.platform): SemvecError {
  const found = installed('@huggingface/tokenizers');
  const where = semvecInstall();
  const g = where.global ? ' -g semvec' : '';
  const what = found
    ? `@huggingface/tokenizers ${found.version} is installed (${found.dir}) but does not load`
    : '@huggingface/tokenizers, a dependency of semvec, is not installed';
  const fix = found && platform !== 'win32' ? `rm -rf "${found.dir}" && npm install${g}` : `npm install${g}`;
  return createError(
    ErrorCode.NATIVE_LOAD,
    `Embedding text needs the tokenizer library: ${what}.\n` +
      `Reinstall semvec's dependencies${where.project ? ` (in ${where.project})` : ''}: ${fix}\nCause: ${causeOf(err)}`,
    { cause: err },
  );
}

let loading: Promise<Runtime> | undefined;

/** @internal Imports onnxruntime-node and @huggingface/tokenizers once; throws what {@link explainOrtFailure} says. */
export function loadRuntime(): Promise<Runtime> {
  loading ??= (async () => {
    let ort: Ort;
    try {
      const mod = await import('onnxruntime-node');
      ort = (mod as { default?: Ort }).default ?? mod;
    } catch (err) {
      throw explainOrtFailure(err, installedOrt());
    }
    let tok: typeof import('@huggingface/tokenizers');
    try {
      tok = await import('@huggingface/tokenizers');
    } catch (err) {
      throw explainTokenizerFailure(err);
    }
    return { ort, Tokenizer: tok.Tokenizer };
  })();
  // A failed load is not remembered: installing the package fixes the next call.
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}
