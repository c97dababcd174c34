/**
 * Walkthrough 4: semantic search over a small knowledge base. The right
 * document is found even when it shares no keyword with the question.
 *
 * Run: npx tsx examples/04-semantic-search.ts
 * Model: all-MiniLM-L6-v2 (or the directory in SEMVEC_MODEL_DIR).
 */
import { SemanticSearch } from 'semvec';

import { loadModel } from './_shared.js';

const documents = [
  'Python is a high-level programming language known for its simplicity and readability.',
  'Machine learning algorithms learn patterns from data without being explicitly programmed.',
  'Neural networks are computing systems inspired by biological neural networks.',
  'The transformer architecture uses self-attention mechanisms to process sequential data.',
  'BERT is a bidirectional transformer pretrained on masked language modeling.',
  'GPT uses a decoder-only transformer trained on next-token prediction.',
  'Fine-tuning adapts a pretrained model to a specific task using domain data.',
  'LoRA reduces the number of trainable parameters by using low-rank decomposition.',
  'Vector databases store embeddings and support fast nearest-neighbor search.',
  'RAG combines retrieval with generation to give LLMs access to external knowledge.',
  'Cosine similarity measures the angle between two vectors in embedding space.',
  'Tokenization breaks text into smaller units called tokens before feeding to a model.',
  'Backpropagation computes gradients by applying the chain rule backward through a network.',
  'Overfitting occurs when a model learns the training data too well and fails on new data.',
  'Cross-validation gives a more reliable estimate of model performance than a single split.',
];

const model = await loadModel('all-MiniLM-L6-v2');
const engine = new SemanticSearch({ model });

console.log(`Encoding ${documents.length} documents...`);
await engine.index(documents);
console.log(`Indexed ${engine.size} documents. Embedding shape: (${engine.size}, ${model.dim})`);

const queries = [
  'How do transformers work?',
  'What is the difference between BERT and GPT?',
  'How can I make training more efficient?',
  'What happens when a model memorizes training data?',
];

for (const query of queries) {
  console.log(`\nQuery: '${query}'`);
  console.log('-'.repeat(60));
  const results = await engine.search(query, { topK: 3 });
  results.forEach((r, i) => console.log(`  ${i + 1}. [${r.score.toFixed(3)}] ${clip(r.document, 80)}`));
}
await model.close();

function clip(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length)}...` : text;
}
