/**
 * A `semvec` command as a child process for tests (run from src with
 * tsx): started with its arguments, ready once its output matches a
 * pattern, stopped by a signal; killed after the test file if still running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { afterAll } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const mainTs = join(root, 'src', 'cli', 'main.ts');
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface SemvecProcess {
  child: ChildProcess;
  /** The first match of the ready pattern. */
  ready: RegExpExecArray;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();
afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts `semvec ...args`; resolves when its output matches `ready`, rejects if it exits first. */
export function startSemvec(args: string[], ready: RegExp, env: NodeJS.ProcessEnv = {}): Promise<SemvecProcess> {
  const child = spawn(process.execPath, ['--import', tsx, mainTs, ...args], { cwd: root, env: { ...process.env, SEMVEC_OFFLINE: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  return new Promise((resolve, reject) => {
    let done = false;
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m && !done) {
        done = true;
        resolve({
          child,
          ready: m,
          output: () => out,
          exited,
          stop: async (signal = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((e) => {
      if (!done) {
        done = true;
        reject(new Error(`semvec ${args.join(' ')} exited (${e.code ?? e.signal}) before it was ready: ${out}`));
      }
    });
  });
}

/** Runs `semvec ...args` to its end. */
export async function runSemvec(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', tsx, mainTs, ...args], { cwd: root, env: { ...process.env, SEMVEC_OFFLINE: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  running.delete(child);
  return { code, output: out };
}
