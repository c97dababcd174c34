#!/usr/bin/env node
/**
 * The `semvec` command: index files into a persistent collection, query it,
 * benchmark exact against approximate search, compare models on labelled
 * pairs, cluster the lines of a file.
 *
 * Errors end the process with a non-zero exit code (2: bad usage, 1: the
 * rest) and one line on stderr, `semvec: <message>`; --verbose adds the
 * stack. Piped output (stdout not a terminal) and NO_COLOR give plain text:
 * no colours, no progress bars. The program itself is in program.ts.
 */
import { errorLine } from './output.js';
import { main } from './program.js';

// A closed pipe (`semvec query ... | head -1`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
process.on('unhandledRejection', (err) => {
  process.stderr.write(`${errorLine(err)}\n`);
  if (process.argv.includes('--verbose') && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});

process.exitCode = await main();
