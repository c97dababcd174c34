#!/usr/bin/env node
// The path a user takes: `npm pack` this checkout, install the tarball into a
// fresh project in a temporary directory with cmake hidden from PATH, and use
// it there. Run by `npm run test:package` (and by .ci/run); it takes a few
// minutes (better-sqlite3 compiles SQLite where its prebuilt binary cannot be
// downloaded, and the last check builds semvec from source once).
//
// Checks, in order:
//   pack        the tarball holds the prebuilt addon, the rolled-up types,
//               LICENSE and CHANGELOG.md, every source a source map names,
//               and no tests or benchmarks
//   install     `npm install <tarball>` without cmake: the install step uses
//               the prebuilt addon, nothing of semvec is compiled
//   search      import semvec, exact search and a collection, at every SIMD
//               level the CPU has (the same results at each)
//   embedder    without onnxruntime-node, Embedder.load says so and gives a
//               command; that command installs it with no CUDA download; the
//               toy model loads and embeds; with the runtime's binding removed
//               Embedder.load says it is broken, and its command repairs it
//   doctor      `semvec doctor` reports the prebuilt addon and the runtime
//   types       a strict consumer (no skipLibCheck) type-checks with the
//               checkout's TypeScript and with TypeScript 6
//   fallback    with no prebuilt allowed and no cmake, the install step fails
//               saying what to install; with cmake it builds from source
//
// Environment: SEMVEC_TEST_MODELS (the shared models directory; default: the
// nearest shared/models beside the checkout or a parent), KEEP=1 keeps the
// temporary directory.
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'semvec-fresh-'));
const app = join(work, 'app');
/** @type {{ name: string, ok: boolean }[]} */
const results = [];
/** @type {{ pack?: number, install?: number, ortInstall?: number, sourceBuild?: number, tarballBytes?: number, unpackedBytes?: number }} */
const timings = {};

/** @typedef {Record<string, string | undefined>} Env */

/** @param {string} line */
function log(line) {
  process.stdout.write(`${line}\n`);
}

/**
 * @param {string} name
 * @param {boolean} ok
 * @param {string} [detail]
 */
function check(name, ok, detail = '') {
  results.push({ name, ok });
  log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` (${detail})` : ''}`);
  if (!ok) throw new Error(`check failed: ${name}${detail ? `: ${detail}` : ''}`);
}

/**
 * Runs a command; `out` is stdout and stderr together.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd?: string, env?: Env }} [options]
 * @returns {{ status: number | null, out: string, stdout: string, seconds: number }}
 */
function run(cmd, args, options = {}) {
  const started = Date.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  return { status: r.error ? -1 : r.status, out: r.error ? String(r.error) : out, stdout: r.stdout ?? '', seconds: (Date.now() - started) / 1000 };
}

/**
 * @param {string} label
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd?: string, env?: Env }} [options]
 */
function mustRun(label, cmd, args, options) {
  const r = run(cmd, args, options);
  if (r.status !== 0) {
    log(r.out);
    throw new Error(`${label} failed with exit code ${r.status}`);
  }
  return r;
}

/** The shared models directory, found as test/helpers/models.ts finds it. */
function sharedModels() {
  if (process.env.SEMVEC_TEST_MODELS) return resolve(process.env.SEMVEC_TEST_MODELS);
  for (let dir = resolve(repo); dirname(dir) !== dir; dir = dirname(dir)) {
    const candidate = join(dirname(dir), 'shared', 'models');
    if (existsSync(candidate)) return candidate;
  }
  return join(dirname(resolve(repo)), 'shared', 'models');
}

/** A bin directory with every command on PATH except cmake and its tools. */
function pathWithoutCmake() {
  const bin = join(work, 'bin');
  mkdirSync(bin);
  const hidden = new Set(['cmake', 'ccmake', 'cpack', 'ctest', 'cmake-gui']);
  const seen = new Set();
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    let names;
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (hidden.has(name) || seen.has(name)) continue;
      try {
        accessSync(join(dir, name), constants.X_OK);
        if (statSync(join(dir, name)).isDirectory()) continue;
      } catch {
        continue;
      }
      seen.add(name);
      symlinkSync(join(dir, name), join(bin, name));
    }
  }
  return bin;
}

/**
 * The last line of a command's output.
 * @param {string} out
 */
function lastLine(out) {
  return out.trim().split('\n').pop() ?? '';
}

/** @param {string} tgz */
function tarballFiles(tgz) {
  return mustRun('tar', 'tar', ['-tzf', tgz]).out.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
}

function packStep() {
  const r = mustRun('npm pack', 'npm', ['pack', '--pack-destination', work], { cwd: repo });
  timings.pack = r.seconds;
  const name = readdirSync(work).find((f) => f.endsWith('.tgz'));
  check('pack: npm pack writes a tarball', name !== undefined, lastLine(r.stdout));
  const tgz = join(work, name ?? '');
  const files = new Set(tarballFiles(tgz));
  const size = statSync(tgz).size;
  timings.tarballBytes = size;
  const prebuilt = [...files].filter((f) => f.startsWith('prebuilds/'));
  check('pack: the tarball holds a prebuilt addon for linux-x64 (glibc)', files.has('prebuilds/linux-x64/semvec.napi.glibc.node'), prebuilt.join(', '));
  check('pack: one declaration file for the public API', files.has('dist/semvec.d.ts'));
  check('pack: LICENSE and CHANGELOG.md', files.has('LICENSE') && files.has('CHANGELOG.md'));
  check('pack: no tests, benchmarks or local builds', ![...files].some((f) => /^(test|bench|build)\//.test(f)));
  // Every source a source map names is in the package.
  const unpacked = join(work, 'unpacked');
  mkdirSync(unpacked);
  mustRun('tar', 'tar', ['-xzf', tgz, '-C', unpacked]);
  timings.unpackedBytes = [...files].reduce((sum, f) => sum + statSync(join(unpacked, 'package', f)).size, 0);
  const missing = [];
  let maps = 0;
  for (const f of files) {
    if (!f.endsWith('.map')) continue;
    maps++;
    const map = JSON.parse(readFileSync(join(unpacked, 'package', f), 'utf8'));
    for (const s of map.sources) {
      const target = resolve(dirname(join(unpacked, 'package', f)), map.sourceRoot ?? '', s);
      if (!existsSync(target)) missing.push(`${f} -> ${s}`);
    }
  }
  check('pack: every source map points at a packed file', missing.length === 0 && maps > 0, missing.slice(0, 3).join('; ') || `${maps} maps`);
  check('pack: the tarball stays small', size < 2_000_000, `${(size / 1024).toFixed(0)} KiB packed, ${(timings.unpackedBytes / 1024).toFixed(0)} KiB unpacked`);
  return tgz;
}

/**
 * @param {string} tgz
 * @param {Env} env
 */
function installStep(tgz, env) {
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'fresh-app', version: '1.0.0', private: true, type: 'module' }, null, 2));
  check('install: cmake is not on the PATH used', run('cmake', ['--version'], { env }).status !== 0);
  const r = run('npm', ['install', tgz, '--no-audit', '--no-fund', '--foreground-scripts'], { cwd: app, env });
  timings.install = r.seconds;
  if (r.status !== 0) log(r.out);
  check('install: npm install <tarball> succeeds without cmake', r.status === 0, `${r.seconds.toFixed(0)} s`);
  check('install: the install step uses the prebuilt addon', /semvec: using the prebuilt native module prebuilds\/linux-x64\//.test(r.out));
  check('install: nothing of semvec is compiled', !existsSync(join(app, 'node_modules', 'semvec', 'build')));
  check('install: onnxruntime-node is not installed by default', !existsSync(join(app, 'node_modules', 'onnxruntime-node')));
}

/**
 * @param {string} script
 * @param {Env} env
 * @param {string[]} [args]
 */
function node(script, env, args = []) {
  const file = join(app, `check-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, script);
  return run(process.execPath, [file, ...args], { cwd: app, env });
}

const SEARCH = `
import { Client, FlatIndex, simdLevel } from 'semvec';
const dim = 33, n = 500;
let s = 12345;
const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
const vectors = new Float32Array(n * dim).map(rand);
const index = new FlatIndex({ dim, metric: 'cosine' });
index.add(vectors);
const { ids } = index.search(vectors.subarray(7 * dim, 8 * dim), 5);
const client = new Client();
const c = await client.createCollection('docs', { metric: 'cosine' });
await c.add({ ids: ['a', 'b', 'c'], embeddings: [[1, 0, 0], [0, 1, 0], [0.9, 0.1, 0]], documents: ['x', 'y', 'z'] });
const [matches] = await c.query({ queryEmbeddings: [[1, 0.05, 0]], nResults: 2 });
client.close();
console.log(JSON.stringify({ simd: simdLevel(), ids: [...ids], collection: matches.map((m) => m.id) }));
`;

/** @param {Env} env */
function searchStep(env) {
  const r = node(SEARCH, env);
  if (r.status !== 0) log(r.out);
  check('search: import semvec, exact search and a collection query', r.status === 0);
  const base = JSON.parse(lastLine(r.out));
  check('search: the nearest vector to a stored one is itself', base.ids[0] === 7, JSON.stringify(base.ids));
  check('search: the collection ranks by similarity', base.collection.join() === 'a,c', base.collection.join());
  const levels = ['scalar', 'avx2', 'avx512'];
  const available = levels.slice(0, levels.indexOf(base.simd) + 1);
  for (const level of available) {
    const r2 = node(SEARCH, { ...env, SEMVEC_SIMD: level });
    const got = r2.status === 0 ? JSON.parse(lastLine(r2.out)) : undefined;
    check(`search: SEMVEC_SIMD=${level} loads and gives the same results`, got?.simd === level && got.ids.join() === base.ids.join(), r2.status === 0 ? '' : r2.out.slice(0, 300));
  }
  return base.simd;
}

const EMBED = `
import { Client, Embedder } from 'semvec';
try {
  const model = await Embedder.load(process.argv[2], { threads: 1 });
  const v = await model.embed(['a first sentence', 'another one']);
  const client = new Client();
  const c = await client.createCollection('notes', { embedder: model });
  await c.add({ ids: ['n1', 'n2'], documents: ['a first sentence', 'another one'] });
  const [m] = await c.query({ queryTexts: 'a first sentence', nResults: 1 });
  client.close();
  await model.close();
  console.log(JSON.stringify({ ok: true, dim: model.dim, values: v.length, top: m[0].id }));
} catch (err) {
  console.log(JSON.stringify({ ok: false, code: err.code, message: err.message }));
}
`;

/**
 * @param {Env} env
 * @param {string} modelDir
 * @returns {{ ok: boolean, code?: string, message?: string, top?: string }}
 */
function embedResult(env, modelDir) {
  const r = node(EMBED, env, [modelDir]);
  try {
    return JSON.parse(lastLine(r.out));
  } catch {
    return { ok: false, message: r.out };
  }
}

/** The command a message gives: the text after "Install it next to semvec (in <dir>): " or "Reinstall it (in <dir>): ", to the end of its line. */
/**
 * @param {string} message
 * @returns {string | undefined}
 */
function commandIn(message) {
  return /(?:Install it next to semvec|Reinstall it)(?: \(in [^)]*\))?: (.+)/.exec(message)?.[1]?.trim();
}

/** @param {Env} env */
function embedderStep(env) {
  const models = sharedModels();
  const toy = join(models, 'toy-random-bert', 'model.onnx');
  const tok = join(models, 'all-MiniLM-L6-v2');
  check('embedder: the toy model and the MiniLM tokenizer are present', existsSync(toy) && existsSync(join(tok, 'tokenizer.json')), models);
  const modelDir = join(work, 'toy-model');
  mkdirSync(modelDir);
  copyFileSync(toy, join(modelDir, 'model.onnx'));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(tok, f), join(modelDir, f));

  // The user's environment: nothing set for onnxruntime-node.
  const userEnv = { ...env };
  delete userEnv.ONNXRUNTIME_NODE_INSTALL;
  const missing = embedResult(userEnv, modelDir);
  const command = commandIn(missing.message ?? '');
  check('embedder: without onnxruntime-node, Embedder.load fails with ERR_NATIVE_LOAD', missing.ok === false && missing.code === 'ERR_NATIVE_LOAD');
  check(
    'embedder: the message says it is not installed, where to install it, and gives a command',
    /onnxruntime-node, which is not installed/.test(missing.message ?? '') && (missing.message ?? '').includes(`(in ${app})`) && command !== undefined,
    command,
  );
  check('embedder: the command skips the CUDA download', command !== undefined && command.startsWith('ONNXRUNTIME_NODE_INSTALL=skip npm install "onnxruntime-node@'));
  const fix = run('sh', ['-c', command ?? 'false'], { cwd: app, env: userEnv });
  timings.ortInstall = fix.seconds;
  if (fix.status !== 0) log(fix.out);
  check('embedder: the command installs onnxruntime-node', fix.status === 0, `${fix.seconds.toFixed(0)} s`);
  const bin = join(app, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64');
  check('embedder: no CUDA provider was downloaded', !readdirSync(bin).some((f) => f.includes('providers_cuda')), readdirSync(bin).join(', '));
  const loaded = embedResult(userEnv, modelDir);
  check('embedder: the toy model loads, embeds and feeds a collection', loaded.ok === true && loaded.top === 'n1', JSON.stringify(loaded).slice(0, 300));

  // A broken runtime: its native binding is gone.
  const binding = join(bin, 'onnxruntime_binding.node');
  renameSync(binding, `${binding}.moved`);
  const broken = embedResult(userEnv, modelDir);
  rmSync(`${binding}.moved`);
  const repair = commandIn(broken.message ?? '');
  check('embedder: with its binding gone, Embedder.load says onnxruntime-node is installed but does not load', broken.ok === false && broken.code === 'ERR_NATIVE_LOAD' && /is installed \(.*\) but does not load/.test(broken.message ?? ''));
  check(
    'embedder: the repair command removes the package and installs it again without the CUDA download',
    repair?.startsWith(`rm -rf "${join(app, 'node_modules', 'onnxruntime-node')}" && ONNXRUNTIME_NODE_INSTALL=skip npm install "onnxruntime-node@`) === true,
    repair,
  );
  const repaired = run('sh', ['-c', repair ?? 'false'], { cwd: app, env: userEnv });
  if (repaired.status !== 0) log(repaired.out);
  const again = embedResult(userEnv, modelDir);
  check('embedder: after the repair command the model loads again', repaired.status === 0 && again.ok === true, JSON.stringify(again).slice(0, 300));
  return modelDir;
}

/** @param {Env} env */
function doctorStep(env) {
  const r = run(join(app, 'node_modules', '.bin', 'semvec'), ['doctor'], { cwd: app, env });
  if (r.status !== 0) log(r.out);
  check('doctor: semvec doctor runs', r.status === 0);
  check('doctor: it reports the prebuilt addon', /native module\s+prebuilt/.test(r.out), r.out.split('\n').find((l) => l.includes('native module')) ?? '');
  check('doctor: it reports onnxruntime-node and the tokenizer as loading', /onnxruntime-node\s+\S+ \(loads\)/.test(r.out) && /tokenizers\s+\S+ \(loads\)/.test(r.out));
  log(r.out.replace(/^/gm, '     | ').trimEnd());
}

const CONSUMER = `
import { Client, Embedder, FlatIndex, IVFIndex, SemvecError, type Collection, type QueryMatch, type SearchResult } from 'semvec';
import { ChromaClient, type Metadata as ChromaMetadata } from 'semvec/chroma';

const index = new FlatIndex({ dim: 3, metric: 'cosine' });
index.add([[1, 0, 0], [0, 1, 0]], [1, 2]);
const result: SearchResult = index.search([1, 0, 0], 1);
const first: number | undefined = result.ids[0];

const ivf = new IVFIndex({ dim: 3, nlist: 2, encoding: 'sq8' });
void ivf;

const chroma: ChromaClient = new ChromaClient();
const chromaMeta: ChromaMetadata = { topic: 'ml' };
void chroma;
void chromaMeta;

async function main(): Promise<void> {
  const client = new Client();
  const notes: Collection = await client.createCollection('notes');
  await notes.add({ ids: ['a'], embeddings: [[1, 0, 0]], metadatas: [{ topic: 'ml' }] });
  const [matches]: QueryMatch[][] = await notes.query({ queryEmbeddings: [[1, 0, 0]], nResults: 1, where: { topic: 'ml' } });
  const embedder: Embedder = await Embedder.load('all-MiniLM-L6-v2');
  console.log(first, matches?.[0]?.id, embedder.dim);
}
main().catch((err: unknown) => {
  if (err instanceof SemvecError) console.error(err.code);
});
`;

function typesStep() {
  writeFileSync(join(app, 'consumer.ts'), CONSUMER);
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
        },
        files: ['consumer.ts'],
      },
      null,
      2,
    ),
  );
  const types = run('npm', ['install', '--save-dev', `@types/node@${pkg.devDependencies['@types/node']}`, '--no-audit', '--no-fund'], { cwd: app });
  if (types.status !== 0) log(types.out);
  check('types: @types/node installs in the consumer', types.status === 0);
  /** @type {[string, string][]} */
  const compilers = [
    ['TypeScript of the checkout', join(repo, 'node_modules', 'typescript', 'bin', 'tsc')],
    ['TypeScript 6 (API Extractor\'s)', join(repo, 'node_modules', '@microsoft', 'api-extractor', 'node_modules', 'typescript', 'bin', 'tsc')],
  ];
  for (const [label, tsc] of compilers) {
    const version = run(process.execPath, [tsc, '--version']).out.trim();
    const r = run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app });
    if (r.status !== 0) log(r.out);
    check(`types: a strict consumer without skipLibCheck type-checks (${label}, ${version})`, r.status === 0);
  }
}

/**
 * @param {Env} env
 * @param {Env} fullEnv
 */
function fallbackStep(env, fullEnv) {
  const noPrebuilt = { ...env, SEMVEC_BUILD_FROM_SOURCE: '1' };
  const failed = run('npm', ['rebuild', 'semvec', '--foreground-scripts'], { cwd: app, env: noPrebuilt });
  check('fallback: without a usable prebuilt and without cmake, the install step fails', failed.status !== 0);
  check('fallback: ... saying cmake is missing and what to install', /cmake was not found on PATH/.test(failed.out) && /apt-get install cmake g\+\+ make/.test(failed.out) && /npm rebuild semvec/.test(failed.out));
  check('fallback: ... and not with cmake-js\'s own error', !/ERROR OMG/.test(failed.out));
  const built = run('npm', ['rebuild', 'semvec', '--foreground-scripts'], { cwd: app, env: { ...fullEnv, SEMVEC_BUILD_FROM_SOURCE: '1' } });
  timings.sourceBuild = built.seconds;
  if (built.status !== 0) log(built.out);
  check('fallback: with cmake, the install step builds semvec from source', built.status === 0 && existsSync(join(app, 'node_modules', 'semvec', 'build', 'Release', 'semvec.node')), `${built.seconds.toFixed(0)} s`);
  const r = run(join(app, 'node_modules', '.bin', 'semvec'), ['doctor'], { cwd: app, env });
  check('fallback: the source build is loaded before the prebuilt one, and doctor says so', /native module\s+source build/.test(r.out), r.out.split('\n').find((l) => l.includes('native module')) ?? '');
  const s = node(SEARCH, env);
  check('fallback: the source build searches', s.status === 0);
}

function main() {
  log(`semvec ${pkg.version}: fresh-project test in ${work}`);
  /** @type {Env} */
  const fullEnv = { ...process.env, npm_config_update_notifier: 'false' };
  delete fullEnv.npm_config_foreground_scripts;
  const env = { ...fullEnv, PATH: pathWithoutCmake() };
  try {
    const tgz = packStep();
    installStep(tgz, env);
    searchStep(env);
    embedderStep(env);
    doctorStep(env);
    typesStep();
    fallbackStep(env, fullEnv);
  } catch (err) {
    log(String(err instanceof Error ? err.message : err));
  } finally {
    if (process.env.KEEP !== '1') rmSync(work, { recursive: true, force: true });
  }
  const failed = results.filter((r) => !r.ok).length + (results.length === 0 ? 1 : 0);
  log('');
  log(
    `tarball ${((timings.tarballBytes ?? 0) / 1024).toFixed(0)} KiB (unpacked ${((timings.unpackedBytes ?? 0) / 1024).toFixed(0)} KiB); ` +
      `npm pack ${timings.pack?.toFixed(0)} s; install with the prebuilt ${timings.install?.toFixed(0)} s; ` +
      `onnxruntime-node install ${timings.ortInstall?.toFixed(0)} s; source build of semvec ${timings.sourceBuild?.toFixed(0)} s`,
  );
  const passed = results.filter((r) => r.ok).length;
  const notRun = results.length > 0 && results[results.length - 1]?.ok === false ? ' (checks after the failure did not run)' : '';
  log(`package: ${passed} passed, ${failed} failed${notRun}`);
  process.exitCode = failed === 0 ? 0 : 1;
}

main();
