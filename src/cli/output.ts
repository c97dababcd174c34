/**
 * Terminal output for the command-line tool: when to use colours and
 * progress bars, plain-text tables, number formatting, the error type of
 * the CLI and the one-line error message.
 */
import type { SingleBar } from 'cli-progress';

/** What the terminal allows. */
export interface Style {
  /** ANSI colours on stdout. */
  color: boolean;
  /** Progress bars (and phase lines) on stderr. */
  progress: boolean;
  /** Width of stdout in columns, when it is a terminal. */
  columns: number | undefined;
}

/** NO_COLOR (https://no-color.org): set and not empty turns colours off. */
function noColorEnv(): boolean {
  const v = process.env.NO_COLOR;
  return v !== undefined && v !== '';
}

/**
 * Colours only on a terminal without NO_COLOR or --no-color; progress bars
 * only when both stdout and stderr are terminals (piped output is plain),
 * without NO_COLOR, --no-color or CI.
 */
export function detectStyle(options: { color?: boolean } = {}): Style {
  const outTty = Boolean(process.stdout.isTTY);
  const errTty = Boolean(process.stderr.isTTY);
  const plain = options.color === false || noColorEnv();
  return {
    color: outTty && !plain,
    progress: outTty && errTty && !plain && !process.env.CI,
    columns: outTty ? process.stdout.columns : undefined,
  };
}

export type Paint = (s: string) => string;

/** ANSI colour helpers that do nothing when colours are off. */
export function painter(style: Style): { bold: Paint; dim: Paint; green: Paint; cyan: Paint; yellow: Paint } {
  const wrap = (open: number, close: number): Paint => (style.color ? (s) => `\u001b[${open}m${s}\u001b[${close}m` : (s) => s);
  return { bold: wrap(1, 22), dim: wrap(2, 22), green: wrap(32, 39), cyan: wrap(36, 39), yellow: wrap(33, 39) };
}

// ------------------------------------------------------------------ errors ---

/**
 * An error of the command line itself (bad input, missing file). Exit code
 * 2 for usage errors, 1 otherwise.
 */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
  override get name(): string {
    return 'CliError';
  }
}

/** A usage error: a bad option value or argument (exit code 2). */
export function usage(message: string): CliError {
  return new CliError(message, 2);
}

/** An error's message on one line: newlines folded, a SemvecError's code appended. */
export function errorMessage(err: unknown): string {
  let message: string;
  if (err instanceof Error) {
    message = err.message || err.name;
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_') && !message.includes(code)) message += ` (${code})`;
  } else {
    message = String(err);
  }
  return message.replace(/\s*\r?\n\s*/g, ' ').trim();
}

/** The line an error is reported with: `semvec: <message>`. */
export function errorLine(err: unknown): string {
  return `semvec: ${errorMessage(err)}`;
}

// ------------------------------------------------------------- formatting ---

/** A fixed number of decimals. */
export function fmt(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

/** An integer with thousands separators. */
export function fmtInt(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

/** A rate or QPS: integer from 100 up, one decimal below. */
export function fmtRate(x: number): string {
  return x >= 100 ? fmtInt(x) : fmt(x, 1);
}

/** Seconds, 2 decimals under 10 s, 1 above. */
export function fmtSeconds(s: number): string {
  return `${fmt(s, s < 10 ? 2 : 1)} s`;
}

/** Whitespace folded to single spaces; cut to `max` characters with an ellipsis. */
export function snippet(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  return `${flat.slice(0, Math.max(1, max - 1)).trimEnd()}…`;
}

/** Metadata as `key=value` pairs (strings quoted only when they hold spaces). */
export function fmtMetadata(m: Readonly<Record<string, unknown>> | null | undefined): string {
  if (!m) return '';
  return Object.entries(m)
    .map(([k, v]) => `${k}=${typeof v === 'string' && /[\s,=]/.test(v) ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}

export type Align = 'left' | 'right';

/**
 * A plain-text table: a header, a rule, the rows; columns padded to their
 * widest cell. `paint` styles the header (padding stays outside the codes).
 */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = [], paint: Paint = (s) => s): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const last = headers.length - 1;
  const cell = (s: string, c: number): string => {
    if (align[c] === 'right') return s.padStart(widths[c]!);
    return c === last ? s : s.padEnd(widths[c]!);
  };
  const lines = [
    headers.map((h, c) => (c === last && align[c] !== 'right' ? paint(h) : paint(cell(h, c)))).join('  '),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map((r) => headers.map((_, c) => cell(r[c] ?? '', c)).join('  ').trimEnd()),
  ];
  return lines.join('\n');
}

// --------------------------------------------------------------- progress ---

/** A progress bar on stderr (count, rate, ETA), or nothing when progress is off. */
export class Progress {
  readonly #bar: SingleBar | undefined;
  readonly #started = performance.now();

  private constructor(bar: SingleBar | undefined) {
    this.#bar = bar;
  }

  static async start(style: Style, total: number, unit: string): Promise<Progress> {
    if (!style.progress || total <= 0) return new Progress(undefined);
    const mod = (await import('cli-progress')) as typeof import('cli-progress') & { default?: typeof import('cli-progress') };
    const cp = mod.default ?? mod;
    const bar = new cp.SingleBar({
      format: `[{bar}] {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta_formatted}`,
      stream: process.stderr,
      barsize: 30,
      hideCursor: false, // Ctrl-C must not leave the terminal without a cursor
      etaBuffer: 20,
      clearOnComplete: true,
    });
    bar.start(total, 0, { rate: '-' });
    return new Progress(bar);
  }

  update(done: number): void {
    if (!this.#bar) return;
    const seconds = (performance.now() - this.#started) / 1000;
    this.#bar.update(done, { rate: seconds > 0 ? fmtRate(done / seconds) : '-' });
  }

  stop(): void {
    this.#bar?.stop();
  }
}

/** A phase line on stderr ("training IVF ..."), shown only with progress on. */
export function phase(style: Style, message: string): void {
  if (style.progress) process.stderr.write(`${message}\n`);
}

/** A warning line on stderr (always shown). */
export function warn(message: string): void {
  process.stderr.write(`semvec: warning: ${message}\n`);
}
