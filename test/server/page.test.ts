/**
 * The page of `semvec serve` in a real browser: Debian's Chromium driven by
 * playwright-core. Skipped, with a message, where /usr/bin/chromium is
 * absent (CI installs it: .ci/run).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Client } from '../../src/index.js';
import { createServer, type SemvecServer } from '../../src/server/app.js';

const CHROMIUM = process.env.SEMVEC_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`test/server/page.test.ts: skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);

describe.skipIf(!haveChromium)('the page, in Chromium', () => {
  let client: Client;
  let server: SemvecServer;
  let url: string;
  let browser: import('playwright-core').BrowserContext;
  const profile = mkdtempSync(join(tmpdir(), 'semvec-chromium-'));

  beforeAll(async () => {
    client = new Client();
    // Three well-separated clusters in 8-d, 60 records.
    const col = await client.createCollection('clusters', { metric: 'l2' });
    const names = ['red', 'green', 'blue'];
    await col.add({
      ids: Array.from({ length: 60 }, (_, i) => `r${i}`),
      embeddings: Array.from({ length: 60 }, (_, i) => Array.from({ length: 8 }, (_, j) => (j === i % 3 ? 10 : 0) + Math.sin(i * 7 + j))),
      documents: Array.from({ length: 60 }, (_, i) => `<b>record</b> ${i}`),
      metadatas: Array.from({ length: 60 }, (_, i) => ({ cluster: names[i % 3] as string, n: i })),
    });
    await client.createCollection('empty');
    server = await createServer({ client });
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const address = server.app.server.address() as { port: number };
    url = `http://127.0.0.1:${address.port}/`;
    const { chromium } = await import('playwright-core');
    // A fresh profile (--user-data-dir) per run.
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1200, height: 900 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await client?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  it('lists the collections, queries by vector with a where filter, and plots the sample coloured by a field', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(url);
    await page.waitForSelector('#collections tbody tr');
    const rows = await page.$$eval('#collections tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => (td as { textContent: string | null }).textContent)));
    expect(await page.textContent('#server')).toMatch(/^semvec \d+\.\d+\.\d+ · Chroma API v2$/);
    expect(rows).toEqual([
      ['clusters', '60', '8', 'l2'],
      ['empty', '0', '–', 'cosine'],
    ]);

    // The first collection is selected: its sample is plotted, coloured by the first field.
    await page.waitForFunction("document.querySelectorAll('#projection circle').length === 60");
    expect(await page.inputValue('#colour-by')).toBe('cluster');
    const fills = await page.$$eval('#projection circle', (cs) => cs.map((c) => c.getAttribute('fill')));
    expect(new Set(fills).size).toBe(3);
    const legend = await page.$$eval('#legend li', (lis) => lis.map((li) => li.textContent));
    expect(legend).toEqual(['blue', 'green', 'red']);
    // The clusters are apart in the projection: points of one colour are closer to each other than to the others.
    const pts = await page.$$eval('#projection circle', (cs) => cs.map((c) => ({ x: Number(c.getAttribute('cx')), y: Number(c.getAttribute('cy')), f: c.getAttribute('fill') })));
    const centre = (f: string | null) => {
      const own = pts.filter((p) => p.f === f);
      return { x: own.reduce((s, p) => s + p.x, 0) / own.length, y: own.reduce((s, p) => s + p.y, 0) / own.length };
    };
    for (const p of pts) {
      const dist = (c: { x: number; y: number }) => Math.hypot(p.x - c.x, p.y - c.y);
      const mine = dist(centre(p.f));
      for (const f of new Set(fills)) if (f !== p.f) expect(mine).toBeLessThan(dist(centre(f)));
    }
    await page.selectOption('#colour-by', 'n'); // a numeric field: a colour ramp, two legend entries
    expect(await page.$$eval('#legend li', (lis) => lis.map((li) => li.textContent))).toEqual(['n = 0', 'n = 59']);

    // A pasted vector with a where filter.
    await page.fill('#query', '[10, 0, 0, 0, 0, 0, 0, 0]');
    await page.fill('#where', '{"cluster": {"$ne": "red"}}');
    await page.fill('#n-results', '5');
    await page.click('button[type=submit]');
    await page.waitForSelector('#results:not([hidden]) tbody tr');
    const results = await page.$$eval('#results tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => (td as { textContent: string | null }).textContent ?? '')));
    expect(results).toHaveLength(5);
    for (const r of results) {
      expect(JSON.parse(r[5] as string).cluster).not.toBe('red');
      expect(Number(r[2])).toBeCloseTo(-Number(r[3]), 4); // l2: score = -distance
    }
    // Documents are shown as text, never as markup.
    expect(results[0]![4]).toMatch(/^<b>record<\/b> \d+$/);
    expect(await page.$$eval('#results b', (bs) => bs.length)).toBe(0);

    expect(errors).toEqual([]);
    // A text query on a collection without a semvec model: the server's message is shown.
    await page.fill('#query', 'some words');
    await page.fill('#where', '');
    await page.click('button[type=submit]');
    await page.waitForSelector('#query-error:not([hidden])');
    expect(await page.textContent('#query-error')).toMatch(/no embedding function/);

    await page.screenshot({ path: join(tmpdir(), 'semvec-page.png'), fullPage: true });
    await page.close();
  });
});
