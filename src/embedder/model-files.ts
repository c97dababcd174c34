/**
 * Getting a model's files onto disk: a local directory, the cache, or a
 * download from the Hugging Face hub (or any server with the same
 * `/<repo>/resolve/<revision>/<file>` layout).
 *
 * Downloads are crash-safe: each file is written to `<file>.part` next to its
 * final name, fsynced, checked against the size the server announced and only
 * then renamed into place, so a file under its final name is always complete.
 * A `.part` left by a dropped connection is kept on purpose: the next attempt
 * asks the server for the rest (`Range: bytes=<size>-`) instead of starting
 * over. Deleting a `.part` by hand is always safe.
 */
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import { ErrorCode, NotFoundError, SemvecIOError } from '../errors.js';
import { checkPath, describe, fail } from '../validate.js';

/** Where a model's files are on disk (absolute paths). */
export interface ModelFiles {
  /** The directory holding the files. */
  dir: string;
  /** The ONNX model. */
  onnx: string;
  /** tokenizer.json. */
  tokenizer: string;
  /** tokenizer_config.json. */
  tokenizerConfig: string;
  /** config.json, when the model has one. */
  config?: string;
}

/** One progress report of a download. */
export interface DownloadProgress {
  /** The file's path inside the hub repository, e.g. `'onnx/model.onnx'`. */
  file: string;
  /** Bytes of the file on disk so far (a resumed download starts above 0). */
  received: number;
  /** The file's size, when the server tells it. */
  total: number | undefined;
}

export interface ResolveOptions {
  /** Cache root. Default: {@link defaultCacheDir}. */
  cacheDir?: string;
  /** Never download; default: env `SEMVEC_OFFLINE` is `'1'` or `'true'`. */
  offline?: boolean;
  /** Hub base URL. Default: env `HF_ENDPOINT`, else `'https://huggingface.co'`. */
  hubUrl?: string;
  /** Branch, tag or commit. Default `'main'`. */
  revision?: string;
  /** The ONNX file's path inside the repository. Default `'onnx/model.onnx'`. */
  onnxFile?: string;
  /** Called as bytes arrive. */
  onProgress?: (p: DownloadProgress) => void;
  /** Draw a progress bar on stderr. Default: stderr is a terminal and env `CI` is unset. */
  progressBar?: boolean;
  /** Cancels a download; the promise then rejects with `signal.reason`. */
  signal?: AbortSignal;
}

const DEFAULT_HUB = 'https://huggingface.co';
const DEFAULT_ONNX = 'onnx/model.onnx';
const TOKENIZER = 'tokenizer.json';
const TOKENIZER_CONFIG = 'tokenizer_config.json';
const CONFIG = 'config.json';
const LOCAL_LAYOUT =
  'a model directory needs model.onnx (or onnx/model.onnx), tokenizer.json and tokenizer_config.json; config.json is optional';

/**
 * The cache root: env `SEMVEC_CACHE`, else `$XDG_CACHE_HOME/semvec`, else
 * `~/.cache/semvec`. A model lives in `<root>/<org>--<name>/<revision>/`.
 */
export function defaultCacheDir(): string {
  const explicit = process.env.SEMVEC_CACHE;
  if (explicit) return resolve(explicit);
  const xdg = process.env.XDG_CACHE_HOME;
  if (xdg) return resolve(xdg, 'semvec');
  return join(homedir(), '.cache', 'semvec');
}

/**
 * Finds or fetches the files of a model.
 *
 * 1. `nameOrPath` is an existing directory: its files are used as they are.
 * 2. Else `hubId` names a hub repository; if the cache holds its files
 *    (`<cacheDir>/<org>--<name>/<revision>/`), they are used without any
 *    network access.
 * 3. Else they are downloaded into the cache, unless offline.
 *
 * @param nameOrPath - a local directory, or the name the model was asked by
 * @param hubId - the hub repository (`'org/name'`), or undefined when the name is not known
 * @throws NotFoundError `ERR_NOT_FOUND`: an incomplete local directory, or an unknown name
 * @throws SemvecIOError `ERR_OFFLINE` when a download is needed in offline mode;
 *   `ERR_DOWNLOAD` when a download fails; `ERR_IO` when the cache cannot be written
 */
export async function resolveModelFiles(
  nameOrPath: string,
  hubId: string | undefined,
  options: ResolveOptions = {},
): Promise<ModelFiles> {
  checkPath(nameOrPath, 'nameOrPath');
  if (hubId !== undefined) checkHubId(hubId);
  const opts = checkOptions(options);

  const local = resolve(nameOrPath);
  const kind = await kindOf(local);
  if (kind === 'dir') return localModel(local, opts.onnxFile);

  if (hubId === undefined) {
    const what =
      kind === 'file'
        ? `${JSON.stringify(nameOrPath)} is a file, not a model directory (${local})`
        : `${JSON.stringify(nameOrPath)} is neither a local directory nor a known model name`;
    throw new NotFoundError(
      ErrorCode.NOT_FOUND,
      `${what}. Pass a Hugging Face hub id such as 'sentence-transformers/all-MiniLM-L6-v2', ` +
        `or the path of a directory holding the model's files (${LOCAL_LAYOUT}).`,
    );
  }

  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const dir = join(cacheDir, hubId.replace(/\//g, '--'), opts.revision.replace(/\//g, '--'));
  const onnxFile = opts.onnxFile ?? DEFAULT_ONNX;
  const required = [onnxFile, TOKENIZER, TOKENIZER_CONFIG];

  const cached = await cachedModel(dir, onnxFile);
  if (cached) return cached;

  if (opts.offline) {
    const missing: string[] = [];
    for (const f of required) if (!(await isFile(join(dir, f)))) missing.push(f);
    throw new SemvecIOError(
      ErrorCode.OFFLINE,
      `model ${hubId} (revision ${opts.revision}) is not in the cache and downloads are off ` +
        `(offline: true or SEMVEC_OFFLINE=1). Put its files in ${dir}: ${required.join(', ')} ` +
        `(${CONFIG} optional; missing now: ${missing.join(', ')}), as laid out in the hub repository, ` +
        `or pass the path of a local directory holding them (${LOCAL_LAYOUT}), or allow downloads.`,
    );
  }

  // One download per model directory at a time within this process: a second
  // caller waits for the first, then finds the files in the cache.
  for (;;) {
    const running = inFlight.get(dir);
    if (!running) break;
    await running.catch(() => undefined);
    const again = await cachedModel(dir, onnxFile);
    if (again) return again;
  }
  const job = download(dir, hubId, onnxFile, opts);
  inFlight.set(dir, job);
  try {
    await job;
  } finally {
    inFlight.delete(dir);
  }
  const done = await cachedModel(dir, onnxFile);
  if (!done) {
    throw new SemvecIOError(ErrorCode.IO, `the files of ${hubId} were downloaded but are missing from ${dir}`);
  }
  return done;
}

const inFlight = new Map<string, Promise<void>>();

interface CheckedOptions {
  cacheDir: string | undefined;
  offline: boolean;
  hubUrl: string;
  revision: string;
  onnxFile: string | undefined;
  onProgress: ((p: DownloadProgress) => void) | undefined;
  progressBar: boolean;
  signal: AbortSignal | undefined;
}

/** Validates the options; unknown keys are ignored (callers pass wider option objects). */
function checkOptions(options: unknown): CheckedOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    fail(ErrorCode.INVALID_ARGUMENT, `options must be an object; received ${describe(options)}`);
  }
  const o = options as Record<string, unknown>;
  const optBool = (key: string): boolean | undefined => {
    const v = o[key];
    if (v !== undefined && typeof v !== 'boolean') {
      fail(ErrorCode.INVALID_ARGUMENT, `options.${key} must be a boolean; received ${describe(v)}`);
    }
    return v;
  };

  const cacheDir = o.cacheDir === undefined ? undefined : resolve(checkPath(o.cacheDir, 'options.cacheDir'));

  const envOffline = (process.env.SEMVEC_OFFLINE ?? '').toLowerCase();
  const offline = optBool('offline') ?? (envOffline === '1' || envOffline === 'true');

  const hubUrl = o.hubUrl ?? (process.env.HF_ENDPOINT || DEFAULT_HUB);
  let parsed: URL | undefined;
  try {
    parsed = typeof hubUrl === 'string' ? new URL(hubUrl) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    const from = o.hubUrl === undefined ? 'the HF_ENDPOINT environment variable' : 'options.hubUrl';
    fail(ErrorCode.INVALID_ARGUMENT, `${from} must be an http(s) URL such as '${DEFAULT_HUB}'; received ${describe(hubUrl)}`);
  }

  const revision = o.revision ?? 'main';
  if (typeof revision !== 'string' || !/^[\w.-]+(\/[\w.-]+)*$/.test(revision) || hasDotSegment(revision)) {
    fail(
      ErrorCode.INVALID_ARGUMENT,
      `options.revision must be a branch, tag or commit of letters, digits, '.', '_', '-' and '/'; received ${describe(revision)}`,
    );
  }

  const onnxFile = o.onnxFile;
  if (
    onnxFile !== undefined &&
    (typeof onnxFile !== 'string' || !/^[\w.-]+(\/[\w.-]+)*$/.test(onnxFile) || hasDotSegment(onnxFile))
  ) {
    fail(
      ErrorCode.INVALID_ARGUMENT,
      `options.onnxFile must be a relative path inside the model repository such as '${DEFAULT_ONNX}'; received ${describe(onnxFile)}`,
    );
  }

  const onProgress = o.onProgress;
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    fail(ErrorCode.INVALID_ARGUMENT, `options.onProgress must be a function; received ${describe(onProgress)}`);
  }
  const progressBar = optBool('progressBar') ?? (Boolean(process.stderr.isTTY) && !process.env.CI);

  const signal = o.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    fail(ErrorCode.INVALID_ARGUMENT, `options.signal must be an AbortSignal; received ${describe(signal)}`);
  }

  return {
    cacheDir,
    offline,
    hubUrl: parsed.href.replace(/\/+$/, ''),
    revision,
    onnxFile,
    onProgress: onProgress as CheckedOptions['onProgress'],
    progressBar,
    signal,
  };
}

/**
 * Whether a string has the shape of a hub repository id: `name` or
 * `org/name`, of letters, digits, '_', '.' and '-', with no '.' or '..'
 * segment (so `./models/x` and `../x` are paths, never ids).
 */
export function isHubId(s: string): boolean {
  return /^[\w.-]+(\/[\w.-]+)?$/.test(s) && !hasDotSegment(s);
}

function checkHubId(hubId: unknown): void {
  if (typeof hubId !== 'string' || !isHubId(hubId)) {
    fail(
      ErrorCode.INVALID_ARGUMENT,
      `hubId must be a hub repository id such as 'sentence-transformers/all-MiniLM-L6-v2', or undefined; received ${describe(hubId)}`,
    );
  }
}

function hasDotSegment(p: string): boolean {
  return p.split('/').some((s) => s === '.' || s === '..');
}

async function kindOf(path: string): Promise<'dir' | 'file' | undefined> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function localModel(dir: string, onnxFile: string | undefined): Promise<ModelFiles> {
  const candidates = [...(onnxFile ? [onnxFile] : []), 'model.onnx', DEFAULT_ONNX];
  let onnx: string | undefined;
  for (const c of candidates) {
    if (await isFile(join(dir, c))) {
      onnx = join(dir, c);
      break;
    }
  }
  const missing: string[] = [];
  if (!onnx) missing.push([...new Set(candidates)].join(' or '));
  for (const f of [TOKENIZER, TOKENIZER_CONFIG]) if (!(await isFile(join(dir, f)))) missing.push(f);
  if (missing.length > 0 || !onnx) {
    throw new NotFoundError(
      ErrorCode.NOT_FOUND,
      `the model directory ${dir} lacks ${missing.join(', ')}: ${LOCAL_LAYOUT}`,
    );
  }
  const config = join(dir, CONFIG);
  return {
    dir,
    onnx,
    tokenizer: join(dir, TOKENIZER),
    tokenizerConfig: join(dir, TOKENIZER_CONFIG),
    ...((await isFile(config)) ? { config } : {}),
  };
}

/** The cached files, if every required one is there (final names only exist complete). */
async function cachedModel(dir: string, onnxFile: string): Promise<ModelFiles | undefined> {
  const onnx = join(dir, onnxFile);
  const tokenizer = join(dir, TOKENIZER);
  const tokenizerConfig = join(dir, TOKENIZER_CONFIG);
  for (const f of [onnx, tokenizer, tokenizerConfig]) if (!(await isFile(f))) return undefined;
  const config = join(dir, CONFIG);
  return { dir, onnx, tokenizer, tokenizerConfig, ...((await isFile(config)) ? { config } : {}) };
}

/**
 * Downloads the missing files of a model into dir. The optional config.json
 * and the small files come first, the ONNX file last, so a complete set of
 * required files means config.json was fetched too (or does not exist).
 */
async function download(dir: string, hubId: string, onnxFile: string, opts: CheckedOptions): Promise<void> {
  const files: Array<[string, boolean]> = [
    [CONFIG, false],
    [TOKENIZER_CONFIG, true],
    [TOKENIZER, true],
    [onnxFile, true],
  ];
  const repoPath = hubId.split('/').map(encodeURIComponent).join('/');
  for (const [file, required] of files) {
    const final = join(dir, file);
    if (await isFile(final)) continue;
    const url = `${opts.hubUrl}/${repoPath}/resolve/${encodeURIComponent(opts.revision)}/${file
      .split('/')
      .map(encodeURIComponent)
      .join('/')}`;
    await ioStep(final, () => mkdir(dirname(final), { recursive: true }));
    await downloadFile(url, file, final, required, opts);
  }
}

/** Runs a file-system step, turning its failure into ERR_IO that names the path. */
async function ioStep<T>(path: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new SemvecIOError(
      ErrorCode.IO,
      `cannot write ${path}: ${e.code ?? ''} ${e.message}. Set SEMVEC_CACHE (or options.cacheDir) to a writable directory.`,
      { cause: err },
    );
  }
}

function downloadError(url: string, what: string, cause?: unknown): SemvecIOError {
  return new SemvecIOError(ErrorCode.DOWNLOAD, `cannot download ${url}: ${what}`, cause === undefined ? undefined : { cause });
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
async function downloadFile(
  url: string,
  file: string,
  final: string,
  required: boolean,
  opts: CheckedOptions,
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
  opts: CheckedOptions,
): Promise<void> {
  const body = res.body as ReadableStream<Uint8Array>;
  const fh: FileHandle = await ioStep(part, () => open(part, start > 0 ? 'a' : 'w'));
  const bar = opts.progressBar ? await ProgressBar.create(file, total, start) : undefined;
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
      bar?.update(received);
      opts.onProgress?.({ file, received, total });
    }
    await ioStep(part, () => fh.sync());
    finished = true;
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    await fh.close().catch(() => undefined);
    bar?.stop();
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

type CliProgress = typeof import('cli-progress');

/** A cli-progress bar on stderr for one file: name, bytes, percentage, rate, ETA. */
class ProgressBar {
  private readonly started = Date.now();

  private constructor(
    private readonly bar: InstanceType<CliProgress['SingleBar']>,
    private readonly startValue: number,
    private readonly total: number | undefined,
  ) {}

  /** Loads cli-progress on first use; without it, downloads go on without a bar. */
  static async create(file: string, total: number | undefined, startValue: number): Promise<ProgressBar | undefined> {
    let cp: CliProgress;
    try {
      const mod = (await import('cli-progress')) as CliProgress & { default?: CliProgress };
      cp = mod.default ?? mod;
    } catch {
      return undefined;
    }
    const known = total !== undefined && total > 0;
    const bar = new cp.SingleBar({
      format: known
        ? `${file} [{bar}] {percentage}% | {bytes} | {rate} | ETA {eta_formatted}`
        : `${file} {bytes} | {rate}`,
      stream: process.stderr,
      barsize: 30,
      hideCursor: false, // a Ctrl-C mid-download must not leave the terminal without a cursor
      noTTYOutput: true, // asked for explicitly: draw a line every few seconds in logs too
      etaBuffer: 50,
    });
    const self = new ProgressBar(bar, startValue, total);
    bar.start(known ? total : 0, startValue, self.payload(startValue));
    return self;
  }

  update(received: number): void {
    this.bar.update(received, this.payload(received));
  }

  stop(): void {
    this.bar.stop();
  }

  private payload(received: number): { bytes: string; rate: string } {
    const seconds = Math.max((Date.now() - this.started) / 1000, 1e-3);
    const bytes = this.total === undefined ? formatBytes(received) : `${formatBytes(received)}/${formatBytes(this.total)}`;
    return { bytes, rate: `${formatBytes((received - this.startValue) / seconds)}/s` };
  }
}

function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return i === 0 ? `${Math.round(n)} ${units[i]}` : `${n.toFixed(1)} ${units[i]}`;
}
