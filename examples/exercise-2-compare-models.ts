/**
 * Exercise 2: two embedding models on the same 20 query-document pairs.
 * Every query has one relevant document among the 20; each model ranks all
 * 20 for every query. Which finds more relevant documents, and is the
 * quality difference worth the size difference?
 *
 * Run: npx tsx examples/exercise-2-compare-models.ts
 * Models: all-MiniLM-L6-v2 (or the directory in SEMVEC_MODEL_DIR) and
 * all-mpnet-base-v2 (or the directory in SEMVEC_MODEL_DIR_2).
 */
import { compareModels, evaluateRetrieval, type ModelComparisonRow, type RetrievalReport, type RetrievalTask } from 'semvec';

import { loadModel } from './_shared.js';

// Query i is answered by document i; the queries avoid the documents' words.
const pairs: [query: string, document: string][] = [
  ['cheap places to stay near the beach', 'Budget-friendly lodging by the coast, a short walk from the sand.'],
  ['my laptop will not turn on', 'If the computer shows no sign of power, hold the power button for 30 seconds and try another charger.'],
  ['how to keep basil alive indoors', 'Herbs grown on a windowsill need six hours of sun and soil that dries out between waterings.'],
  ['best way to learn a new language quickly', 'Daily conversation practice with native speakers builds fluency faster than grammar drills.'],
  ['symptoms of dehydration', 'Thirst, dark urine, dizziness and headaches are signs the body lacks water.'],
  ['how do vaccines protect you', 'Immunisation trains the immune system to recognise a pathogen before a real infection.'],
  ['what causes the seasons', 'The tilt of the Earth’s axis changes how directly sunlight strikes each hemisphere over the year.'],
  ['saving money for retirement', 'Putting a fixed share of each paycheque into a pension fund lets compound interest work for decades.'],
  ['why is the sky blue', 'Air molecules scatter short wavelengths of sunlight more than long ones, a process called Rayleigh scattering.'],
  ['fixing a flat bicycle tyre', 'Remove the wheel, lever off the tyre, find the puncture in the inner tube and apply a patch.'],
  ['how to fall asleep faster', 'A dark, cool bedroom, no screens before bed and a regular bedtime help insomnia.'],
  ['train a puppy to sit', 'Hold a treat above the young dog’s nose and reward it the moment its rear touches the floor.'],
  ['speed up a slow website', 'Compress images, cache static assets and cut JavaScript to reduce page load time.'],
  ['how do airplanes stay in the air', 'Wings are shaped so that air flowing over them creates lift greater than the aircraft’s weight.'],
  ['what to do after a car accident', 'Check for injuries, call emergency services, photograph the damage and exchange insurance details.'],
  ['remove a red wine stain from carpet', 'Blot the spill, then dab it with a mix of dish soap, vinegar and warm water.'],
  ['how does a mortgage work', 'A home loan is repaid in monthly instalments of principal and interest over a fixed term.'],
  ['healthy breakfast ideas', 'Oatmeal with fruit, Greek yoghurt with nuts, or eggs on wholegrain toast start the morning well.'],
  ['why do leaves change colour in autumn', 'As days shorten, trees stop producing chlorophyll and yellow and red pigments show through.'],
  ['prepare for a job interview', 'Research the company, rehearse answers to common questions and prepare questions for the hiring manager.'],
];
const task: RetrievalTask = {
  queries: pairs.map(([q]) => q),
  documents: pairs.map(([, d]) => d),
  relevant: pairs.map((_, i) => [i]),
};
const k = 3;

const small = await loadModel('all-MiniLM-L6-v2');
const large = await loadModel('all-mpnet-base-v2', 'SEMVEC_MODEL_DIR_2');
// One call each first, so the speeds measured below leave out the runtime's warm-up.
for (const model of [small, large]) await model.embed('warm-up');

// Side by side: dimension, size, speed and the ranking metrics.
const rows = await compareModels([small, large], { ...task, k });
console.log(`${task.queries.length} queries, ${task.documents.length} documents, one relevant document each\n`);
console.log(`${'Model'.padEnd(24)} ${'Dim'.padEnd(5)} ${'MB'.padEnd(7)} ${'Texts/s'.padEnd(8)} ${`Recall@${k}`.padEnd(9)} ${'MRR'.padEnd(6)} nDCG@${k}`);
for (const r of rows) {
  const cells = [r.model.slice(0, 24).padEnd(24), String(r.dim).padEnd(5), r.sizeMB.toFixed(1).padEnd(7), r.textsPerSecond.toFixed(0).padEnd(8), (r.recallAtK ?? 0).toFixed(3).padEnd(9), (r.mrr ?? 0).toFixed(3).padEnd(6), (r.ndcgAtK ?? 0).toFixed(3)];
  console.log(cells.join(' '));
}

// Query by query: where does each model rank the relevant document?
const reports = [await evaluateRetrieval(small, task, { k }), await evaluateRetrieval(large, task, { k })] as const;
const rank = (r: RetrievalReport, q: number) => r.perQuery[q]!.ranked.indexOf(q) + 1; // 0: not in the top k
const shown = (n: number) => (n === 0 ? `>${k}` : String(n));
const firsts = reports.map((r) => task.queries.filter((_, q) => rank(r, q) === 1).length);
console.log(`\nRelevant document ranked first: ${small.name} ${firsts[0]}/${task.queries.length}, ${large.name} ${firsts[1]}/${task.queries.length}`);
const differ = task.queries.map((query, q) => ({ query, x: rank(reports[0], q), y: rank(reports[1], q) })).filter((d) => d.x !== d.y);
console.log(differ.length === 0 ? 'Both models rank every relevant document the same.' : 'Where they differ (rank of the relevant document):');
for (const d of differ) console.log(`  ${shown(d.x).padStart(3)} vs ${shown(d.y).padStart(3)}  '${d.query}'`);

// Worth it? Quality gained against size and speed lost.
const [x, y] = rows as [ModelComparisonRow, ModelComparisonRow];
const gain = (y.mrr ?? 0) - (x.mrr ?? 0);
console.log(`\n${y.model} vs ${x.model}: MRR ${gain >= 0 ? '+' : ''}${gain.toFixed(3)}, ${(y.sizeMB / x.sizeMB).toFixed(1)}x the size, ${(x.textsPerSecond / y.textsPerSecond).toFixed(1)}x the time per text.`);
await small.close();
await large.close();
