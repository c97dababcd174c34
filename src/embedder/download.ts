/**
 * Downloading one file over HTTP(S), crash-safe and resumable: the body is
 * written to `<file>.part` next to its final name, fsynced, checked against
 * the size the server announced and only then renamed into place, so a file
 * under its final name is always complete. A `.part` left by a dropped
 * connection is kept on purpose: the next attempt asks the server for the
 * rest (`Range: bytes=<size>-`) instead of starting over. Progress is
 * reported to a callback; drawing it is the caller's business.
 */
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

import { createError, ErrorCode, type SemvecError } from '../errors.js';

/** One progress report of a download. */
export interface DownloadProgress {
  /** The file's path inside the repository, e.g. `'onnx/model.onnx'`. */
  file: string;
  /** Bytes of the file on disk so far (a resumed download starts above 0). */
  received: number;
  /** The file's size, when the server tells it. */
  total: number | undefined;
}

export interface FetchOptions {
  /** Called as bytes arrive. */
  onProgress: ((p: DownloadProgress) => void) | undefined;
  /** Cancels the download; it then rejects with `signal.reason`. */
  signal: AbortSignal | undefined;
}

/** Runs a file-system step, turning its failure into ERR_IO that names the path. */
export async function ioStep<T>(path: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw createError(
      ErrorCode.IO,
      `cannot write ${path}: ${e.code ?? ''} ${e.message}. Set SEMVEC_CACHE (or options.cacheDir) to a writable directory.`,
      { cause: err },
    );
  }
}

function downloadError(url: string, what: string, cause?: unknown): SemvecError {
  return createError(ErrorCode.DOWNLOAD, `cannot download ${url}: ${what}`, cause === undefined ? undefined : { cause });
}

/** A fetch failure's own words: undici hides them in `cause`. */
function causeText(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const inner = e?.cause;
  if (inner && (inner.code || inner.message)) return [inner.code, inner.message].filter(Boolean).join(': ');
  return e?.message ?? String(err);
}

function statusHint(status: number): string {
  if (status === 404) {
    return ' (check the hub id, the revision and options.onnxFile: the repository may keep its ONNX export under another path)';
  }
  if (status === 401 || status === 403) {
    return ' (the repository may be private or gated: download its files yourself and pass their directory)';
  }
  if (status === 429 || status >= 500) return ' (the server is busy or failing: try again later)';
  return '';
}

async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // nothing to release
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}

function headerInt(res: Response, name: string): number | undefined {
  const v = res.headers.get(name);
  return v !== null && /^\d+$/.test(v.trim()) ? Number(v.trim()) : undefined;
}

/** `bytes <start>-<end>/<total|*>` */
function parseContentRange(v: string | null): { start: number; total: number | undefined } | undefined {
  const m = v ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(v.trim()) : null;
  if (!m) return undefined;
  return { start: Number(m[1]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

async function sizeOf(path: string): Promise<number> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : 0;
  } catch {
    return 0;
  }
}

/**
 * Downloads one file to `<final>.part` (resuming it if it exists), then
 * fsyncs and renames it. Returns false for an optional file the server does
 * not have.
 */
export async function downloadFile(
  url: string,
  file: string,
  final: string,
  required: boolean,
  opts: FetchOptions,
): Promise<boolean> {
  const part = `${final}.part`;
  let offset = await sizeOf(part);
  for (let attempt = 0; ; attempt++) {
    throwIfAborted(opts.signal);
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    if (offset > 0) headers.range = `bytes=${offset}-`;
    let res: Response;
    try {
      res = await fetch(url, { headers, redirect: 'follow', signal: opts.signal });
    } catch (err) {
      throwIfAborted(opts.signal);
      throw downloadError(url, `the request failed (${causeText(err)})`, err);
    }

    // A stale .part the server cannot continue: start over, once.
    const restart = async (): Promise<void> => {
      await discard(res);
      await ioStep(part, () => rm(part, { force: true }));
      offset = 0;
    };
    if (res.status === 416 && offset > 0 && attempt === 0) {
      await restart();
      continue;
    }
    if (res.status === 404 && !required) {
      await discard(res);
      return false;
    }
    if (!res.ok || !res.body) {
      await discard(res);
      throw downloadError(url, `the server answered HTTP ${res.status} ${res.statusText}`.trimEnd() + statusHint(res.status));
    }

    // Sizes are only checkable on an unencoded body.
    const encoded = (res.headers.get('content-encoding') ?? 'identity').toLowerCase() !== 'identity';
    const length = encoded ? undefined : headerInt(res, 'content-length');
    let start = 0;
    let total = length;
    if (res.status === 206) {
      const range = parseContentRange(res.headers.get('content-range'));
      if (!range || range.start !== offset) {
        if (attempt === 0) {
          await restart();
          continue;
        }
        await discard(res);
        throw downloadError(url, `the server sent an unusable partial response (Content-Range: ${res.headers.get('content-range')})`);
      }
      start = offset;
      total = range.total ?? (length === undefined ? undefined : start + length);
    }
    // Anything but 206 is the whole file: start from zero.
    await writeBody(res, url, file, part, start, total, opts);

    const size = await sizeOf(part);
    if (total !== undefined && size !== total) {
      if (size > total) await rm(part, { force: true });
      throw downloadError(
        url,
        `received ${size} bytes but the server announced ${total} (Content-Length or Content-Range); ` +
          (size > total ? 'the partial file was removed' : `the partial file ${part} is kept and the next attempt resumes it`),
      );
    }
    await ioStep(final, () => rename(part, final));
    await syncDir(dirname(final));
    return true;
  }
}

/** Streams the body into the .part file from byte `start`, reporting progress; fsyncs it. */
async function writeBody(
  res: Response,
  url: string,
  file: string,
  part: string,
  start: number,
  total: number | undefined,
  opts: FetchOptions,
): Promise<void> {
  const body = res.body as ReadableStream<Uint8Array>;
  const fh: FileHandle = await ioStep(part, () => open(part, start > 0 ? 'a' : 'w'));
  const reader = body.getReader();
  let received = start;
  let finished = false;
  try {
    opts.onProgress?.({ file, received, total });
    for (;;) {
      let step: Awaited<ReturnType<typeof reader.read>>;
      try {
        step = await reader.read();
      } catch (err) {
        throwIfAborted(opts.signal);
        const of = total === undefined ? '' : ` of ${total}`;
        const short = (err as { cause?: { code?: string } }).cause?.code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH';
        const what = short
          ? `the body was shorter than its Content-Length: it ended after ${received}${of} bytes`
          : `the connection dropped after ${received}${of} bytes`;
        throw downloadError(
          url,
          `${what} (${causeText(err)}); the partial file ${part} is kept and the next attempt resumes it`,
          err,
        );
      }
      if (step.done) break;
      const chunk = step.value;
      await ioStep(part, async () => {
        for (let off = 0; off < chunk.length; ) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
      });
      received += chunk.length;
      opts.onProgress?.({ file, received, total });
    }
    await ioStep(part, () => fh.sync());
    finished = true;
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    await fh.close().catch(() => undefined);
  }
}

/** fsyncs a directory so a rename survives a crash (best effort: not every platform allows it). */
async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Windows cannot open directories; the rename itself has happened.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
