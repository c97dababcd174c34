/**
 * Metadata columns on their own: typed columns per field, dense slots, and
 * the one-pass operators the where evaluator runs on them.
 */
import { describe, expect, it } from 'vitest';

import { MetadataColumns } from '../../src/collection/metadata-columns.js';

describe('metadata columns', () => {
  it('grow past their initial capacity and keep every record', () => {
    const cols = new MetadataColumns();
    for (let i = 0; i < 5000; i++) cols.set(i, { i, even: i % 2 === 0, tag: `t${i % 3}` });
    expect(cols.size).toBe(5000);
    expect(cols.select(cols.equals('tag', 't1')).length).toBe(Math.floor(5000 / 3) + (5000 % 3 > 1 ? 1 : 0));
    expect(cols.select(cols.compare('i', '$gte', 4990)).length).toBe(10);
  });

  it('match by type: numbers, strings and booleans never equal each other', () => {
    const cols = new MetadataColumns();
    cols.set(1, { v: 1 });
    cols.set(2, { v: '1' });
    cols.set(3, { v: true });
    cols.set(4, {});
    expect(Array.from(cols.select(cols.equals('v', 1)))).toEqual([1]);
    expect(Array.from(cols.select(cols.equals('v', '1')))).toEqual([2]);
    expect(Array.from(cols.select(cols.equals('v', true)))).toEqual([3]);
    expect(Array.from(cols.select(cols.equalsAny('v', [1, true, 'nope'])))).toEqual([1, 3]);
    expect(Array.from(cols.select(cols.compare('v', '$lte', 5)))).toEqual([1]); // strings and booleans never compare
    expect(Array.from(cols.select(cols.equals('absent', 1)))).toEqual([]);
  });

  it('replace a record in place; delete moves the last record into the hole', () => {
    const cols = new MetadataColumns();
    cols.set(10, { k: 'a' });
    cols.set(11, { k: 'b' });
    cols.set(12, { k: 'c', extra: 1 });
    cols.set(10, { extra: 2 }); // k removed, extra added
    expect(Array.from(cols.select(cols.equals('k', 'a')))).toEqual([]);
    cols.delete(10);
    expect(cols.slotOf(12)).toBe(0);
    expect(Array.from(cols.rids())).toEqual([12, 11]);
    expect(Array.from(cols.select(cols.equals('extra', 1)))).toEqual([12]);
    cols.delete(99); // absent: nothing happens
    expect(cols.size).toBe(2);
  });
});
