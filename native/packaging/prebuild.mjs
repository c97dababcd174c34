#!/usr/bin/env node
// Builds the prebuilt addon that the npm package ships for the platform this
// runs on, into prebuilds/<platform>-<arch>/semvec.napi[.glibc|.musl].node
// (node-gyp-build's layout and tags). `npm pack` and `npm publish` run it
// (prepack); prebuilds/ is not committed.
//
// The build is the release build of CMakeLists.txt (every SIMD level in its
// own translation unit, chosen at run time; no -march), in its own directory
// (build/prebuild) so the working build in build/Release is left alone. On
// Linux with glibc, libstdc++ is linked statically with its symbols kept
// private, and arc4random.c stands in for glibc's own, so the binary needs
// glibc >= 2.34 and libgcc_s, not a libstdc++ as new as the build machine's
// (the report printed at the end says which glibc it needs); debug symbols are
// stripped.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(join(root, 'package.json'));

/** node-gyp-build's C library tag: musl on Alpine (and wherever glibc is absent), glibc elsewhere on Linux. */
export function libcTag() {
  if (platform() !== 'linux') return undefined;
  const report = /** @type {{ header?: { glibcVersionRuntime?: string } } | undefined} */ (process.report?.getReport?.());
  const glibc = report?.header?.glibcVersionRuntime;
  return glibc ? 'glibc' : 'musl';
}

/** The file name node-gyp-build looks for: semvec.napi.node, with the C library tag on Linux. */
export function prebuiltName() {
  const libc = libcTag();
  return libc ? `semvec.napi.${libc}.node` : 'semvec.napi.node';
}

/**
 * @param {string} cmd
 * @param {string[]} args
 */
function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with code ${r.status}`);
}

/**
 * GLIBC_x.y versions a Linux binary needs, highest first (from objdump, when present).
 * @param {string} file
 * @returns {string[]}
 */
function glibcVersions(file) {
  const r = spawnSync('objdump', ['-T', file], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return [];
  const versions = new Set([...r.stdout.matchAll(/\bGLIBC_(\d+(?:\.\d+)+)/g)].map((m) => String(m[1])));
  return [...versions].sort((a, b) => b.localeCompare(a, 'en', { numeric: true }));
}

function main() {
  const outDir = join(root, 'build', 'prebuild');
  let linkFlags = '';
  if (libcTag() === 'glibc') {
    mkdirSync(outDir, { recursive: true });
    const shim = join(outDir, 'arc4random.o');
    run(process.env.CC ?? 'cc', ['-O2', '-fPIC', '-fvisibility=hidden', '-c', join(root, 'native', 'packaging', 'arc4random.c'), '-o', shim]);
    linkFlags = `${shim} -static-libstdc++ -Wl,--exclude-libs,ALL -s`;
  }
  // Configure every time (the flags are part of the configuration), then
  // build only the addon; an unchanged tree rebuilds nothing.
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  run(process.execPath, [cmakeJs, 'configure', '--out', outDir, `--CDCMAKE_SHARED_LINKER_FLAGS=${linkFlags}`]);
  run(process.execPath, [cmakeJs, 'build', '--out', outDir, '--target', 'semvec']);

  const built = join(outDir, 'Release', 'semvec.node');
  if (!existsSync(built)) throw new Error(`the build did not produce ${built}`);
  const dir = join(root, 'prebuilds', `${platform()}-${arch()}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const target = join(dir, prebuiltName());
  copyFileSync(built, target);

  // The binary must load on its own (no build/Release beside it).
  run(process.execPath, ['-e', `const a = require(${JSON.stringify(target)}); console.log('prebuilt loads; SIMD level here: ' + a.simdLevel());`]);
  const kb = (statSync(target).size / 1024).toFixed(0);
  const glibc = glibcVersions(target);
  console.log(`prebuilt: ${relative(root, target)} (${kb} KiB${glibc.length ? `, needs glibc >= ${glibc[0]}` : ''})`);
  for (const other of readdirSync(join(root, 'prebuilds'))) {
    if (other !== `${platform()}-${arch()}`) console.log(`also packed: prebuilds/${other} (built elsewhere)`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main();
}
