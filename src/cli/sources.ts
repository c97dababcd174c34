/**
 * Reading documents for the command line: .txt and .md files (one document
 * per file or per blank-line-separated paragraph) and .jsonl files (one JSON
 * object per line: a text field, the other scalar fields as metadata),
 * found in the paths given, recursing into directories.
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';

import type { Metadata } from '../collection/metadata.js';
import { CliError, usage } from './output.js';

export const TEXT_EXTENSIONS = ['.txt', '.md', '.markdown'] as const;
export const JSONL_EXTENSIONS = ['.jsonl', '.ndjson'] as const;
const SUPPORTED: readonly string[] = [...TEXT_EXTENSIONS, ...JSONL_EXTENSIONS];
const SUPPORTED_LIST = '.txt, .md, .markdown, .jsonl or .ndjson';

/** How text files become documents; `tokens` and `packed` split them into chunks of the model's window. */
export type Split = 'file' | 'paragraph' | 'tokens' | 'packed';

export interface SourceDocument {
  id: string;
  text: string;
  metadata: Metadata;
}

export interface ReadOptions {
  /** .txt/.md: one document per file (default) or per paragraph. */
  split?: Split;
  /** .jsonl: the field holding the text; default 'text'. */
  textField?: string;
  /** .jsonl: a field to use as the id instead of `<path>:<line>`. */
  idField?: string;
}

export interface ReadResult {
  documents: SourceDocument[];
  files: number;
  /** Empty files, blank paragraphs and blank lines left out. */
  skipped: number;
}

function isJsonl(path: string): boolean {
  return (JSONL_EXTENSIONS as readonly string[]).includes(extname(path).toLowerCase());
}

/** A path as shown and used in ids: relative to the working directory when inside it, '/' separators. */
export function displayPath(absolute: string): string {
  const rel = relative(process.cwd(), absolute);
  const shown = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : absolute;
  return sep === '/' ? shown : shown.split(sep).join('/');
}

function fsMessage(err: unknown, path: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `no such file or directory: ${path}`;
  if (code === 'EACCES' || code === 'EPERM') return `permission denied: ${path}`;
  return `cannot read ${path}: ${(err as Error).message}`;
}

/**
 * The supported files under the given paths, in a stable order: each path
 * in turn, directories walked in name order (hidden entries and
 * node_modules skipped). A path that does not exist, or a file given by
 * name with an unsupported extension, is an error.
 */
export async function collectFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const seenFiles = new Set<string>();
  const seenDirs = new Set<string>();
  const addFile = async (abs: string): Promise<void> => {
    const real = await realpath(abs);
    if (!seenFiles.has(real)) {
      seenFiles.add(real);
      out.push(abs);
    }
  };
  const walk = async (dir: string): Promise<void> => {
    const real = await realpath(dir);
    if (seenDirs.has(real)) return; // a symlink loop or a directory given twice
    seenDirs.add(real);
    const entries = (await readdir(dir)).sort();
    for (const name of entries) {
      if (name.startsWith('.') || name === 'node_modules') continue;
      const abs = join(dir, name);
      let s;
      try {
        s = await stat(abs);
      } catch {
        continue; // a dangling symlink
      }
      if (s.isDirectory()) await walk(abs);
      else if (s.isFile() && SUPPORTED.includes(extname(name).toLowerCase())) await addFile(abs);
    }
  };
  for (const p of paths) {
    const abs = resolve(p);
    let s;
    try {
      s = await stat(abs);
    } catch (err) {
      throw new CliError(fsMessage(err, p));
    }
    if (s.isDirectory()) {
      await walk(abs);
    } else if (SUPPORTED.includes(extname(abs).toLowerCase())) {
      await addFile(abs);
    } else {
      throw usage(`${p}: unsupported file type (expected ${SUPPORTED_LIST}, or a directory)`);
    }
  }
  return out;
}

/** A UTF-8 text file without its byte-order mark; a missing or unreadable file is a CliError naming it as given. */
export async function readTextFile(path: string, shown = path): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).replace(/^\uFEFF/, '');
  } catch (err) {
    throw new CliError(fsMessage(err, shown));
  }
}

function readText(abs: string): Promise<string> {
  return readTextFile(abs, displayPath(abs));
}

/** Paragraphs: text separated by one or more blank lines, trimmed, empty ones dropped. */
export function paragraphs(text: string): string[] {
  return text
    .split(/\r?\n[ \t]*\r?\n/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

/** Keys usable as metadata: non-empty, not starting with '$'. */
function usableKey(key: string): boolean {
  return key.length > 0 && !key.startsWith('$');
}

function isScalar(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

/** The records of one .jsonl file. */
function jsonlDocuments(text: string, shown: string, options: ReadOptions, into: SourceDocument[]): number {
  const textField = options.textField ?? 'text';
  const idField = options.idField;
  let skipped = 0;
  text.split(/\r?\n/).forEach((line, i) => {
    const at = `${shown}:${i + 1}`;
    if (line.trim() === '') {
      skipped++;
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new CliError(`${at}: not valid JSON (${(err as Error).message})`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new CliError(`${at}: each line must be a JSON object like {"${textField}": "..."}`);
    }
    const obj = value as Record<string, unknown>;
    const doc = obj[textField];
    if (typeof doc !== 'string') {
      const fields = Object.keys(obj).slice(0, 8).join(', ');
      throw new CliError(`${at}: no string field "${textField}" (fields: ${fields || 'none'}; choose one with --text-field)`);
    }
    if (doc.trim() === '') {
      skipped++;
      return;
    }
    let id = `${shown}:${i + 1}`;
    if (idField !== undefined) {
      const raw = obj[idField];
      if (!(typeof raw === 'string' && raw.length > 0) && !(typeof raw === 'number' && Number.isFinite(raw))) {
        throw new CliError(`${at}: no string or number field "${idField}" for the id (--id-field)`);
      }
      id = String(raw);
    }
    const metadata: Metadata = {};
    for (const [k, v] of Object.entries(obj)) {
      if (k === textField || k === idField || !usableKey(k) || !isScalar(v)) continue;
      metadata[k] = v;
    }
    into.push({ id, text: doc, metadata });
  });
  return skipped;
}

/**
 * The documents of one file (from {@link collectFiles}). Ids: `<path>` per
 * file, `<path>#<n>` per paragraph (n from 1), `<path>:<line>` per .jsonl
 * line (or the --id-field value). Text files get `source` (and
 * `paragraph`) metadata; .jsonl records get their other scalar fields.
 */
export async function readFileDocuments(abs: string, options: ReadOptions = {}): Promise<{ documents: SourceDocument[]; skipped: number }> {
  const split = options.split ?? 'file';
  const documents: SourceDocument[] = [];
  let skipped = 0;
  const shown = displayPath(abs);
  const text = await readText(abs);
  if (isJsonl(abs)) {
    skipped += jsonlDocuments(text, shown, options, documents);
  } else if (split === 'paragraph') {
    const parts = paragraphs(text);
    if (parts.length === 0) skipped++;
    parts.forEach((p, i) => documents.push({ id: `${shown}#${i + 1}`, text: p, metadata: { source: shown, paragraph: i + 1 } }));
  } else if (text.trim() === '') {
    skipped++;
  } else {
    documents.push({ id: shown, text: text.trim(), metadata: { source: shown } });
  }
  return { documents, skipped };
}

/** Whether a file is read as .jsonl records. */
export function isJsonlFile(path: string): boolean {
  return isJsonl(path);
}

/** An error for an id met twice. */
export function duplicateId(id: string, options: ReadOptions): CliError {
  return new CliError(`duplicate document id ${JSON.stringify(id)}${options.idField ? ` (from --id-field ${options.idField})` : ''}`);
}

/**
 * Reads the documents of the files (see {@link readFileDocuments}), all
 * at once. Duplicate ids are an error.
 */
export async function readDocuments(files: readonly string[], options: ReadOptions = {}): Promise<ReadResult> {
  const documents: SourceDocument[] = [];
  let skipped = 0;
  for (const abs of files) {
    const r = await readFileDocuments(abs, options);
    for (const d of r.documents) documents.push(d);
    skipped += r.skipped;
  }
  const seen = new Set<string>();
  for (const d of documents) {
    if (seen.has(d.id)) throw duplicateId(d.id, options);
    seen.add(d.id);
  }
  return { documents, files: files.length, skipped };
}

/**
 * Texts to cluster: the lines of a text file (blank ones dropped), or the
 * text field of each line of a .jsonl file.
 */
export async function readTexts(path: string, textField = 'text'): Promise<string[]> {
  const abs = resolve(path);
  let s;
  try {
    s = await stat(abs);
  } catch (err) {
    throw new CliError(fsMessage(err, path));
  }
  if (!s.isFile()) throw usage(`${path} is not a file`);
  const text = await readText(abs);
  if (isJsonl(abs)) {
    const docs: SourceDocument[] = [];
    jsonlDocuments(text, displayPath(abs), { textField }, docs);
    return docs.map((d) => d.text);
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}
