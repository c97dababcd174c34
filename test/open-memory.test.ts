/**
 * Opening by mapping does not read the file: `open({ verify: false })` of a
 * large file leaves the process's resident memory where it was until a
 * search touches the pages, where `load` raises it by the file's size.
 * Measured with the kernel's page accounting (/proc/self/smaps and
 * smaps_rollup), never with a clock; Linux only.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { FlatIndex, IVFIndex, type IVFEncoding, type Metric } from '../src/index.js';
import { randomVectors } from './helpers/data.js';
import { tempDir } from './helpers/temp.js';

const linux = process.platform === 'linux';
const dir = tempDir('semvec-open-memory-');
const dim = 256;
const MiB = 2 ** 20;

/** The process's resident bytes, from /proc/self/smaps_rollup. */
function rss(): number {
  const m = /^Rss:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'));
  if (!m) throw new Error('no Rss line in /proc/self/smaps_rollup');
  return Number(m[1]) * 1024;
}

/** Resident bytes of this process's mappings of `path`, from /proc/self/smaps. */
function mappedRss(path: string): number {
  let inFile = false;
  let bytes = 0;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inFile = line.endsWith(` ${path}`);
    else if (inFile) {
      const m = /^Rss:\s+(\d+) kB$/.exec(line);
      if (m) bytes += Number(m[1]) * 1024;
    }
  }
  return bytes;
}

/** An IVF index of 48 MiB of random vectors in 16 lists, saved in dir as `name`; its path. */
function savedIvf(name: string, metric: Metric, encoding: IVFEncoding, seed: number): string {
  const path = join(dir, name);
  const data = randomVectors((48 * MiB) / (dim * 4), dim, seed);
  const ivf = new IVFIndex({ dim, metric, nlist: 16, encoding });
  ivf.train(data, { seed: 1 });
  ivf.add(data);
  ivf.save(path);
  return path;
}

describe.skipIf(!linux)('opening by mapping reads nothing until a search (Linux only: reads /proc/self/smaps)', () => {
  it('FlatIndex.open without verify leaves RSS below a quarter of a 64 MiB file; the search maps it in; load reads it all', () => {
    const n = (64 * MiB) / (dim * 4);
    const path = join(dir, 'flat.svx');
    {
      const flat = new FlatIndex({ dim, metric: 'ip' });
      flat.add(randomVectors(n, dim, 1));
      flat.save(path);
    }
    const size = statSync(path).size;
    expect(size).toBeGreaterThan(64 * MiB);
    const query = randomVectors(1, dim, 2);

    const before = rss();
    const mapped = FlatIndex.open(path, { verify: false });
    const afterOpen = rss();
    expect(mapped.mappedBytes()).toBeGreaterThanOrEqual(64 * MiB);
    expect(afterOpen - before).toBeLessThan(size / 4);
    expect(mappedRss(path)).toBeLessThan(size / 4);

    // The same accounting sees the pages once a search has read them: the bound above can fail.
    expect(mapped.search(query, 10).ids.length).toBe(10);
    expect(mappedRss(path)).toBeGreaterThan(0.9 * 64 * MiB);

    const beforeLoad = rss();
    const loaded = FlatIndex.load(path);
    expect(rss() - beforeLoad).toBeGreaterThan(size / 2);
    expect(loaded.search(query, 10)).toEqual(mapped.search(query, 10));
  });

  it('IVFIndex.open without verify (sq8 lists) leaves RSS below a quarter of the file until a search of every list', () => {
    const path = savedIvf('ivf-sq8.svx', 'l2', 'sq8', 3);
    const size = statSync(path).size;
    expect(size).toBeGreaterThan(48 * MiB);
    const query = randomVectors(1, dim, 4);

    const before = rss();
    const mapped = IVFIndex.open(path, { verify: false });
    expect(rss() - before).toBeLessThan(size / 4);
    expect(mappedRss(path)).toBeLessThan(size / 4);

    // Every list scanned: the 8-bit codes (a fifth of the file) and the re-ranked rows are read.
    expect(mapped.search(query, 10, { nprobe: 16 }).ids.length).toBe(10);
    expect(mappedRss(path)).toBeGreaterThan(size / 8);
  });

  it('IVFIndex.open codes-only with verify (rq4) leaves none of the file resident but what a search re-reads', () => {
    const path = savedIvf('ivf-rq4.svx', 'ip', 'rq4', 5);
    const size = statSync(path).size;
    const query = randomVectors(1, dim, 6);

    // The checksum pass reads every page of the file through the mapping; a
    // plain open keeps them (the bound below would fail for it).
    const plain = IVFIndex.open(path);
    expect(mappedRss(path)).toBeGreaterThan(size / 2);
    const expected = plain.search(query, 10, { nprobe: 16, rerank: 64 });
    plain.close();

    const small = IVFIndex.open(path, { codesOnly: true });
    expect(small.memoryParts().floatsMapped).toBeGreaterThan(size / 2);
    expect(mappedRss(path)).toBeLessThan(size / 8);
    // The dropped pages come back as a re-rank reads them: the same results.
    expect(small.search(query, 10, { nprobe: 16, rerank: 64 })).toEqual(expected);
  });
});
