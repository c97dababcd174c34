/**
 * bench/ingest/corpus.ts: real paragraphs from this machine's documentation
 * for bench:ingest. The English manual pages (troff, gzipped), then
 * /usr/share/doc (READMEs, changelogs, copyright files, gzipped or plain)
 * and /usr/share/info, then the translated manual pages, each file's
 * paragraphs as plain text. A paragraph already seen (the same licence text
 * in many packages) is kept once. Written as one .txt file per source file,
 * paragraphs separated by blank lines, for `semvec index --split paragraph`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, extname, join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** Words a paragraph needs at least to count. */
const MIN_WORDS = 5;
/** Longest paragraph kept, in characters (a longer one is mostly a table or a listing). */
const MAX_CHARS = 4000;
/** Files never read as text under /usr/share/doc. */
const SKIPPED = new Set(['.html', '.htm', '.css', '.js', '.png', '.jpg', '.gif', '.svg', '.ico', '.pdf', '.py', '.pl', '.c', '.h', '.sh', '.json', '.xml', '.xz', '.bz2', '.zip', '.tar']);

export const SOURCES = { man: '/usr/share/man', doc: '/usr/share/doc', info: '/usr/share/info' } as const;

/** Plain text of a troff man page, one string per paragraph: requests dropped, font escapes removed. */
export function manParagraphs(troff: string): string[] {
  const out: string[] = [];
  let cur: string[] = [];
  const end = (): void => {
    out.push(cur.join(' '));
    cur = [];
  };
  for (const raw of troff.split('\n')) {
    if (/^\.(PP|P|LP|SH|SS|TP|IP|HP|sp|br|RS|RE)\b/.test(raw) || raw.trim() === '') {
      end();
      continue;
    }
    if (raw.startsWith('.') || raw.startsWith("'")) {
      // Font macros carry text: .B word, .BR a b.
      const m = /^\.(B|I|BR|BI|IB|IR|RB|RI)\s+(.*)$/.exec(raw);
      if (m) cur.push((m[2] as string).replace(/"/g, ''));
      continue;
    }
    cur.push(raw.replace(/\\f[BIRPC0-9]|\\f\(..|\\f\[[^\]]*\]|\\\(..|\\[&-]|\\e|\\ /g, (s) => (s === '\\-' ? '-' : s === '\\e' ? '\\' : s === '\\ ' ? ' ' : '')));
  }
  end();
  return out;
}

/** Paragraphs of plain text (blank-line separated; info files' node separators dropped). */
export function textParagraphs(text: string): string[] {
  return text.replace(/\u001f/g, '\n\n').split(/\r?\n[ \t]*\r?\n/);
}

/** The paragraphs worth embedding: white space folded, long enough, not too long. */
function clean(paragraphs: readonly string[]): string[] {
  return paragraphs
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter((p) => p.length <= MAX_CHARS && p.split(' ').length >= MIN_WORDS);
}

function isText(bytes: Buffer): boolean {
  const n = Math.min(bytes.length, 4096);
  for (let i = 0; i < n; i++) if (bytes[i] === 0) return false;
  return true;
}

function files(dir: string, keep: (path: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(d, name);
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && keep(p)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** Source files in reading order: English man pages, /usr/share/doc, /usr/share/info, then translated man pages. */
function sourceFiles(): { path: string; kind: 'man' | 'text' }[] {
  const manRoot = SOURCES.man;
  const top = existsSync(manRoot) ? readdirSync(manRoot).sort() : [];
  const english = top.filter((d) => /^man\d/.test(d)).flatMap((d) => files(join(manRoot, d), (p) => p.endsWith('.gz')));
  const translated = top.filter((d) => !/^man\d/.test(d)).flatMap((d) => files(join(manRoot, d), (p) => p.endsWith('.gz')));
  const doc = files(SOURCES.doc, (p) => !SKIPPED.has(extname(p.replace(/\.gz$/, '')).toLowerCase()));
  const info = files(SOURCES.info, (p) => p.endsWith('.gz') || p.endsWith('.info'));
  const man = (path: string) => ({ path, kind: 'man' as const });
  const text = (path: string) => ({ path, kind: 'text' as const });
  return [...english.map(man), ...doc.map(text), ...info.map(text), ...translated.map(man)];
}

export interface Corpus {
  dir: string;
  paragraphs: number;
  files: number;
  /** Paragraphs per source root. */
  bySource: Record<string, number>;
  duplicatesDropped: number;
}

/**
 * Writes `limit` paragraphs (fewer if the machine has fewer) under `dir`,
 * one .txt per source file; reuses what an earlier call wrote for the same
 * limit (a stamp file says how many it holds).
 */
export function buildCorpus(dir: string, limit: number, log: (m: string) => void): Corpus {
  const stamp = join(dir, 'corpus.json');
  if (existsSync(stamp)) {
    const c = JSON.parse(readFileSync(stamp, 'utf8')) as Corpus;
    if (c.paragraphs === limit || (c.paragraphs < limit && c.files > 0 && (c as { exhausted?: boolean }).exhausted)) return c;
  }
  rmSync(dir, { recursive: true, force: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const seen = new Set<string>();
  const bySource: Record<string, number> = {};
  let count = 0;
  let written = 0;
  let duplicates = 0;
  const all = sourceFiles();
  for (const { path, kind } of all) {
    if (count >= limit) break;
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
      if (path.endsWith('.gz')) bytes = gunzipSync(bytes);
    } catch {
      continue;
    }
    if (!isText(bytes)) continue;
    const text = bytes.toString('utf8');
    const kept: string[] = [];
    for (const p of clean(kind === 'man' ? manParagraphs(text) : textParagraphs(text))) {
      if (count >= limit) break;
      if (seen.has(p)) {
        duplicates++;
        continue;
      }
      seen.add(p);
      kept.push(p);
      count++;
    }
    if (kept.length === 0) continue;
    const root = Object.values(SOURCES).find((r) => path.startsWith(`${r}/`)) ?? 'other';
    bySource[root] = (bySource[root] ?? 0) + kept.length;
    const rel = relative(root, path).replace(/\.gz$/, '');
    const out = join(tmp, basename(root), `${rel.split('/').join('__')}.txt`);
    mkdirSync(join(tmp, basename(root)), { recursive: true });
    writeFileSync(out, `${kept.join('\n\n')}\n`);
    written++;
    if (written % 2000 === 0) log(`corpus: ${count.toLocaleString('en-US')} paragraphs from ${written.toLocaleString('en-US')} files`);
  }
  const corpus = { dir, paragraphs: count, files: written, bySource, duplicatesDropped: duplicates, exhausted: count < limit };
  writeFileSync(join(tmp, 'corpus.json'), JSON.stringify(corpus, null, 2));
  renameSync(tmp, dir);
  return corpus;
}
