/**
 * The `semvec` program: its commands and options (commander), and how an
 * error becomes one line on stderr and an exit code (2: bad usage, 1: the
 * rest; --verbose adds the stack). The process entry point is main.ts.
 */
import { readFileSync } from 'node:fs';

import { Command, CommanderError } from 'commander';

import { register as registerBench } from './commands/bench.js';
import { register as registerCluster } from './commands/cluster.js';
import { register as registerDistributed } from './commands/distributed.js';
import { register as registerDoctor } from './commands/doctor.js';
import { register as registerEval } from './commands/eval.js';
import { register as registerIndex } from './commands/index-command.js';
import { register as registerQuery } from './commands/query.js';
import { register as registerServe } from './commands/serve.js';
import { CliError, errorLine } from './output.js';

/** The commands, in the order help lists them; each registers its own options and action. */
const COMMANDS: ((program: Command) => void)[] = [registerIndex, registerQuery, registerBench, registerEval, registerCluster, registerServe, registerDistributed, registerDoctor];

// --------------------------------------------------------------- program ---

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function buildProgram(): Command {
  const program = new Command('semvec');
  program
    .description('Vector search from the command line: index and query documents, benchmark IVF against exact search, compare models, cluster texts.')
    .version(version(), '-V, --version', 'print the version')
    .option('--verbose', 'print stack traces with errors')
    .option('--no-color', 'plain output: no colours, no progress bars (also: NO_COLOR=1, or piping the output)')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .exitOverride()
    // Errors are printed once, in one line, by main(); that includes the help
    // commander writes to stderr when the command is missing or unknown.
    .configureOutput({ outputError: () => undefined, writeErr: () => undefined })
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Examples:
  $ semvec index docs/ notes.jsonl --db ./vectors
  $ semvec query "how do transformers work?" --db ./vectors -k 3 --where '{"category": "ml"}'
  $ semvec bench --n 100000 --dim 384 --svg ivf.svg
  $ semvec eval pairs.jsonl --models all-MiniLM-L6-v2,all-mpnet-base-v2
  $ semvec cluster sentences.txt -k auto
  $ semvec doctor

Models are downloaded once into ~/.cache/semvec (SEMVEC_CACHE); SEMVEC_OFFLINE=1 forbids downloads.
Run 'semvec <command> --help' for a command's options.`,
    );
  for (const register of COMMANDS) register(program);

  return program;
}

// ------------------------------------------------------------------ main ---

/** Commander's exits that are not errors (help, version). */
const QUIET_EXITS = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

/** The message of a usage error commander raised. */
function commanderMessage(err: CommanderError, program: Command): string {
  // Commander shows the root help as an error (non-zero exit) when no
  // command is given, and for `help <unknown command>`.
  if (err.code === 'commander.help' && err.exitCode !== 0) {
    const [first, second] = program.args;
    if (first === 'help' && second !== undefined) return `unknown command '${second}'`;
    const names = program.commands.map((c) => c.name());
    return `missing command: ${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
  }
  return err.message.replace(/^error:\s*/i, '');
}

/**
 * Reports an error in one line on stderr and returns the exit code: 2 for
 * bad usage (commander's parse errors, CliError with exit code 2), 1 for
 * everything else. `command` is the subcommand being parsed, if any.
 */
function report(err: unknown, argv: readonly string[], program: Command, command: Command | undefined): number {
  const verbose = argv.includes('--verbose');
  if (err instanceof CommanderError) {
    if (QUIET_EXITS.has(err.code) && err.exitCode === 0) return 0;
    const hint = command ? `semvec ${command.name()} --help` : 'semvec --help';
    process.stderr.write(`${errorLine(new Error(`${commanderMessage(err, program)} (see '${hint}')`))}\n`);
    return 2;
  }
  process.stderr.write(`${errorLine(err)}\n`);
  if (verbose) {
    for (let e: unknown = err; e instanceof Error; e = e.cause) {
      if (e.stack) process.stderr.write(`${e === err ? '' : 'Caused by: '}${e.stack}\n`);
    }
  }
  return err instanceof CliError ? err.exitCode : 1;
}

/**
 * Runs the command line on `argv` (as in process.argv: node, script, args)
 * and returns the exit code: 0, 2 for bad usage, 1 for other failures.
 * Output goes to process.stdout and process.stderr.
 */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const program = buildProgram();
  let command: Command | undefined;
  program.hook('preSubcommand', (_program, sub) => {
    command = sub;
  });
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (err) {
    return report(err, argv, program, command);
  }
}
