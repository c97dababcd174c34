/**
 * The `semvec` program: its commands and options (commander), and how an
 * error becomes one line on stderr and an exit code (2: bad usage, 1: the
 * rest; --verbose adds the stack). The process entry point is main.ts.
 */
import { readFileSync } from 'node:fs';

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';

import { DEFAULT_MODEL } from './models.js';
import { CliError, detectStyle, errorLine, usage, type Style } from './output.js';

// ----------------------------------------------------------- arg parsers ---

/** A name, path or field: anything but an empty (or blank) string. */
function nonEmpty(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expected a non-empty value.');
  return value;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer.');
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected an integer >= 0.');
  return n;
}

function finiteNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number.');
  return n;
}

function positiveIntList(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.some((s) => !/^\d+$/.test(s) || Number(s) < 1)) throw new InvalidArgumentError('expected positive integers separated by commas, e.g. 1,2,4,8.');
  return [...new Set(parts.map(Number))].sort((a, b) => a - b);
}

function port(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || n > 65535) throw new InvalidArgumentError('expected a port number from 0 to 65535.');
  return n;
}

function originList(value: string): string[] {
  const origins = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (origins.length === 0) throw new InvalidArgumentError("expected origins separated by commas, e.g. http://localhost:3000, or '*'.");
  return origins;
}

function kOrAuto(value: string): number | 'auto' {
  return value.trim().toLowerCase() === 'auto' ? 'auto' : positiveInt(value);
}

function nameList(value: string): string[] {
  const names = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new InvalidArgumentError('expected one or more model names separated by commas.');
  return names;
}

/** A JSON option (--where): parsed and checked here, so a typo fails before a model loads. */
function jsonOption(flag: string, text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw usage(`${flag} is not valid JSON (${(err as Error).message}); e.g. ${flag} '{"category": "ml"}'`);
  }
}

// --------------------------------------------------------------- program ---

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

interface GlobalOptions {
  verbose?: boolean;
  color?: boolean;
}

function styleOf(cmd: Command): Style {
  return detectStyle({ color: (cmd.optsWithGlobals() as GlobalOptions).color });
}

const MODEL_HELP = `model: a known name (${DEFAULT_MODEL}, all-mpnet-base-v2, ...), a Hugging Face hub id, or a directory with model.onnx, tokenizer.json and tokenizer_config.json`;

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

Models are downloaded once into ~/.cache/semvec (SEMVEC_CACHE); SEMVEC_OFFLINE=1 forbids downloads.
Run 'semvec <command> --help' for a command's options.`,
    );

  program
    .command('index')
    .description('Embed .txt, .md and .jsonl files and store them in a persistent collection (re-indexing is idempotent).')
    .argument('<paths...>', 'files or directories (searched recursively for .txt, .md, .markdown, .jsonl, .ndjson)')
    .requiredOption('--db <dir>', 'database directory (created if needed)', nonEmpty)
    .option('--collection <name>', 'collection name', nonEmpty, 'default')
    .option('--model <model>', `embedding ${MODEL_HELP} (default: the collection's model, else ${DEFAULT_MODEL})`, nonEmpty)
    .addOption(new Option('--split <mode>', '.txt/.md: one document per file, or per blank-line-separated paragraph').choices(['file', 'paragraph']).default('file'))
    .option('--text-field <name>', '.jsonl: the field holding the text', nonEmpty, 'text')
    .option('--id-field <name>', '.jsonl: a field holding the id (default: <path>:<line>)', nonEmpty)
    .option('--batch-size <n>', 'texts per model run', positiveInt, 32)
    .option('--prune', 'also delete the records under these paths that no longer exist (removed files, paragraphs, lines)')
    .addHelpText(
      'after',
      `
Ids: <path> per file, <path>#<n> per paragraph, <path>:<line> per .jsonl line (paths relative to the
working directory). Text files get "source" (and "paragraph") metadata; .jsonl records keep their other
string, number and boolean fields as metadata. Unchanged documents are not embedded again.

Example:
  $ semvec index docs/ --db ./vectors --split paragraph`,
    )
    .action(async (paths: string[], opts: Record<string, unknown>, cmd: Command) => {
      const { runIndex } = await import('./commands/index.js');
      await runIndex(
        paths,
        {
          db: opts.db as string,
          collection: opts.collection as string,
          model: opts.model as string | undefined,
          split: opts.split as 'file' | 'paragraph',
          textField: opts.textField as string,
          idField: opts.idField as string | undefined,
          batchSize: opts.batchSize as number,
          prune: opts.prune === true,
        },
        styleOf(cmd),
      );
    });

  program
    .command('query')
    .description('Search a collection: the nearest documents to a text, as a table or JSON.')
    .argument('<text>', 'the query')
    .requiredOption('--db <dir>', 'database directory made by semvec index', nonEmpty)
    .option('--collection <name>', 'collection name', nonEmpty, 'default')
    .option('-k, --top-k <n>', 'results to show', positiveInt, 5)
    .option('--where <json>', 'metadata filter, e.g. \'{"category": "ml"}\' or \'{"year": {"$gte": 2020}}\'')
    .option('--where-document <json>', 'document filter, e.g. \'{"$contains": "transformer"}\'')
    .option('--min-score <score>', 'only results with at least this similarity', finiteNumber)
    .option('--model <model>', `embedding model (default: the one the collection was indexed with)`, nonEmpty)
    .option('--json', 'print JSON instead of a table')
    .addHelpText(
      'after',
      `
Filters: $eq $ne $gt $gte $lt $lte $in $nin $and $or on metadata; $contains $not_contains $and $or on documents.

Example:
  $ semvec query "what is overfitting?" --db ./vectors -k 3 --where '{"category": "ml"}' --min-score 0.4`,
    )
    .action(async (text: string, opts: Record<string, unknown>, cmd: Command) => {
      const where = jsonOption('--where', opts.where as string | undefined);
      const whereDocument = jsonOption('--where-document', opts.whereDocument as string | undefined);
      const { parseWhere, compileWhereDocument } = await import('../collection/filter.js');
      try {
        if (where !== undefined) parseWhere(where, '--where');
        if (whereDocument !== undefined) compileWhereDocument(whereDocument, [], '--where-document');
      } catch (err) {
        throw usage((err as Error).message);
      }
      const { runQuery } = await import('./commands/query.js');
      await runQuery(
        text,
        {
          db: opts.db as string,
          collection: opts.collection as string,
          k: opts.topK as number,
          where: where as never,
          whereDocument: whereDocument as never,
          minScore: opts.minScore as number | undefined,
          model: opts.model as string | undefined,
          json: opts.json === true,
        },
        styleOf(cmd),
      );
    });

  program
    .command('bench')
    .description('Benchmark exact (FlatIndex) against approximate (IVFIndex) search on synthetic clustered vectors: recall, QPS, speed-up per nprobe.')
    .option('--n <n>', 'vectors', positiveInt, 100_000)
    .option('--dim <dim>', 'dimensions', positiveInt, 384)
    .option('--nlist <n>', 'IVF lists (default: suggestNlist(n), about 4 * sqrt(n))', positiveInt)
    .option('--nprobe <list>', 'lists probed, comma-separated (default: 1,2,4,... up to nlist, at most 256)', positiveIntList)
    .addOption(new Option('--encoding <encoding>', "IVF list encoding: f32, or sq8 (8-bit codes, re-ranked)").choices(['f32', 'sq8']).default('f32'))
    .option('--queries <n>', 'queries (drawn from the same mixture, not copies of stored vectors)', positiveInt, 200)
    .addOption(new Option('--metric <metric>', 'distance').choices(['l2', 'ip', 'cosine']).default('l2'))
    .option('-k, --top-k <k>', 'k of recall@k', positiveInt, 10)
    .option('--clusters <c>', 'gaussian clusters in the data (default: n / 100, from 2 to 1,000)', positiveInt)
    .option('--seed <seed>', 'seed of the data, queries and k-means', nonNegativeInt, 1)
    .option('--out <file>', 'write the results as JSON', nonEmpty)
    .option('--svg <file>', 'write a recall-vs-QPS chart', nonEmpty)
    .option('--json', 'print JSON instead of a table')
    .addHelpText(
      'after',
      `
QPS: single-query search() calls, one after another (each uses every thread); speed-up: over exact search.

Example:
  $ semvec bench --n 1000000 --dim 384 --nprobe 1,4,16,64 --out ivf.json --svg ivf.svg`,
    )
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const { runBench } = await import('./commands/bench.js');
      await runBench(
        {
          n: opts.n as number,
          dim: opts.dim as number,
          nlist: opts.nlist as number | undefined,
          nprobe: opts.nprobe as number[] | undefined,
          encoding: opts.encoding as 'f32' | 'sq8',
          queries: opts.queries as number,
          metric: opts.metric as 'l2' | 'ip' | 'cosine',
          k: opts.topK as number,
          clusters: opts.clusters as number | undefined,
          seed: opts.seed as number,
          out: opts.out as string | undefined,
          svg: opts.svg as string | undefined,
          json: opts.json === true,
        },
        styleOf(cmd),
      );
    });

  program
    .command('eval')
    .description('Compare embedding models on labelled pairs: accuracy, best-threshold accuracy, ROC AUC, size and speed.')
    .argument('<pairs>', '.jsonl file, one {"a": "...", "b": "...", "label": 0|1} per line (1: similar)')
    .option('--models <list>', `models, comma-separated (${MODEL_HELP})`, nameList, [DEFAULT_MODEL])
    .option('--threshold <t>', 'cosine similarity from which a pair is called similar', finiteNumber, 0.5)
    .option('--json', 'print JSON instead of a table')
    .addHelpText(
      'after',
      `
Example:
  $ semvec eval pairs.jsonl --models all-MiniLM-L6-v2,all-mpnet-base-v2 --threshold 0.6`,
    )
    .action(async (path: string, opts: Record<string, unknown>, cmd: Command) => {
      const { runEval } = await import('./commands/eval.js');
      await runEval(path, { models: opts.models as string[], threshold: opts.threshold as number, json: opts.json === true }, styleOf(cmd));
    });

  program
    .command('cluster')
    .description('Group the lines of a file (or the text field of a .jsonl file) into clusters of similar texts.')
    .argument('<file>', 'a text file (one text per line) or a .jsonl file')
    .option('-k, --clusters <k>', "number of clusters, or 'auto' (suggestK: best silhouette for k = 2..10)", kOrAuto, 'auto' as const)
    .option('--model <model>', `embedding ${MODEL_HELP}`, nonEmpty, DEFAULT_MODEL)
    .option('--seed <seed>', 'k-means seed', nonNegativeInt, 1234)
    .option('--text-field <name>', '.jsonl: the field holding the text', nonEmpty, 'text')
    .option('--batch-size <n>', 'texts per model run', positiveInt, 32)
    .option('--json', 'print JSON instead of a list')
    .addHelpText(
      'after',
      `
Example:
  $ semvec cluster headlines.txt -k 5`,
    )
    .action(async (path: string, opts: Record<string, unknown>, cmd: Command) => {
      const { runCluster } = await import('./commands/cluster.js');
      await runCluster(
        path,
        {
          k: opts.clusters as number | 'auto',
          model: opts.model as string,
          seed: opts.seed as number,
          textField: opts.textField as string,
          batchSize: opts.batchSize as number,
          json: opts.json === true,
        },
        styleOf(cmd),
      );
    });

  program
    .command('serve')
    .description("Serve a collection directory over Chroma's HTTP API v2 (for chromadb clients in any language), with a page to look at it.")
    .requiredOption('--db <dir>', 'database directory (created if needed)', nonEmpty)
    .option('--host <host>', 'address to listen on (loopback by default; anything else wants --auth-token)', nonEmpty, '127.0.0.1')
    .option('--port <port>', 'port (0: any free port)', port, 8000)
    .option('--auth-token <token>', 'require this token on every request (x-chroma-token or Authorization: Bearer); default: SEMVEC_AUTH_TOKEN', nonEmpty)
    .option('--cors-origin <origins>', "browser origins allowed to call the API, comma-separated ('*': any); CORS is off by default", originList)
    .option('--body-limit <MiB>', 'largest request body, in MiB', positiveInt, 64)
    .option('--log-requests', 'log every request (JSON lines on stdout)')
    .addHelpText(
      'after',
      `
Example:
  $ semvec serve --db ./vectors --port 8000
  then, from JavaScript: new ChromaClient({ host: 'localhost', port: 8000 }) (the chromadb package),
  or open http://localhost:8000/ in a browser.`,
    )
    .action(async (opts: Record<string, unknown>) => {
      const { runServe } = await import('./commands/serve.js');
      await runServe({
        db: opts.db as string,
        host: opts.host as string,
        port: opts.port as number,
        authToken: (opts.authToken as string | undefined) ?? (process.env.SEMVEC_AUTH_TOKEN || undefined),
        corsOrigins: (opts.corsOrigin as string[] | undefined) ?? [],
        bodyLimitMiB: opts.bodyLimit as number,
        logRequests: opts.logRequests === true,
      });
    });

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
