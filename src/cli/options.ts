/**
 * What the commands share: option parsers (each refuses a bad value with
 * commander's InvalidArgumentError, so it is a usage error, exit 2), the
 * terminal style of a parsed command, and the help text for a model.
 */
import { type Command, InvalidArgumentError } from 'commander';

import { DEFAULT_MODEL } from './models.js';
import { detectStyle, usage, type Style } from './output.js';

/** A name, path or field: anything but an empty (or blank) string. */
export function nonEmpty(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expected a non-empty value.');
  return value;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer.');
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected an integer >= 0.');
  return n;
}

export function finiteNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number.');
  return n;
}

export function positiveIntList(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.some((s) => !/^\d+$/.test(s) || Number(s) < 1)) throw new InvalidArgumentError('expected positive integers separated by commas, e.g. 1,2,4,8.');
  return [...new Set(parts.map(Number))].sort((a, b) => a - b);
}

/** A TCP port, 0 to 65535 (0: any free port). */
export function port(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || n > 65535) throw new InvalidArgumentError('expected a port number from 0 to 65535.');
  return n;
}

/** Browser origins, comma-separated ('*': any). */
export function originList(value: string): string[] {
  const origins = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (origins.length === 0) throw new InvalidArgumentError("expected origins separated by commas, e.g. http://localhost:3000, or '*'.");
  return origins;
}

export function kOrAuto(value: string): number | 'auto' {
  return value.trim().toLowerCase() === 'auto' ? 'auto' : positiveInt(value);
}

export function nameList(value: string): string[] {
  const names = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new InvalidArgumentError('expected one or more model names separated by commas.');
  return names;
}

/** A JSON option (--where): parsed and checked here, so a typo fails before a model loads. */
export function jsonOption(flag: string, text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw usage(`${flag} is not valid JSON (${(err as Error).message}); e.g. ${flag} '{"category": "ml"}'`);
  }
}

interface GlobalOptions {
  verbose?: boolean;
  color?: boolean;
}

/** The output style of a parsed command (colours, progress bars). */
export function styleOf(cmd: Command): Style {
  return detectStyle({ color: (cmd.optsWithGlobals() as GlobalOptions).color });
}

/** The help text of a --model option. */
export const MODEL_HELP = `model: a known name (${DEFAULT_MODEL}, all-mpnet-base-v2, ...), a Hugging Face hub id, or a directory with model.onnx, tokenizer.json and tokenizer_config.json`;
