/**
 * `semvec doctor`: what a bug report needs, in one screen: semvec, Node.js
 * and platform versions, which native module is loaded (the prebuilt one or a
 * build made here) and its SIMD level, whether the ONNX runtime and the
 * tokenizer load, and the model cache with the models in it. Each check that
 * fails says how to fix it; the command fails (exit 1) only when semvec's own
 * native module does not load.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { arch, cpus, platform, release } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { CliError, painter, type Style } from '../output.js';
import type { Command } from 'commander';
import { styleOf } from '../options.js';

export interface DoctorCommandOptions {
  json: boolean;
}

/** One line of the report: a label, a value, and whether it is a problem. */
export interface DoctorItem {
  label: string;
  value: string;
  problem?: boolean;
}

/** A model directory in the cache. */
export interface CachedModel {
  /** `org/name` as on the hub (the directory name with `--` for `/`). */
  id: string;
  revision: string;
  bytes: number;
}

const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}

function bytesIn(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += bytesIn(p);
    else if (e.isFile()) total += statSync(p).size;
  }
  return total;
}

/** The models in a cache directory (`<root>/<org>--<name>/<revision>/`); none when it does not exist. */
export function cachedModels(cacheDir: string): CachedModel[] {
  let repos;
  try {
    repos = readdirSync(cacheDir, { withFileTypes: true });
  } catch {
    return [];
  }
  const models: CachedModel[] = [];
  for (const repo of repos) {
    if (!repo.isDirectory()) continue;
    for (const rev of readdirSync(join(cacheDir, repo.name), { withFileTypes: true })) {
      if (!rev.isDirectory()) continue;
      const dir = join(cacheDir, repo.name, rev.name);
      models.push({ id: repo.name.replace(/--/g, '/'), revision: rev.name, bytes: bytesIn(dir) });
    }
  }
  return models.sort((a, b) => a.id.localeCompare(b.id) || a.revision.localeCompare(b.revision));
}

function glibc(): string | undefined {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime;
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Collects the report; never throws. `ok` is false when the native module does not load. */
export async function diagnose(): Promise<{ items: DoctorItem[]; ok: boolean }> {
  const items: DoctorItem[] = [];
  const add = (label: string, value: string, problem = false): void => {
    items.push(problem ? { label, value, problem } : { label, value });
  };
  add('semvec', `${packageVersion()} (${packageRoot.replace(/[/\\]$/, '')})`);
  add('Node.js', `${process.version} (ABI ${process.versions.modules}, N-API ${process.versions.napi})`);
  const libc = platform() === 'linux' ? (glibc() ? `, glibc ${glibc()}` : ', musl') : '';
  add('platform', `${platform()}-${arch()}${libc}, kernel ${release()}`);
  const cpu = cpus();
  add('CPU', `${cpu[0]?.model.trim() ?? 'unknown'} (${cpu.length} logical CPUs)`);

  let ok = true;
  try {
    const { addonOrigin } = await import('../../native.js');
    const { simdLevel, getThreads } = await import('../../system.js');
    const origin = addonOrigin();
    const where = relative(packageRoot, origin.path);
    add('native module', origin.kind === 'prebuilt' ? `prebuilt (${where})` : `source build (${where})`);
    const forced = process.env.SEMVEC_SIMD ? ` (forced by SEMVEC_SIMD=${process.env.SEMVEC_SIMD})` : '';
    add('SIMD level', `${simdLevel()}${forced}`);
    add('threads', String(getThreads()));
  } catch (err) {
    ok = false;
    add('native module', `does not load: ${(err as Error).message.replace(/\n/g, '\n  ')}`, true);
  }

  const runtime = await import('../../embedder/runtime.js');
  const ort = runtime.installedOrt();
  try {
    await runtime.loadRuntime();
    add('onnxruntime-node', `${ort?.version ?? 'unknown'} (loads)`);
  } catch (err) {
    const fix = ort ? `reinstall: ${runtime.ortRepairCommand(ort.dir)}` : `install: ${runtime.ortInstallCommand()}`;
    const what = ort ? `${ort.version} installed but does not load: ${firstLine((err as Error).cause ?? err)}` : 'not installed (needed to embed text)';
    add('onnxruntime-node', `${what}; ${fix}`, true);
  }
  const tokenizers = (() => {
    try {
      const file = join(fileURLToPath(import.meta.resolve('@huggingface/tokenizers')), '..', '..', 'package.json');
      return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? 'unknown';
    } catch {
      return undefined;
    }
  })();
  try {
    await import('@huggingface/tokenizers');
    add('tokenizers', `${tokenizers ?? 'unknown'} (loads)`);
  } catch (err) {
    add('tokenizers', `does not load: ${runtime.explainTokenizerFailure(err).message.split('\n').slice(0, 2).join('; ')}`, true);
  }

  const { defaultCacheDir } = await import('../../embedder/model-files.js');
  const cache = defaultCacheDir();
  const source = process.env.SEMVEC_CACHE ? 'SEMVEC_CACHE' : process.env.XDG_CACHE_HOME ? 'XDG_CACHE_HOME' : 'default';
  add('model cache', `${cache} (${source})`);
  const models = cachedModels(cache);
  add('models', models.length === 0 ? 'none' : models.map((m) => `${m.id}@${m.revision} (${mb(m.bytes)})`).join(', '));
  add('downloads', process.env.SEMVEC_OFFLINE === '1' ? 'off (SEMVEC_OFFLINE=1)' : 'allowed (SEMVEC_OFFLINE=1 turns them off)');
  return { items, ok };
}

export async function runDoctor(o: DoctorCommandOptions, style: Style): Promise<void> {
  const { items, ok } = await diagnose();
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ ok, items }, null, 2)}\n`);
  } else {
    const paint = painter(style);
    const width = Math.max(...items.map((i) => i.label.length)) + 2;
    for (const i of items) {
      const value = i.problem ? paint.yellow(i.value) : i.value;
      process.stdout.write(`${paint.bold(i.label.padEnd(width))}${value.replace(/\n/g, `\n${' '.repeat(width)}`)}\n`);
    }
  }
  if (!ok) throw new CliError("semvec's native module does not load (see above)");
}

/** Registers `semvec doctor`. */
export function register(program: Command): void {
  program
    .command('doctor')
    .description('Print what a bug report needs: versions, platform, native module (prebuilt or built here) and SIMD level, ONNX runtime, model cache.')
    .option('--json', 'print JSON instead of a list')
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      await runDoctor({ json: opts.json === true }, styleOf(cmd));
    });
}
