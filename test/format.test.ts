/**
 * The index file format: golden files of each version stay readable; damaged,
 * newer and foreign files are rejected with the right code, never a crash.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { FlatIndex, FileFormatError, GraphIndex, IVFIndex, NotFoundError, SemvecError } from '../src/index.js';
import { crc32c, randomVectors } from './helpers/data.js';
import { codeOf } from './helpers/errors.js';
import { GRAPH_FIXTURE_ROWS, graphFixtureIds, graphFixtureRows } from './fixtures/make-graph-fixture.js';
import { idEntryAt, reseal, Section, sectionAt } from './helpers/format3.js';

const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));
const golden = fixture('flat-v1.svx');
const dir = mkdtempSync(join(tmpdir(), 'semvec-format-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return `${(e as SemvecError).code}: ${(e as Error).message}`;
  }
  return 'no error';
}

/** Rewrites header fields and fixes the header checksum, as a hand-made file would. */
function withHeader(bytes: Buffer, edit: (view: DataView) => void): Buffer {
  const out = Buffer.from(bytes);
  const view = new DataView(out.buffer, out.byteOffset, 64);
  edit(view);
  view.setUint32(60, crc32c(out.subarray(0, 60)), true);
  return out;
}

describe('format version 1 golden file', () => {
  it('loads with its exact contents', () => {
    const index = FlatIndex.load(golden);
    expect(index.metric).toBe('l2');
    expect(index.dim).toBe(3);
    expect(index.size).toBe(3);
    expect(index.nextId).toBe(41);
    expect(index.has(20)).toBe(false);
    expect(Array.from(index.getVector(40))).toEqual([0.5, -0.25, 2]);
    const r = index.search([1, 0, 0], 3);
    expect(Array.from(r.ids)).toEqual([10, 30, 40]);
    expect(Array.from(r.scores)).toEqual([0, 2, 4.3125]);
  });

  it('saves again as format 3, holding the same index; it cannot be mapped as it is', () => {
    const bytes = readFileSync(golden);
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('SEMVECIX');
    expect(bytes.readUInt16LE(8)).toBe(1);
    const again = FlatIndex.fromBuffer(bytes).toBuffer();
    expect(again.readUInt16LE(8)).toBe(3);
    expect(again.equals(readFileSync(fixture('flat-v3.svx')))).toBe(true);
    expect(messageOf(() => FlatIndex.open(golden))).toMatch(
      /^ERR_UNSUPPORTED_VERSION: index file format 1\.0 cannot be mapped .*load\(\) it instead, or load\(\) it and save\(\) it again/,
    );
  });
});

describe('format version 3 golden files', () => {
  it('flat: load and open (verified or not) hold the exact contents; the writer reproduces the file byte for byte', () => {
    const path = fixture('flat-v3.svx');
    const bytes = readFileSync(path);
    expect(bytes.readUInt16LE(8)).toBe(3);
    for (const index of [FlatIndex.load(path), FlatIndex.open(path), FlatIndex.open(path, { verify: false })]) {
      expect([index.metric, index.dim, index.size, index.nextId]).toEqual(['l2', 3, 3, 41]);
      expect(index.has(20)).toBe(false);
      expect(Array.from(index.getVector(40))).toEqual([0.5, -0.25, 2]);
      const r = index.search([1, 0, 0], 3);
      expect(Array.from(r.ids)).toEqual([10, 30, 40]);
      expect(Array.from(r.scores)).toEqual([0, 2, 4.3125]);
      expect(index.toBuffer().equals(bytes)).toBe(true);
    }
  });

  it('IVF f32 and sq8: load and open hold the exact contents; the writer reproduces the files byte for byte', () => {
    for (const [name, encoding, rerank] of [['ivf-v3.svx', 'f32', 0], ['ivf-sq8-v3.svx', 'sq8', 2]] as const) {
      const path = fixture(name);
      const bytes = readFileSync(path);
      expect(bytes.readUInt16LE(8)).toBe(3);
      for (const ivf of [IVFIndex.load(path), IVFIndex.open(path), IVFIndex.open(path, { verify: false })]) {
        expect([ivf.encoding, ivf.size, ivf.nlist, ivf.nprobe, ivf.nextId]).toEqual([encoding, 3, 2, 1, 41]);
        if (encoding === 'sq8') expect(ivf.rerank).toBe(rerank);
        expect(ivf.listSizes().sort()).toEqual([1, 2]);
        const r = ivf.search([1, 0, 0], 3, { nprobe: 2 });
        expect(Array.from(r.ids)).toEqual([10, 30, 40]);
        expect(Array.from(r.scores)).toEqual([0, 2, 4.3125]);
        expect(ivf.toBuffer().equals(bytes)).toBe(true);
      }
    }
  });

  it('IVF rq4 (format 4.0): load and open hold the exact contents; the writer reproduces the file byte for byte', () => {
    const path = fixture('ivf-rq4-v4.svx');
    const bytes = readFileSync(path);
    expect(bytes.readUInt16LE(8)).toBe(4);
    for (const ivf of [IVFIndex.load(path), IVFIndex.open(path), IVFIndex.open(path, { verify: false }), IVFIndex.open(path, { codesOnly: true })]) {
      expect([ivf.encoding, ivf.size, ivf.nlist, ivf.nprobe, ivf.nextId, ivf.rerank]).toEqual(['rq4', 3, 2, 1, 41, 2]);
      expect(ivf.listSizes().sort()).toEqual([1, 2]);
      const r = ivf.search([1, 0, 0], 3, { nprobe: 2, rerank: 3 });
      expect(Array.from(r.ids)).toEqual([10, 30, 40]);
      expect(Array.from(r.scores)).toEqual([0, 2, 4.3125]);
      expect(ivf.toBuffer().equals(bytes)).toBe(true);
    }
  });

  // Graph files: the code rows (section 23) of the 4 x f32 fixture are 64
  // bytes each; a row's anchor field (slot + 1, 0 for none) follows its 4
  // code bytes and 3 floats.
  const graphSection = (b: Buffer, tag: number) => {
    const table = 64 + 128;
    for (let i = 0; i < b.readUInt32LE(table); i++) {
      const e = table + 8 + 24 * i;
      if (b.readUInt32LE(e) === tag) return Number(b.readBigUInt64LE(e + 8));
    }
    throw new Error(`no section ${tag}`);
  };
  const anchorsOf = (b: Buffer) => {
    const codes = graphSection(b, 23);
    return Array.from({ length: GRAPH_FIXTURE_ROWS }, (_, i) => b.readUInt32LE(codes + 64 * i + 16));
  };
  const graphExact = () => {
    const exact = new FlatIndex({ dim: 4, metric: 'l2' });
    exact.add(graphFixtureRows(), graphFixtureIds());
    exact.remove([1003]);
    return exact;
  };

  it('graph 4.0 (anchored codes): load and open hold the exact contents; the writer reproduces the file byte for byte', () => {
    const path = fixture('graph-v4-0.svx');
    const bytes = readFileSync(path);
    expect([bytes.readUInt16LE(8), bytes.readUInt16LE(10)]).toEqual([4, 0]);
    // Rows name anchors, and an anchor names none.
    const anchors = anchorsOf(bytes);
    expect(anchors.filter((a) => a > 0).length).toBeGreaterThan(20);
    for (const a of anchors) if (a > 0) expect(anchors[a - 1]).toBe(0);
    const exact = graphExact();
    const query = graphFixtureRows()[5]!;
    for (const graph of [GraphIndex.load(path), GraphIndex.open(path), GraphIndex.open(path, { verify: false })]) {
      expect([graph.size, graph.nextId, graph.degree]).toEqual([GRAPH_FIXTURE_ROWS - 1, 1000 + GRAPH_FIXTURE_ROWS, 8]);
      expect(graph.search(query, 5, { ef: 64 })).toEqual(exact.search(query, 5));
      expect(graph.toBuffer().equals(bytes)).toBe(true);
    }
    // An anchor past the slots, or one with an anchor of its own, is a
    // corrupt file even without verify (a search follows anchors).
    const codes = graphSection(bytes, 23);
    const anchored = anchors.findIndex((a) => a > 0);
    const other = anchors.findIndex((a, i) => a > 0 && i !== anchored);
    for (const value of [GRAPH_FIXTURE_ROWS + 1, other + 1]) {
      const bad = Buffer.from(bytes);
      bad.writeUInt32LE(value, codes + 64 * anchored + 16);
      reseal(bad);
      const file = join(dir, `graph-bad-anchor-${value}.svx`);
      writeFileSync(file, bad);
      for (const open of [() => GraphIndex.load(file), () => GraphIndex.open(file, { verify: false })]) {
        expect(codeOf(open)).toBe('ERR_CORRUPT_FILE');
        expect(open).toThrow(/anchor/);
      }
    }
  });

  it('graph 3.1 (upper layers, no anchors): load and open hold the exact contents; saved again it is 4.0 without anchors', () => {
    const path = fixture('graph-v3-1.svx');
    const bytes = readFileSync(path);
    expect([bytes.readUInt16LE(8), bytes.readUInt16LE(10)]).toEqual([3, 1]);
    const exact = graphExact();
    const query = graphFixtureRows()[5]!;
    for (const graph of [GraphIndex.load(path), GraphIndex.open(path), GraphIndex.open(path, { verify: false })]) {
      expect([graph.size, graph.nextId, graph.degree]).toEqual([GRAPH_FIXTURE_ROWS - 1, 1000 + GRAPH_FIXTURE_ROWS, 8]);
      expect(graph.search(query, 5, { ef: 64 })).toEqual(exact.search(query, 5));
      const again = graph.toBuffer();
      expect([again.readUInt16LE(8), again.readUInt16LE(10)]).toEqual([4, 0]);
      expect(anchorsOf(again).every((a) => a === 0)).toBe(true);
      // The same arrays: only the version, the code stride field and the
      // checksums differ.
      expect(again.length).toBe(bytes.length);
      const differ = [...again.keys()].filter((i) => again[i] !== bytes[i]);
      const allowed = (i: number) => (i >= 8 && i < 12) || (i >= 60 && i < 64) || (i >= 136 && i < 140) || i >= bytes.length - 8;
      expect(differ.length).toBeGreaterThan(0);
      expect(differ.filter((i) => !allowed(i))).toEqual([]);
      const back = GraphIndex.fromBuffer(again);
      expect(back.search(query, 5, { ef: 64 })).toEqual(exact.search(query, 5));
      expect(back.toBuffer().equals(again)).toBe(true);
    }
  });

  it('graph 3.0 (no layers) loads and searches as before; its first add builds layers over every slot', () => {
    const graph = GraphIndex.load(fixture('graph-v3-0.svx'));
    const exact = graphExact();
    const query = graphFixtureRows()[5]!;
    expect(graph.search(query, 5, { ef: 64 })).toEqual(exact.search(query, 5));
    // Saved again it is 4.0, with a layers section of one word: no layers.
    const layerWords = (b: Buffer) => Number(b.readBigUInt64LE(64 + 64));
    const before = graph.toBuffer();
    expect([before.readUInt16LE(8), before.readUInt16LE(10), layerWords(before)]).toEqual([4, 0, 1]);
    // One more vector: the layers hold the old slots too (at 8 links, 1 in
    // 4 slots joins layer 1 with 6 words), not only the new one.
    graph.add([[0.1, 0.2, 0.3, 0.4]], [5000]);
    exact.add([[0.1, 0.2, 0.3, 0.4]], [5000]);
    expect(layerWords(graph.toBuffer())).toBeGreaterThan(6 * 25);
    expect(graph.search(query, 5, { ef: 64 })).toEqual(exact.search(query, 5));
  });

  it('the older golden files load to the indexes of the 3.0 ones', () => {
    for (const [old, now] of [['ivf-v1.svx', 'ivf-v3.svx'], ['ivf-sq8-v2.svx', 'ivf-sq8-v3.svx']] as const) {
      const loaded = IVFIndex.load(fixture(old));
      const want = IVFIndex.load(fixture(now));
      expect(loaded.centroids()).toEqual(want.centroids());
      expect(loaded.search([0.3, 0.2, 0.1], 3, { nprobe: 2 })).toEqual(want.search([0.3, 0.2, 0.1], 3, { nprobe: 2 }));
    }
    // Format 1.0 stored no rerank for f32 lists: they load with the default.
    expect(IVFIndex.load(fixture('ivf-v1.svx')).toBuffer().equals(readFileSync(fixture('ivf-v3.svx')))).toBe(true);
    expect(IVFIndex.load(fixture('ivf-sq8-v2.svx')).toBuffer().equals(readFileSync(fixture('ivf-sq8-v3.svx')))).toBe(true);
  });
});

describe('damaged and foreign files', () => {
  const index = new FlatIndex({ dim: 8, metric: 'cosine' });
  index.add(randomVectors(50, 8, 4));
  const good = index.toBuffer();

  it('every truncation is ERR_CORRUPT_FILE', () => {
    for (let cut = 0; cut < good.length; cut += 7) {
      expect(codeOf(() => FlatIndex.fromBuffer(good.subarray(0, cut)))).toBe('ERR_CORRUPT_FILE');
    }
    const path = join(dir, 'truncated.svx');
    writeFileSync(path, good.subarray(0, good.length - 1));
    expect(() => FlatIndex.load(path)).toThrow(FileFormatError);
  });

  it('every single bit flip is detected', () => {
    for (let byte = 0; byte < good.length; byte += 3) {
      if (byte === 8 || byte === 9) continue; // the major version has its own code
      const bad = Buffer.from(good);
      bad[byte]! ^= 1 << byte % 8;
      expect(codeOf(() => FlatIndex.fromBuffer(bad)), `flip at byte ${byte}`).toBe('ERR_CORRUPT_FILE');
    }
  });

  it('trailing garbage is rejected', () => {
    expect(codeOf(() => FlatIndex.fromBuffer(Buffer.concat([good, Buffer.from([0])])))).toBe('ERR_CORRUPT_FILE');
  });

  it('a newer major version is ERR_UNSUPPORTED_VERSION with advice', () => {
    const newer = withHeader(good, (v) => v.setUint16(8, 6, true));
    let err: unknown;
    try {
      FlatIndex.fromBuffer(newer);
    } catch (e) {
      err = e;
    }
    expect((err as SemvecError).code).toBe('ERR_UNSUPPORTED_VERSION');
    expect((err as Error).message).toMatch(/format 6\.0 is newer than this semvec reads \(5\.x\); upgrade semvec/);
  });

  it('a newer minor version of the same major is still read', () => {
    const minor = withHeader(good, (v) => v.setUint16(10, 7, true));
    expect(FlatIndex.fromBuffer(minor).size).toBe(50);
  });

  it('another index kind is ERR_WRONG_INDEX_KIND', () => {
    const ivf = withHeader(good, (v) => v.setUint32(12, 2, true));
    expect(codeOf(() => FlatIndex.fromBuffer(ivf))).toBe('ERR_WRONG_INDEX_KIND');
  });

  it('out-of-range fields with a valid header checksum are ERR_CORRUPT_FILE', () => {
    const edits: Array<(v: DataView) => void> = [
      (v) => v.setUint32(12, 9, true), // kind
      (v) => v.setUint32(16, 3, true), // metric
      (v) => v.setUint32(20, 0, true), // dim
      (v) => v.setUint32(20, 70000, true),
      (v) => v.setBigUint64(24, 51n, true), // count vs payload
      (v) => v.setBigUint64(32, 1n << 40n, true), // payload size
      (v) => v.setUint16(8, 0, true), // major 0
    ];
    for (const edit of edits) expect(codeOf(() => FlatIndex.fromBuffer(withHeader(good, edit)))).toBe('ERR_CORRUPT_FILE');
  });

  it('files that are not semvec indexes, and missing files', () => {
    expect(codeOf(() => FlatIndex.fromBuffer(Buffer.from('hello world, this is not an index file at all.......................')))).toBe('ERR_CORRUPT_FILE');
    expect(() => FlatIndex.load(join(dir, 'missing.svx'))).toThrow(NotFoundError);
    expect(codeOf(() => FlatIndex.load(dir))).toBe('ERR_IO');
    expect(codeOf(() => FlatIndex.fromBuffer('x' as never))).toBe('ERR_INVALID_ARGUMENT');
  });

  it('a FIFO, a socket, a directory or a device is ERR_IO "not a regular file" at once, sync and async', async () => {
    const fifo = join(dir, 'pipe.svx');
    execFileSync('mkfifo', [fifo]);
    const socket = join(dir, 'socket.svx');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    const child = fileURLToPath(new URL('helpers/special-files-child.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', child, fifo, socket, dir, '/dev/null'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    server.close();
    // A reader blocked on the FIFO (a regression) is released by opening it
    // for writing; without a reader this fails with ENXIO.
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // no reader: nothing blocked
    }
    expect(r.signal, `the loads blocked: ${r.stderr}`).toBeNull();
    const out = JSON.parse(r.stdout) as { loads: Record<string, string[]>; nearest: number };
    const kinds: Record<string, string> = {
      [fifo]: 'a FIFO',
      [socket]: 'a socket',
      [dir]: 'a directory',
      '/dev/null': 'a character device',
    };
    for (const [path, kind] of Object.entries(kinds)) {
      expect(out.loads[path]).toHaveLength(6);
      for (const result of out.loads[path]!) {
        expect(result).toBe(`ERR_IO: index path '${path}' is not a regular file (${kind})`);
      }
    }
    expect(out.nearest).toBe(1);
  });

  it('a failed save never leaves a temporary file or damages the old file', () => {
    const path = join(dir, 'keep.svx');
    index.save(path);
    const before = readFileSync(path);
    expect(codeOf(() => index.save(join(dir, 'nodir', 'x.svx')))).toBe('ERR_IO');
    index.save(path);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});

/** Sets a payload field (offset from the payload's start) and makes both checksums valid again. */
function withPayloadField(bytes: Buffer, offset: number, set: (view: DataView, at: number) => void): Buffer {
  const out = Buffer.from(bytes);
  const view = new DataView(out.buffer, out.byteOffset, out.length);
  set(view, 64 + offset);
  view.setUint32(60, crc32c(out.subarray(0, 60)), true);
  view.setUint32(out.length - 8, crc32c(out.subarray(64, out.length - 8)), true);
  return out;
}


describe('fields beyond the limits of the API, with valid checksums', () => {
  const dim = 4;
  const sq8 = new IVFIndex({ dim, metric: 'l2', nlist: 2, encoding: 'sq8' });
  sq8.train(randomVectors(40, dim, 5));
  sq8.add(randomVectors(40, dim, 6));
  const sq8Bytes = sq8.toBuffer();
  const flat = new FlatIndex({ dim, metric: 'ip' });
  flat.add(randomVectors(3, dim, 7), [1, 2, 3]);
  const flatBytes = flat.toBuffer();

  it('an sq8 rerank above 2^20 is ERR_CORRUPT_FILE naming rerank (searches used to fail with ERR_OUT_OF_MEMORY)', () => {
    for (const rerank of [(1 << 20) + 1, 0xffffffff]) {
      const bad = withPayloadField(sq8Bytes, 24, (v, at) => v.setUint32(at, rerank, true));
      expect(messageOf(() => IVFIndex.fromBuffer(bad))).toMatch(/^ERR_CORRUPT_FILE: .*rerank/);
    }
    const atLimit = IVFIndex.fromBuffer(withPayloadField(sq8Bytes, 24, (v, at) => v.setUint32(at, 1 << 20, true)));
    expect(atLimit.search(randomVectors(1, dim, 8), 3).ids.length).toBe(3);
  });

  it('an id above 2^53-1 or a next id above 2^53 is ERR_CORRUPT_FILE naming it, loaded or mapped', () => {
    const bigNext = withPayloadField(flatBytes, 0, (v, at) => v.setBigUint64(at, (1n << 53n) + 1n, true));
    expect(messageOf(() => FlatIndex.fromBuffer(bigNext))).toMatch(/^ERR_CORRUPT_FILE: .*next id 9007199254740993/);
    // Format 3 keeps an id in its store and in the id table.
    const bigId = Buffer.from(flatBytes);
    bigId.writeBigUInt64LE(1n << 53n, 64); // the next id
    bigId.writeBigUInt64LE(1n << 53n, sectionAt(bigId, Section.ids).offset);
    bigId.writeBigUInt64LE(1n << 53n, idEntryAt(bigId, 1n));
    reseal(bigId);
    expect(messageOf(() => FlatIndex.fromBuffer(bigId))).toMatch(/^ERR_CORRUPT_FILE: .*id 9007199254740992/);
    const path = join(dir, 'big-id.svx');
    writeFileSync(path, bigId);
    expect(messageOf(() => FlatIndex.open(path))).toMatch(/^ERR_CORRUPT_FILE: .*id 9007199254740992/);
    // At the limits a file (here of format 1.0) loads, and the index's own bytes load again.
    const atLimit = withPayloadField(
      withPayloadField(readFileSync(golden), 0, (v, at) => v.setBigUint64(at, 1n << 53n, true)),
      8,
      (v, at) => v.setBigUint64(at, (1n << 53n) - 1n, true),
    );
    const loaded = FlatIndex.fromBuffer(atLimit);
    expect(loaded.has(Number.MAX_SAFE_INTEGER)).toBe(true);
    writeFileSync(path, loaded.toBuffer());
    for (const again of [FlatIndex.load(path), FlatIndex.open(path)]) {
      expect(again.nextId).toBe(2 ** 53);
      expect(again.has(Number.MAX_SAFE_INTEGER)).toBe(true);
    }
    const ivfNext = withPayloadField(sq8Bytes, 0, (v, at) => v.setBigUint64(at, 1n << 60n, true));
    expect(messageOf(() => IVFIndex.fromBuffer(ivfNext))).toMatch(/^ERR_CORRUPT_FILE: .*next id/);
  });
});

describe('allocation while loading is bounded by the bytes in the file', () => {
  const child = fileURLToPath(new URL('helpers/load-peak.ts', import.meta.url));

  /** Peak RSS growth (KiB) of a child process loading (or mapping) `bytes`, and the error code if refused. */
  function loadInChild(bytes: Buffer, kind: 'flat' | 'ivf', how: 'load' | 'open'): { grownKiB: number; code?: string } {
    const path = join(dir, `peak-${kind}-${bytes.length}.svx`);
    writeFileSync(path, bytes);
    const r = spawnSync(process.execPath, ['--import', 'tsx', child, path, kind, how], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as { grownKiB: number; code?: string };
  }

  it('a 456-byte untrained IVF file with nlist 2^20 loads and maps without building 2^20 lists', () => {
    for (const encoding of ['f32', 'sq8'] as const) {
      const small = new IVFIndex({ dim: 4, metric: 'l2', nlist: 1, encoding }).toBuffer();
      const huge = withPayloadField(small, 8, (v, at) => {
        v.setUint32(at, 1 << 20, true); // nlist
        v.setUint32(at + 4, 1, true); // nprobe
      });
      expect(huge.length).toBe(456);
      expect(IVFIndex.fromBuffer(huge).nlist).toBe(1 << 20);
      for (const how of ['load', 'open'] as const) {
        const { grownKiB, code } = loadInChild(huge, 'ivf', how);
        expect(code).toBeUndefined();
        // Building every list took 120 MiB (f32) and 280 MiB (sq8).
        expect(grownKiB, `peak RSS grew by ${grownKiB} KiB`).toBeLessThan(48 * 1024);
      }
    }
  });
});

describe('temporary files of saves killed midway', () => {
  const child = fileURLToPath(new URL('helpers/save-loop.ts', import.meta.url));

  /** Starts a child saving to `path` in a loop and kills it with SIGKILL while a temporary file exists. */
  async function killMidSave(path: string, folder: string): Promise<string[]> {
    const writer = spawn(process.execPath, ['--import', 'tsx', child, path], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => writer.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve) => writer.stdout.once('data', () => resolve()));
    for (let polls = 0; polls < 20_000; polls++) {
      if (readdirSync(folder).some((f) => f.includes('.tmp-'))) break;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    writer.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    return readdirSync(folder).filter((f) => f.includes('.tmp-'));
  }

  const isAlive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  };

  it('a writer killed with SIGKILL mid-save leaves a temp file that the next save removes', async () => {
    const folder = join(dir, 'killed');
    mkdirSync(folder);
    const path = join(folder, 'index.svx');
    let left: string[] = [];
    // A kill can land between two saves, when no temporary file exists: try again.
    for (let attempt = 0; attempt < 10 && left.length === 0; attempt++) left = await killMidSave(path, folder);
    expect(left.length).toBe(1);
    // A dead writer's file is removed once nobody has written it for a minute.
    const index = new FlatIndex({ dim: 2 });
    index.add([[1, 2]]);
    index.save(path);
    expect(readdirSync(folder).filter((f) => f.includes('.tmp-'))).toEqual(left);
    // On a busy machine the killed writer's pid may already belong to a new
    // process (pid_max is often 32768): then its file is renamed to a pid no
    // process can have, so that it is still a dead writer's.
    const pid = Number(/\.tmp-(\d+)-/.exec(left[0]!)![1]);
    if (isAlive(pid)) {
      const renamed = left[0]!.replace(`.tmp-${pid}-`, `.tmp-${Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1}-`);
      renameSync(join(folder, left[0]!), join(folder, renamed));
      left = [renamed];
    }
    const old = new Date(Date.now() - 120_000);
    utimesSync(join(folder, left[0]!), old, old);
    index.save(path);
    expect(readdirSync(folder).sort()).toEqual(['index.svx']);
  }, 60_000);
});
