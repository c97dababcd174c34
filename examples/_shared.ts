/**
 * Shared by the examples (not an example itself): loading a model with a
 * clear message when it is not available.
 */
import { Embedder, MODELS } from 'semvec';

/**
 * Loads the model an example needs: the directory in `envVar` when that is
 * set, else `name` from the cache (SEMVEC_CACHE) or the Hugging Face hub.
 * When the model cannot be loaded, prints which model is needed and how to
 * provide it, and exits with status 1 (no stack trace).
 *
 * @example
 * const model = await loadModel('all-MiniLM-L6-v2');
 * const second = await loadModel('all-mpnet-base-v2', 'SEMVEC_MODEL_DIR_2');
 */
export async function loadModel(name = 'all-MiniLM-L6-v2', envVar = 'SEMVEC_MODEL_DIR'): Promise<Embedder> {
  const source = process.env[envVar] || name;
  try {
    return await Embedder.load(source);
  } catch (err) {
    const info = MODELS[name];
    const about = info ? ` (${info.hubId}, ${info.dim}-d, about ${info.sizeMB} MB)` : '';
    console.error(`This example needs the sentence-embedding model ${name}${about} and could not load ${source}:`);
    console.error(`  ${(err as Error).message.split('\n')[0]}`);
    console.error(`Set ${envVar} to a directory holding its model.onnx (or onnx/model.onnx), tokenizer.json and tokenizer_config.json,`);
    console.error('or run the example once with network access (and without SEMVEC_OFFLINE=1) so the model is downloaded');
    console.error('into the cache (SEMVEC_CACHE, default ~/.cache/semvec).');
    process.exit(1);
  }
}

/** SEMVEC_EXAMPLE_QUICK=1 makes the longer examples use less data (the tests set it). */
export const quick = process.env.SEMVEC_EXAMPLE_QUICK === '1';
