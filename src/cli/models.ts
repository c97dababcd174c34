/**
 * Models for the command line: a stable key for the model a collection was
 * indexed with (kept in the collection's metadata), and loading with the
 * download bar only when progress is shown.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';

import type { Embedder } from '../embedder/embedder.js';
import type { EngineOption } from '../embedder/engine-option.js';
import type { DtypeOption } from '../embedder/precision.js';
import type { Reranker } from '../embedder/reranker.js';
import { DEFAULT_MODEL, findModel } from '../embedder/registry.js';
import { DownloadBars, type Style } from './output.js';

/** The collection metadata key holding the model. */
export const MODEL_KEY = 'semvec.model';

export { DEFAULT_MODEL };

/**
 * The same string for the same model: a local directory's absolute path, a
 * known model's hub id, otherwise the name as given.
 */
export function modelKey(spec: string): string {
  try {
    const abs = resolve(spec);
    if (statSync(abs).isDirectory()) return abs;
  } catch {
    // not a local path
  }
  return findModel(spec)?.hubId ?? spec;
}

/** Loads a cross-encoder reranker (name, hub id or directory), drawing download bars on a terminal. */
export async function loadReranker(spec: string, style: Style): Promise<Reranker> {
  const { Reranker } = await import('../embedder/reranker.js');
  const bars = await DownloadBars.create(style);
  try {
    return await Reranker.load(spec, bars ? { onProgress: bars.report } : {});
  } finally {
    bars?.stop();
  }
}

/** Loads a model (at the precision and on the engine asked, else the embedder's defaults), drawing download bars when the terminal's style shows progress. */
export async function loadEmbedder(spec: string, style: Style, dtype?: DtypeOption, engine?: EngineOption): Promise<Embedder> {
  const { Embedder } = await import('../embedder/embedder.js');
  const bars = await DownloadBars.create(style);
  try {
    return await Embedder.load(spec, { ...(bars ? { onProgress: bars.report } : {}), ...(dtype ? { dtype } : {}), ...(engine ? { engine } : {}) });
  } finally {
    bars?.stop();
  }
}
