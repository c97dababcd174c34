/** The build files agree with each other and with the project's rules. */
import { readdirSync, readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { ErrorCode } from '../src/index.js';
import { native } from '../src/native.js';

const read = (p: string) => readFileSync(new URL(`../${p}`, import.meta.url), 'utf8');

describe('build files', () => {
  it('binding.gyp compiles exactly the sources CMakeLists.txt compiles', () => {
    const cmake = read('CMakeLists.txt');
    const cmakeSources = new Set(
      [...cmake.matchAll(/native\/(?:core|binding)\/[\w]+\.cpp/g)].map((m) => m[0]),
    );
    const gyp = read('binding.gyp');
    const gypSources = new Set([...gyp.matchAll(/native\/(?:core|binding)\/[\w]+\.cpp/g)].map((m) => m[0]));
    expect([...gypSources].sort()).toEqual([...cmakeSources].sort());
  });

  it('no build ships -march=native; SIMD flags stay on their own translation units', () => {
    const code = (f: string) => read(f).replace(/#.*$/gm, ''); // without comments
    for (const f of ['CMakeLists.txt', 'binding.gyp']) expect(code(f)).not.toMatch(/-march=native|-mtune=native/);
    const cmake = code('CMakeLists.txt');
    const global = cmake.replace(/set_source_files_properties\([\s\S]*?\)\n/g, '');
    expect(global).not.toMatch(/-mavx/);
  });

  it('the native core never includes N-API', () => {
    const dir = new URL('../native/core/', import.meta.url);
    for (const f of readdirSync(dir)) {
      expect(readFileSync(new URL(f, dir), 'utf8'), f).not.toMatch(/#include\s*[<"](napi|node_api)/);
    }
  });
});

describe('errors', () => {
  it('are made by code in one place: no error class is constructed outside src/errors.ts', () => {
    const classes = 'SemvecError|ValidationError|NotFoundError|FileFormatError|SemvecIOError|NativeError';
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(new URL(`../${dir}/`, import.meta.url), { withFileTypes: true })) {
        const path = `${dir}/${entry.name}`;
        if (entry.isDirectory()) walk(path);
        else if (/\.(ts|js)$/.test(entry.name) && path !== 'src/errors.ts') {
          read(path).split('\n').forEach((line, i) => {
            if (new RegExp(`new (${classes})\\(`).test(line)) offenders.push(`${path}:${i + 1}: ${line.trim()}`);
          });
        }
      }
    };
    walk('src');
    expect(offenders).toEqual([]);
  });
});

describe('the native boundary', () => {
  const nativeSources = (dir: string) =>
    readdirSync(new URL(`../native/${dir}/`, import.meta.url))
      .filter((f) => /\.(h|cpp|inc)$/.test(f))
      .map((f) => read(`native/${dir}/${f}`));

  it('every error code native code can raise is one of the TypeScript codes', () => {
    const codes = new Set<string>();
    for (const text of [...nativeSources('core'), ...nativeSources('binding')]) {
      for (const m of text.matchAll(/"(ERR_[A-Z_]+)"/g)) codes.add(m[1] as string);
    }
    expect(codes.size).toBeGreaterThan(5);
    const known = new Set<string>(Object.values(ErrorCode));
    expect([...codes].filter((c) => !known.has(c))).toEqual([]);
  });

  /** The members an interface of src/native.ts declares (with those of the interfaces it extends). */
  function declared(name: string): string[] {
    const decl = read('src/native.ts');
    const at = decl.search(new RegExp(`export interface ${name}[ <]`));
    expect(at, `interface ${name}`).toBeGreaterThanOrEqual(0);
    const body = decl.slice(at, decl.indexOf('\n}\n', at));
    const own = [...body.matchAll(/^ {2}(?:readonly )?(\w+)[(:?]/gm)].map((m) => m[1] as string);
    const base = /extends (\w+)/.exec(body.split('\n')[0] as string)?.[1];
    return [...new Set([...own, ...(base ? declared(base) : [])])].sort();
  }
  const methods = (cls: { prototype: object }) => Object.getOwnPropertyNames(cls.prototype).filter((m) => m !== 'constructor').sort();
  const statics = (cls: object) => Object.getOwnPropertyNames(cls).filter((m) => !['length', 'name', 'prototype', 'arguments', 'caller'].includes(m)).sort();

  it("the addon's exports and classes are exactly what its TypeScript declaration lists", () => {
    const addon = native();
    expect(Object.keys(addon).sort()).toEqual(declared('NativeAddon'));
    expect(methods(addon.FlatIndex)).toEqual(declared('NativeFlatIndex'));
    expect(methods(addon.IvfIndex)).toEqual(declared('NativeIvfIndex'));
    for (const cls of [addon.FlatIndex, addon.IvfIndex]) expect(statics(cls)).toEqual(declared('NativeIndexClass'));
  });
});

describe('docs/architecture.md', () => {
  it('names only files that exist (the map of concepts to files stays true)', () => {
    const doc = read('docs/architecture.md');
    const tables = doc.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| concept') && !l.startsWith('|---'));
    const named = tables.flatMap((l) => [...(l.split('|')[2] ?? '').matchAll(/`([\w./*-]+)`/g)].map((m) => m[1] as string));
    expect(named.length).toBeGreaterThan(60);
    const section = (l: string) => (doc.slice(0, doc.indexOf(l)).match(/### .*\(`([\w/]+)`/g) ?? []).pop()?.match(/`([\w/]+)`/)?.[1] ?? '';
    const missing: string[] = [];
    for (const line of tables) {
      const dir = section(line);
      for (const m of (line.split('|')[2] ?? '').matchAll(/`([\w./*-]+)`/g)) {
        const name = m[1] as string;
        const candidates = name.includes('*') ? [] : [`${dir}${name}`];
        if (name.includes('*')) {
          const [stem, ext] = name.split('*') as [string, string];
          const folder = `${dir}${stem.slice(0, stem.lastIndexOf('/') + 1)}`;
          const prefix = stem.slice(stem.lastIndexOf('/') + 1);
          const hits = readdirSync(new URL(`../${folder}`, import.meta.url)).filter((f) => f.startsWith(prefix) && f.endsWith(ext));
          if (hits.length === 0) missing.push(`${dir}${name}`);
          continue;
        }
        for (const c of candidates) {
          try {
            read(c);
          } catch {
            missing.push(c);
          }
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
