/**
 * A reader for the crash tests: opens the collection directory argv[2]
 * read-only (waiting until the writer has created the collection), then
 * reads in a loop until killed, checking that what it sees is never torn:
 *   - every record it reads is whole: its document, metadata and embedding
 *     are the ones the writer wrote together (crash-writer.ts);
 *   - a query for a record it has just read finds that record;
 *   - the sequence number it has caught up to never goes back.
 * Prints `ok <records> <seq>` after each pass and `torn <what>` on a
 * violation.
 */
import { Client } from '../../src/index.js';
import { vectorOf } from './crash-writer.js';

const isMain = process.argv[1]?.endsWith('crash-reader.ts');
if (isMain) {
  const dir = process.argv[2] as string;
  const out = (line: string) => process.stdout.write(`${line}\n`);
  let client: Client | undefined;
  let col;
  for (;;) {
    try {
      client ??= await Client.open(dir, { readOnly: true, refreshMs: 0 });
      col = await client.getCollection('crash');
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 20)); // not created yet
    }
  }
  let last = 0;
  for (;;) {
    const seq = await col.refresh();
    if (seq < last) out(`torn seq went back from ${last} to ${seq}`);
    last = seq;
    const rows = await col.get({ include: ['documents', 'metadatas', 'embeddings'], limit: 200 });
    for (const r of rows) {
      const n = Number(r.id.slice(1));
      const want = vectorOf(n);
      const whole = r.document === `doc ${n}` && r.metadata?.i === n && r.embedding?.every((v, c) => v === Math.fround(want[c] as number));
      if (!whole) out(`torn record ${r.id}: ${JSON.stringify({ document: r.document, metadata: r.metadata })}`);
    }
    const probe = rows[rows.length - 1];
    if (probe) {
      const [hits] = await col.query({ queryEmbeddings: [vectorOf(Number(probe.id.slice(1)))], nResults: 3, include: [] });
      // The record may have been deleted since it was read: only a record still present must be found.
      const still = (await col.get({ ids: [probe.id], include: [] })).length === 1;
      await col.refresh();
      if (still && !hits?.some((h) => h.id === probe.id)) {
        const [again] = await col.query({ queryEmbeddings: [vectorOf(Number(probe.id.slice(1)))], nResults: 3, include: [] });
        if (!again?.some((h) => h.id === probe.id) && (await col.get({ ids: [probe.id], include: [] })).length === 1) {
          out(`torn index: ${probe.id} is stored but a query for its own vector does not find it`);
        }
      }
    }
    out(`ok ${rows.length} ${seq}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
