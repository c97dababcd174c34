/**
 * The examples run as a user runs them (importing the built package). Those
 * that need no model run without one; the others run on the toy model, so
 * this checks they execute, not what a real model would rank first. Without
 * a model they must stop with a clear message naming it, not a stack trace.
 * Files starting with '_' are shared helpers, not examples.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, it, type ExpectStatic } from 'vitest';

import { haveToyModel, toyModelDir } from './helpers/models.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const examples = join(root, 'examples');
const files = readdirSync(examples).filter((f) => f.endsWith('.ts') && !f.startsWith('_')).sort();
const source = (file: string) => readFileSync(join(examples, file), 'utf8');
/** The model an example loads first (through examples/_shared.ts), if any. */
const modelOf = (file: string) => /\bloadModel\('([^']+)'/.exec(source(file))?.[1];

// Two copies, so the two models of a comparison have different names.
const modelDir = haveToyModel ? toyModelDir() : undefined;
const modelDir2 = haveToyModel ? toyModelDir() : undefined;
const emptyCache = mkdtempSync(join(tmpdir(), 'semvec-empty-cache-'));
afterAll(() => {
  for (const dir of [modelDir, modelDir2, emptyCache]) if (dir) rmSync(dir, { recursive: true, force: true });
});

type Models = { SEMVEC_MODEL_DIR?: string; SEMVEC_MODEL_DIR_2?: string };

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

// Child processes at once: each loads the addon and the ONNX runtime.
const slots = Math.max(1, Math.min(4, availableParallelism()));
let running = 0;
const waiting: (() => void)[] = [];

/** Runs an example with tsx: offline, an empty cache, no model unless given. */
async function run(file: string, models: Models = {}): Promise<Run> {
  while (running >= slots) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await spawnExample(file, models);
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function spawnExample(file: string, models: Models): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, SEMVEC_OFFLINE: '1', SEMVEC_CACHE: emptyCache, SEMVEC_EXAMPLE_QUICK: '1', ...models };
  for (const name of ['SEMVEC_MODEL_DIR', 'SEMVEC_MODEL_DIR_2'] as const) if (!models[name]) delete env[name];
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(examples, file)], { cwd: root, env, encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

describe('examples', () => {
  it('include the walkthrough blocks and exercises', ({ expect }) => {
    expect(files.length).toBeGreaterThanOrEqual(13);
    expect(files.filter((f) => modelOf(f) === undefined).length).toBeGreaterThanOrEqual(2);
  });
});

describe.concurrent('examples run', () => {
  for (const file of files) {
    const model = modelOf(file);
    it.skipIf(model !== undefined && !modelDir)(`${file}${model ? ' (toy model)' : ' (no model)'}`, async ({ expect }) => {
      const r = await run(file, model ? { SEMVEC_MODEL_DIR: modelDir, SEMVEC_MODEL_DIR_2: modelDir2 } : {});
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(0);
    });
  }
});

describe.concurrent('examples without their model', () => {
  const expectClearFailure = (r: Run, model: string, envVar: string, expect: ExpectStatic) => {
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`needs the sentence-embedding model ${model}`);
    expect(r.stderr).toContain(`Set ${envVar} to a directory`);
    expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace
  };

  it('all load their models through examples/_shared.ts', ({ expect }) => {
    for (const file of files) expect(source(file), file).not.toMatch(/await Embedder\.load\(/);
  });

  // The helper is shared, so one example per model name is enough.
  const byModel = new Map<string, string>();
  for (const file of files) {
    const model = modelOf(file);
    if (model && !byModel.has(model)) byModel.set(model, file);
  }
  for (const [model, file] of byModel) {
    it(`${file} names ${model} and exits 1`, async ({ expect }) => {
      expectClearFailure(await run(file), model, 'SEMVEC_MODEL_DIR', expect);
    });
  }
  const pair = files.find((f) => source(f).includes("'SEMVEC_MODEL_DIR_2'"));
  const second = pair && /\bloadModel\('([^']+)', 'SEMVEC_MODEL_DIR_2'\)/.exec(source(pair))?.[1];
  it.skipIf(!modelDir || !pair)(`${pair} names its second model ${second} and exits 1`, async ({ expect }) => {
    expectClearFailure(await run(pair!, { SEMVEC_MODEL_DIR: modelDir }), second ?? '', 'SEMVEC_MODEL_DIR_2', expect);
  });
});
