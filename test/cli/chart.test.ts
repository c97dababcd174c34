/**
 * The SVG charts of src/cli/chart.ts (used by `semvec bench`, bench/ivf.ts
 * and bench/peers.ts), checked on their markup: well-formed documents, one
 * mark per value, escaped text, bar heights ordered like the values.
 */
import { describe, expect, it } from 'vitest';

import { renderBarSvg, renderRecallQpsSvg } from '../../src/cli/chart.js';

/** Heights of the bars, in document order. */
const barHeights = (svg: string): number[] => [...svg.matchAll(/<rect class="bar" [^>]*height="([\d.]+)"/g)].map((m) => Number(m[1]));

const isDocument = (svg: string): void => {
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
};

describe('renderBarSvg', () => {
  const chart = {
    title: 'Exact <search> & QPS',
    groups: ['semvec', 'faiss', 'usearch'],
    series: [
      { name: 'single', values: [500, 50, 120] },
      { name: 'batch', values: [5000, 900, 150] },
    ],
    yLabel: 'QPS',
  };

  it('draws one bar per value, grouped, with labels, legend and escaped text', () => {
    const svg = renderBarSvg({ ...chart, subtitle: 'k = 10', notes: ['a note'] });
    isDocument(svg);
    expect(barHeights(svg)).toHaveLength(6);
    for (const g of chart.groups) expect(svg).toContain(`>${g}</text>`);
    for (const s of chart.series) expect(svg).toContain(`>${s.name}</text>`);
    expect(svg).toContain('>5,000</text>'); // the value above its bar
    expect(svg).toContain('Exact &lt;search&gt; &amp; QPS');
    expect(svg).toContain('a note');
  });

  it('orders bar heights like the values, on a linear and a log axis', () => {
    for (const log of [false, true]) {
      const h = barHeights(renderBarSvg({ ...chart, log }));
      // Document order: group by group, series within a group.
      const values = [500, 5000, 50, 900, 120, 150];
      for (let i = 0; i < values.length; i++) {
        for (let j = 0; j < values.length; j++) {
          if (values[i]! < values[j]!) expect(h[i]!).toBeLessThan(h[j]!);
        }
        expect(h[i]!).toBeGreaterThan(0);
      }
      if (!log) expect(h[1]! / h[0]!).toBeCloseTo(10, 1); // linear from 0
    }
  });

  it('leaves out values it cannot draw', () => {
    const svg = renderBarSvg({ ...chart, log: true, series: [{ name: 's', values: [0, Number.NaN, 10] }] });
    isDocument(svg);
    expect(barHeights(svg)).toHaveLength(1);
  });
});

describe('renderRecallQpsSvg', () => {
  it('draws a curve per series with labelled points and a baseline', () => {
    const svg = renderRecallQpsSvg({
      title: 'recall vs QPS',
      k: 10,
      series: [
        { name: 'ivf', points: [{ recall: 0.6, qps: 20000, label: '1' }, { recall: 0.9, qps: 5000, label: '8' }, { recall: 1, qps: 800, label: '64' }] },
        { name: 'hnsw', points: [{ recall: 0.8, qps: 3000 }, { recall: 0.97, qps: 900 }], dashed: true },
      ],
      baselines: [{ name: 'flat', qps: 500 }],
    });
    isDocument(svg);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg).toContain('stroke-dasharray="2 3"');
    expect(svg).toContain('recall@10');
    expect(svg).toContain('flat: 500 QPS (recall 1)');
    expect(svg).toContain('>64</text>');
  });
});
