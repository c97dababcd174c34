/**
 * bench/lib/args.ts: the benchmarks' command lines. One parser (node:util
 * parseArgs) over typed options: each option parses and checks its own text,
 * `--help` prints the options with their defaults, and a bad value stops the
 * script with a message naming the option, what it takes and what it got.
 * Every script has `--quick` (smaller defaults, a run of seconds to a few
 * minutes) and `--help`.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

/** A problem with the command line or the set-up: printed as one message, without a stack trace. */
export class BenchError extends Error {}

/** A default: one text, or one for full runs and another under --quick. */
type Default = string | { full: string; quick: string };

/** One command-line option: how it reads its text and how --help shows it. */
export interface Option<T> {
  readonly kind: 'string' | 'boolean';
  readonly help: string;
  /** The value's placeholder in --help (N, LIST, FILE...); empty for flags. */
  readonly arg: string;
  readonly default?: Default;
  /** Left out of --help (options one script passes to another). */
  readonly hidden?: boolean;
  /** The value from the given (or default) text; undefined: neither given nor defaulted. */
  read(text: string | undefined, flag: string): T;
}

function integer(text: string, flag: string, min: number): number {
  const v = Number(text.replaceAll('_', ''));
  if (!Number.isSafeInteger(v) || v < min) {
    const what = min === 1 ? 'a positive integer' : `an integer >= ${min}`;
    throw new BenchError(`${flag} must be ${what}; received ${text}`);
  }
  return v;
}

function required(text: string | undefined, flag: string): string {
  if (text === undefined) throw new BenchError(`${flag} is required`);
  return text;
}

const list = (text: string): string[] => text.split(',').map((s) => s.trim());

/** The option builders. */
export const option = {
  /** An integer >= min (default 1); underscores allowed: 1_000_000. */
  int(help: string, def?: Default, { min = 1, arg = 'N' } = {}): Option<number> {
    return { kind: 'string', help, arg, default: def, read: (text, flag) => integer(required(text, flag), flag, min) };
  },

  /** An integer, or null when absent (or given as `auto`). */
  intOrAuto(help: string, { arg = 'N' } = {}): Option<number | null> {
    return { kind: 'string', help, arg, read: (text, flag) => (text === undefined || text === 'auto' ? null : integer(text, flag, 1)) };
  },

  /** A comma-separated list of positive integers, deduplicated and sorted. */
  sizes(help: string, def: Default): Option<number[]> {
    return {
      kind: 'string',
      help,
      arg: 'LIST',
      default: def,
      read: (text, flag) => [...new Set(list(required(text, flag)).map((s) => integer(s, flag, 1)))].sort((a, b) => a - b),
    };
  },

  /** One of the given names. */
  choice<T extends string>(help: string, choices: readonly T[], def: T): Option<T> {
    return {
      kind: 'string',
      help,
      arg: choices.join('|'),
      default: def,
      read: (text, flag) => {
        const v = required(text, flag) as T;
        if (!choices.includes(v)) throw new BenchError(`${flag} must be one of ${choices.join('|')}; received ${text}`);
        return v;
      },
    };
  },

  /** A comma-separated list of the given names, deduplicated in the given order. */
  choices<T extends string>(help: string, choices: readonly T[], def: string): Option<T[]> {
    return {
      kind: 'string',
      help,
      arg: 'LIST',
      default: def,
      read: (text, flag) => {
        const given = required(text, flag);
        const names = list(given).map((s) => {
          if (!choices.includes(s as T)) throw new BenchError(`${flag} must be ${choices.join('|')} or a list of them; received ${given}`);
          return s as T;
        });
        return [...new Set(names)];
      },
    };
  },

  /** A file or directory, resolved against the working directory (required when it has no default). */
  path(help: string, def?: string, { arg = 'FILE' } = {}): Option<string> {
    return { kind: 'string', help, arg, default: def, read: (text, flag) => resolve(required(text, flag)) };
  },

  /** A file or directory, resolved, or undefined when absent. */
  optionalPath(help: string, { arg = 'DIR', hidden = false } = {}): Option<string | undefined> {
    return { kind: 'string', help, arg, hidden, read: (text) => (text === undefined ? undefined : resolve(text)) };
  },

  /** A boolean flag, false unless given. */
  flag(help: string): Option<boolean> {
    return { kind: 'boolean', help, arg: '', read: (text) => text !== undefined };
  },
};

/** What a script is, for --help: its question, its options and a few notes. */
export interface Command<S extends Record<string, Option<unknown>>> {
  /** The script's path from the repository root, e.g. bench/flat.ts. */
  script: string;
  /** Its npm script, e.g. bench:flat. */
  npm?: string;
  /** The question it answers, one line. */
  summary: string;
  options: S;
  /** Lines after the options in --help. */
  notes?: readonly string[];
}

/** The values of a command's options, typed by the options, plus quick. */
export type Values<S extends Record<string, Option<unknown>>> = { [K in keyof S]: S[K] extends Option<infer T> ? T : never } & {
  quick: boolean;
};

const BUILT_IN = {
  quick: option.flag('a small, fast run: the smaller defaults shown, fewer repetitions'),
  help: option.flag('this text'),
};

function defaultText(def: Default | undefined): string {
  if (def === undefined) return '';
  if (typeof def === 'string') return ` (default ${def})`;
  return ` (default ${def.full}; --quick: ${def.quick})`;
}

/** The --help text of a command. */
export function helpText<S extends Record<string, Option<unknown>>>(command: Command<S>): string {
  const entries = Object.entries({ ...command.options, ...BUILT_IN }).filter(([, o]) => !o.hidden);
  const heads = entries.map(([name, o]) => `--${name}${o.arg === '' ? '' : ` ${o.arg}`}`);
  const width = Math.max(...heads.map((h) => h.length));
  const run = command.npm ? `npm run ${command.npm} -- [options]` : `npx tsx ${command.script} [options]`;
  return [
    `${command.script}: ${command.summary}`,
    '',
    `usage: ${run}`,
    '',
    'options:',
    ...entries.map(([, o], i) => `  ${heads[i]!.padEnd(width)}  ${o.help}${defaultText(o.default)}`),
    ...(command.notes && command.notes.length > 0 ? ['', ...command.notes] : []),
    '',
    'Method, seeds and baselines: bench/README.md',
  ].join('\n');
}

/**
 * Parses the command line (default: process.argv after the script) against
 * the command's options. `--help` prints {@link helpText} and exits; a bad
 * option or value throws a {@link BenchError}.
 */
export function parseCommand<S extends Record<string, Option<unknown>>>(command: Command<S>, argv = process.argv.slice(2)): Values<S> {
  const all: Record<string, Option<unknown>> = { ...command.options, ...BUILT_IN };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.entries(all).map(([name, o]) => [name, { type: o.kind }])),
      strict: true,
    }).values as Record<string, string | boolean | undefined>;
  } catch (err) {
    // parseArgs reports unknown options, missing values and stray arguments as TypeErrors with a code.
    if (err instanceof TypeError && 'code' in err) throw new BenchError(`${err.message}\nRun with --help for the options.`);
    throw err;
  }
  if (values.help === true) {
    console.log(helpText(command));
    process.exit(0);
  }
  const quick = values.quick === true;
  const out: Record<string, unknown> = { quick };
  for (const [name, o] of Object.entries(command.options)) {
    const given = values[name];
    const def = o.default === undefined ? undefined : typeof o.default === 'string' ? o.default : quick ? o.default.quick : o.default.full;
    const text = o.kind === 'boolean' ? (given === true ? '' : undefined) : ((given as string | undefined) ?? def);
    out[name] = o.read(text, `--${name}`);
  }
  return out as Values<S>;
}

/**
 * Runs a script's main; a {@link BenchError} becomes one line on stderr and
 * exit code 1 (any other error keeps its stack).
 */
export async function runMain(script: string, main: () => Promise<void> | void): Promise<void> {
  try {
    await main();
  } catch (err) {
    if (!(err instanceof BenchError)) throw err;
    console.error(`${script}: ${err.message}`);
    process.exitCode = 1;
  }
}
