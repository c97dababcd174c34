/**
 * What an embedder and a reranker both read from a model's files: its
 * configuration, tokenizer and special tokens, and its ONNX session
 * (checked to take BERT-style `input_ids`). Every failure is a SemvecError
 * naming the file.
 */
import { readFile } from 'node:fs/promises';

import type { InferenceSession } from 'onnxruntime-node';
import type { Tokenizer } from '@huggingface/tokenizers';

import { createError, ErrorCode } from '../errors.js';
import { fail } from '../validate.js';
import type { ModelFiles } from './model-files.js';
import { sessionOptions, type Runtime } from './runtime.js';

type Json = Record<string, unknown>;

/** A model's text side: its tokenizer and the configuration around it. */
export interface ModelText {
  tokenizer: Tokenizer;
  tokenizerConfig: Json;
  /** config.json, or {} when the model has none. */
  config: Json;
  /** The id of the padding token ([PAD] unless the config says). */
  padId: number;
  /** The token that ends an input ([SEP], else the config's eos), if any. */
  endToken: string | undefined;
}

async function readJson(path: string): Promise<Json> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Json;
  } catch (err) {
    throw createError(ErrorCode.CORRUPT_FILE, `cannot read ${path} as JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** The token text of a special token entry in tokenizer_config.json. */
function specialToken(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

/** Reads tokenizer.json, tokenizer_config.json and config.json and builds the tokenizer. */
export async function readModelText(files: ModelFiles, TokenizerClass: Runtime['Tokenizer']): Promise<ModelText> {
  const [tokenizerJson, tokenizerConfig, config] = await Promise.all([
    readJson(files.tokenizer),
    readJson(files.tokenizerConfig),
    files.config ? readJson(files.config) : Promise.resolve({} as Json),
  ]);
  let tokenizer: Tokenizer;
  try {
    tokenizer = new TokenizerClass(tokenizerJson as never, tokenizerConfig as never);
  } catch (err) {
    throw createError(ErrorCode.CORRUPT_FILE, `cannot build the tokenizer from ${files.tokenizer}: ${(err as Error).message}`, { cause: err });
  }
  const padId = tokenizer.token_to_id(specialToken(tokenizerConfig.pad_token) ?? '[PAD]') ?? 0;
  const endToken = specialToken(tokenizerConfig.sep_token) ?? specialToken(tokenizerConfig.eos_token);
  return { tokenizer, tokenizerConfig, config, padId, endToken };
}

/**
 * The ONNX session of a model, with semvec's session options; a model
 * without an `input_ids` input is refused (`runs` says what semvec runs,
 * for the message).
 */
export async function openSession(ort: Runtime['ort'], files: ModelFiles, threads: number, runs: string): Promise<InferenceSession> {
  let session: InferenceSession;
  try {
    session = await ort.InferenceSession.create(files.onnx, sessionOptions(threads));
  } catch (err) {
    throw createError(ErrorCode.CORRUPT_FILE, `cannot load the ONNX model ${files.onnx}: ${(err as Error).message}`, { cause: err });
  }
  if (!session.inputNames.includes('input_ids')) {
    await session.release();
    fail(ErrorCode.INVALID_ARGUMENT, `the ONNX model ${files.onnx} has no input_ids input (inputs: ${session.inputNames.join(', ')}); semvec runs ${runs}`);
  }
  return session;
}
