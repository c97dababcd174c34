/**
 * Record metadata kept in memory as typed columns, one set per field, so
 * that `where` filters over a million records take milliseconds: each
 * operator is one pass over a typed array. Slots are dense (a removed slot
 * takes the last record), and each slot knows its record's row id.
 */
import type { Metadata, MetadataValue } from './metadata.js';

const MISSING = -1;

class Column {
  num: Float64Array; // NaN: not a number here
  str: Int32Array; // dictionary code, MISSING: not a string here
  bool: Int8Array; // 0 / 1, MISSING: not a boolean here
  readonly dict = new Map<string, number>();

  constructor(capacity: number) {
    this.num = new Float64Array(capacity).fill(NaN);
    this.str = new Int32Array(capacity).fill(MISSING);
    this.bool = new Int8Array(capacity).fill(MISSING);
  }

  grow(capacity: number): void {
    const num = new Float64Array(capacity).fill(NaN);
    num.set(this.num);
    const str = new Int32Array(capacity).fill(MISSING);
    str.set(this.str);
    const bool = new Int8Array(capacity).fill(MISSING);
    bool.set(this.bool);
    this.num = num;
    this.str = str;
    this.bool = bool;
  }

  set(slot: number, v: MetadataValue | undefined): void {
    this.num[slot] = typeof v === 'number' ? v : NaN;
    this.bool[slot] = typeof v === 'boolean' ? (v ? 1 : 0) : MISSING;
    if (typeof v === 'string') {
      let code = this.dict.get(v);
      if (code === undefined) {
        code = this.dict.size;
        this.dict.set(v, code);
      }
      this.str[slot] = code;
    } else {
      this.str[slot] = MISSING;
    }
  }

  move(from: number, to: number): void {
    this.num[to] = this.num[from]!;
    this.str[to] = this.str[from]!;
    this.bool[to] = this.bool[from]!;
  }
}

export class MetadataColumns {
  #capacity = 1024;
  #size = 0;
  #rids = new Float64Array(this.#capacity);
  readonly #slotOf = new Map<number, number>();
  readonly #columns = new Map<string, Column>();

  /** Records held. */
  get size(): number {
    return this.#size;
  }

  /** Row id of each slot (a view; valid until the next change). */
  rids(): Float64Array {
    return this.#rids.subarray(0, this.#size);
  }

  #column(field: string): Column {
    let c = this.#columns.get(field);
    if (!c) {
      c = new Column(this.#capacity);
      this.#columns.set(field, c);
    }
    return c;
  }

  #ensure(n: number): void {
    if (n <= this.#capacity) return;
    let cap = this.#capacity;
    while (cap < n) cap *= 2;
    const rids = new Float64Array(cap);
    rids.set(this.#rids);
    this.#rids = rids;
    for (const c of this.#columns.values()) c.grow(cap);
    this.#capacity = cap;
  }

  /** Sets (adds or replaces) the metadata of a record. */
  set(rid: number, metadata: Metadata | null | undefined): void {
    let slot = this.#slotOf.get(rid);
    if (slot === undefined) {
      this.#ensure(this.#size + 1);
      slot = this.#size++;
      this.#slotOf.set(rid, slot);
      this.#rids[slot] = rid;
    }
    const m = metadata ?? {};
    for (const [field, c] of this.#columns) c.set(slot, m[field]);
    for (const [field, v] of Object.entries(m)) if (!this.#columns.has(field)) this.#column(field).set(slot, v);
  }

  delete(rid: number): void {
    const slot = this.#slotOf.get(rid);
    if (slot === undefined) return;
    const last = this.#size - 1;
    if (slot !== last) {
      const moved = this.#rids[last]!;
      this.#rids[slot] = moved;
      this.#slotOf.set(moved, slot);
      for (const c of this.#columns.values()) c.move(last, slot);
    }
    for (const c of this.#columns.values()) c.set(last, undefined);
    this.#slotOf.delete(rid);
    this.#size = last;
  }

  /** 1 where the field holds exactly this value (same type). */
  equals(field: string, v: MetadataValue): Uint8Array {
    const n = this.#size;
    const out = new Uint8Array(n);
    const c = this.#columns.get(field);
    if (!c) return out;
    if (typeof v === 'number') {
      const a = c.num;
      for (let i = 0; i < n; i++) out[i] = a[i] === v ? 1 : 0;
    } else if (typeof v === 'boolean') {
      const a = c.bool;
      const want = v ? 1 : 0;
      for (let i = 0; i < n; i++) out[i] = a[i] === want ? 1 : 0;
    } else {
      const code = c.dict.get(v);
      if (code === undefined) return out;
      const a = c.str;
      for (let i = 0; i < n; i++) out[i] = a[i] === code ? 1 : 0;
    }
    return out;
  }

  /** 1 where the field holds any of the values (same type): one pass, whatever their number. */
  equalsAny(field: string, values: readonly MetadataValue[]): Uint8Array {
    const n = this.#size;
    const out = new Uint8Array(n);
    const c = this.#columns.get(field);
    if (!c) return out;
    const nums = new Set<number>();
    const codes = new Set<number>();
    let bools = 0; // bit 0: false wanted, bit 1: true wanted
    for (const v of values) {
      if (typeof v === 'number') nums.add(v);
      else if (typeof v === 'boolean') bools |= v ? 2 : 1;
      else {
        const code = c.dict.get(v);
        if (code !== undefined) codes.add(code);
      }
    }
    for (let i = 0; i < n; i++) {
      const b = c.bool[i]!;
      out[i] = nums.has(c.num[i]!) || codes.has(c.str[i]!) || (b !== MISSING && (bools >> b) & 1) ? 1 : 0;
    }
    return out;
  }

  /** 1 where the field is a number and compares as asked. */
  compare(field: string, op: '$gt' | '$gte' | '$lt' | '$lte', v: number): Uint8Array {
    const n = this.#size;
    const out = new Uint8Array(n);
    const c = this.#columns.get(field);
    if (!c) return out;
    const a = c.num; // NaN compares false: non-numbers never match
    if (op === '$gt') for (let i = 0; i < n; i++) out[i] = a[i]! > v ? 1 : 0;
    else if (op === '$gte') for (let i = 0; i < n; i++) out[i] = a[i]! >= v ? 1 : 0;
    else if (op === '$lt') for (let i = 0; i < n; i++) out[i] = a[i]! < v ? 1 : 0;
    else for (let i = 0; i < n; i++) out[i] = a[i]! <= v ? 1 : 0;
    return out;
  }

  /** The slot of a record, or undefined. */
  slotOf(rid: number): number | undefined {
    return this.#slotOf.get(rid);
  }

  /** Row ids of the slots set in mask. */
  select(mask: Uint8Array): Float64Array {
    let count = 0;
    for (let i = 0; i < mask.length; i++) count += mask[i]!;
    const out = new Float64Array(count);
    let j = 0;
    for (let i = 0; i < mask.length; i++) if (mask[i]) out[j++] = this.#rids[i]!;
    return out;
  }
}
