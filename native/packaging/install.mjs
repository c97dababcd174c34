#!/usr/bin/env node
// The package's install step (npm runs it as the "install" script).
//
// 1. Where the package ships a prebuilt addon for this platform
//    (prebuilds/<platform>-<arch>/semvec.napi[.glibc|.musl].node, found by
//    node-gyp-build's rules) and it loads here, nothing is built.
// 2. Otherwise the addon is built from source with cmake-js; without cmake
//    the step fails at once with what to install, instead of cmake-js's own
//    error.
//
// A source checkout (one with test/native/) always builds from source, and so
// does SEMVEC_BUILD_FROM_SOURCE=1 (or npm's npm_config_build_from_source).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(join(root, 'package.json'));

/**
 * True for "1", "true", "yes" and "on" (any case).
 * @param {string | undefined} value
 */
export function isTrue(value) {
  return typeof value === 'string' && /^(1|true|yes|on)$/i.test(value.trim());
}

/**
 * Why this install builds from source rather than using a prebuilt addon; undefined when it may use one.
 * @param {Record<string, string | undefined>} env
 * @param {string} packageRoot
 * @returns {string | undefined}
 */
export function sourceBuildReason(env, packageRoot) {
  if (isTrue(env.SEMVEC_BUILD_FROM_SOURCE)) return 'SEMVEC_BUILD_FROM_SOURCE is set';
  if (isTrue(env.npm_config_build_from_source)) return 'npm_config_build_from_source is set';
  if (existsSync(join(packageRoot, 'test', 'native'))) return 'this is a source checkout';
  return undefined;
}

/**
 * Tries the prebuilt addon in a child process (a binary that crashes on load
 * must not take the install with it). Returns { ok: true, file } or
 * { ok: false, reason } (missing: true when there is no prebuilt file for this platform).
 * @param {string} packageRoot
 * @param {Record<string, string | undefined>} [env]
 * @returns {{ ok: boolean, file?: string, simd?: string, missing?: boolean, reason?: string }}
 */
export function probePrebuilt(packageRoot, env = process.env) {
  const script = `
    const load = require(${JSON.stringify(require.resolve('node-gyp-build'))});
    let file;
    try { file = load.resolve(${JSON.stringify(packageRoot)}); }
    catch (err) { process.stdout.write(JSON.stringify({ ok: false, missing: true, reason: err.message.split('\\n')[0] })); process.exit(0); }
    try {
      const addon = require(file);
      process.stdout.write(JSON.stringify({ ok: true, file, simd: addon.simdLevel() }));
    } catch (err) {
      process.stdout.write(JSON.stringify({ ok: false, file, reason: err.message }));
    }`;
  const r = spawnSync(process.execPath, ['-e', script], {
    env: { ...env, PREBUILDS_ONLY: '1' },
    encoding: 'utf8',
  });
  try {
    return JSON.parse(r.stdout);
  } catch {
    const how = r.signal ? `was killed by ${r.signal}` : `exited with code ${r.status}`;
    return { ok: false, reason: `loading it ${how}${r.stderr ? `: ${r.stderr.trim().split('\n')[0]}` : ''}` };
  }
}

/**
 * The message printed when a source build cannot start or fails.
 * @param {string} [os]
 */
export function buildHelp(os = platform()) {
  const install =
    os === 'darwin'
      ? 'macOS: xcode-select --install, then brew install cmake'
      : os === 'win32'
        ? 'Windows: Visual Studio Build Tools ("Desktop development with C++", which includes CMake)'
        : 'Debian/Ubuntu: sudo apt-get install cmake g++ make; Fedora/RHEL: sudo dnf install cmake gcc-c++ make; Alpine: apk add cmake g++ make';
  return [
    'Building semvec from source needs cmake >= 3.15 and a C++17 compiler (g++ >= 9, clang >= 10 or MSVC 2019).',
    `Install them (${install}), then run: npm rebuild semvec`,
  ].join('\n');
}

/** @param {Record<string, string | undefined>} env */
function hasCmake(env) {
  const r = spawnSync(env.CMAKE ?? 'cmake', ['--version'], { env, stdio: 'ignore' });
  return !r.error && r.status === 0;
}

/** @param {string} line */
function say(line) {
  process.stderr.write(`semvec: ${line}\n`);
}

/** @param {Record<string, string | undefined>} env */
function buildFromSource(env) {
  if (!hasCmake(env)) {
    say('cmake was not found on PATH, so the native module cannot be built here.');
    say(buildHelp());
    return 1;
  }
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const r = spawnSync(process.execPath, [cmakeJs, 'compile'], { cwd: root, env, stdio: 'inherit' });
  if (r.status === 0) return 0;
  say('building the native module from source failed (its output is above).');
  say(buildHelp());
  return r.status ?? 1;
}

function main() {
  const env = process.env;
  const tuple = `${platform()}-${arch()}`;
  const reason = sourceBuildReason(env, root);
  if (reason === undefined) {
    const probe = probePrebuilt(root, env);
    if (probe.ok) {
      say(`using the prebuilt native module ${relative(root, probe.file ?? '')} (SIMD: ${probe.simd}); nothing to build.`);
      return 0;
    }
    say(
      probe.missing
        ? `no prebuilt native module for ${tuple} (Node.js ${process.versions.node}); building from source.`
        : `the prebuilt native module ${probe.file ? relative(root, probe.file) : ''} does not load here (${probe.reason}); building from source.`,
    );
  } else {
    say(`building the native module from source (${reason}).`);
  }
  return buildFromSource(env);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = main();
}
