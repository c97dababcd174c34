/**
 * bench/lib/format.ts: numbers and tables as the benchmarks print them, and
 * progress notes (on stderr, so stdout holds only the results).
 */

export const fmtInt = (x: number): string => Math.round(x).toLocaleString('en-US');
export const fmt = (x: number, digits = 2): string =>
  x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const fmtMs = (ms: number): string =>
  ms < 10 ? `${fmt(ms, 3)} ms` : ms < 1000 ? `${fmt(ms, 1)} ms` : `${fmt(ms / 1e3, 2)} s`;
export const fmtBytes = (b: number): string =>
  b >= 2 ** 30 ? `${fmt(b / 2 ** 30, 2)} GiB` : b >= 2 ** 20 ? `${fmt(b / 2 ** 20, 1)} MiB` : `${fmtInt(b / 1024)} KiB`;
/** Queries per second: whole numbers from 100 up, one decimal below. */
export const fmtQps = (qps: number): string => (qps >= 100 ? fmtInt(qps) : fmt(qps, 1));
/** 1000000 -> "1M", 100000 -> "100k". */
export const fmtSize = (n: number): string =>
  n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : fmtInt(n);
/** A ratio as "3.41x", or "-" when there is none. */
export const fmtRatio = (x: number | null): string => (x === null ? '-' : `${fmt(x, 2)}x`);
export const verdict = (pass: boolean): string => (pass ? 'PASS' : 'MISS');

/** A text table: the first `left` columns left-aligned, the others right-aligned. */
export function table(headers: string[], rows: string[][], indent = '  ', left = 1): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]): string =>
    indent +
    cells
      .map((cell, c) => (c < left ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), indent + widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** {@link table} in Markdown, aligned the same way (cells' `|` escaped). */
export function markdownTable(headers: string[], rows: string[][], left = 1): string {
  const line = (cells: string[]): string => `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(headers), `|${headers.map((_, c) => (c < left ? '---' : '---:')).join('|')}|`, ...rows.map(line)].join('\n');
}

/** A progress note on stderr (stdout keeps only the results). */
export function progress(message: string): void {
  process.stderr.write(`  .. ${message}\n`);
}
