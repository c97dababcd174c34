/**
 * Sentence-transformers models semvec knows by name: where they live on the
 * Hugging Face hub and how to run them. Any other sentence-transformers ONNX
 * export works by local path or by hub id with explicit options.
 */

export type Pooling = 'mean' | 'cls';

export interface ModelInfo {
  /** Hugging Face hub repository. */
  hubId: string;
  /** Embedding dimension. */
  dim: number;
  /** Longest input in tokens (sentence-transformers' max_seq_length); longer texts are truncated. */
  maxTokens: number;
  pooling: Pooling;
  /** Whether the model's embeddings are meant to be L2-normalised. */
  normalize: boolean;
  /** The fp32 ONNX file inside the hub repository (its int8 exports are found by name, see `EmbedderOptions.dtype`). */
  onnxFile: string;
  /** Approximate size of the fp32 ONNX file in MB. */
  sizeMB: number;
  description: string;
}

/** The models of the walkthrough, by short name. */
export const MODELS: Readonly<Record<string, ModelInfo>> = {
  'all-MiniLM-L6-v2': {
    hubId: 'sentence-transformers/all-MiniLM-L6-v2',
    dim: 384,
    maxTokens: 256,
    pooling: 'mean',
    normalize: true,
    onnxFile: 'onnx/model.onnx',
    sizeMB: 90,
    description: 'Best starting point: fast and accurate (English).',
  },
  'all-mpnet-base-v2': {
    hubId: 'sentence-transformers/all-mpnet-base-v2',
    dim: 768,
    maxTokens: 384,
    pooling: 'mean',
    normalize: true,
    onnxFile: 'onnx/model.onnx',
    sizeMB: 436,
    description: 'Best quality for semantic search (English), about 5x slower.',
  },
  'paraphrase-multilingual-MiniLM-L12-v2': {
    hubId: 'sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2',
    dim: 384,
    maxTokens: 128,
    pooling: 'mean',
    normalize: false,
    onnxFile: 'onnx/model.onnx',
    sizeMB: 470,
    description: 'Supports 50+ languages.',
  },
  'msmarco-distilbert-base-v4': {
    hubId: 'sentence-transformers/msmarco-distilbert-base-v4',
    dim: 768,
    maxTokens: 512,
    pooling: 'mean',
    normalize: false,
    onnxFile: 'onnx/model.onnx',
    sizeMB: 265,
    description: 'Bi-encoder for search queries against passages (MS MARCO).',
  },
};

/** The default model. */
export const DEFAULT_MODEL = 'all-MiniLM-L6-v2';

/** The registry entry of a short name or hub id, if known. */
export function findModel(name: string): (ModelInfo & { name: string }) | undefined {
  for (const [short, info] of Object.entries(MODELS)) {
    if (name === short || name === info.hubId) return { name: short, ...info };
  }
  return undefined;
}
