/**
 * Real text from this machine: the English manual pages under
 * /usr/share/man/man1..man8 (gzipped roff, both man and mdoc macros),
 * reduced to plain text. Each page gives its NAME line's description (a
 * natural query: "list directory contents") and its other sections'
 * paragraphs (the documents).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export interface ManPage {
  /** e.g. ls.1 */
  name: string;
  /** The NAME line's description, e.g. "list directory contents". */
  description: string;
  /** Paragraphs of the other sections (SYNOPSIS left out), in order. */
  paragraphs: string[];
}

const BREAKS = new Set(['PP', 'P', 'LP', 'TP', 'IP', 'HP', 'sp', 'br', 'RS', 'RE', 'Pp', 'Bl', 'El', 'It', 'Bd', 'Ed', 'nf', 'fi', 'in', 'TQ', 'EX', 'EE']);
const DROP = new Set(['TH', 'Dd', 'Dt', 'Os', 'so', 'ds', 'de', 'ig', 'nr', 'ne', 'ta', 'ad', 'na', 'hy', 'nh', 'll', 'ft', 'ps', 'vs', 'ti', 'ce', 'if', 'ie', 'el', 'tr', 'cc', 'UC', 'DT', 'PD', 'AT', 'mso', 'Bl', 'El', 'Ed']);

/** roff text with its escapes removed. */
export function plain(line: string): string {
  return line
    .replace(/\\f(\[[^\]]*\]|\(..|.)/g, '')
    .replace(/\\\*(\(..|\[[^\]]*\]|.)/g, '')
    .replace(/\\\(\w\w/g, ' ')
    .replace(/\\\[[^\]]*\]/g, ' ')
    .replace(/\\-/g, '-')
    .replace(/\\e/g, '\\')
    .replace(/\\[ ~0]/g, ' ')
    .replace(/\\./g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Macro arguments as text (quotes removed). */
function args(rest: string): string {
  return plain(rest.replace(/"/g, ''));
}

/** One page's roff source as a ManPage, or undefined for a redirect or a page without a description. */
export function parseManPage(name: string, source: string): ManPage | undefined {
  let section = '';
  let description = '';
  const paragraphs: string[] = [];
  let current: string[] = [];
  const flush = () => {
    if (current.length > 0 && section !== 'NAME' && section !== 'SYNOPSIS') paragraphs.push(current.join(' '));
    current = [];
  };
  for (const raw of source.split('\n')) {
    if (raw.startsWith('.\\"') || raw.startsWith("'\\\"") || raw.startsWith('\\"')) continue;
    if (/^[.']\s*$/.test(raw)) continue;
    const m = /^[.']\s*(\S+)\s*(.*)$/.exec(raw);
    if (m) {
      const [, macro = '', rest = ''] = m;
      if (macro === 'so') return undefined;
      if (macro === 'SH' || macro === 'Sh') {
        flush();
        section = args(rest).toUpperCase();
        continue;
      }
      if (macro === 'SS' || macro === 'Ss') {
        flush();
        continue;
      }
      if (macro === 'Nd') {
        description = args(rest);
        continue;
      }
      if (BREAKS.has(macro)) {
        flush();
        if (macro === 'IP' || macro === 'It') {
          const t = args(rest);
          if (t) current.push(t);
        }
        continue;
      }
      if (DROP.has(macro)) continue;
      const t = args(rest);
      if (t) (section === 'NAME' ? (description += ` ${t}`) : current.push(t));
      continue;
    }
    const t = plain(raw);
    if (!t) continue;
    if (section === 'NAME') description += ` ${t}`;
    else current.push(t);
  }
  flush();
  // "ls - list directory contents": the part after the first dash.
  const dash = description.search(/\s-+\s/);
  const desc = (dash >= 0 ? description.slice(dash).replace(/^\s-+\s/, '') : description).trim();
  if (desc.split(' ').length < 2 || paragraphs.length === 0) return undefined;
  return { name, description: desc, paragraphs };
}

/** Every English manual page of sections 1-8 that parses, in a stable order (at most `limit`). */
export function readManPages(root = '/usr/share/man', limit = Infinity): ManPage[] {
  const out: ManPage[] = [];
  for (let s = 1; s <= 8 && out.length < limit; s++) {
    const dir = join(root, `man${s}`);
    let files: string[];
    try {
      files = readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const f of files) {
      if (out.length >= limit) break;
      let text: string;
      try {
        const bytes = readFileSync(join(dir, f));
        text = (f.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
      } catch {
        continue;
      }
      const page = parseManPage(f.replace(/\.gz$/, ''), text);
      if (page) out.push(page);
    }
  }
  return out;
}

/** Paragraphs of every page cut into chunks of at most `maxWords` words (shorter than minWords: left out). */
export function chunks(pages: readonly ManPage[], maxWords = 120, minWords = 8): string[] {
  const out: string[] = [];
  for (const p of pages) {
    for (const para of p.paragraphs) {
      const words = para.split(' ');
      for (let i = 0; i < words.length; i += maxWords) {
        const part = words.slice(i, i + maxWords);
        if (part.length >= minWords) out.push(part.join(' '));
      }
    }
  }
  return out;
}
