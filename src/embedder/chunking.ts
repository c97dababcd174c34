/**
 * Splitting long texts into chunks that fit a model's input, counted in the
 * model's own tokens, so that no text beyond the model's window is silently
 * dropped.
 *
 * - `'tokens'`: windows of at most `window` tokens, consecutive windows
 *   sharing about `overlap` tokens.
 * - `'packed'`: paragraphs (blank-line separated) packed whole into chunks of
 *   at most `window` tokens; a paragraph too long for one chunk is split at
 *   sentence ends and its sentences packed the same way; a sentence too long
 *   for one chunk falls back to token windows with overlap.
 *
 * Chunks never cut a word: the unit of every boundary is a run of
 * non-space characters, whose tokens are counted on their own (exact for
 * WordPiece tokenizers such as BERT's, whose pre-tokenizer splits at white
 * space; within a token or two per chunk for the others). A chunk's text is
 * the source's text from `start` to `end` (UTF-16 offsets), as it was. A
 * single word longer than the window (a long URL, say) is a chunk of its own
 * and is truncated when embedded.
 */
import { ErrorCode } from '../errors.js';
import { checkInteger, checkOneOf, describe, fail } from '../validate.js';

export type ChunkMode = 'tokens' | 'packed';
export const CHUNK_MODES: readonly ChunkMode[] = ['tokens', 'packed'];

export interface ChunkOptions {
  /** `'tokens'` (default) or `'packed'` (see the module's description). */
  mode?: ChunkMode;
  /** Longest chunk in tokens, the model's special tokens included; default: the model's `maxTokens`. */
  window?: number;
  /** Tokens consecutive token windows share; default 32 (at most half the window). */
  overlap?: number;
}

export interface Chunk {
  /** The chunk's text: `source.slice(start, end)`. */
  text: string;
  /** Its position among the chunks of its source, from 0. */
  index: number;
  /** UTF-16 offset of its first character in the source. */
  start: number;
  /** UTF-16 offset just past its last character. */
  end: number;
  /** Its tokens, the special tokens included. */
  tokens: number;
}

/** The checked options, with the model's facts applied. */
export interface ChunkPlan {
  mode: ChunkMode;
  window: number;
  overlap: number;
}

export const DEFAULT_OVERLAP = 32;

/**
 * Checks chunk options against a model: `maxTokens` bounds the window,
 * `specialTokens` (the [CLS] and [SEP] a model adds) must leave room for text.
 */
export function checkChunkOptions(options: unknown, maxTokens: number, specialTokens: number, at = 'chunk'): ChunkPlan {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    fail(ErrorCode.INVALID_ARGUMENT, `${at} must be an object such as { mode: 'tokens', window: 256, overlap: 32 }; received ${describe(options)}`);
  }
  const o = options as Record<string, unknown>;
  const mode = checkOneOf(o.mode ?? 'tokens', `${at}.mode`, CHUNK_MODES);
  const window = checkInteger(o.window ?? maxTokens, `${at}.window`, specialTokens + 1, maxTokens);
  const half = Math.floor((window - specialTokens) / 2);
  const overlap = checkInteger(o.overlap ?? Math.min(DEFAULT_OVERLAP, half), `${at}.overlap`, 0, half);
  return { mode, window, overlap };
}

/** A run of non-space characters and its token count. */
interface Word {
  start: number;
  end: number;
  tokens: number;
}

/**
 * Splits a text into chunks. `countTokens(piece)` counts the tokens of a
 * piece of text without special tokens; `specialTokens` is what the model
 * adds to every input. A text that fits one window is one chunk; a text of
 * white space only gives none.
 */
export function chunkText(text: string, plan: ChunkPlan, countTokens: (piece: string) => number, specialTokens: number): Chunk[] {
  const budget = plan.window - specialTokens;
  const words: Word[] = [];
  for (const m of text.matchAll(/\S+/g)) {
    const start = m.index;
    words.push({ start, end: start + m[0].length, tokens: countTokens(m[0]) });
  }
  if (words.length === 0) return [];

  // Spans of words [from, to), each at most budget tokens (or one long word).
  const spans: Array<[number, number]> = [];
  if (plan.mode === 'tokens') {
    windows(words, 0, words.length, budget, plan.overlap, spans);
  } else {
    const units: Array<[number, number]> = [];
    for (const [from, to] of groups(text, words, 0, words.length, PARAGRAPH_BREAK)) {
      if (tokensOf(words, from, to) <= budget) {
        units.push([from, to]);
        continue;
      }
      for (const [sf, st] of groups(text, words, from, to, SENTENCE_END)) {
        if (tokensOf(words, sf, st) <= budget) units.push([sf, st]);
        else windows(words, sf, st, budget, plan.overlap, units);
      }
    }
    pack(words, units, budget, spans);
  }
  return spans.map(([from, to], index) => {
    const start = (words[from] as Word).start;
    const end = (words[to - 1] as Word).end;
    return { text: text.slice(start, end), index, start, end, tokens: tokensOf(words, from, to) + specialTokens };
  });
}

function tokensOf(words: readonly Word[], from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n += (words[i] as Word).tokens;
  return n;
}

/** Token windows over words [from, to): at most budget tokens, about `overlap` tokens shared. */
function windows(words: readonly Word[], from: number, to: number, budget: number, overlap: number, out: Array<[number, number]>): void {
  let s = from;
  for (;;) {
    let e = s;
    let sum = 0;
    while (e < to && (e === s || sum + (words[e] as Word).tokens <= budget)) sum += (words[e++] as Word).tokens;
    out.push([s, e]);
    if (e >= to) return;
    // Step back over the last words while they fit in the overlap, always moving forward.
    let next = e;
    let shared = 0;
    while (next - 1 > s && shared + (words[next - 1] as Word).tokens <= overlap) shared += (words[--next] as Word).tokens;
    s = next;
  }
}

/** A blank line between two words. */
const PARAGRAPH_BREAK = /\n[ \t\r\f\v]*\n/;
/** A word that ends a sentence: ., ! or ? with optional closing quotes or brackets. */
const SENTENCE_END = /[.!?]["'\u2019\u201d)\]]*$/;

/**
 * Groups of consecutive words of [from, to): a new group starts after a
 * word when the white space that follows it matches `breakRe` (a paragraph
 * break), or when the word itself matches it (a sentence end).
 */
function groups(text: string, words: readonly Word[], from: number, to: number, breakRe: RegExp): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let s = from;
  for (let i = from; i < to - 1; i++) {
    const w = words[i] as Word;
    const breaks =
      breakRe === SENTENCE_END ? SENTENCE_END.test(text.slice(w.start, w.end)) : breakRe.test(text.slice(w.end, (words[i + 1] as Word).start));
    if (breaks) {
      out.push([s, i + 1]);
      s = i + 1;
    }
  }
  out.push([s, to]);
  return out;
}

/** Packs consecutive units whole into spans of at most budget tokens. */
function pack(words: readonly Word[], units: ReadonlyArray<[number, number]>, budget: number, out: Array<[number, number]>): void {
  let cur: [number, number] | undefined;
  let sum = 0;
  for (const [from, to] of units) {
    const n = tokensOf(words, from, to);
    // Units from token windows overlap their predecessor: never merge those.
    if (cur && from >= cur[1] && sum + n <= budget) {
      cur[1] = to;
      sum += n;
    } else {
      if (cur) out.push(cur);
      cur = [from, to];
      sum = n;
    }
  }
  if (cur) out.push(cur);
}
