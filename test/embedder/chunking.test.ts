/**
 * Chunking long texts: token windows with overlap and packed paragraphs,
 * with a stand-in token count (one token per 4 characters of a word) and
 * with a real tokenizer through the toy model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { checkChunkOptions, chunkText, type Chunk, type ChunkPlan } from '../../src/embedder/chunking.js';
import { Embedder } from '../../src/index.js';
import { haveToyModel, toyModelDir } from '../helpers/models.js';
import { rmSync } from 'node:fs';

const count = (w: string): number => Math.ceil(w.length / 4);
const SPECIAL = 2;
const words = (n: number, from = 0): string => Array.from({ length: n }, (_, i) => `w${String(from + i).padStart(3, '0')}`).join(' '); // 1 token each

function plan(p: Partial<ChunkPlan>): ChunkPlan {
  return { mode: 'tokens', window: 12, overlap: 2, ...p };
}

/** Chunks are slices of the source at their offsets, in order, within the window. */
function wellFormed(text: string, chunks: Chunk[], window: number): void {
  chunks.forEach((c, i) => {
    expect(c.index).toBe(i);
    expect(c.text).toBe(text.slice(c.start, c.end));
    expect(c.text).toBe(c.text.trim());
    expect(c.tokens).toBeLessThanOrEqual(window);
    if (i > 0) expect(c.start).toBeGreaterThan(chunks[i - 1]!.start);
  });
}

/** Every word of the text lies in some chunk. */
function covers(text: string, chunks: Chunk[]): void {
  for (const m of text.matchAll(/\S+/g)) {
    expect(chunks.some((c) => c.start <= m.index && m.index + m[0].length <= c.end), `word at ${m.index}`).toBe(true);
  }
}

describe('token windows', () => {
  it('a text that fits is one chunk; white space alone gives none', () => {
    const text = `  ${words(10)}\n`;
    expect(chunkText(text, plan({}), count, SPECIAL)).toEqual([{ text: words(10), index: 0, start: 2, end: 2 + words(10).length, tokens: 12 }]);
    expect(chunkText(' \n\t ', plan({}), count, SPECIAL)).toEqual([]);
  });

  it('splits a long text into windows of the budget sharing the overlap, covering every word', () => {
    const text = words(100);
    const chunks = chunkText(text, plan({ window: 12, overlap: 2 }), count, SPECIAL);
    wellFormed(text, chunks, 12);
    covers(text, chunks);
    expect(chunks[0]!.text).toBe(words(10));
    expect(chunks[1]!.text).toBe(words(10, 8)); // starts 2 words (tokens) before the first ended
    for (const c of chunks.slice(0, -1)) expect(c.tokens).toBe(12);
    expect(chunks).toHaveLength(Math.ceil((100 - 2) / 8));
    const noOverlap = chunkText(text, plan({ window: 12, overlap: 0 }), count, SPECIAL);
    expect(noOverlap).toHaveLength(10);
    expect(noOverlap.map((c) => c.text).join(' ')).toBe(text);
  });

  it('never cuts a word: a word longer than the window is a chunk of its own', () => {
    const long = 'x'.repeat(100); // 25 tokens
    const text = `${words(5)} ${long} ${words(5, 5)}`;
    const chunks = chunkText(text, plan({ window: 12, overlap: 2 }), count, SPECIAL);
    covers(text, chunks);
    expect(chunks.map((c) => c.text)).toContain(long);
    for (const c of chunks) expect(c.text.split(' ').every((w) => text.split(/\s+/).includes(w))).toBe(true);
  });
});

describe('packed paragraphs', () => {
  it('packs whole paragraphs up to the window and splits only where needed', () => {
    const paras = [words(3), words(4, 10), words(3, 20), words(6, 30)];
    const text = paras.join('\n\n');
    const chunks = chunkText(text, plan({ mode: 'packed', window: 12 }), count, SPECIAL);
    wellFormed(text, chunks, 12);
    // 3 + 4 + 3 = 10 tokens fit; the 6-token paragraph does not join them.
    expect(chunks.map((c) => c.text)).toEqual([paras.slice(0, 3).join('\n\n'), paras[3]]);
  });

  it('splits a paragraph too long for the window at sentence ends, and a sentence too long into token windows', () => {
    const s1 = `${words(6)}.`;
    const s2 = `${words(5, 10)}!`;
    const s3 = `${words(30, 20)}?`;
    const text = `${words(2, 90)}\n\n${s1} ${s2} ${s3}`;
    const chunks = chunkText(text, plan({ mode: 'packed', window: 12, overlap: 2 }), count, SPECIAL);
    wellFormed(text, chunks, 12);
    covers(text, chunks);
    // The short paragraph joins the first sentence (2 + 6 tokens); s2 opens a chunk; s3 is windowed.
    expect(chunks[0]!.text).toBe(`${words(2, 90)}\n\n${s1}`);
    expect(chunks[1]!.text).toBe(s2);
    expect(chunks.length).toBeGreaterThanOrEqual(5);
    expect(chunks.at(-1)!.text.endsWith('?')).toBe(true);
  });
});

describe('options', () => {
  it('defaults to token windows of maxTokens with 32 tokens of overlap, within bounds', () => {
    expect(checkChunkOptions(undefined, 256, 2)).toEqual({ mode: 'tokens', window: 256, overlap: 32 });
    expect(checkChunkOptions({ window: 20 }, 256, 2)).toEqual({ mode: 'tokens', window: 20, overlap: 9 });
    expect(checkChunkOptions({ mode: 'packed', window: 128, overlap: 0 }, 256, 2)).toEqual({ mode: 'packed', window: 128, overlap: 0 });
  });

  it('rejects windows beyond the model, overlaps beyond half, unknown modes', () => {
    expect(() => checkChunkOptions({ window: 257 }, 256, 2)).toThrow(/chunk\.window must be an integer from 3 to 256; received the number 257/);
    expect(() => checkChunkOptions({ window: 2 }, 256, 2)).toThrow(/chunk\.window/);
    expect(() => checkChunkOptions({ window: 100, overlap: 50 }, 256, 2)).toThrow(/chunk\.overlap must be an integer from 0 to 49/);
    expect(() => checkChunkOptions({ mode: 'sentence' }, 256, 2)).toThrow(/chunk\.mode must be one of/);
    expect(() => checkChunkOptions('tokens', 256, 2)).toThrow(/chunk must be an object/);
  });
});

describe.skipIf(!haveToyModel)('with the model tokenizer', () => {
  let dir: string;
  let model: Embedder;
  beforeAll(async () => {
    dir = toyModelDir();
    model = await Embedder.load(dir, { maxTokens: 64, threads: 2 });
  });
  afterAll(async () => {
    await model.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const prose = Array.from(
    { length: 40 },
    (_, i) => `Paragraph ${i} talks about tokenisation, inverted files (IVF) and k-means; it isn't short, really.${i % 3 === 0 ? '\n\n' : ' '}`,
  ).join('');

  it('every chunk fits the window in the model tokens, and the chunks cover the text', async () => {
    expect(model.countTokens(prose)).toBe(64); // truncated: the model reads 64 tokens of it
    expect(model.tokensBeyondWindow(prose)).toBeGreaterThan(500);
    for (const mode of ['tokens', 'packed'] as const) {
      const chunks = model.chunk(prose, { mode, window: 48, overlap: 8 });
      wellFormed(prose, chunks, 48);
      covers(prose, chunks);
      for (const c of chunks) expect(model.countTokens(c.text), c.text).toBe(c.tokens); // counted exactly
    }
    expect(model.chunk('A short text.')).toHaveLength(1);
    expect(model.tokensBeyondWindow('A short text.')).toBe(0);
  });

  it('rejects a window beyond the model and a non-string text', () => {
    expect(() => model.chunk(prose, { window: 65 })).toThrow(/options\.window must be an integer from 3 to 64/);
    expect(() => model.chunk(42 as never)).toThrow(/text must be a string; received the number 42/);
  });
});
