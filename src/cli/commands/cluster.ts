/**
 * `semvec cluster <file> -k 3`: embeds the lines of a file (or the text
 * field of a .jsonl file) and groups them with k-means; `-k auto` picks k
 * with suggestK (best mean silhouette).
 */
import type { Embedder } from '../../embedder/embedder.js';
import type { SuggestKResult } from '../../cluster/cluster.js';
import { DEFAULT_MODEL, loadEmbedder } from '../models.js';
import { CliError, fmt, painter, Progress, usage, type Style } from '../output.js';
import { readTexts } from '../sources.js';
import { type Command } from 'commander';
import { kOrAuto, MODEL_HELP, nonEmpty, nonNegativeInt, positiveInt, styleOf } from '../options.js';

export interface ClusterCommandOptions {
  /** A number of clusters, or 'auto'. */
  k: number | 'auto';
  model?: string;
  seed?: number;
  textField: string;
  batchSize: number;
  json: boolean;
}

export async function runCluster(path: string, o: ClusterCommandOptions, style: Style): Promise<void> {
  const texts = await readTexts(path, o.textField);
  const n = texts.length;
  if (n === 0) throw new CliError(`${path} holds no texts to cluster`);
  if (o.k === 'auto' && n < 3) throw new CliError(`-k auto needs at least 3 texts; ${path} holds ${n}`);
  if (o.k !== 'auto' && o.k > n) throw usage(`-k ${o.k} is more than the ${n} texts in ${path}`);

  const { clusterVectors, suggestK } = await import('../../cluster/cluster.js');
  let model: Embedder | undefined;
  try {
    model = await loadEmbedder(o.model ?? DEFAULT_MODEL, style);
    const progress = await Progress.start(style, n, 'texts');
    let vectors: Float32Array;
    try {
      vectors = await model.embed(texts, { batchSize: o.batchSize, onProgress: (done) => progress.update(done) });
    } finally {
      progress.stop();
    }
    const dim = model.dim;
    let suggested: SuggestKResult | undefined;
    let k: number;
    if (o.k === 'auto') {
      suggested = suggestK(vectors, { dim, seed: o.seed, kMax: Math.min(10, n - 1) });
      k = suggested.k;
    } else {
      k = o.k;
    }
    const c = clusterVectors(vectors, { k, dim, seed: o.seed });
    const clusters = Array.from({ length: c.k }, (_, label) => ({ label, members: [] as { index: number; text: string }[] }));
    c.labels.forEach((l, i) => clusters[l]!.members.push({ index: i, text: texts[i]! }));
    // Largest first; ties by label.
    const ordered = clusters.filter((cl) => cl.members.length > 0).sort((a, b) => b.members.length - a.members.length || a.label - b.label);

    if (o.json) {
      const out = {
        k: c.k,
        texts: n,
        model: model.name,
        ...(suggested ? { suggestK: suggested } : {}),
        clusters: ordered.map((cl, i) => ({ cluster: i + 1, size: cl.members.length, members: cl.members })),
      };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return;
    }
    const p = painter(style);
    const lines: string[] = [];
    const how = suggested
      ? ` (k chosen by suggestK: silhouette ${fmt(suggested.scores.find((s) => s.k === k)?.silhouette ?? NaN, 3)}, tried k = ${suggested.scores[0]!.k}-${suggested.scores[suggested.scores.length - 1]!.k})`
      : '';
    lines.push(`${c.k} clusters of ${n} texts${how}`);
    ordered.forEach((cl, i) => {
      lines.push('', p.bold(`Cluster ${i + 1} (${cl.members.length} ${cl.members.length === 1 ? 'text' : 'texts'})`));
      for (const m of cl.members) lines.push(`  ${m.text.replace(/\s+/g, ' ')}`);
    });
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await model?.close();
  }
}

/** Registers `semvec cluster`. */
export function register(program: Command): void {
  program
    .command('cluster')
    .description('Group the lines of a file (or the text field of a .jsonl file) into clusters of similar texts.')
    .argument('<file>', 'a text file (one text per line) or a .jsonl file')
    .option('-k, --clusters <k>', "number of clusters, or 'auto' (suggestK: best silhouette for k = 2..10)", kOrAuto, 'auto' as const)
    .option('--model <model>', `embedding ${MODEL_HELP}`, nonEmpty, DEFAULT_MODEL)
    .option('--seed <seed>', "k-means seed (default: the library's, 1234)", nonNegativeInt)
    .option('--text-field <name>', '.jsonl: the field holding the text', nonEmpty, 'text')
    .option('--batch-size <n>', 'texts per model run', positiveInt, 32)
    .option('--json', 'print JSON instead of a list')
    .addHelpText(
      'after',
      `
Example:
  $ semvec cluster headlines.txt -k 5`,
    )
    .action(async (path: string, opts: Record<string, unknown>, cmd: Command) => {
      await runCluster(
        path,
        {
          k: opts.clusters as number | 'auto',
          model: opts.model as string,
          seed: opts.seed as number | undefined,
          textField: opts.textField as string,
          batchSize: opts.batchSize as number,
          json: opts.json === true,
        },
        styleOf(cmd),
      );
    });
}
