/**
 * Reading format-3 index files in tests (docs/file-format.md): where a
 * section lies (from the file's own section table), where the id table
 * keeps an id, and checksums made valid again after an edit.
 */
import { crc32c } from './data.js';

/** Section tags of format 3. */
export const Section = {
  vectors: 1,
  sqNorms: 2,
  ids: 3,
  idTable: 4,
  listSizes: 5,
  centroids: 6,
  centroidSqNorms: 7,
  centroidIds: 8,
  centroidRows: 9,
  listVectors: 10,
  listSqNorms: 11,
  listIds: 12,
  codes: 13,
  codeLo: 14,
  codeStep: 15,
  codeBias: 16,
} as const;

/** The file offset of the section table: after the flat (24 bytes) or IVF (48 bytes) fields. */
export function tableOffset(bytes: Buffer): number {
  return 64 + (bytes.readUInt32LE(12) === 1 ? 24 : 48);
}

/** Where section `tag` lies in the file. */
export function sectionAt(bytes: Buffer, tag: number): { offset: number; bytes: number } {
  const table = tableOffset(bytes);
  const count = bytes.readUInt32LE(table);
  for (let i = 0; i < count; i++) {
    const e = table + 8 + 24 * i;
    if (bytes.readUInt32LE(e) === tag) return { offset: Number(bytes.readBigUInt64LE(e + 8)), bytes: Number(bytes.readBigUInt64LE(e + 16)) };
  }
  throw new Error(`no section ${tag}`);
}

/** The file offset of the id table entry holding `id`. */
export function idEntryAt(bytes: Buffer, id: bigint): number {
  const { offset, bytes: size } = sectionAt(bytes, Section.idTable);
  for (let at = offset; at < offset + size; at += 16) if (bytes.readBigUInt64LE(at) === id) return at;
  throw new Error(`id ${id} is not in the id table`);
}

/** Recomputes the header and payload checksums (in place) and returns the bytes. */
export function reseal(bytes: Buffer): Buffer {
  bytes.writeUInt32LE(crc32c(bytes.subarray(0, 60)), 60);
  bytes.writeUInt32LE(crc32c(bytes.subarray(64, bytes.length - 8)), bytes.length - 8);
  return bytes;
}
