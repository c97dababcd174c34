/**
 * bench/collection/records.ts: the records bench:collection stores and the
 * queries it times. Each record has an embedding from the clustered mixture,
 * a short document and metadata { bucket, category, published }, drawn from
 * seeded generators independently of the vectors; each query case knows which
 * records match it, so every result can be checked.
 */
import type { Metadata, QueryMatch, Where, WhereDocument } from '../../src/index.js';
import { SEEDS as DATA_SEEDS, mulberry32 } from '../lib/data.js';

export const COLLECTION = 'bench-records';
export const SEEDS = { ...DATA_SEEDS, attributes: 4, catchup: 5 } as const;
export const CATEGORIES = ['news', 'blog', 'paper', 'forum', 'manual'] as const;
const WORDS = [
  'latency', 'kernels', 'indexes', 'caching', 'vectors', 'queries', 'storage', 'threads',
  'compilers', 'networks', 'databases', 'graphs', 'sorting', 'hashing', 'parsing', 'memory',
] as const;
export const URGENT_RATE = 0.01;
const MARKER = 'urgent'; // appears only in the ~1% of documents marked urgent
/** Records the catch-up child adds before it is killed. */
export const CATCHUP_RECORDS = 1000;

/** Per-record attributes, drawn independently of the vectors. */
export interface Attributes {
  bucket: Uint16Array; // uniform 0..999
  category: Uint8Array; // index into CATEGORIES
  published: Uint8Array; // 0 / 1
  words: Uint8Array; // two indexes into WORDS per record
  urgent: Uint8Array; // 0 / 1, ~URGENT_RATE
}

export function makeAttributes(n: number, seed: number): Attributes {
  const rand = mulberry32(seed);
  const a: Attributes = {
    bucket: new Uint16Array(n),
    category: new Uint8Array(n),
    published: new Uint8Array(n),
    words: new Uint8Array(2 * n),
    urgent: new Uint8Array(n),
  };
  for (let i = 0; i < n; i++) {
    a.bucket[i] = Math.floor(rand() * 1000);
    a.category[i] = Math.floor(rand() * CATEGORIES.length);
    a.published[i] = rand() < 0.5 ? 1 : 0;
    a.words[2 * i] = Math.floor(rand() * WORDS.length);
    a.words[2 * i + 1] = Math.floor(rand() * WORDS.length);
    a.urgent[i] = rand() < URGENT_RATE ? 1 : 0;
  }
  return a;
}

function documentOf(a: Attributes, i: number, prefix = 'Record'): string {
  const urgent = a.urgent[i] ? `, marked ${MARKER}` : '';
  return `${prefix} ${i}: ${CATEGORIES[a.category[i]!]} note on ${WORDS[a.words[2 * i]!]} and ${WORDS[a.words[2 * i + 1]!]}${urgent}.`;
}

function metadataOf(a: Attributes, i: number): Metadata {
  return { bucket: a.bucket[i]!, category: CATEGORIES[a.category[i]!]!, published: a.published[i] === 1 };
}

/** A batch of records [from, to) ready for collection.add. */
export function recordsInput(a: Attributes, data: Float32Array, dim: number, from: number, to: number, idPrefix = 'r', docPrefix = 'Record') {
  const ids: string[] = [];
  const documents: string[] = [];
  const metadatas: Metadata[] = [];
  for (let i = from; i < to; i++) {
    ids.push(`${idPrefix}${i}`);
    documents.push(documentOf(a, i, docPrefix));
    metadatas.push(metadataOf(a, i));
  }
  return { ids, embeddings: data.subarray(from * dim, to * dim), documents, metadatas };
}

/** One kind of query: its filter, and how to tell whether a record or a returned match satisfies it. */
export interface QueryCase {
  name: string;
  /** Nominal share of the records matching. */
  nominal: number;
  where?: Where;
  whereDocument?: WhereDocument;
  /** Whether record i matches, from the bench's own attributes. */
  matches: (a: Attributes, i: number) => boolean;
  /** Whether a returned record (metadata and document) satisfies the filter. */
  accepts: (m: QueryMatch) => boolean;
  /** This case is judged against the filtered-query target. */
  target?: boolean;
}

function bucketBelow(limit: number, nominal: number, target = false): QueryCase {
  return {
    name: `where bucket < ${limit}`,
    nominal,
    where: { bucket: { $lt: limit } },
    matches: (a, i) => a.bucket[i]! < limit,
    accepts: (m) => typeof m.metadata?.bucket === 'number' && m.metadata.bucket < limit,
    target,
  };
}

export const CASES: readonly QueryCase[] = [
  { name: 'unfiltered', nominal: 1, matches: () => true, accepts: () => true },
  bucketBelow(500, 0.5),
  bucketBelow(50, 0.05),
  bucketBelow(10, 0.01, true),
  bucketBelow(1, 0.001),
  {
    name: 'where paper AND published AND bucket < 100',
    nominal: 0.2 * 0.5 * 0.1,
    where: { $and: [{ category: 'paper' }, { published: true }, { bucket: { $lt: 100 } }] },
    matches: (a, i) => CATEGORIES[a.category[i]!] === 'paper' && a.published[i] === 1 && a.bucket[i]! < 100,
    accepts: (m) => m.metadata?.category === 'paper' && m.metadata.published === true && typeof m.metadata.bucket === 'number' && m.metadata.bucket < 100,
  },
  {
    name: `whereDocument $contains '${MARKER}'`,
    nominal: URGENT_RATE,
    whereDocument: { $contains: MARKER },
    matches: (a, i) => a.urgent[i] === 1,
    accepts: (m) => typeof m.document === 'string' && m.document.includes(MARKER),
  },
];

/** The case judged against the filtered-query target (1% where). */
export const TARGET_CASE = CASES.find((c) => c.target)!;
