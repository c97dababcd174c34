/**
 * Turns texts into the int64 tensors a BERT-style ONNX model takes. The
 * tokenizer encodes one text at a time and neither pads nor truncates, so
 * this module truncates (keeping the closing [SEP]) and pads batches to
 * their longest sequence.
 */
import type { Tokenizer } from '@huggingface/tokenizers';

export interface Encoding {
  ids: number[];
  typeIds: number[];
  /** Whether the text had more tokens than maxTokens. */
  truncated: boolean;
}

export interface Batch {
  size: number;
  seqLen: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
}

/** Word token counts remembered per encoder. */
const PIECE_MEMO = 100_000;

export class TextEncoder {
  readonly #tokenizer: Tokenizer;
  readonly maxTokens: number;
  readonly padId: number;
  readonly #endId: number | undefined;
  /** Token counts of pieces of text (words), a bounded memo: words repeat. */
  readonly #pieceCounts = new Map<string, number>();
  /** Tokens the model adds to every input ([CLS] and [SEP] for BERT). */
  readonly specialTokens: number;

  /** `endToken`: the special token that closes a sequence ([SEP], </s>), kept last on truncation. */
  constructor(tokenizer: Tokenizer, maxTokens: number, padId: number, endToken: string | undefined) {
    this.#tokenizer = tokenizer;
    this.maxTokens = maxTokens;
    this.padId = padId;
    const end = endToken === undefined ? undefined : tokenizer.token_to_id(endToken);
    this.#endId = end ?? undefined;
    this.specialTokens = tokenizer.encode('', { add_special_tokens: true }).ids.length;
  }

  /** Tokens of a piece of text on its own, without special tokens. */
  countPiece(piece: string): number {
    let n = this.#pieceCounts.get(piece);
    if (n === undefined) {
      n = this.#tokenizer.encode(piece, { add_special_tokens: false }).ids.length;
      if (this.#pieceCounts.size >= PIECE_MEMO) this.#pieceCounts.clear();
      this.#pieceCounts.set(piece, n);
    }
    return n;
  }

  /** Token ids of one text, truncated to maxTokens with the end token kept last. */
  encode(text: string): Encoding {
    const e = this.#tokenizer.encode(text, { add_special_tokens: true, return_token_type_ids: true });
    let ids = e.ids;
    let typeIds = e.token_type_ids ?? new Array<number>(ids.length).fill(0);
    if (ids.length > this.maxTokens) {
      const last = ids[ids.length - 1];
      const keepEnd = this.#endId !== undefined && last === this.#endId;
      ids = ids.slice(0, this.maxTokens);
      typeIds = typeIds.slice(0, this.maxTokens);
      if (keepEnd) ids[this.maxTokens - 1] = last as number;
    }
    return { ids, typeIds, truncated: e.ids.length > this.maxTokens };
  }

  /** Pads encodings to the longest one. */
  batch(encodings: readonly Encoding[]): Batch {
    const size = encodings.length;
    const seqLen = Math.max(1, ...encodings.map((e) => e.ids.length));
    const inputIds = new BigInt64Array(size * seqLen).fill(BigInt(this.padId));
    const attentionMask = new BigInt64Array(size * seqLen);
    const tokenTypeIds = new BigInt64Array(size * seqLen);
    encodings.forEach((e, b) => {
      const o = b * seqLen;
      for (let t = 0; t < e.ids.length; t++) {
        inputIds[o + t] = BigInt(e.ids[t] as number);
        attentionMask[o + t] = 1n;
        tokenTypeIds[o + t] = BigInt(e.typeIds[t] ?? 0);
      }
    });
    return { size, seqLen, inputIds, attentionMask, tokenTypeIds };
  }
}

/**
 * Mean of the token vectors weighted by the attention mask, written to
 * out[row * dim ...] for each sequence of the batch.
 *   hidden: size * seqLen * dim
 */
export function meanPool(hidden: Float32Array, batch: Batch, dim: number, out: Float32Array, rows: readonly number[]): void {
  const acc = new Float64Array(dim);
  for (let b = 0; b < batch.size; b++) {
    acc.fill(0);
    let count = 0;
    for (let t = 0; t < batch.seqLen; t++) {
      if (batch.attentionMask[b * batch.seqLen + t] === 0n) continue;
      count++;
      const base = (b * batch.seqLen + t) * dim;
      for (let d = 0; d < dim; d++) acc[d]! += hidden[base + d] as number;
    }
    const o = (rows[b] as number) * dim;
    const inv = count > 0 ? 1 / count : 0;
    for (let d = 0; d < dim; d++) out[o + d] = (acc[d] as number) * inv;
  }
}

/** The first token's vector ([CLS]) of each sequence. */
export function clsPool(hidden: Float32Array, batch: Batch, dim: number, out: Float32Array, rows: readonly number[]): void {
  for (let b = 0; b < batch.size; b++) {
    out.set(hidden.subarray(b * batch.seqLen * dim, b * batch.seqLen * dim + dim), (rows[b] as number) * dim);
  }
}
