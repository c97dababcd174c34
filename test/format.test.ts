/**
 * The index file format: golden files of each version stay readable; damaged,
 * newer and foreign files are rejected with the right code, never a crash.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { FlatIndex, FileFormatError, NotFoundError, SemvecError } from '../src/index.js';
import { crc32c, randomVectors } from './helpers/data.js';
import { codeOf } from './helpers/errors.js';

const golden = fileURLToPath(new URL('fixtures/flat-v1.svx', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'semvec-format-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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

  it('is what the current writer produces for the same index (format 1.0 is stable)', () => {
    const bytes = readFileSync(golden);
    expect(FlatIndex.fromBuffer(bytes).toBuffer().equals(bytes)).toBe(true);
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('SEMVECIX');
    expect(bytes.readUInt16LE(8)).toBe(1);
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
    const newer = withHeader(good, (v) => v.setUint16(8, 3, true));
    let err: unknown;
    try {
      FlatIndex.fromBuffer(newer);
    } catch (e) {
      err = e;
    }
    expect((err as SemvecError).code).toBe('ERR_UNSUPPORTED_VERSION');
    expect((err as Error).message).toMatch(/format 3\.0 is newer than this semvec reads \(2\.x\); upgrade semvec/);
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
