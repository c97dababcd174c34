/**
 * bench/open/memory.ts: memory shared across processes. Starts reader
 * processes (bench/open/child.ts) that each map or each load the same index
 * file and touch all of it, and, while all of them are alive, reads each
 * one's Rss and Pss from /proc/<pid>/smaps_rollup and the resident part of
 * its mapping of the file from /proc/<pid>/smaps. Pss charges a page shared
 * by n processes 1/n to each, so the readers' total Pss is the memory they
 * cost the machine together.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { BenchError } from '../lib/args.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'child.ts');

export const CHILD_MODES = ['open', 'load'] as const;
export const CHILD_KINDS = ['flat', 'ivf'] as const;
/** Queries each reader searches with (all lists probed for an IVF index). */
export const CHILD_QUERIES = 8;

/** What a reader prints once it has touched the whole index. */
export interface ChildReport {
  size: number;
  mappedBytes: number;
  memoryUsage: number;
  readyMs: number;
  checksum: number;
}

/** One reader's memory, in bytes, read while every reader was alive. */
export interface ReaderMemory {
  pid: number;
  rss: number;
  pss: number;
  pssAnon: number;
  pssFile: number;
  /** Resident pages of its mappings of the index file (0 for a reader that loaded it). */
  fileRss: number;
  report: ChildReport;
}

export interface GroupMemory {
  mode: 'open' | 'load';
  readers: ReaderMemory[];
  totalPss: number;
  totalRss: number;
}

/** The fields of /proc/<pid>/smaps_rollup, in bytes. */
export function smapsRollup(pid: number | 'self'): Record<string, number> {
  const fields: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+) kB$/.exec(line);
    if (m) fields[m[1]!] = Number(m[2]) * 1024;
  }
  return fields;
}

/** The resident bytes of a process's mappings of one file, from /proc/<pid>/smaps. */
export function fileRss(pid: number | 'self', path: string): number {
  let inFile = false;
  let bytes = 0;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inFile = line.endsWith(` ${path}`);
    else if (inFile) {
      const m = /^Rss:\s+(\d+) kB$/.exec(line);
      if (m) bytes += Number(m[1]) * 1024;
    }
  }
  return bytes;
}

/** Waits for a child's one JSON line; rejects if it exits first. */
function readyLine(child: ChildProcess, label: string): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve(JSON.parse(line) as ChildReport));
    child.once('exit', (code, signal) => reject(new BenchError(`${label} exited (${code ?? signal}) before it was ready: ${stderr.trim()}`)));
  });
}

/**
 * Starts `readers` children that each `mode` the file, waits until all have
 * touched the whole index, reads their memory, then lets them exit.
 */
export async function measureReaders(path: string, kind: 'flat' | 'ivf', mode: 'open' | 'load', readers: number): Promise<GroupMemory> {
  const children = Array.from({ length: readers }, () =>
    spawn(process.execPath, [...process.execArgv, CHILD, '--path', path, '--kind', kind, '--mode', mode], { stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  const exited = children.map((c) => new Promise<void>((resolve) => c.once('exit', () => resolve())));
  try {
    const reports = await Promise.all(children.map((c, i) => readyLine(c, `reader ${i + 1} (${mode})`)));
    const result: ReaderMemory[] = children.map((c, i) => {
      const pid = c.pid!;
      const r = smapsRollup(pid);
      return { pid, rss: r.Rss ?? 0, pss: r.Pss ?? 0, pssAnon: r.Pss_Anon ?? 0, pssFile: r.Pss_File ?? 0, fileRss: fileRss(pid, path), report: reports[i]! };
    });
    return {
      mode,
      readers: result,
      totalPss: result.reduce((a, r) => a + r.pss, 0),
      totalRss: result.reduce((a, r) => a + r.rss, 0),
    };
  } finally {
    for (const c of children) c.stdin!.end();
    await Promise.race([Promise.all(exited), new Promise((resolve) => setTimeout(resolve, 30_000))]);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}
