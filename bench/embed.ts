/**
 * bench/embed.ts: how fast does semvec's Embedder turn texts into vectors,
 * against @huggingface/transformers (transformers.js) on the same ONNX file?
 *
 * Run with `npm run bench:embed` (or `npx tsx bench/embed.ts --quick`).
 *
 * Method. Everything is measured in one run on one machine:
 * - Model: by default a RANDOM-weight BERT with exactly all-MiniLM-L6-v2's
 *   architecture and size (6 layers, hidden 384, FFN 1536, 12 heads, vocab
 *   30522; 22.6M parameters, a 90 MB fp32 ONNX file), made by
 *   ../shared/models/make_bert.py (needs Debian's python3-onnx and
 *   python3-numpy) into bench/.models/minilm-random/ (git-ignored), next to
 *   the real all-MiniLM-L6-v2 tokenizer files. Random weights cost the same
 *   compute as the real ones; the embeddings mean nothing. `--model-dir DIR`
 *   uses any BERT-style export laid out as on the hub (onnx/model.onnx,
 *   config.json, tokenizer.json, tokenizer_config.json). Both libraries read
 *   the same onnx/model.onnx through the same onnxruntime-node.
 * - Texts: 2,000 generated from a seeded word list (Zipf-weighted, some
 *   numbers and rare words that split into word pieces): 35% short queries
 *   (5-12 words), 40% sentences (12-40 words), 25% paragraphs (40-200 words).
 * - semvec: Embedder.embed(texts, { batchSize: 32 }) (sorts texts by length,
 *   pads each batch to its longest text, mean pooling, normalisation).
 * - transformers.js: pipeline('feature-extraction', dir, { dtype: 'fp32' }),
 *   called on consecutive slices of 32 texts in input order with
 *   { pooling: 'mean', normalize: true }, as a user with a list of texts
 *   would (one call with all 2,000 texts pads them all to the longest and
 *   needs gigabytes for attention). A second transformers.js run on slices
 *   of length-sorted texts is reported as a reference: it shows how much of
 *   the difference is semvec's length sorting.
 * - Threads: both sessions get the same session options (intraOpNumThreads
 *   = all hardware threads, interOpNumThreads = 1, graphOptimizationLevel
 *   'all'); process CPU time / wall time is printed per run as a check.
 * - Timing: a warm-up of 96 texts of all lengths per configuration, then
 *   best of 3 full passes (semvec and transformers.js interleaved so drift on
 *   a shared VM hits both alike); variants (semvec batch 16/64, 1 thread,
 *   transformers.js sorted) best of 2. Time inside InferenceSession.run is
 *   summed by wrapping onnxruntime-node's run (one timer per batch), so
 *   the rest (tokenising, building tensors, pooling) shows separately.
 * - Agreement: cosine of corresponding rows of the two libraries' outputs
 *   over all texts (must exceed 0.999), next to the cosine of mismatched
 *   rows (i against i+1) to show that the check can fail.
 * - FLOPs: per token 2 * (weights of the encoder matmuls: layers * (4 H^2 +
 *   2 H F)) + attention 2 * 2 * seq * H per layer, where seq is the length
 *   the token's sequence is run at. "real" counts each text at its own
 *   length; "executed" counts every padded position at its batch's length,
 *   which is what the runtime computes. GFLOP/s are compared with the FMA
 *   peak probed by the addon (probeFmaGflops, 0.5 s) before and after the
 *   runs (best kept), with all threads and with 1.
 * - Target: semvec texts/s >= 1.3x transformers.js texts/s (both at batch
 *   32, all threads); PASS/MISS is computed from the measured numbers.
 * - Busy machine: a best pass whose process CPU time / wall time is below
 *   0.8 x its threads had to share the cores with other processes; the
 *   summary then says so (the numbers are low, rerun on a quiet machine).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { Embedder, hardwareThreads, simdLevel } from '../src/index.js';
import { native } from '../src/native.js';
import { fmt, fmtInt, mulberry32, now, progress, table, verdict } from './common.js';

// ---------------------------------------------------------------- options ---

const TARGET = 1.3; // semvec texts/s over transformers.js texts/s, at least
const AGREEMENT = 0.999; // cosine of corresponding rows, more than
const SEED = 7;
const MIX = { query: 0.35, sentence: 0.4, paragraph: 0.25 } as const;
const WORDS_RANGE = { query: [5, 12], sentence: [12, 40], paragraph: [40, 200] } as const;
const WARMUP_TEXTS = 96;
const BUSY_FRACTION = 0.8; // a best pass with CPU time / wall time below this x threads had competition

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const SHARED_MODELS = resolve(BENCH_DIR, '..', '..', 'shared', 'models');
const MAKE_BERT = join(SHARED_MODELS, 'make_bert.py');
const TOKENIZER_SOURCE = join(SHARED_MODELS, 'all-MiniLM-L6-v2');
const DEFAULT_MODEL_DIR = join(BENCH_DIR, '.models', 'minilm-random');
const PYTHON = '/usr/bin/python3';
/** Files both libraries need, as laid out in a hub repository. */
const MODEL_FILES = ['onnx/model.onnx', 'config.json', 'tokenizer.json', 'tokenizer_config.json'] as const;
const TOKENIZER_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'];

interface Params {
  modelDir: string;
  generated: boolean; // the default random model (made if missing)
  texts: number;
  batch: number;
  batchSizes: number[];
  reps: number;
  variantReps: number;
  threads: number;
  fmaSeconds: number;
  out: string;
  quick: boolean;
}

function parseParams(): Params {
  const { values } = parseArgs({
    options: {
      'model-dir': { type: 'string' },
      texts: { type: 'string' },
      out: { type: 'string', default: 'bench/results/embed.json' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help === true) {
    console.log(
      'usage: tsx bench/embed.ts [--model-dir DIR] [--texts N] [--out FILE] [--quick]\n' +
        `  --model-dir DIR  a BERT-style export laid out as on the hub (${MODEL_FILES.join(', ')});\n` +
        `                   default: a random-weight all-MiniLM-L6-v2-sized model in ${DEFAULT_MODEL_DIR}, made if missing\n` +
        '  --texts N        texts per pass (default 2000; --quick: 300)\n' +
        '  --out FILE       JSON results (default bench/results/embed.json)\n' +
        '  --quick          fewer texts and one pass per configuration',
    );
    process.exit(0);
  }
  const quick = values.quick === true;
  const texts = Number((values.texts ?? (quick ? '300' : '2000')).replaceAll('_', ''));
  if (!Number.isSafeInteger(texts) || texts < 2) throw new SetupError(`--texts must be an integer >= 2; received ${values.texts}`);
  return {
    modelDir: resolve(values['model-dir'] ?? DEFAULT_MODEL_DIR),
    generated: values['model-dir'] === undefined,
    texts,
    batch: 32,
    batchSizes: [16, 32, 64],
    reps: quick ? 1 : 3,
    variantReps: quick ? 1 : 2,
    threads: hardwareThreads(),
    fmaSeconds: quick ? 0.2 : 0.5,
    out: resolve(values.out),
    quick,
  };
}

// ------------------------------------------------------------------ model ---

/** A problem with the set-up (model, tools): reported as a message, without a stack trace. */
class SetupError extends Error {}

function missingFiles(dir: string): string[] {
  return MODEL_FILES.filter((f) => !existsSync(join(dir, f)));
}

/** Makes the default random-weight model if it is not there yet; checks a given directory. */
function ensureModel(p: Params): void {
  const missing = missingFiles(p.modelDir);
  if (missing.length === 0) return;
  if (!p.generated) {
    throw new SetupError(
      `--model-dir ${p.modelDir} lacks ${missing.join(', ')}. Both libraries read a directory laid out as on the ` +
        `Hugging Face hub: ${MODEL_FILES.join(', ')}.`,
    );
  }
  for (const f of [MAKE_BERT, join(TOKENIZER_SOURCE, 'tokenizer.json')]) {
    if (!existsSync(f)) {
      throw new SetupError(`cannot make the benchmark model: ${f} is missing (expected beside the repository), or pass --model-dir DIR`);
    }
  }
  const probe = spawnSync(PYTHON, ['-c', 'import onnx, numpy'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    const why = probe.error ? `${PYTHON} cannot be run (${probe.error.message})` : `${PYTHON} cannot import onnx and numpy`;
    throw new SetupError(
      `the benchmark model is missing from ${p.modelDir} and cannot be made: ${why}.\n` +
        'make_bert.py needs Debian\'s python3-onnx and python3-numpy. Install them, then run the benchmark again:\n' +
        '    apt-get update && apt-get install -y python3-onnx python3-numpy\n' +
        '(or pass --model-dir DIR with an exported model).',
    );
  }
  progress(`making the random-weight benchmark model in ${p.modelDir} (make_bert.py, ~5 s)`);
  mkdirSync(join(p.modelDir, 'onnx'), { recursive: true });
  for (const f of TOKENIZER_FILES) {
    const from = join(TOKENIZER_SOURCE, f);
    if (existsSync(from)) copyFileSync(from, join(p.modelDir, f));
  }
  // make_bert.py writes <out>.tmp and renames it: the model file is complete or absent.
  const made = spawnSync(PYTHON, [MAKE_BERT, '--out', join(p.modelDir, 'onnx', 'model.onnx')], { stdio: ['ignore', 2, 2] });
  if (made.error || made.status !== 0) {
    throw new SetupError(`make_bert.py failed (${made.error?.message ?? `exit ${made.status}`}); see its output above`);
  }
  const still = missingFiles(p.modelDir);
  if (still.length > 0) throw new SetupError(`after make_bert.py, ${p.modelDir} still lacks ${still.join(', ')}`);
}

interface ModelShape {
  layers: number;
  hidden: number;
  intermediate: number;
  heads: number;
  vocab: number;
  matmulWeights: number; // weights of the encoder matmuls
}

function modelShape(dir: string): ModelShape {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const num = (key: string): number => {
    const v = config[key];
    if (typeof v !== 'number') throw new SetupError(`${join(dir, 'config.json')} has no numeric ${key}`);
    return v;
  };
  const layers = num('num_hidden_layers');
  const hidden = num('hidden_size');
  const intermediate = num('intermediate_size');
  return {
    layers,
    hidden,
    intermediate,
    heads: num('num_attention_heads'),
    vocab: num('vocab_size'),
    matmulWeights: layers * (4 * hidden * hidden + 2 * hidden * intermediate),
  };
}

/** FLOPs to run one token in a sequence of `seqLen` positions. */
function flopsPerToken(m: ModelShape, seqLen: number): number {
  return 2 * m.matmulWeights + m.layers * 2 * 2 * seqLen * m.hidden;
}

// ------------------------------------------------------------------ texts ---

// Common English words first (drawn most often), then topical and rarer
// words, some of which the WordPiece vocabulary splits into several pieces.
const WORDS = `
the of and to a in is that for it as was with be by on not this are or from at which but have an they you were
their has would when if so no will more can out other what up about into only them some could time these two may
then do first any like now such make over our even most after also made many did must before back see through way
where get much go well your know should down work year because come people just say each those take day good how
long own too little use very great still here life both between old under last never place same another think
house while high right might came off find since used give against three look few general hand school part small
upon course home during number again world water city data system search query index vector model user service
server request response memory disk file page table record value result answer question problem method process
team project customer product price market order report study paper author book story music film game player match
season weather morning evening night road train flight hotel room kitchen garden window door phone email message
simple quick easy hard large small new recent early late better best strong weak open close fast slow clear free
important different possible available similar local global public private simple useful common special modern
build run start stop read write send receive update delete store load save check test measure compare improve
explain describe discuss support include require provide return create change follow happen remain consider
however therefore although because whether without within across around above below among toward beyond
latency throughput benchmark embedding tokenizer transformer encoder decoder attention gradient optimizer
quantization normalization cosine similarity retrieval semantic lexical multilingual sentence paragraph
kubernetes postgres javascript typescript compiler interpreter asynchronous concurrency parallelism threadpool
microservice dashboard telemetry observability configuration deployment authentication authorization
photosynthesis mitochondria archaeology astronomy meteorology biodiversity infrastructure cryptocurrency
refrigerator thermostat headphones smartphone wheelbarrow lighthouse marathon volcano earthquake tsunami
Amsterdam Nairobi Montevideo Reykjavik Kyoto Saskatchewan Mississippi Himalaya Sahara Patagonia
`
  .trim()
  .split(/\s+/);

/** Zipf-like cumulative weights over WORDS (rank^-0.9). */
const CUMULATIVE = (() => {
  const w = WORDS.map((_, r) => 1 / (r + 1) ** 0.9);
  const total = w.reduce((a, b) => a + b, 0);
  let acc = 0;
  return w.map((x) => (acc += x / total));
})();

type Kind = keyof typeof MIX;

function makeTexts(n: number, seed: number): { texts: string[]; kinds: Kind[]; words: number[] } {
  const rnd = mulberry32(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const word = (): string => {
    if (rnd() < 0.03) return String(int(1, 2026));
    const u = rnd();
    let lo = 0;
    let hi = CUMULATIVE.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((CUMULATIVE[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return WORDS[lo] as string;
  };
  const capital = (w: string): string => w.charAt(0).toUpperCase() + w.slice(1);
  const sentence = (words: number): string => {
    const parts: string[] = [];
    for (let i = 0; i < words; i++) {
      let w = word();
      if (i === 0) w = capital(w);
      if (i < words - 1 && rnd() < 0.07) w += ',';
      parts.push(w);
    }
    return `${parts.join(' ')}${rnd() < 0.1 ? '?' : '.'}`;
  };
  const texts: string[] = [];
  const kinds: Kind[] = [];
  const words: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = rnd();
    const kind: Kind = u < MIX.query ? 'query' : u < MIX.query + MIX.sentence ? 'sentence' : 'paragraph';
    const [lo, hi] = WORDS_RANGE[kind];
    const count = int(lo, hi);
    let text: string;
    if (kind === 'query') {
      text = Array.from({ length: count }, word).join(' ') + (rnd() < 0.3 ? '?' : '');
    } else if (kind === 'sentence') {
      text = sentence(count);
    } else {
      const sentences: string[] = [];
      for (let left = count; left > 0; ) {
        const len = Math.min(left, int(8, 25));
        sentences.push(sentence(len));
        left -= len;
      }
      text = sentences.join(' ');
    }
    texts.push(text);
    kinds.push(kind);
    words.push(count);
  }
  return { texts, kinds, words };
}

// ------------------------------------------------------------ measurement ---

/** Seconds spent inside InferenceSession.run, by either library (same onnxruntime-node). */
const sessionRun = { seconds: 0, calls: 0 };

function instrumentSessionRun(): void {
  // transformers.js loads onnxruntime-node with require(); so does this, to get the same class.
  // The typings declare InferenceSession as an interface plus a factory; at run time it is a class.
  type Run = (this: unknown, ...args: unknown[]) => Promise<unknown>;
  const ort = createRequire(import.meta.url)('onnxruntime-node') as { InferenceSession: { prototype: { run: Run } } };
  const proto = ort.InferenceSession.prototype;
  const run = proto.run;
  proto.run = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
    const t0 = now();
    try {
      return await run.apply(this, args);
    } finally {
      sessionRun.seconds += now() - t0;
      sessionRun.calls++;
    }
  };
}

interface Pass {
  seconds: number;
  cpuSeconds: number; // process user + system CPU time: all threads
  runSeconds: number; // inside InferenceSession.run
  runCalls: number;
}

async function timePass(fn: () => Promise<unknown>): Promise<Pass> {
  const cpu0 = process.cpuUsage();
  const run0 = { ...sessionRun };
  const t0 = now();
  await fn();
  const seconds = now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return {
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    runSeconds: sessionRun.seconds - run0.seconds,
    runCalls: sessionRun.calls - run0.calls,
  };
}

interface Batching {
  batches: number;
  realTokens: number;
  paddedTokens: number; // positions run, padding included
  realGflop: number;
  executedGflop: number;
}

/** Tokens and FLOPs of running `order` in slices of `batch`, each padded to its longest text. */
function batching(tokens: readonly number[], order: readonly number[], batch: number, m: ModelShape): Batching {
  let realTokens = 0;
  let paddedTokens = 0;
  let real = 0;
  let executed = 0;
  let batches = 0;
  for (let s = 0; s < order.length; s += batch) {
    const slice = order.slice(s, s + batch).map((i) => tokens[i] as number);
    const len = Math.max(...slice);
    batches++;
    paddedTokens += slice.length * len;
    executed += slice.length * len * flopsPerToken(m, len);
    for (const t of slice) {
      realTokens += t;
      real += t * flopsPerToken(m, t);
    }
  }
  return { batches, realTokens, paddedTokens, realGflop: real / 1e9, executedGflop: executed / 1e9 };
}

interface Config {
  name: string;
  library: 'semvec' | 'transformers.js';
  batch: number;
  threads: number;
  order: 'length-sorted' | 'input';
  main: boolean; // one of the two runs the target compares
}

interface ConfigResult extends Config {
  passes: Pass[];
  best: Pass;
  textsPerSecond: number;
  batching: Batching;
  realGflops: number;
  executedGflops: number;
  fractionOfFmaPeak: number; // executed GFLOP/s over the FMA peak at the same thread count
  cpuUtilisation: number; // CPU seconds / wall seconds of the best pass
  outsideRunSeconds: number; // best pass time not inside InferenceSession.run
  minCosineToSemvecMain: number;
}

interface CosineStats {
  min: number;
  mean: number;
  max: number;
}

/**
 * Cosine of row i of a with row i + shift of b. With `center`, that vector
 * is subtracted from every row first: a random-weight model maps all texts
 * near one common direction, which hides differences from the plain cosine.
 */
function cosineStats(a: Float32Array, b: Float32Array, dim: number, shift: number, center?: Float64Array): CosineStats {
  const n = a.length / dim;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const j = (i + shift) % n;
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let d = 0; d < dim; d++) {
      const c = center ? (center[d] as number) : 0;
      const x = (a[i * dim + d] as number) - c;
      const y = (b[j * dim + d] as number) - c;
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    const c = ab / Math.sqrt(aa * bb);
    min = Math.min(min, c);
    max = Math.max(max, c);
    sum += c;
  }
  return { min, mean: sum / n, max };
}

function meanRow(a: Float32Array, dim: number): Float64Array {
  const m = new Float64Array(dim);
  const n = a.length / dim;
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) m[d]! += (a[i * dim + d] as number) / n;
  return m;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

// ------------------------------------------------------------- formatting ---


// ------------------------------------------------------------------ bench ---

interface Limits {
  fma1Gflops: number;
  fmaAllGflops: number;
}

function probeLimits(p: Params, when: string): Limits {
  progress(`probing the FMA peak (${when})`);
  const addon = native();
  return { fma1Gflops: addon.probeFmaGflops(1, p.fmaSeconds), fmaAllGflops: addon.probeFmaGflops(p.threads, p.fmaSeconds) };
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

async function main(): Promise<void> {
  const p = parseParams();
  ensureModel(p);
  const onnxPath = join(p.modelDir, 'onnx', 'model.onnx');
  const shape = modelShape(p.modelDir);
  instrumentSessionRun();

  const { env, pipeline } = await import('@huggingface/transformers');
  const transformersVersion = env.version;
  const ortVersion = (
    JSON.parse(readFileSync(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'), 'utf8')) as { version: string }
  ).version;

  const sessionOptions = { intraOpNumThreads: p.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' as const };
  const machine = {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    logicalCores: os.cpus().length,
    hardwareThreads: hardwareThreads(),
    simd: simdLevel(),
    node: process.version,
    platform: `${os.platform()} ${os.arch()} ${os.release()}`,
    totalMemoryGB: os.totalmem() / 2 ** 30,
    loadAverageAtStart: os.loadavg(),
    date: new Date().toISOString(),
  };
  const modelInfo = {
    dir: p.modelDir,
    onnx: onnxPath,
    randomWeights: p.generated,
    sha256: sha256(onnxPath),
    bytes: readFileSync(onnxPath).byteLength,
    ...shape,
  };

  console.log(`semvec Embedder benchmark${p.quick ? ' (quick)' : ''}`);
  console.log(`  date      ${machine.date}`);
  console.log(`  cpu       ${machine.cpu}, ${machine.logicalCores} logical cores, ${fmt(machine.totalMemoryGB, 1)} GiB RAM, load avg ${machine.loadAverageAtStart.map((x) => fmt(x, 2)).join(' ')}`);
  console.log(`  node      ${machine.node}, ${machine.platform}; onnxruntime-node ${ortVersion}, @huggingface/transformers ${transformersVersion}`);
  console.log(
    `  model     ${p.modelDir}${p.generated ? ' (RANDOM weights, all-MiniLM-L6-v2 architecture)' : ''}\n` +
      `            onnx/model.onnx ${fmt(modelInfo.bytes / 1e6, 1)} MB, sha256 ${modelInfo.sha256.slice(0, 16)}...; ` +
      `${shape.layers} layers, hidden ${shape.hidden}, FFN ${shape.intermediate}, ${shape.heads} heads`,
  );
  console.log(
    `  session   both libraries: ${JSON.stringify(sessionOptions)} (1-thread semvec run: intraOpNumThreads 1)`,
  );

  const limitsBefore = probeLimits(p, 'before');

  // Texts and their token counts.
  const { texts, kinds, words } = makeTexts(p.texts, SEED);
  progress(`loading semvec (${p.threads} threads and 1 thread) and transformers.js`);
  const semvec = await Embedder.load(p.modelDir, { threads: p.threads, onnxFile: 'onnx/model.onnx', offline: true });
  const semvec1 = await Embedder.load(p.modelDir, { threads: 1, onnxFile: 'onnx/model.onnx', offline: true });
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = `${dirname(p.modelDir)}/`;
  const extractor = await pipeline('feature-extraction', basename(p.modelDir), {
    dtype: 'fp32',
    device: 'cpu',
    local_files_only: true,
    session_options: sessionOptions,
  });
  const dim = semvec.dim;

  const t0 = now();
  const tokens = texts.map((t) => semvec.countTokens(t));
  const tokenizeSeconds = now() - t0;
  const tjsTokens = texts.map((t) => (extractor.tokenizer(t).input_ids as { dims: number[] }).dims[1] as number);
  const tokenMismatches = tokens.filter((t, i) => t !== tjsTokens[i]).length;
  const sortedOrder = tokens.map((_, i) => i).sort((a, b) => (tokens[a] as number) - (tokens[b] as number) || a - b);
  const inputOrder = tokens.map((_, i) => i);
  const truncated = tokens.filter((t) => t >= semvec.maxTokens).length;

  const byKind = (k: Kind): string => {
    const idx = kinds.map((x, i) => (x === k ? i : -1)).filter((i) => i >= 0);
    const tk = idx.map((i) => tokens[i] as number);
    const ws = idx.map((i) => words[i] as number);
    return `${k} ${idx.length} (${Math.min(...ws)}-${Math.max(...ws)} words, ${Math.min(...tk)}-${Math.max(...tk)} tokens)`;
  };
  const totalTokens = tokens.reduce((a, b) => a + b, 0);
  console.log(
    `  texts     ${fmtInt(texts.length)} generated (seed ${SEED}, ${WORDS.length}-word list): ${(['query', 'sentence', 'paragraph'] as const).map(byKind).join('; ')}\n` +
      `            ${fmtInt(totalTokens)} tokens, mean ${fmt(totalTokens / texts.length, 1)}, max ${Math.max(...tokens)} ` +
      `(maxTokens ${semvec.maxTokens}: ${truncated} truncated); token counts semvec vs transformers.js: ` +
      `${tokenMismatches === 0 ? 'identical' : `${tokenMismatches} differ`}`,
  );
  console.log(`            tokenising them all once (semvec's encoder, untimed set-up): ${fmt(tokenizeSeconds * 1e3, 0)} ms`);
  console.log(`  example   ${JSON.stringify(texts.find((_, i) => kinds[i] === 'sentence'))}`);

  // ------------------------------------------------------------ runners ---
  const runSemvec = (model: Embedder, batch: number) => (list: readonly string[]) => model.embed(list, { batchSize: batch });
  const runTjs = (batch: number, sorted: boolean) => async (list: readonly string[]): Promise<Float32Array> => {
    const out = new Float32Array(list.length * dim);
    let order = list.map((_, i) => i);
    if (sorted) {
      const len = list.map((t) => t.length);
      // Sort by token count, as semvec does (same tokenizer; counted up front for the benchmark's texts).
      const tk = list === texts ? tokens : len;
      order = order.sort((a, b) => (tk[a] as number) - (tk[b] as number) || a - b);
    }
    for (let s = 0; s < order.length; s += batch) {
      const rows = order.slice(s, s + batch);
      const result = await extractor(
        rows.map((i) => list[i] as string),
        { pooling: 'mean', normalize: true },
      );
      const data = result.data as Float32Array;
      rows.forEach((r, k) => out.set(data.subarray(k * dim, (k + 1) * dim), r * dim));
    }
    return out;
  };

  const configs: Array<Config & { run: (list: readonly string[]) => Promise<Float32Array> }> = [
    { name: 'semvec', library: 'semvec', batch: p.batch, threads: p.threads, order: 'length-sorted', main: true, run: runSemvec(semvec, p.batch) },
    { name: 'transformers.js', library: 'transformers.js', batch: p.batch, threads: p.threads, order: 'input', main: true, run: runTjs(p.batch, false) },
    { name: 'transformers.js, sorted input', library: 'transformers.js', batch: p.batch, threads: p.threads, order: 'length-sorted', main: false, run: runTjs(p.batch, true) },
    ...p.batchSizes
      .filter((b) => b !== p.batch)
      .map((b) => ({ name: `semvec batch ${b}`, library: 'semvec' as const, batch: b, threads: p.threads, order: 'length-sorted' as const, main: false, run: runSemvec(semvec, b) })),
    { name: 'semvec 1 thread', library: 'semvec', batch: p.batch, threads: 1, order: 'length-sorted', main: false, run: runSemvec(semvec1, p.batch) },
  ];

  // Warm-up: texts of every length (the runtime's arena grows to the largest shapes).
  const warm = sortedOrder.filter((_, k) => k % Math.max(1, Math.floor(texts.length / WARMUP_TEXTS)) === 0).map((i) => texts[i] as string);
  warm.push(texts[sortedOrder[sortedOrder.length - 1] as number] as string);
  for (const c of configs) {
    progress(`warm-up: ${c.name} (${warm.length} texts)`);
    await c.run(warm);
  }

  const passes = new Map<string, Pass[]>();
  const outputs = new Map<string, Float32Array>();
  const record = async (c: (typeof configs)[number]): Promise<void> => {
    let out: Float32Array | undefined;
    const pass = await timePass(async () => {
      out = await c.run(texts);
    });
    passes.set(c.name, [...(passes.get(c.name) ?? []), pass]);
    if (!outputs.has(c.name) && out) outputs.set(c.name, out);
    progress(`${c.name}: ${fmt(pass.seconds, 2)} s (${fmtInt(texts.length / pass.seconds)} texts/s)`);
  };
  const mains = configs.filter((c) => c.main);
  for (let r = 0; r < p.reps; r++) {
    for (const c of r % 2 === 0 ? mains : [...mains].reverse()) {
      progress(`pass ${r + 1}/${p.reps}: ${c.name}`);
      await record(c);
    }
  }
  for (const c of configs.filter((x) => !x.main)) {
    for (let r = 0; r < p.variantReps; r++) {
      progress(`pass ${r + 1}/${p.variantReps}: ${c.name}`);
      await record(c);
    }
  }
  const limitsAfter = probeLimits(p, 'after');
  const limits: Limits = {
    fma1Gflops: Math.max(limitsBefore.fma1Gflops, limitsAfter.fma1Gflops),
    fmaAllGflops: Math.max(limitsBefore.fmaAllGflops, limitsAfter.fmaAllGflops),
  };

  // ------------------------------------------------------------ results ---
  const semvecMain = outputs.get('semvec') as Float32Array;
  const tjsMain = outputs.get('transformers.js') as Float32Array;
  const results: ConfigResult[] = configs.map(({ run: _run, ...c }) => {
    const ps = passes.get(c.name) ?? [];
    const best = ps.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const plan = batching(tokens, c.order === 'input' ? inputOrder : sortedOrder, c.batch, shape);
    const executedGflops = plan.executedGflop / best.seconds;
    return {
      ...c,
      passes: ps,
      best,
      textsPerSecond: texts.length / best.seconds,
      batching: plan,
      realGflops: plan.realGflop / best.seconds,
      executedGflops,
      fractionOfFmaPeak: executedGflops / (c.threads === 1 ? limits.fma1Gflops : limits.fmaAllGflops),
      cpuUtilisation: best.cpuSeconds / best.seconds,
      outsideRunSeconds: best.seconds - best.runSeconds,
      minCosineToSemvecMain: cosineStats(outputs.get(c.name) as Float32Array, semvecMain, dim, 0).min,
    };
  });
  const byName = (name: string): ConfigResult => results.find((r) => r.name === name) as ConfigResult;
  const s = byName('semvec');
  const t = byName('transformers.js');
  const ts = byName('transformers.js, sorted input');
  const ratio = s.textsPerSecond / t.textsPerSecond;
  const ratioSorted = s.textsPerSecond / ts.textsPerSecond;
  const center = meanRow(semvecMain, dim);
  const agreement = cosineStats(semvecMain, tjsMain, dim, 0);
  const mismatched = cosineStats(semvecMain, tjsMain, dim, 1);
  const centered = cosineStats(semvecMain, tjsMain, dim, 0, center);
  const centeredMismatched = cosineStats(semvecMain, tjsMain, dim, 1, center);
  const maxDiff = maxAbsDiff(semvecMain, tjsMain);
  const agree = agreement.min > AGREEMENT && centered.min > AGREEMENT;

  console.log(
    `\nMachine: FMA peak ${fmt(limits.fmaAllGflops, 1)} GFLOP/s with ${p.threads} threads, ${fmt(limits.fma1Gflops, 1)} with 1 ` +
      `(probed before: ${fmt(limitsBefore.fmaAllGflops, 1)} / ${fmt(limitsBefore.fma1Gflops, 1)}, after: ${fmt(limitsAfter.fmaAllGflops, 1)} / ${fmt(limitsAfter.fma1Gflops, 1)}; best used)`,
  );
  console.log(
    `FLOPs per token: 2 x ${fmtInt(shape.matmulWeights)} matmul weights = ${fmt((2 * shape.matmulWeights) / 1e6, 1)} MFLOP ` +
      `+ attention ${shape.layers} x 4 x seq x ${shape.hidden} (${fmt((flopsPerToken(shape, 64) - 2 * shape.matmulWeights) / 1e6, 2)} MFLOP at seq 64)`,
  );

  console.log(`\nEmbedding ${fmtInt(texts.length)} texts (best of ${p.reps} for the first two rows, ${p.variantReps} for the others)`);
  console.log(
    table(
      ['run', 'batch', 'thr', 'order', 'seconds', 'texts/s', 'real tok', 'padded tok', 'GFLOP/s real', 'GFLOP/s exec', '% peak', 'CPU/wall', 'in run()'],
      results.map((r) => [
        r.name,
        String(r.batch),
        String(r.threads),
        r.order,
        fmt(r.best.seconds, 2),
        fmtInt(r.textsPerSecond),
        fmtInt(r.batching.realTokens),
        fmtInt(r.batching.paddedTokens),
        fmt(r.realGflops, 1),
        fmt(r.executedGflops, 1),
        `${fmt(r.fractionOfFmaPeak * 100, 1)}%`,
        fmt(r.cpuUtilisation, 2),
        `${fmt((r.best.runSeconds / r.best.seconds) * 100, 1)}%`,
      ]),
    ),
  );
  console.log(
    '  real tok: tokens of the texts; padded tok: positions run (each batch padded to its longest text). ' +
      'GFLOP/s exec counts padded positions (the work the runtime does), real only the texts\' own tokens; ' +
      '% peak = exec / FMA peak at the same thread count; CPU/wall = process CPU time / wall time; ' +
      'in run() = share of the time inside InferenceSession.run.',
  );

  console.log('\nWhere the time goes (best pass)');
  console.log(
    table(
      ['run', 'total s', 'in session.run s', 'outside s', 'run() calls', 'outside per text'],
      results.map((r) => [
        r.name,
        fmt(r.best.seconds, 3),
        fmt(r.best.runSeconds, 3),
        fmt(r.outsideRunSeconds, 3),
        fmtInt(r.best.runCalls),
        `${fmt((r.outsideRunSeconds / texts.length) * 1e6, 1)} us`,
      ]),
    ),
  );

  console.log('\nAgreement (same ONNX file, same texts)');
  const stats = (c: CosineStats, digits: number): string => `min ${fmt(c.min, digits)}, mean ${fmt(c.mean, digits)}, max ${fmt(c.max, digits)}`;
  console.log(`  cosine(semvec row i, transformers.js row i), all ${fmtInt(texts.length)} texts:          ${stats(agreement, 7)}`);
  console.log(`  the same after subtracting the mean embedding (centred):          ${stats(centered, 7)}`);
  console.log(`  largest |difference| of a component: ${maxDiff.toExponential(2)}`);
  console.log(`  mismatched rows for scale, cosine(row i, row i+1):               ${stats(mismatched, 4)}`);
  console.log(`  mismatched rows, centred:                                        ${stats(centeredMismatched, 4)}`);
  console.log(`  corresponding rows agree (plain and centred cosine > ${AGREEMENT}): ${agree ? 'yes' : 'NO'}`);
  console.log(
    `  min cosine with semvec batch ${p.batch}: ${results
      .filter((r) => r.name !== 'semvec')
      .map((r) => `${r.name} ${fmt(r.minCosineToSemvecMain, 7)}`)
      .join('; ')}`,
  );

  // Another process on the machine shows as CPU time below the threads asked for.
  const busy = results.filter((r) => r.cpuUtilisation < BUSY_FRACTION * r.threads);
  const machineBusy = busy.length > 0;

  console.log('\nSummary');
  console.log(`  semvec            ${fmtInt(s.textsPerSecond)} texts/s   (${fmt(s.best.seconds, 2)} s for ${fmtInt(texts.length)} texts, batch ${p.batch}, ${p.threads} threads)`);
  console.log(`  transformers.js   ${fmtInt(t.textsPerSecond)} texts/s   (${fmt(t.best.seconds, 2)} s, batches of ${p.batch} in input order)`);
  console.log(
    `  semvec / transformers.js = ${fmt(ratio, 2)}x   target >= ${TARGET}x   ${verdict(ratio >= TARGET)}` +
      (agree ? '' : '   (but the embeddings DISAGREE)'),
  );
  console.log(
    `  reference: semvec / transformers.js on length-sorted input = ${fmt(ratioSorted, 2)}x ` +
      `(padded tokens ${fmtInt(s.batching.paddedTokens)} vs ${fmtInt(t.batching.paddedTokens)} in input order: length sorting is most of the gap)`,
  );
  if (machineBusy) {
    console.log(
      `  WARNING: the machine was busy: CPU/wall below ${BUSY_FRACTION} x threads in ${busy.map((r) => `${r.name} (${fmt(r.cpuUtilisation, 2)})`).join(', ')}; ` +
        'other processes took CPU time, so those numbers are low. Run again on a quiet machine.',
    );
  }

  const json = {
    benchmark: 'semvec Embedder vs transformers.js feature-extraction (bench/embed.ts)',
    machine: { ...machine, loadAverageAtEnd: os.loadavg() },
    versions: { onnxruntimeNode: ortVersion, transformers: transformersVersion },
    model: modelInfo,
    sessionOptions,
    limits,
    limitsBefore,
    limitsAfter,
    params: { ...p, seed: SEED, mix: MIX, wordsRange: WORDS_RANGE, wordList: WORDS.length, warmupTexts: warm.length },
    texts: { count: texts.length, tokens: totalTokens, maxTokens: Math.max(...tokens), truncated, tokenCountMismatches: tokenMismatches },
    results,
    agreement: { cosine: agreement, centred: centered, maxAbsDiff: maxDiff, mismatchedRows: mismatched, mismatchedCentred: centeredMismatched, threshold: AGREEMENT, pass: agree },
    busy: { machineBusy, fraction: BUSY_FRACTION, runs: busy.map((r) => r.name) },
    target: { semvecOverTransformers: ratio, semvecOverTransformersSorted: ratioSorted, target: TARGET, pass: ratio >= TARGET },
  };
  mkdirSync(dirname(p.out), { recursive: true });
  writeFileSync(p.out, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`\nResults written to ${p.out}`);

  await semvec.close();
  await semvec1.close();
  await extractor.dispose();
}

try {
  await main();
} catch (err) {
  if (!(err instanceof SetupError)) throw err;
  console.error(`bench/embed.ts: ${err.message}`);
  process.exitCode = 1;
}
