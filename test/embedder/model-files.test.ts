/**
 * Model files: local directories, the cache, and downloads from a stand-in
 * hub on 127.0.0.1 (never a real host): resume, faults, progress, offline.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, relative } from 'node:path';

import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import {
  defaultCacheDir,
  resolveModelFiles,
  type DownloadProgress,
  type ResolveOptions,
} from '../../src/embedder/model-files.js';
import { int8FileNames, thisCpu } from '../../src/embedder/precision.js';
import { DownloadBars } from '../../src/cli/output.js';
import { NotFoundError, SemvecError, SemvecIOError, ValidationError } from '../../src/index.js';
import { serve, startHubServer, type HubServer } from '../helpers/hub-server.js';
import { sharedModels } from '../helpers/models.js';

const shared = sharedModels;
/**
 * A model file: the shared test model's when shared/models is there; otherwise
 * stand-in bytes of a similar size (these tests move files, they do not run
 * them).
 */
function modelFile(rel: string, size: number): Buffer {
  const path = join(shared, rel);
  return existsSync(path) ? readFileSync(path) : Buffer.alloc(size, rel.length);
}
const REPO = 'test-org/toy-bert';
const FILES: Record<string, Buffer> = {
  'onnx/model.onnx': modelFile('toy-random-bert/model.onnx', 2_000_000),
  'tokenizer.json': modelFile('all-MiniLM-L6-v2/tokenizer.json', 700_000),
  'tokenizer_config.json': modelFile('all-MiniLM-L6-v2/tokenizer_config.json', 400),
  'config.json': modelFile('all-MiniLM-L6-v2/config.json', 600),
};
const ONNX = FILES['onnx/model.onnx']!;

const root = mkdtempSync(join(tmpdir(), 'semvec-model-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
/** A fresh empty directory under the test's temp root. */
function freshDir(): string {
  const d = join(root, `d${n++}`);
  mkdirSync(d, { recursive: true });
  return d;
}

let hub: HubServer;
beforeEach(async () => {
  hub = await startHubServer(REPO, FILES);
});
afterEach(async () => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  await hub.close();
});

/** Options that never depend on this machine's environment. */
function opts(cacheDir: string, more: ResolveOptions = {}): ResolveOptions {
  return { cacheDir, hubUrl: hub.url, offline: false, ...more };
}

async function rejection(p: Promise<unknown>): Promise<SemvecError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SemvecError);
    return err as SemvecError;
  }
  throw new Error('expected a rejection');
}

/** Every file under dir, as paths relative to it. */
function listFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => statSync(join(dir, f)).isFile())
    .map((f) => f.split('\\').join('/'))
    .sort();
}

describe('local directories', () => {
  function modelDir(layout: Record<string, string>): string {
    const dir = freshDir();
    for (const [name, from] of Object.entries(layout)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), modelFile(from, 1000));
    }
    return dir;
  }

  it('resolves a directory holding model.onnx and the tokenizer files, by absolute or relative path', async () => {
    const dir = modelDir({
      'model.onnx': 'toy-random-bert/model.onnx',
      'tokenizer.json': 'all-MiniLM-L6-v2/tokenizer.json',
      'tokenizer_config.json': 'all-MiniLM-L6-v2/tokenizer_config.json',
      'config.json': 'all-MiniLM-L6-v2/config.json',
    });
    const expected = {
      dir,
      onnx: join(dir, 'model.onnx'),
      dtype: 'fp32',
      tokenizer: join(dir, 'tokenizer.json'),
      tokenizerConfig: join(dir, 'tokenizer_config.json'),
      config: join(dir, 'config.json'),
    };
    expect(await resolveModelFiles(dir, undefined, opts(freshDir()))).toEqual(expected);
    // A hub id does not matter when the directory exists: no request is made.
    expect(await resolveModelFiles(relative(process.cwd(), dir), REPO, opts(freshDir()))).toEqual(expected);
    expect(hub.requests).toHaveLength(0);
  });

  it('finds onnx/model.onnx, or options.onnxFile, and leaves out a missing config.json', async () => {
    const dir = modelDir({
      'onnx/model.onnx': 'toy-random-bert/model.onnx',
      'onnx/model_quint8.onnx': 'toy-random-bert/model.onnx',
      'tokenizer.json': 'all-MiniLM-L6-v2/tokenizer.json',
      'tokenizer_config.json': 'all-MiniLM-L6-v2/tokenizer_config.json',
    });
    const files = await resolveModelFiles(dir, undefined, opts(freshDir()));
    expect(files.onnx).toBe(join(dir, 'onnx/model.onnx'));
    expect(files.config).toBeUndefined();
    expect('config' in files).toBe(false);
    const quant = await resolveModelFiles(dir, undefined, opts(freshDir(), { onnxFile: 'onnx/model_quint8.onnx' }));
    expect(quant.onnx).toBe(join(dir, 'onnx/model_quint8.onnx'));
    expect(quant.dtype).toBe('q8'); // judged by its name
    // An onnxFile the directory lacks falls back to the usual names.
    const fallback = await resolveModelFiles(dir, undefined, opts(freshDir(), { onnxFile: 'onnx/model_O4.onnx' }));
    expect(fallback.onnx).toBe(join(dir, 'onnx/model.onnx'));
  });

  it('an incomplete directory is ERR_NOT_FOUND naming it, the missing files and the layout', async () => {
    const dir = modelDir({ 'tokenizer.json': 'all-MiniLM-L6-v2/tokenizer.json' });
    const err = await rejection(resolveModelFiles(dir, REPO, opts(freshDir())));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.code).toBe('ERR_NOT_FOUND');
    expect(err.message).toContain(dir);
    expect(err.message).toMatch(/lacks model\.onnx or onnx\/model\.onnx, tokenizer_config\.json:/);
    expect(err.message).toMatch(/needs model\.onnx \(or onnx\/model\.onnx, or an int8 export such as model_quantized\.onnx\), tokenizer\.json and tokenizer_config\.json/);
    expect(hub.requests).toHaveLength(0);
  });
});

describe('downloads', () => {
  it('downloads into an empty cache, then resolves from the cache without a request', async () => {
    const cache = freshDir();
    const files = await resolveModelFiles('toy-bert', REPO, opts(cache));
    const dir = join(cache, 'test-org--toy-bert', 'main');
    expect(files).toEqual({
      dir,
      onnx: join(dir, 'onnx/model.onnx'),
      dtype: 'fp32',
      tokenizer: join(dir, 'tokenizer.json'),
      tokenizerConfig: join(dir, 'tokenizer_config.json'),
      config: join(dir, 'config.json'),
    });
    for (const [name, body] of Object.entries(FILES)) expect(readFileSync(join(dir, name)).equals(body), name).toBe(true);
    expect(listFiles(dir)).toEqual(Object.keys(FILES).sort()); // no .part left behind
    expect(hub.requests.map((r) => r.file)).toEqual(['config.json', 'tokenizer_config.json', 'tokenizer.json', 'onnx/model.onnx']);
    expect(hub.requests.every((r) => r.range === undefined)).toBe(true);

    const again = await resolveModelFiles('toy-bert', REPO, opts(cache));
    expect(again).toEqual(files);
    expect(hub.requests).toHaveLength(4);
  });

  it('reports progress with increasing byte counts and the announced total', async () => {
    const events: DownloadProgress[] = [];
    await resolveModelFiles(REPO, REPO, opts(freshDir(), { onProgress: (p) => events.push(p) }));
    for (const [name, body] of Object.entries(FILES)) {
      const mine = events.filter((e) => e.file === name);
      expect(mine.length, name).toBeGreaterThanOrEqual(2);
      expect(mine[0]!.received).toBe(0);
      expect(mine.every((e) => e.total === body.length)).toBe(true);
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.received).toBeGreaterThan(mine[i - 1]!.received);
      expect(mine.at(-1)!.received).toBe(body.length);
    }
    expect(events.filter((e) => e.file === 'onnx/model.onnx').length).toBeGreaterThan(3); // ~2 MB arrives in chunks
  });

  it('tolerates a repository without config.json (404)', async () => {
    await hub.close();
    const { 'config.json': _, ...withoutConfig } = FILES;
    hub = await startHubServer(REPO, withoutConfig);
    const cache = freshDir();
    const files = await resolveModelFiles(REPO, REPO, opts(cache));
    expect(files.config).toBeUndefined();
    expect(readFileSync(files.onnx).equals(ONNX)).toBe(true);
    expect(listFiles(files.dir)).toEqual(['onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json']);
    // The cache is complete without it: no new request.
    await resolveModelFiles(REPO, REPO, opts(cache));
    expect(hub.requests).toHaveLength(4);
  });

  it('follows redirects, uses the revision and an onnxFile path', async () => {
    await hub.close();
    const withO2: Record<string, Buffer> = { ...FILES, 'onnx/model_O2.onnx': ONNX };
    hub = await startHubServer(REPO, withO2, 'v1.0');
    hub.intercept = (req, res) => {
      const url = req.url ?? '';
      if (url.startsWith('/cdn/')) serve(req, res, withO2[url.slice(`/cdn/${REPO}/resolve/v1.0/`.length)]);
      else res.writeHead(302, { location: `/cdn${url}` }).end();
      return true;
    };
    const files = await resolveModelFiles(REPO, REPO, opts(freshDir(), { revision: 'v1.0', onnxFile: 'onnx/model_O2.onnx' }));
    expect(files.dir.endsWith(join('test-org--toy-bert', 'v1.0'))).toBe(true);
    expect(files.onnx).toBe(join(files.dir, 'onnx/model_O2.onnx'));
    expect(readFileSync(files.onnx).equals(ONNX)).toBe(true);
    expect(hub.requests.filter((r) => r.url.startsWith('/cdn/'))).toHaveLength(4);
  });

  it('a connection dropped midway is ERR_DOWNLOAD, leaves no final file, and the retry resumes with Range', async () => {
    const cache = freshDir();
    const dir = join(cache, 'test-org--toy-bert', 'main');
    const half = ONNX.length >> 1;
    let drop: (() => void) | undefined;
    hub.intercept = (_req, res, file, body) => {
      if (file !== 'onnx/model.onnx' || !body) return false;
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, half));
      drop = () => res.socket?.destroy();
      return true;
    };
    // The connection drops once the client has written every byte sent to the
    // .part file (it reports progress after each write), however slow the machine.
    const onProgress = (p: DownloadProgress): void => {
      if (p.file === 'onnx/model.onnx' && p.received === half) drop?.();
    };
    const err = await rejection(resolveModelFiles(REPO, REPO, opts(cache, { onProgress })));
    expect(err).toBeInstanceOf(SemvecIOError);
    expect(err.code).toBe('ERR_DOWNLOAD');
    expect(err.message).toContain(`${hub.url}/${REPO}/resolve/main/onnx/model.onnx`);
    expect(err.message).toContain(`connection dropped after ${half} of ${ONNX.length} bytes`);
    expect(err.message).toContain('model.onnx.part is kept');
    expect(existsSync(join(dir, 'onnx/model.onnx'))).toBe(false);
    const kept = statSync(join(dir, 'onnx/model.onnx.part')).size;
    expect(kept).toBe(half);

    // The good server resumes from the kept bytes.
    hub.intercept = undefined;
    hub.requests.length = 0;
    const files = await resolveModelFiles(REPO, REPO, opts(cache));
    expect(hub.requests).toEqual([expect.objectContaining({ file: 'onnx/model.onnx', range: `bytes=${kept}-` })]);
    expect(readFileSync(files.onnx).equals(ONNX)).toBe(true);
    expect(existsSync(join(dir, 'onnx/model.onnx.part'))).toBe(false);
  });

  it('a stale .part the server cannot continue (200 to a Range, or 416) is restarted from zero', async () => {
    const cache = freshDir();
    const dir = join(cache, 'test-org--toy-bert', 'main');
    mkdirSync(join(dir, 'onnx'), { recursive: true });
    writeFileSync(join(dir, 'tokenizer.json.part'), 'garbage');
    writeFileSync(join(dir, 'onnx/model.onnx.part'), Buffer.alloc(ONNX.length + 5)); // past the end: 416
    hub.intercept = (_req, res, file, body) => {
      if (file !== 'tokenizer.json' || !body) return false;
      res.writeHead(200, { 'content-length': body.length }).end(body); // ignores Range
      return true;
    };
    const files = await resolveModelFiles(REPO, REPO, opts(cache));
    expect(readFileSync(files.tokenizer).equals(FILES['tokenizer.json']!)).toBe(true);
    expect(readFileSync(files.onnx).equals(ONNX)).toBe(true);
    const onnxRequests = hub.requests.filter((r) => r.file === 'onnx/model.onnx').map((r) => r.range);
    expect(onnxRequests).toEqual([`bytes=${ONNX.length + 5}-`, undefined]);
    expect(hub.requests.find((r) => r.file === 'tokenizer.json')?.range).toBe('bytes=7-');
    expect(listFiles(dir)).toEqual(Object.keys(FILES).sort());
  });

  it('a server error is ERR_DOWNLOAD naming the URL and the status', async () => {
    hub.intercept = (_req, res, file) => {
      if (file !== 'tokenizer.json') return false;
      res.writeHead(500).end('boom');
      return true;
    };
    const cache = freshDir();
    const err = await rejection(resolveModelFiles(REPO, REPO, opts(cache)));
    expect(err.code).toBe('ERR_DOWNLOAD');
    expect(err).toBeInstanceOf(SemvecIOError);
    expect(err.message).toContain(`cannot download ${hub.url}/${REPO}/resolve/main/tokenizer.json`);
    expect(err.message).toContain('HTTP 500');
    const dir = join(cache, 'test-org--toy-bert', 'main');
    expect(listFiles(dir)).toEqual(['config.json', 'tokenizer_config.json']);
  });

  it('a missing required file (404) is ERR_DOWNLOAD with advice on the path', async () => {
    const err = await rejection(resolveModelFiles(REPO, REPO, opts(freshDir(), { onnxFile: 'onnx/model_fp16.onnx' })));
    expect(err.code).toBe('ERR_DOWNLOAD');
    expect(err.message).toContain('/resolve/main/onnx/model_fp16.onnx');
    expect(err.message).toContain('HTTP 404');
    expect(err.message).toContain('options.onnxFile');
  });

  it('a body shorter than its Content-Length is ERR_DOWNLOAD, never a final file', async () => {
    hub.intercept = (req, _res, file, body) => {
      if (file !== 'tokenizer.json' || !body) return false;
      // An HTTP/1.0 reply that claims more bytes than it sends, then closes.
      req.socket.end(
        Buffer.concat([
          Buffer.from(`HTTP/1.0 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`),
          body.subarray(0, 1000),
        ]),
      );
      return true;
    };
    const cache = freshDir();
    const err = await rejection(resolveModelFiles(REPO, REPO, opts(cache)));
    expect(err.code).toBe('ERR_DOWNLOAD');
    expect(err.message).toContain('/resolve/main/tokenizer.json');
    // The bytes that came may or may not reach the .part: undici drops a body's queued chunks on error.
    expect(err.message).toMatch(
      new RegExp(`shorter than its Content-Length: it ended after \\d+ of ${FILES['tokenizer.json']!.length} bytes`),
    );
    expect(existsSync(join(cache, 'test-org--toy-bert', 'main', 'tokenizer.json'))).toBe(false);
  });

  it('a complete response whose size disagrees with the announced one is ERR_DOWNLOAD', async () => {
    const body = FILES['tokenizer_config.json']!;
    hub.intercept = (_req, res, file) => {
      if (file !== 'tokenizer_config.json') return false;
      res.writeHead(206, { 'content-length': body.length, 'content-range': `bytes 0-${body.length - 1}/${body.length + 10}` });
      res.end(body);
      return true;
    };
    const cache = freshDir();
    const err = await rejection(resolveModelFiles(REPO, REPO, opts(cache)));
    expect(err.code).toBe('ERR_DOWNLOAD');
    expect(err.message).toContain(`received ${body.length} bytes but the server announced ${body.length + 10}`);
    expect(existsSync(join(cache, 'test-org--toy-bert', 'main', 'tokenizer_config.json'))).toBe(false);
  });

  it('reports progress; the semvec command draws it as a bar on stderr (the library draws nothing)', async () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
      written.push(String(chunk));
      return true;
    });
    await resolveModelFiles(REPO, REPO, opts(freshDir()));
    expect(written).toEqual([]);
    const bars = (await DownloadBars.create({ color: false, progress: true, columns: undefined }))!;
    await resolveModelFiles(REPO, REPO, opts(freshDir(), { onProgress: bars.report }));
    bars.stop();
    vi.restoreAllMocks();
    const out = written.join('');
    expect(out).toMatch(/onnx\/model\.onnx \[=+\] 100% \| 2\.0 MB\/2\.0 MB \| [\d.]+ [kMG]?B\/s \| ETA /);
    expect(out).toMatch(/tokenizer\.json \[[=-]+\] \d+% \| /);
  });

  it('an aborted download rejects with the signal reason and keeps no final file', async () => {
    const cache = freshDir();
    hub.intercept = (_req, res, file, body) => {
      if (file !== 'onnx/model.onnx' || !body) return false;
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, 100_000)); // then stalls
      return true;
    };
    const controller = new AbortController();
    const onProgress = (p: DownloadProgress): void => {
      if (p.file === 'onnx/model.onnx' && p.received > 0) controller.abort();
    };
    const p = resolveModelFiles(REPO, REPO, opts(cache, { signal: controller.signal, onProgress }));
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(existsSync(join(cache, 'test-org--toy-bert', 'main', 'onnx/model.onnx'))).toBe(false);
  });

  it('concurrent resolves of one model download it once', async () => {
    const cache = freshDir();
    const [a, b] = await Promise.all([
      resolveModelFiles(REPO, REPO, opts(cache)),
      resolveModelFiles('toy-bert', REPO, opts(cache)),
    ]);
    expect(a).toEqual(b);
    expect(hub.requests).toHaveLength(4);
  });
});

describe('precision (dtype)', () => {
  const QUANT = modelFile('toy-random-bert/model_quantized.onnx', 1_000_000);
  const tokenizerFiles = {
    'tokenizer.json': FILES['tokenizer.json']!,
    'tokenizer_config.json': FILES['tokenizer_config.json']!,
  };
  function dirWith(files: Record<string, Buffer>): string {
    const dir = freshDir();
    for (const [name, body] of Object.entries({ ...tokenizerFiles, ...files })) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), body);
    }
    return dir;
  }
  const own = int8FileNames(thisCpu());

  it("a directory: 'q8' finds the int8 export at the root or under onnx/, 'fp32' the fp32 file", async () => {
    for (const at of ['model_quantized.onnx', 'onnx/model_quantized.onnx', 'onnx/model_int8.onnx', `onnx/${own[0]}`]) {
      const dir = dirWith({ 'onnx/model.onnx': ONNX, [at]: QUANT });
      const q8 = await resolveModelFiles(dir, undefined, opts(freshDir(), { dtype: 'q8' }));
      expect(q8.onnx, at).toBe(join(dir, at));
      expect(q8.dtype).toBe('q8');
      const fp32 = await resolveModelFiles(dir, undefined, opts(freshDir(), { dtype: 'fp32' }));
      expect(fp32).toMatchObject({ onnx: join(dir, 'onnx/model.onnx'), dtype: 'fp32' });
    }
    // The file made for this CPU wins over the generic name.
    const both = dirWith({ 'onnx/model_quantized.onnx': QUANT, [`onnx/${own[0]}`]: QUANT });
    expect((await resolveModelFiles(both, undefined, opts(freshDir(), { dtype: 'q8' }))).onnx).toBe(join(both, `onnx/${own[0]}`));
    expect(hub.requests).toHaveLength(0);
  });

  it("a directory: 'auto' takes q8 on a CPU with VNNI, else fp32, and fp32 when there is no int8 file", async () => {
    const dir = dirWith({ 'model.onnx': ONNX, 'onnx/model_quantized.onnx': QUANT });
    const auto = await resolveModelFiles(dir, undefined, opts(freshDir(), { dtype: 'auto' }));
    const cpu = thisCpu();
    expect(auto.dtype).toBe(cpu.arch === 'x64' && cpu.vnni ? 'q8' : 'fp32');
    const fp32Only = dirWith({ 'model.onnx': ONNX });
    expect(await resolveModelFiles(fp32Only, undefined, opts(freshDir(), { dtype: 'auto' }))).toMatchObject({ dtype: 'fp32', onnx: join(fp32Only, 'model.onnx') });
  });

  it("a directory without an int8 file: 'q8' is ERR_NOT_FOUND naming every file looked for", async () => {
    const dir = dirWith({ 'model.onnx': ONNX });
    const err = await rejection(resolveModelFiles(dir, undefined, opts(freshDir(), { dtype: 'q8' })));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.code).toBe('ERR_NOT_FOUND');
    expect(err.message).toContain(`the model directory ${dir} has no int8 (q8) export: looked for `);
    for (const name of ['model_quantized.onnx', 'model_int8.onnx', 'model_qint8_avx512_vnni.onnx', 'model_qint8_avx512.onnx', 'model_quint8_avx2.onnx']) {
      expect(err.message).toContain(` ${name},`);
      expect(err.message).toContain(`onnx/${name}`);
    }
    expect(err.message).toContain("dtype 'fp32'");
  });

  it("the hub: 'q8' downloads only the int8 file for this CPU, never the fp32 one, then serves it from the cache", async () => {
    await hub.close();
    const files: Record<string, Buffer> = { ...FILES };
    for (const name of own) files[`onnx/${name}`] = QUANT;
    hub = await startHubServer(REPO, files);
    const cache = freshDir();
    const got = await resolveModelFiles(REPO, REPO, opts(cache, { dtype: 'q8' }));
    expect(got.dtype).toBe('q8');
    expect(got.onnx).toBe(join(cache, 'test-org--toy-bert', 'main', 'onnx', own[0]!));
    expect(readFileSync(got.onnx).equals(QUANT)).toBe(true);
    expect(hub.requests.map((r) => r.file)).toEqual(['config.json', 'tokenizer_config.json', 'tokenizer.json', `onnx/${own[0]}`]);
    expect(await resolveModelFiles(REPO, REPO, opts(cache, { dtype: 'q8' }))).toEqual(got);
    expect(hub.requests).toHaveLength(4);
    // fp32 later: only the fp32 file is fetched.
    const fp32 = await resolveModelFiles(REPO, REPO, opts(cache, { dtype: 'fp32' }));
    expect(fp32.dtype).toBe('fp32');
    expect(hub.requests.slice(4).map((r) => r.file)).toEqual(['onnx/model.onnx']);
  });

  it("the hub: a repository with only model_quantized.onnx is found after the CPU's own names (404s)", async () => {
    await hub.close();
    hub = await startHubServer(REPO, { ...FILES, 'onnx/model_quantized.onnx': QUANT });
    const cache = freshDir();
    const got = await resolveModelFiles(REPO, REPO, opts(cache, { dtype: 'q8' }));
    expect(got.onnx.endsWith('onnx/model_quantized.onnx')).toBe(true);
    const onnxRequests = hub.requests.map((r) => r.file).filter((f) => f.endsWith('.onnx'));
    expect(onnxRequests.at(-1)).toBe('onnx/model_quantized.onnx');
    expect(onnxRequests).not.toContain('onnx/model.onnx');
    expect(listFiles(got.dir)).toEqual(['config.json', 'onnx/model_quantized.onnx', 'tokenizer.json', 'tokenizer_config.json']);
  });

  it("the hub: 'q8' for a repository without int8 exports is ERR_NOT_FOUND naming the files, and no ONNX file is kept", async () => {
    const cache = freshDir();
    const err = await rejection(resolveModelFiles(REPO, REPO, opts(cache, { dtype: 'q8' })));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toContain(`the hub repository ${REPO} (revision main) has no int8 (q8) export: looked for onnx/${own[0]}`);
    expect(err.message).toContain('onnx/model_quantized.onnx');
    expect(hub.requests.map((r) => r.file)).not.toContain('onnx/model.onnx');
    const dir = join(cache, 'test-org--toy-bert', 'main');
    expect(listFiles(dir).filter((f) => f.includes('onnx'))).toEqual([]);
  });

  it("the hub: 'auto' uses an fp32 file already in the cache before downloading an int8 one", async () => {
    const cache = freshDir();
    await resolveModelFiles(REPO, REPO, opts(cache, { dtype: 'fp32' }));
    const before = hub.requests.length;
    const auto = await resolveModelFiles(REPO, REPO, opts(cache, { dtype: 'auto' }));
    expect(auto.dtype).toBe('fp32');
    expect(hub.requests).toHaveLength(before);
  });

  it('rejects an unknown dtype', async () => {
    const err = await rejection(resolveModelFiles(REPO, REPO, opts(freshDir(), { dtype: 'int4' as never })));
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toMatch(/options\.dtype must be one of .*'fp32'.*'q8'.*'auto'.*received the string "int4"/);
    expect(hub.requests).toHaveLength(0);
  });
});

describe('offline and unknown names', () => {
  it('offline with an empty cache is ERR_OFFLINE naming the cache path and the files', async () => {
    const cache = freshDir();
    const dir = join(cache, 'test-org--toy-bert', 'main');
    for (const o of [opts(cache, { offline: true }), { cacheDir: cache, hubUrl: hub.url }]) {
      vi.stubEnv('SEMVEC_OFFLINE', '1');
      const err = await rejection(resolveModelFiles(REPO, REPO, o));
      expect(err).toBeInstanceOf(SemvecIOError);
      expect(err.code).toBe('ERR_OFFLINE');
      expect(err.message).toContain(`Put its files in ${dir}: onnx/model.onnx, tokenizer.json, tokenizer_config.json`);
      expect(err.message).toContain('pass the path of a local directory');
    }
    vi.stubEnv('SEMVEC_OFFLINE', 'true');
    expect((await rejection(resolveModelFiles(REPO, REPO, { cacheDir: cache, hubUrl: hub.url }))).code).toBe('ERR_OFFLINE');
    expect(hub.requests).toHaveLength(0);
  });

  it('offline still uses a complete cache', async () => {
    const cache = freshDir();
    const online = await resolveModelFiles(REPO, REPO, opts(cache));
    vi.stubEnv('SEMVEC_OFFLINE', '1');
    expect(await resolveModelFiles(REPO, REPO, { cacheDir: cache, hubUrl: 'http://127.0.0.1:9' })).toEqual(online);
  });

  it('an unknown name without a hub id is ERR_NOT_FOUND saying how to name a model', async () => {
    const err = await rejection(resolveModelFiles('no-such-model', undefined, opts(freshDir())));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.code).toBe('ERR_NOT_FOUND');
    expect(err.message).toContain('"no-such-model" is neither a local directory nor a known model name');
    expect(err.message).toContain("hub id such as 'sentence-transformers/all-MiniLM-L6-v2'");
    expect(err.message).toContain('the path of a directory');
    const file = join(freshDir(), 'model.onnx');
    writeFileSync(file, ONNX.subarray(0, 10));
    expect((await rejection(resolveModelFiles(file, undefined, opts(freshDir())))).message).toContain('is a file, not a model directory');
    expect(hub.requests).toHaveLength(0);
  });
});

describe('arguments and defaults', () => {
  it('rejects bad arguments with ERR_INVALID_ARGUMENT', async () => {
    const cache = freshDir();
    vi.stubEnv('HF_ENDPOINT', hub.url);
    const bad: Array<[unknown, unknown, unknown, RegExp]> = [
      ['', REPO, {}, /nameOrPath must be a non-empty string; received the string ""/],
      [42, REPO, {}, /nameOrPath must be a non-empty string; received the number 42/],
      ['x', 'a/b/c', {}, /hubId must be a hub repository id .*received the string "a\/b\/c"/],
      ['x', '../etc', {}, /hubId must be/],
      ['x', REPO, null, /options must be an object; received null/],
      ['x', REPO, 'fast', /options must be an object; received the string "fast"/],
      ['x', REPO, { cacheDir: 3 }, /options\.cacheDir must be a non-empty string; received the number 3/],
      ['x', REPO, { offline: 'yes' }, /options\.offline must be a boolean; received the string "yes"/],
      ['x', REPO, { hubUrl: 'ftp://example.invalid' }, /options\.hubUrl must be an http\(s\) URL/],
      ['x', REPO, { hubUrl: 'not a url' }, /options\.hubUrl must be an http\(s\) URL/],
      ['x', REPO, { revision: '../x' }, /options\.revision must be a branch, tag or commit/],
      ['x', REPO, { onnxFile: '/etc/passwd' }, /options\.onnxFile must be a relative path inside the model repository/],
      ['x', REPO, { onnxFile: 'onnx/../../x.onnx' }, /options\.onnxFile must be/],
      ['x', REPO, { onProgress: 'log' }, /options\.onProgress must be a function/],
      ['x', REPO, { offline: 1 }, /options\.offline must be a boolean; received the number 1/],
      ['x', REPO, { signal: {} }, /options\.signal must be an AbortSignal; received an object/],
    ];
    for (const [name, id, o, message] of bad) {
      const call = (resolveModelFiles as (...a: unknown[]) => Promise<unknown>)(name, id, o === 'fast' || o === null ? o : { cacheDir: cache, ...(o as object) });
      const err = await rejection(call);
      expect(err, String(message)).toBeInstanceOf(ValidationError);
      expect(err.code).toBe('ERR_INVALID_ARGUMENT');
      expect(err.message).toMatch(message);
    }
    vi.stubEnv('HF_ENDPOINT', 'huggingface.co');
    const env = await rejection(resolveModelFiles('x', REPO, { cacheDir: cache }));
    expect(env.message).toMatch(/the HF_ENDPOINT environment variable must be an http\(s\) URL/);
    // Wider option objects (an embedder's own options) are accepted.
    vi.unstubAllEnvs();
    await resolveModelFiles(REPO, REPO, { ...opts(cache), threads: 2 } as ResolveOptions);
    expect(hub.requests).toHaveLength(4);
  });

  it('defaultCacheDir follows SEMVEC_CACHE, then XDG_CACHE_HOME, then ~/.cache', () => {
    vi.stubEnv('SEMVEC_CACHE', '/srv/models');
    vi.stubEnv('XDG_CACHE_HOME', '/var/cache/me');
    expect(defaultCacheDir()).toBe('/srv/models');
    vi.stubEnv('SEMVEC_CACHE', '');
    expect(defaultCacheDir()).toBe(join('/var/cache/me', 'semvec'));
    vi.stubEnv('XDG_CACHE_HOME', '');
    expect(defaultCacheDir()).toBe(join(homedir(), '.cache', 'semvec'));
  });

  it('uses the hub and cache of the environment when no option is given', async () => {
    const cache = freshDir();
    vi.stubEnv('SEMVEC_CACHE', cache);
    vi.stubEnv('HF_ENDPOINT', `${hub.url}/`);
    vi.stubEnv('SEMVEC_OFFLINE', '');
    const files = await resolveModelFiles(REPO, REPO, {});
    expect(files.dir).toBe(join(cache, 'test-org--toy-bert', 'main'));
    expect(hub.requests).toHaveLength(4);
  });
});
