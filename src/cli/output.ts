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
    const cp = await cliProgress();
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

/** Where a long write stands, as the index command counts it. */
export interface IngestState {
  /** Files read, of `files` in all. */
  filesRead: number;
  /** Documents (or chunks) read, unchanged ones included. */
  documents: number;
  /** Documents (or chunks) embedded and written. */
  written: number;
  /** Tokens embedded. */
  tokens: number;
}

/** Seconds between progress lines off a terminal: env SEMVEC_PROGRESS_INTERVAL, default 10. */
export function progressInterval(): number {
  const raw = process.env.SEMVEC_PROGRESS_INTERVAL;
  const v = raw === undefined || raw === '' ? NaN : Number(raw);
  return Number.isFinite(v) && v >= 0 ? v : 10;
}

/** Minutes and seconds: 42 s, 3 min 05 s, 2 h 07 min. */
export function fmtDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/**
 * Progress of a long write: a bar over the files on a terminal; elsewhere
 * (piped, CI logs) a plain line on stderr every {@link progressInterval}
 * seconds, and a last one at the end if any was printed, so that a short
 * run prints nothing and a long one is never silent.
 */
export class IngestMeter {
  readonly #bar: SingleBar | undefined;
  readonly #files: number;
  readonly #label: string;
  readonly #started = performance.now();
  readonly #everyMs: number;
  #lastLine: number;
  #lines = 0;
  #state: IngestState = { filesRead: 0, documents: 0, written: 0, tokens: 0 };

  private constructor(bar: SingleBar | undefined, files: number, label: string) {
    this.#bar = bar;
    this.#files = files;
    this.#label = label;
    this.#everyMs = progressInterval() * 1000;
    this.#lastLine = this.#started;
  }

  static async start(style: Style, files: number, label: string): Promise<IngestMeter> {
    if (!style.progress || files <= 0) return new IngestMeter(undefined, files, label);
    const cp = await cliProgress();
    const bar = new cp.SingleBar({
      format: `[{bar}] {value}/{total} files | {written} docs | {rate} docs/s | {tokens} tokens/s | ETA {eta_formatted}`,
      stream: process.stderr,
      barsize: 30,
      hideCursor: false,
      etaBuffer: 50,
      clearOnComplete: true,
    });
    bar.start(files, 0, { written: '0', rate: '-', tokens: '-' });
    return new IngestMeter(bar, files, label);
  }

  update(state: Partial<IngestState>): void {
    this.#state = { ...this.#state, ...state };
    const now = performance.now();
    const seconds = (now - this.#started) / 1000;
    const st = this.#state;
    if (this.#bar) {
      this.#bar.update(st.filesRead, {
        written: fmtInt(st.written),
        rate: seconds > 0 ? fmtRate(st.written / seconds) : '-',
        tokens: seconds > 0 ? fmtInt(st.tokens / seconds) : '-',
      });
      return;
    }
    if (now - this.#lastLine >= this.#everyMs && now > this.#started) {
      this.#lastLine = now;
      this.#line();
    }
  }

  /** The plain line: files, documents, rates, ETA (by the share of files read). */
  #line(done = false): void {
    const st = this.#state;
    const seconds = (performance.now() - this.#started) / 1000;
    const share = this.#files > 0 ? st.filesRead / this.#files : 0;
    const parts = [
      `${fmtInt(st.filesRead)}/${fmtInt(this.#files)} files (${Math.floor(share * 100)}%)`,
      `${fmtInt(st.documents)} docs read, ${fmtInt(st.written)} embedded and written`,
      `${fmtRate(seconds > 0 ? st.written / seconds : 0)} docs/s, ${fmtInt(seconds > 0 ? st.tokens / seconds : 0)} tokens/s`,
      done ? `done in ${fmtDuration(seconds)}` : share > 0 && share < 1 ? `ETA ${fmtDuration((seconds * (1 - share)) / share)}` : `${fmtDuration(seconds)} so far`,
    ];
    process.stderr.write(`${this.#label}: ${parts.join(', ')}\n`);
    this.#lines++;
  }

  stop(): void {
    if (this.#bar) this.#bar.stop();
    else if (this.#lines > 0) this.#line(true);
  }
}

type CliProgress = typeof import('cli-progress');

async function cliProgress(): Promise<CliProgress> {
  const mod = (await import('cli-progress')) as CliProgress & { default?: CliProgress };
  return mod.default ?? mod;
}

/** Bytes as B, kB, MB, GB (powers of 1000). */
export function fmtBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return i === 0 ? `${Math.round(n)} ${units[i]}` : `${n.toFixed(1)} ${units[i]}`;
}

/**
 * Download bars on stderr, one per file, drawn from a model download's
 * progress reports (`report` is the `onProgress` the library calls): name,
 * bytes, percentage, rate, ETA.
 */
export class DownloadBars {
  readonly #cp: CliProgress;
  readonly #bars = new Map<string, { bar: SingleBar; started: number; from: number }>();

  private constructor(cp: CliProgress) {
    this.#cp = cp;
  }

  /** Bars when the style shows progress, else undefined. */
  static async create(style: Style): Promise<DownloadBars | undefined> {
    return style.progress ? new DownloadBars(await cliProgress()) : undefined;
  }

  readonly report = (p: { file: string; received: number; total: number | undefined }): void => {
    let entry = this.#bars.get(p.file);
    if (!entry) {
      const known = p.total !== undefined && p.total > 0;
      const bar = new this.#cp.SingleBar({
        format: known ? `${p.file} [{bar}] {percentage}% | {bytes} | {rate} | ETA {eta_formatted}` : `${p.file} {bytes} | {rate}`,
        stream: process.stderr,
        barsize: 30,
        hideCursor: false, // a Ctrl-C mid-download must not leave the terminal without a cursor
        noTTYOutput: true,
        etaBuffer: 50,
      });
      entry = { bar, started: performance.now(), from: p.received };
      this.#bars.set(p.file, entry);
      bar.start(known ? (p.total as number) : 0, p.received, this.#payload(entry, p));
    }
    entry.bar.update(p.received, this.#payload(entry, p));
    if (p.total !== undefined && p.received >= p.total) this.#finish(p.file);
  };

  #payload(entry: { started: number; from: number }, p: { received: number; total: number | undefined }): { bytes: string; rate: string } {
    const seconds = Math.max((performance.now() - entry.started) / 1000, 1e-3);
    const bytes = p.total === undefined ? fmtBytes(p.received) : `${fmtBytes(p.received)}/${fmtBytes(p.total)}`;
    return { bytes, rate: `${fmtBytes((p.received - entry.from) / seconds)}/s` };
  }

  #finish(file: string): void {
    this.#bars.get(file)?.bar.stop();
    this.#bars.delete(file);
  }

  /** Stops every bar still drawn (a failed or unsized download). */
  stop(): void {
    for (const file of [...this.#bars.keys()]) this.#finish(file);
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
