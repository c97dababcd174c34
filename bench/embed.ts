/**
 * bench/embed.ts (npm run bench:embed): how fast does semvec's Embedder turn
 * texts into vectors with a model's int8 export (dtype 'q8'), against its
 * own fp32 model and against @huggingface/transformers (transformers.js,
 * dtype 'q8') on the same ONNX file, the same length-sorted slices and the
 * same onnxruntime-node; do the vectors agree; and which runtime levers
 * (batch sizes, session options, tokenising apart) pay?
 * Method, options and seeds: bench/README.md.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { basename, dirname } from 'node:path';

import { Embedder } from '../src/index.js';
import { sessionOptions as semvecSessionOptions } from '../src/embedder/runtime.js';
import { option, parseCommand, runMain } from './lib/args.js';
import { progress } from './lib/format.js';
import { bestLimits, machineInfo, probeFma, type FmaLimits } from './lib/machine.js';
import { writeJson } from './lib/report.js';
import { now } from './lib/timing.js';
import { measureLevers, printLevers } from './embed/levers.js';
import { printOperators, profileOperators } from './embed/operators.js';
import { agreementOf, instrumentSessionRun } from './embed/measure.js';
import { DEFAULT_MODEL_DIR, MODEL_FILES, ONNX_FILES, ensureModel, modelInfo, modelShape } from './embed/model.js';
import { BUSY_FRACTION, printAgreement, printHeader, printRuns, printSummary, printTexts, printTimeSplit, summaryOf, type EmbedMachine } from './embed/print.js';
import { configResults, Q8_ONNX, runPasses, warmupTexts, type ConfigResult, type Params, type Precision, type Setup } from './embed/runs.js';
import { MIX, SEED, WORDS, WORDS_RANGE, makeTexts } from './embed/texts.js';

const COMMAND = {
  script: 'bench/embed.ts',
  npm: 'bench:embed',
  summary:
    "how fast does semvec's Embedder embed texts with a model's int8 export, against its own fp32 and against transformers.js " +
    '(dtype q8) on the same ONNX file, and which runtime levers pay?',
  options: {
    'model-dir': option.optionalPath(
      `a BERT-style export laid out as on the hub (${MODEL_FILES.join(', ')}); default: a random-weight ` +
        `all-MiniLM-L6-v2-sized model in bench/.models/minilm-random (made if missing) with ../shared/models/minilm-shape-qint8 beside it`,
    ),
    texts: option.int('texts per pass', { full: '2000', quick: '300' }, { min: 2 }),
    threads: option.int('intra-op threads of every session', '2'),
    'lever-texts': option.int('texts per pass of the lever measurements', { full: '1000', quick: '200' }, { min: 2 }),
    'lever-rounds': option.int('paired rounds per lever (0: no lever measurements)', { full: '3', quick: '1' }, { min: 0 }),
    operators: option.flag("one more pass per precision under onnxruntime's profiler: kernel time by operator type"),
    out: option.path('JSON results', 'bench/results/embed.json'),
  },
};

function parseParams(): Params {
  const v = parseCommand(COMMAND);
  return {
    modelDir: v['model-dir'] ?? DEFAULT_MODEL_DIR,
    generated: v['model-dir'] === undefined,
    texts: v.texts,
    batch: 32,
    reps: v.quick ? 1 : 3,
    variantReps: v.quick ? 1 : 2,
    threads: v.threads,
    fmaSeconds: v.quick ? 0.2 : 0.5,
    leverTexts: v['lever-texts'],
    leverRounds: v['lever-rounds'],
    operators: v.operators,
    out: v.out,
    quick: v.quick,
  };
}

function probeLimits(p: Params, when: string): FmaLimits {
  progress(`probing the FMA peak (${when})`);
  return probeFma(p.fmaSeconds, p.threads);
}

/** semvec (q8 and fp32, with `threads` threads and with 1), transformers.js's q8 pipelines, and the texts' token counts. */
async function load(p: Params, texts: string[], transformers: typeof import('@huggingface/transformers'), sessionOptions: object) {
  progress(`loading semvec (q8 and fp32, ${p.threads} threads and 1) and transformers.js (q8)`);
  const open = (dtype: Precision, threads: number) => Embedder.load(p.modelDir, { threads, dtype, onnxFile: ONNX_FILES[dtype], offline: true });
  const semvec = { q8: await open('q8', p.threads), fp32: await open('fp32', p.threads) };
  const semvec1 = { q8: await open('q8', 1), fp32: await open('fp32', 1) };
  // The same int8 file on onnxruntime: what semvec's own encoder replaces.
  const semvecOnnx = await Embedder.load(p.modelDir, { threads: p.threads, dtype: 'q8', onnxFile: ONNX_FILES.q8, offline: true, engine: 'onnxruntime' });
  const { env, pipeline } = transformers;
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = `${dirname(p.modelDir)}/`;
  // dtype 'q8' is transformers.js's name for onnx/model_quantized.onnx: the same file as semvec's q8.
  const q8Pipeline = (session_options: object) =>
    pipeline('feature-extraction', basename(p.modelDir), { dtype: 'q8', device: 'cpu', local_files_only: true, session_options });
  const extractor = await q8Pipeline(sessionOptions);
  const extractorAsSemvec = await q8Pipeline(semvecSessionOptions(p.threads));
  const t0 = now();
  const tokens = texts.map((t) => semvec.q8.countTokens(t));
  const tokenizeSeconds = now() - t0;
  const tjsTokens = texts.map((t) => (extractor.tokenizer(t).input_ids as { dims: number[] }).dims[1] as number);
  const setup: Setup = {
    semvec,
    semvec1,
    semvecOnnx,
    extractor,
    extractorAsSemvec,
    dim: semvec.q8.dim,
    texts,
    tokens,
    sortedOrder: tokens.map((_, i) => i).sort((a, b) => (tokens[a] as number) - (tokens[b] as number) || a - b),
    inputOrder: tokens.map((_, i) => i),
  };
  return { setup, tokenizeSeconds, tokenMismatches: tokens.filter((t, i) => t !== tjsTokens[i]).length };
}

function machineFacts(): EmbedMachine {
  const { cpu, logicalCores, hardwareThreads: threads, simd, node, platform, totalMemoryGB, date } = machineInfo();
  return { cpu, logicalCores, hardwareThreads: threads, simd, node, platform, totalMemoryGB, loadAverageAtStart: os.loadavg(), date };
}

async function main(): Promise<void> {
  const p = parseParams();
  ensureModel(p.modelDir, p.generated);
  const shape = modelShape(p.modelDir);
  instrumentSessionRun();
  const transformers = await import('@huggingface/transformers');
  const ortPackage = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
  const versions = { onnxruntimeNode: (JSON.parse(readFileSync(ortPackage, 'utf8')) as { version: string }).version, transformers: transformers.env.version };
  // transformers.js gets the same threads and optimisation level, and onnxruntime's defaults otherwise.
  const sessionOptions = { intraOpNumThreads: p.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' as const };
  const machine = machineFacts();
  const model = modelInfo(p.modelDir, p.generated);
  printHeader(p, machine, versions, model, { semvec: semvecSessionOptions(p.threads), transformers: sessionOptions });
  const limitsBefore = probeLimits(p, 'before');

  const { texts, kinds, words } = makeTexts(p.texts, SEED);
  const { setup, tokenizeSeconds, tokenMismatches } = await load(p, texts, transformers, sessionOptions);
  printTexts(setup, kinds, words, tokenMismatches, tokenizeSeconds);
  const warm = warmupTexts(setup);
  const timedRuns = await runPasses(p, setup, warm);
  const loadAfterRuns = os.loadavg();
  const levers = p.leverRounds > 0 ? await measureLevers(p, setup) : undefined;
  const operators = p.operators ? await profileOperators(p, setup.sortedOrder.map((i) => texts[i]!)) : undefined;
  const limitsAfter = probeLimits(p, 'after');
  const limits = bestLimits(limitsBefore, limitsAfter);

  const results = configResults(setup, shape, limits, timedRuns);
  const byName = (name: string): ConfigResult => results.find((r) => r.name === name) as ConfigResult;
  const out = (name: string): Float32Array => timedRuns.outputs.get(name) as Float32Array;
  const agreement = {
    // Same file, same runtime, two libraries: the same vectors up to rounding.
    transformers: agreementOf(out(Q8_ONNX), out('transformers.js q8'), setup.dim),
    // Same file, semvec's encoder against onnxruntime (activations quantised per token, not per batch).
    engines: agreementOf(out(Q8_ONNX), out('semvec q8'), setup.dim),
    // int8 against fp32, centred on the fp32 vectors' mean.
    fp32: agreementOf(out('semvec fp32'), out('semvec q8'), setup.dim),
  };
  // Another process on the machine shows as CPU time below the threads asked for.
  const busy = results.filter((r) => r.cpuUtilisation < BUSY_FRACTION * r.threads);
  printRuns(p, shape, { used: limits, before: limitsBefore, after: limitsAfter }, results, texts.length);
  printTimeSplit(results, texts.length);
  printAgreement(agreement, texts.length);
  if (levers) printLevers(p, levers);
  if (operators) printOperators(operators, texts.length);
  const q8 = setup.semvec.q8;
  const targets = summaryOf(byName, agreement, q8.engine === 'semvec' ? "semvec's encoder" : `onnxruntime (${q8.engineNote ?? 'engine option'})`);
  printSummary(p, targets, byName, busy, texts.length, { start: machine.loadAverageAtStart, afterRuns: loadAfterRuns, end: os.loadavg() });

  const { tokens } = setup;
  writeJson(p.out, {
    benchmark: 'semvec Embedder q8 vs fp32 vs transformers.js q8 feature-extraction (bench/embed.ts)',
    machine: { ...machine, loadAverageAfterMainRuns: loadAfterRuns, loadAverageAtEnd: os.loadavg() },
    versions,
    model,
    sessionOptions: { semvec: semvecSessionOptions(p.threads), transformers: sessionOptions },
    limits,
    limitsBefore,
    limitsAfter,
    params: { ...p, seed: SEED, mix: MIX, wordsRange: WORDS_RANGE, wordList: WORDS.length, warmupTexts: warm.length },
    texts: {
      count: texts.length,
      tokens: tokens.reduce((a, b) => a + b, 0),
      maxTokens: Math.max(...tokens),
      truncated: tokens.filter((t) => t >= setup.semvec.q8.maxTokens).length,
      tokenCountMismatches: tokenMismatches,
    },
    results,
    agreement,
    levers,
    operators,
    busy: { machineBusy: busy.length > 0, fraction: BUSY_FRACTION, runs: busy.map((r) => r.name) },
    targets,
  });
  console.log(`\nResults written to ${p.out}`);
  await setup.semvec.q8.close();
  await setup.semvec.fp32.close();
  await setup.semvec1.q8.close();
  await setup.semvec1.fp32.close();
  await setup.semvecOnnx.close();
  await setup.extractor.dispose();
  await setup.extractorAsSemvec.dispose();
}

await runMain(COMMAND.script, main);
