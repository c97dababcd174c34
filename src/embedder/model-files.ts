/**
 * Getting a model's files onto disk: a local directory, the cache, or a
 * download from the Hugging Face hub (or any server with the same
 * `/<repo>/resolve/<revision>/<file>` layout; downloads are crash-safe and
 * resumable, see download.ts).
 */
import { mkdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import { createError, ErrorCode } from '../errors.js';
import { checkOneOf, checkPath, describe, fail } from '../validate.js';
import { downloadFile, ioStep, type DownloadProgress } from './download.js';
import { DTYPE_OPTIONS, FP32_FILE, onnxCandidates, thisCpu, type Dtype, type DtypeOption, type OnnxCandidates } from './precision.js';

export type { DownloadProgress } from './download.js';

/** Where a model's files are on disk (absolute paths). */
export interface ModelFiles {
  /** The directory holding the files. */
  dir: string;
  /** The ONNX model. */
  onnx: string;
  /** Its precision: `'fp32'`, or `'q8'` for an int8 export. */
  dtype: Dtype;
  /** tokenizer.json. */
  tokenizer: string;
  /** tokenizer_config.json. */
  tokenizerConfig: string;
  /** config.json, when the model has one. */
  config?: string;
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
  /**
   * The precision to fetch: `'fp32'` (`onnx/model.onnx`), `'q8'` (the int8
   * export made for this CPU, e.g. `onnx/model_qint8_avx512_vnni.onnx`, else
   * `model_quantized.onnx`, ...) or `'auto'` (q8 on CPUs with VNNI when the
   * model has an int8 file, else fp32; a file already on disk is used before
   * anything is downloaded). Default `'fp32'` (with `onnxFile`: judged by its
   * name); `Embedder.load` defaults to `'auto'`.
   */
  dtype?: DtypeOption;
  /** The ONNX file's path inside the repository, whatever `dtype` says. Default: chosen by `dtype`. */
  onnxFile?: string;
  /** Where a hub repository keeps its fp32 file. Default `'onnx/model.onnx'` (a known model's own, in `Embedder.load`). */
  fp32File?: string;
  /** Called as bytes arrive (the library draws nothing: the `semvec` command draws a bar from these). */
  onProgress?: (p: DownloadProgress) => void;
  /** Cancels a download; the promise then rejects with `signal.reason`. */
  signal?: AbortSignal;
}

const DEFAULT_HUB = 'https://huggingface.co';
const TOKENIZER = 'tokenizer.json';
const TOKENIZER_CONFIG = 'tokenizer_config.json';
const CONFIG = 'config.json';
const LOCAL_LAYOUT =
  'a model directory needs model.onnx (or onnx/model.onnx, or an int8 export such as model_quantized.onnx), ' +
  'tokenizer.json and tokenizer_config.json; config.json is optional';

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
  const cpu = thisCpu();

  const local = resolve(nameOrPath);
  const kind = await kindOf(local);
  if (kind === 'dir') return localModel(local, onnxCandidates(opts, 'local', cpu), opts.dtype);

  if (hubId === undefined) {
    const what =
      kind === 'file'
        ? `${JSON.stringify(nameOrPath)} is a file, not a model directory (${local})`
        : `${JSON.stringify(nameOrPath)} is neither a local directory nor a known model name`;
    throw createError(
      ErrorCode.NOT_FOUND,
      `${what}. Pass a Hugging Face hub id such as 'sentence-transformers/all-MiniLM-L6-v2', ` +
        `or the path of a directory holding the model's files (${LOCAL_LAYOUT}).`,
    );
  }

  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const dir = join(cacheDir, hubId.replace(/\//g, '--'), opts.revision.replace(/\//g, '--'));
  const groups = onnxCandidates(opts, 'hub', cpu);

  const cached = await cachedModel(dir, groups);
  if (cached) return cached;

  if (opts.offline) {
    const onnxNames = groups.flatMap((g) => g.files);
    const required = [onnxNames.length === 1 ? onnxNames[0] : `one of ${onnxNames.join(', ')}`, TOKENIZER, TOKENIZER_CONFIG];
    const missing: string[] = (await firstOnnx(dir, groups)) ? [] : [required[0] as string];
    for (const f of [TOKENIZER, TOKENIZER_CONFIG]) if (!(await isFile(join(dir, f)))) missing.push(f);
    throw createError(
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
    const again = await cachedModel(dir, groups);
    if (again) return again;
  }
  const job = download(dir, hubId, groups, opts);
  inFlight.set(dir, job);
  try {
    await job;
  } finally {
    inFlight.delete(dir);
  }
  const done = await cachedModel(dir, groups);
  if (!done) {
    throw createError(ErrorCode.IO, `the files of ${hubId} were downloaded but are missing from ${dir}`);
  }
  return done;
}

const inFlight = new Map<string, Promise<void>>();

interface CheckedOptions {
  cacheDir: string | undefined;
  offline: boolean;
  hubUrl: string;
  revision: string;
  /** Undefined: fp32, or an explicit onnxFile's precision judged by its name. */
  dtype: DtypeOption | undefined;
  onnxFile: string | undefined;
  /** The fp32 file of the hub repository (a known model's), default onnx/model.onnx. */
  fp32File: string | undefined;
  onProgress: ((p: DownloadProgress) => void) | undefined;
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

  const onnxFile = checkRepoFile(o.onnxFile, 'options.onnxFile');
  const fp32File = checkRepoFile(o.fp32File, 'options.fp32File');
  const dtype = o.dtype === undefined ? undefined : checkOneOf(o.dtype, 'options.dtype', DTYPE_OPTIONS);

  const onProgress = o.onProgress;
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    fail(ErrorCode.INVALID_ARGUMENT, `options.onProgress must be a function; received ${describe(onProgress)}`);
  }

  const signal = o.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    fail(ErrorCode.INVALID_ARGUMENT, `options.signal must be an AbortSignal; received ${describe(signal)}`);
  }

  return {
    cacheDir,
    offline,
    hubUrl: parsed.href.replace(/\/+$/, ''),
    revision,
    dtype,
    onnxFile,
    fp32File,
    onProgress: onProgress as CheckedOptions['onProgress'],
    signal,
  };
}

function checkRepoFile(file: unknown, name: string): string | undefined {
  if (file !== undefined && (typeof file !== 'string' || !/^[\w.-]+(\/[\w.-]+)*$/.test(file) || hasDotSegment(file))) {
    fail(ErrorCode.INVALID_ARGUMENT, `${name} must be a relative path inside the model repository such as '${FP32_FILE}'; received ${describe(file)}`);
  }
  return file;
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

/** The first file of the candidate groups that exists under dir, with its precision. */
async function firstOnnx(dir: string, groups: readonly OnnxCandidates[]): Promise<{ onnx: string; dtype: Dtype } | undefined> {
  for (const g of groups) {
    for (const f of g.files) if (await isFile(join(dir, f))) return { onnx: join(dir, f), dtype: g.dtype };
  }
  return undefined;
}

/** The error for a model with no int8 export: names the files looked for. */
function noInt8(where: string, files: readonly string[]): never {
  throw createError(
    ErrorCode.NOT_FOUND,
    `${where} has no int8 (q8) export: looked for ${files.join(', ')}. Load it with dtype 'fp32' (or 'auto'), ` +
      "or quantise its model.onnx with onnxruntime's dynamic quantisation into one of those names.",
  );
}

async function localModel(dir: string, groups: readonly OnnxCandidates[], dtype: DtypeOption | undefined): Promise<ModelFiles> {
  const found = await firstOnnx(dir, groups);
  const missing: string[] = [];
  for (const f of [TOKENIZER, TOKENIZER_CONFIG]) if (!(await isFile(join(dir, f)))) missing.push(f);
  if (!found && dtype === 'q8' && groups.every((g) => g.dtype === 'q8')) noInt8(`the model directory ${dir}`, [...new Set(groups.flatMap((g) => g.files))]);
  // The last group is the fallback (fp32 for 'auto'): name its files.
  if (!found) missing.unshift((groups[groups.length - 1] as OnnxCandidates).files.join(' or '));
  if (missing.length > 0 || !found) {
    throw createError(
      ErrorCode.NOT_FOUND,
      `the model directory ${dir} lacks ${missing.join(', ')}: ${LOCAL_LAYOUT}`,
    );
  }
  const config = join(dir, CONFIG);
  return {
    dir,
    onnx: found.onnx,
    dtype: found.dtype,
    tokenizer: join(dir, TOKENIZER),
    tokenizerConfig: join(dir, TOKENIZER_CONFIG),
    ...((await isFile(config)) ? { config } : {}),
  };
}

/** The cached files, if every required one is there (final names only exist complete). */
async function cachedModel(dir: string, groups: readonly OnnxCandidates[]): Promise<ModelFiles | undefined> {
  const tokenizer = join(dir, TOKENIZER);
  const tokenizerConfig = join(dir, TOKENIZER_CONFIG);
  for (const f of [tokenizer, tokenizerConfig]) if (!(await isFile(f))) return undefined;
  const found = await firstOnnx(dir, groups);
  if (!found) return undefined;
  const config = join(dir, CONFIG);
  return { dir, ...found, tokenizer, tokenizerConfig, ...((await isFile(config)) ? { config } : {}) };
}

/**
 * Downloads the missing files of a model into dir. The optional config.json
 * and the small files come first, the ONNX file last, so a complete set of
 * required files means config.json was fetched too (or does not exist).
 * The ONNX candidates are tried in order until the server has one (an int8
 * file a repository lacks is a 404); an fp32 file is required.
 */
async function download(dir: string, hubId: string, groups: readonly OnnxCandidates[], opts: CheckedOptions): Promise<void> {
  const repoPath = hubId.split('/').map(encodeURIComponent).join('/');
  const fetchOne = async (file: string, required: boolean): Promise<boolean> => {
    const final = join(dir, file);
    if (await isFile(final)) return true;
    const url = `${opts.hubUrl}/${repoPath}/resolve/${encodeURIComponent(opts.revision)}/${file
      .split('/')
      .map(encodeURIComponent)
      .join('/')}`;
    await ioStep(final, () => mkdir(dirname(final), { recursive: true }));
    return downloadFile(url, file, final, required, opts);
  };
  await fetchOne(CONFIG, false);
  await fetchOne(TOKENIZER_CONFIG, true);
  await fetchOne(TOKENIZER, true);
  for (const g of groups) {
    // An explicit file or an fp32 one must be there; an int8 candidate may not be.
    for (const file of g.files) if (await fetchOne(file, opts.onnxFile !== undefined || g.dtype === 'fp32')) return;
  }
  noInt8(`the hub repository ${hubId} (revision ${opts.revision})`, groups.flatMap((g) => g.files));
}
