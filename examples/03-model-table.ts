/**
 * Walkthrough 3: the sentence-transformers models semvec knows by name. Reads
 * the registry only: no model is loaded or downloaded.
 *
 * Run: npx tsx examples/03-model-table.ts
 */
import { DEFAULT_MODEL, MODELS } from 'semvec';

console.log(`${'Model'.padEnd(40)} ${'Dim'.padEnd(6)} ${'Size'.padEnd(9)} ${'Tokens'.padEnd(7)} Description`);
console.log('-'.repeat(110));
for (const [name, info] of Object.entries(MODELS)) {
  const size = `${info.sizeMB} MB`;
  console.log(`${name.padEnd(40)} ${String(info.dim).padEnd(6)} ${size.padEnd(9)} ${String(info.maxTokens).padEnd(7)} ${info.description}`);
}
console.log(`\nDefault: ${DEFAULT_MODEL}. Load one with Embedder.load('${DEFAULT_MODEL}'), a hub id such as`);
console.log(`'${MODELS[DEFAULT_MODEL]!.hubId}', or a directory holding model.onnx and the tokenizer files.`);
