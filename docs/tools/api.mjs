#!/usr/bin/env node
// The API reference and the published type declarations, from the TSDoc of
// the compiled declarations in dist/ (run `tsc -p tsconfig.json` first; the
// npm scripts docs:api and prepack do).
//
//   node docs/tools/api.mjs            dist/semvec.d.ts + docs/api/*.md, checked
//   node docs/tools/api.mjs --rollup   dist/semvec.d.ts only (npm pack; warnings printed, not fatal)
//
// dist/semvec.d.ts is the package's one declaration file ("types" in
// package.json): API Extractor rolls the public API up into it, so a user's
// type-checker never reads the internal modules (nor the types of their
// dependencies, such as better-sqlite3's, which semvec does not install).
//
// The check fails (exit 1) on any API Extractor or TSDoc warning (an
// unresolved {@link} among them) other than those listed in ALLOWED, and on
// any relative link in the generated pages whose target is missing.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(join(root, 'package.json'));

/**
 * Warnings that are accepted, with the reason. The index classes take their
 * native handle's type as a type parameter; those handle types are internal
 * on purpose (they are in the declarations, without a page of their own).
 */
const ALLOWED = [
  { id: 'ae-forgotten-export', text: '"NativeIndex"' },
  { id: 'ae-forgotten-export', text: '"NativeFlatIndex"' },
  { id: 'ae-forgotten-export', text: '"NativeIvfIndex"' },
  { id: 'ae-forgotten-export', text: '"NativeGraphIndex"' },
];

/**
 * Runs API Extractor; returns the warnings and errors it reported, as lines.
 * @returns {string[]}
 */
function extract() {
  const { Extractor, ExtractorConfig } = require('@microsoft/api-extractor');
  const config = ExtractorConfig.loadFileAndPrepare(join(root, 'docs', 'api-extractor.json'));
  const problems = [];
  const result = Extractor.invoke(config, {
    localBuild: true,
    /** @param {import('@microsoft/api-extractor').ExtractorMessage} message */
    messageCallback(message) {
      if (message.logLevel !== 'warning' && message.logLevel !== 'error') return;
      const where = message.sourceFilePath ? `${relative(root, message.sourceFilePath)}:${message.sourceFileLine}: ` : '';
      const allowed = ALLOWED.some((a) => a.id === message.messageId && message.text.includes(a.text));
      if (!allowed) problems.push(`${where}(${message.messageId}) ${message.text}`);
      message.handled = true;
    },
  });
  if (!result.succeeded && problems.length === 0) problems.push('API Extractor failed');
  return problems;
}

/**
 * Every markdown file under dir.
 * @param {string} dir
 * @returns {string[]}
 */
function markdownFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? markdownFiles(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : [],
  );
}

/**
 * Relative links in the pages whose file does not exist, as `file: target`.
 * @param {string} dir
 * @returns {string[]}
 */
export function brokenLinks(dir) {
  /** @type {string[]} */
  const broken = [];
  for (const file of markdownFiles(dir)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1] ?? '';
      if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue;
      const path = resolve(dirname(file), decodeURIComponent(target.split('#')[0] ?? ''));
      if (!existsSync(path)) broken.push(`${relative(root, file)}: ${target}`);
    }
  }
  return broken;
}

function main() {
  const rollupOnly = process.argv.includes('--rollup');
  if (!existsSync(join(root, 'dist', 'index.d.ts'))) {
    console.error('dist/index.d.ts is missing: run `npx tsc -p tsconfig.json` first.');
    return 1;
  }
  const problems = extract();
  if (rollupOnly) {
    // Packing needs the declaration file; the documentation's warnings are
    // the docs check's business (npm run docs:api, test/docs/api.test.ts).
    for (const p of problems) console.warn(`warning: ${p}`);
    if (!existsSync(join(root, 'dist', 'semvec.d.ts'))) {
      console.error('API Extractor did not write dist/semvec.d.ts');
      return 1;
    }
    console.log('dist/semvec.d.ts: the public API in one declaration file');
    return 0;
  }
  {
    const out = join(root, 'docs', 'api');
    rmSync(out, { recursive: true, force: true });
    const documenter = join(dirname(require.resolve('@microsoft/api-documenter')), '..', 'bin', 'api-documenter');
    const r = spawnSync(process.execPath, [documenter, 'markdown', '-i', join(root, 'build', 'api'), '-o', out], { encoding: 'utf8' });
    if (r.status !== 0) problems.push(`api-documenter failed:\n${r.stdout}${r.stderr}`);
    else problems.push(...brokenLinks(out).map((l) => `broken link in ${l}`));
    if (problems.length === 0) console.log(`API reference: ${relative(root, out)}/index.md (${markdownFiles(out).length} pages)`);
  }
  if (problems.length > 0) {
    console.error(`${problems.length} problem(s) in the API documentation:`);
    for (const p of problems) console.error(`  ${p}`);
    return 1;
  }
  console.log('dist/semvec.d.ts: the public API in one declaration file');
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = main();
}
