/**
 * A node's snapshot of a shard on its disk: one semvec index file per
 * collection (`shard-<s>/<cid>-<seq>.svx`, the index format with its own
 * checksums) and a manifest (`shard-<s>.json`) recording the position
 * (sequence number and write token), each index file's size and payload
 * checksum, and the ids, metadata and documents of the records.
 *
 * The manifest starts with a line `SEMVEC-SHARD <version> <crc32>` over the
 * JSON after it, and is written atomically (temporary file, fsync, rename,
 * fsync of the directory) after the index files it names; files it no
 * longer names are removed afterwards. A manifest that is missing, damaged,
 * of a newer version, or names a file that is not the one recorded (size
 * or checksum) is not trusted: the node rebuilds the shard from PostgreSQL.
 */
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

import { fileSeal } from '../collection/collection-index.js';
import type { Metadata } from '../collection/metadata.js';
import { createError, ErrorCode } from '../errors.js';
import { FlatIndex } from '../flat-index.js';
import type { Metric } from '../vector-index.js';
import { ShardPart, ShardReplica } from './shard-replica.js';

/** The manifest format version this code writes and reads. */
export const SNAPSHOT_VERSION = 1;

interface PartManifest {
  cid: number;
  metric: Metric;
  dim: number;
  file: string;
  bytes: number;
  crc: number;
  nextKey: number;
  keys: number[];
  ids: string[];
  metadatas: (Metadata | null)[];
  documents: (string | null)[];
}

interface Manifest {
  shard: number;
  seq: number;
  token: number;
  parts: PartManifest[];
}

const manifestPath = (dir: string, shard: number) => join(dir, `shard-${shard}.json`);
const filesDir = (dir: string, shard: number) => join(dir, `shard-${shard}`);

async function writeAtomic(path: string, data: Buffer): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
  const dir = await open(join(path, '..'), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Writes a snapshot of the shard as it is (the caller holds its lock). */
export async function saveShard(dir: string, replica: ShardReplica): Promise<void> {
  const folder = filesDir(dir, replica.shard);
  await mkdir(folder, { recursive: true });
  const parts: PartManifest[] = [];
  for (const part of replica.parts.values()) {
    if (part.size === 0) continue;
    const file = `${part.cid}-${replica.seq}.svx`;
    await part.index.saveAsync(join(folder, file));
    const seal = await fileSeal(join(folder, file));
    if (!seal) throw createError(ErrorCode.INTERNAL, `the index file ${file} just written has no trailer`);
    const keys = [...part.idOf.keys()];
    parts.push({
      cid: part.cid,
      metric: part.metric,
      dim: part.dim,
      file,
      bytes: seal.bytes,
      crc: seal.crc,
      nextKey: part.nextKey,
      keys,
      ids: keys.map((k) => part.idOf.get(k) as string),
      metadatas: keys.map((k) => part.metadata.get(k) ?? null),
      documents: keys.map((k) => part.documents.get(k) ?? null),
    });
  }
  const manifest: Manifest = { shard: replica.shard, seq: replica.seq, token: replica.token, parts };
  const body = Buffer.from(JSON.stringify(manifest), 'utf8');
  await writeAtomic(manifestPath(dir, replica.shard), Buffer.concat([Buffer.from(`SEMVEC-SHARD ${SNAPSHOT_VERSION} ${crc32(body)}\n`), body]));
  const keep = new Set(parts.map((p) => p.file));
  for (const f of await readdir(folder)) if (!keep.has(f)) await rm(join(folder, f), { force: true });
  replica.unsaved = 0;
}

/** Removes a shard's snapshot (the node no longer holds it). */
export async function removeShard(dir: string, shard: number): Promise<void> {
  await rm(manifestPath(dir, shard), { force: true });
  await rm(filesDir(dir, shard), { recursive: true, force: true });
}

function parseManifest(raw: Buffer, shard: number): Manifest {
  const nl = raw.indexOf(10);
  const m = /^SEMVEC-SHARD (\d+) (\d+)$/.exec(raw.subarray(0, Math.max(nl, 0)).toString('latin1'));
  if (!m) throw new Error('it has no SEMVEC-SHARD header');
  if (Number(m[1]) !== SNAPSHOT_VERSION) throw new Error(`it is version ${m[1]}; this semvec reads version ${SNAPSHOT_VERSION}`);
  const body = raw.subarray(nl + 1);
  if (crc32(body) !== Number(m[2])) throw new Error('its checksum does not match');
  const manifest = JSON.parse(body.toString('utf8')) as Manifest;
  if (manifest.shard !== shard || !Number.isSafeInteger(manifest.seq) || manifest.seq < 0 || !Array.isArray(manifest.parts)) throw new Error('its fields are out of range');
  return manifest;
}

async function loadPart(folder: string, p: PartManifest): Promise<ShardPart> {
  const path = join(folder, p.file);
  const seal = await fileSeal(path);
  if (!seal || seal.bytes !== p.bytes || seal.crc !== p.crc) throw new Error(`${p.file} is missing or is not the file recorded for it`);
  const index = await FlatIndex.loadAsync(path);
  const n = p.keys.length;
  if (index.dim !== p.dim || index.metric !== p.metric || index.size !== n || p.ids.length !== n || p.metadatas.length !== n || p.documents.length !== n) {
    throw new Error(`${p.file} does not agree with the manifest`);
  }
  const part = new ShardPart(p.cid, p.metric, p.dim, index);
  part.nextKey = p.nextKey;
  p.keys.forEach((key, i) => {
    const id = p.ids[i] as string;
    part.keyOf.set(id, key);
    part.idOf.set(key, id);
    part.metadata.set(key, p.metadatas[i] ?? null);
    part.documents.set(key, p.documents[i] ?? null);
    part.columns.set(key, p.metadatas[i] ?? null);
  });
  return part;
}

/**
 * The shard from its snapshot; `{ reason }` when there is none or it
 * cannot be trusted (then rebuild it from PostgreSQL).
 */
export async function loadShard(dir: string, shard: number): Promise<ShardReplica | { reason: string }> {
  let raw: Buffer;
  try {
    raw = await readFile(manifestPath(dir, shard));
  } catch {
    return { reason: 'there is no snapshot' };
  }
  try {
    const manifest = parseManifest(raw, shard);
    const replica = new ShardReplica(shard);
    replica.seq = manifest.seq;
    replica.token = manifest.token;
    for (const p of manifest.parts) replica.parts.set(p.cid, await loadPart(filesDir(dir, shard), p));
    return replica;
  } catch (err) {
    return { reason: `the snapshot cannot be used: ${(err as Error).message}` };
  }
}
