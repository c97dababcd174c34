/**
 * bench/embed.ts (npm run bench:embed): how fast does semvec's Embedder turn
 * texts into vectors, against @huggingface/transformers (transformers.js) on
 * the same ONNX file through the same onnxruntime-node, and do the two agree?
 * Method, options and seeds: bench/README.md.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { basename, dirname } from 'node:path';

import { Embedder, hardwareThreads } from '../src/index.js';
import { option, parseCommand, runMain } from './lib/args.js';
import { progress } from './lib/format.js';
import { bestLimits, machineInfo, probeFma, type FmaLimits } from './lib/machine.js';
import { writeJson } from './lib/report.js';
import { now } from './lib/timing.js';
import { agreementOf, instrumentSessionRun } from './embed/measure.js';
import { DEFAULT_MODEL_DIR, MODEL_FILES, ensureModel, modelInfo, modelShape } from './embed/model.js';
import { BUSY_FRACTION, TARGET, printAgreement, printHeader, printRuns, printSummary, printTexts, printTimeSplit, type EmbedMachine } from './embed/print.js';
import { configResults, runPasses, warmupTexts, type ConfigResult, type Params, type Setup } from './embed/runs.js';
import { MIX, SEED, WORDS, WORDS_RANGE, makeTexts } from './embed/texts.js';

const COMMAND = {
  script: 'bench/embed.ts',
  npm: 'bench:embed',
  summary: "how fast does semvec's Embedder embed texts, against transformers.js on the same ONNX file?",
  options: {
    'model-dir': option.optionalPath(
      `a BERT-style export laid out as on the hub (${MODEL_FILES.join(', ')}); default: a random-weight ` +
        `all-MiniLM-L6-v2-sized model in bench/.models/minilm-random, made if missing`,
    ),
    texts: option.int('texts per pass', { full: '2000', quick: '300' }, { min: 2 }),
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
    batchSizes: [16, 32, 64],
    reps: v.quick ? 1 : 3,
    variantReps: v.quick ? 1 : 2,
    threads: hardwareThreads(),
    fmaSeconds: v.quick ? 0.2 : 0.5,
    out: v.out,
    quick: v.quick,
  };
}

function probeLimits(p: Params, when: string): FmaLimits {
  progress(`probing the FMA peak (${when})`);
  return probeFma(p.fmaSeconds, p.threads);
}

/** semvec with all threads and with 1, transformers.js's pipeline, and the texts' token counts. */
async function load(p: Params, texts: string[], transformers: typeof import('@huggingface/transformers'), sessionOptions: object) {
  progress(`loading semvec (${p.threads} threads and 1 thread) and transformers.js`);
  const semvec = await Embedder.load(p.modelDir, { threads: p.threads, onnxFile: 'onnx/model.onnx', offline: true });
  const semvec1 = await Embedder.load(p.modelDir, { threads: 1, onnxFile: 'onnx/model.onnx', offline: true });
  const { env, pipeline } = transformers;
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = `${dirname(p.modelDir)}/`;
  const extractor = await pipeline('feature-extraction', basename(p.modelDir), {
    dtype: 'fp32',
    device: 'cpu',
    local_files_only: true,
    session_options: sessionOptions,
  });
  const t0 = now();
  const tokens = texts.map((t) => semvec.countTokens(t));
  const tokenizeSeconds = now() - t0;
  const tjsTokens = texts.map((t) => (extractor.tokenizer(t).input_ids as { dims: number[] }).dims[1] as number);
  const setup: Setup = {
    semvec,
    semvec1,
    extractor,
    dim: semvec.dim,
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
  const sessionOptions = { intraOpNumThreads: p.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' as const };
  const machine = machineFacts();
  const model = modelInfo(p.modelDir, p.generated);
  printHeader(p, machine, versions, model, sessionOptions);
  const limitsBefore = probeLimits(p, 'before');

  const { texts, kinds, words } = makeTexts(p.texts, SEED);
  const { setup, tokenizeSeconds, tokenMismatches } = await load(p, texts, transformers, sessionOptions);
  printTexts(setup, kinds, words, tokenMismatches, tokenizeSeconds);
  const warm = warmupTexts(setup);
  const timedRuns = await runPasses(p, setup, warm);
  const limitsAfter = probeLimits(p, 'after');
  const limits = bestLimits(limitsBefore, limitsAfter);

  const results = configResults(setup, shape, limits, timedRuns);
  const byName = (name: string): ConfigResult => results.find((r) => r.name === name) as ConfigResult;
  const agreement = agreementOf(timedRuns.outputs.get('semvec')!, timedRuns.outputs.get('transformers.js')!, setup.dim);
  // Another process on the machine shows as CPU time below the threads asked for.
  const busy = results.filter((r) => r.cpuUtilisation < BUSY_FRACTION * r.threads);
  printRuns(p, shape, { used: limits, before: limitsBefore, after: limitsAfter }, results, texts.length);
  printTimeSplit(results, texts.length);
  printAgreement(p, agreement, results, texts.length);
  printSummary(p, byName, agreement.pass, busy, texts.length);

  const ratio = byName('semvec').textsPerSecond / byName('transformers.js').textsPerSecond;
  const { tokens } = setup;
  writeJson(p.out, {
    benchmark: 'semvec Embedder vs transformers.js feature-extraction (bench/embed.ts)',
    machine: { ...machine, loadAverageAtEnd: os.loadavg() },
    versions,
    model,
    sessionOptions,
    limits,
    limitsBefore,
    limitsAfter,
    params: { ...p, seed: SEED, mix: MIX, wordsRange: WORDS_RANGE, wordList: WORDS.length, warmupTexts: warm.length },
    texts: {
      count: texts.length,
      tokens: tokens.reduce((a, b) => a + b, 0),
      maxTokens: Math.max(...tokens),
      truncated: tokens.filter((t) => t >= setup.semvec.maxTokens).length,
      tokenCountMismatches: tokenMismatches,
    },
    results,
    agreement,
    busy: { machineBusy: busy.length > 0, fraction: BUSY_FRACTION, runs: busy.map((r) => r.name) },
    target: {
      semvecOverTransformers: ratio,
      semvecOverTransformersSorted: byName('semvec').textsPerSecond / byName('transformers.js, sorted input').textsPerSecond,
      target: TARGET,
      pass: ratio >= TARGET,
    },
  });
  console.log(`\nResults written to ${p.out}`);
  await setup.semvec.close();
  await setup.semvec1.close();
  await setup.extractor.dispose();
}

await runMain(COMMAND.script, main);
