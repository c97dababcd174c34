/**
 * Chroma identifies collections by UUID. semvec numbers them (a number is
 * never reused, even after a delete), so a collection's UUID is made from
 * its number: `00000000-0000-8000-8000-<number as 12 hex digits>`, a
 * version-8 UUID (RFC 9562) that is stable for the collection's lifetime and
 * never names another collection of the same database.
 */
const PREFIX = '00000000-0000-8000-8000-';
const ID = /^00000000-0000-8000-8000-([0-9a-f]{12})$/i;

/** The UUID of collection number `cid`. */
export function collectionId(cid: number): string {
  return PREFIX + cid.toString(16).padStart(12, '0');
}

/** The collection number of a UUID made by {@link collectionId}; undefined for any other string. */
export function cidOf(id: string): number | undefined {
  const m = ID.exec(id);
  return m ? Number.parseInt(m[1] as string, 16) : undefined;
}
