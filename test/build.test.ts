/** The build files agree with each other and with the project's rules. */
import { readdirSync, readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

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
