/**
 * bench/lib/report.ts: what a benchmark leaves behind. The JSON results
 * (their fields are the schema docs/benchmarks/*.json follow), a Markdown
 * report that mirrors the printed tables, and SVG charts drawn by the chart
 * module `semvec bench` uses (src/cli/chart.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

import { markdownTable, table } from './format.js';

export { renderBarSvg, renderRecallQpsSvg } from '../../src/cli/chart.js';
export type { BarChart, RecallQpsChart } from '../../src/cli/chart.js';

/** Writes text to a file, making its directory first. */
export function writeText(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** Writes a benchmark's results as indented JSON with a final newline. */
export function writeJson(path: string, value: unknown): void {
  writeText(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** What a run prints; the same text and tables are kept, as Markdown, for a report file. */
export class Report {
  readonly #md: string[] = [];

  /** A section title (level 2) or sub-title (level 3). */
  heading(text: string, level: 2 | 3 = 2): void {
    console.log(level === 2 ? `\n${text}` : `\n  ${text}`);
    this.#md.push(`${'#'.repeat(level)} ${text}`, '');
  }

  /** Lines of text (one paragraph in Markdown). */
  text(...lines: string[]): void {
    for (const line of lines) console.log(`  ${line}`);
    this.#md.push(lines.join('\n'), '');
  }

  /** name-value lines (a list in Markdown). */
  list(items: readonly (readonly [string, string])[]): void {
    const width = Math.max(9, ...items.map(([name]) => name.length));
    for (const [name, value] of items) console.log(`  ${name.padEnd(width)} ${value}`);
    this.#md.push(...items.map(([name, value]) => `- ${name}: ${value}`), '');
  }

  /** A table; the first `left` columns left-aligned, the others right-aligned. */
  table(headers: string[], rows: string[][], { indent = '  ', left = 1 } = {}): void {
    console.log(table(headers, rows, indent, left));
    this.#md.push(markdownTable(headers, rows, left), '');
  }

  /** Markdown only (an image, say). */
  markdown(text: string): void {
    this.#md.push(text, '');
  }

  toMarkdown(title: string): string {
    return `# ${title}\n\n${this.#md.join('\n').trimEnd()}\n`;
  }
}
