/**
 * Exercise 1: a semantic search engine on one topic (coffee, 32 paragraphs
 * written for this example), five questions, the top 3 with their scores,
 * and whether the paragraph that answers each question made the top 3.
 *
 * Run: npx tsx examples/exercise-1-topic-search.ts
 * Model: all-MiniLM-L6-v2 (or the directory in SEMVEC_MODEL_DIR).
 */
import { SemanticSearch } from 'semvec';

import { loadModel } from './_shared.js';

const paragraphs: { title: string; text: string }[] = [
  { title: 'Origins', text: 'Legend says an Ethiopian goat herder named Kaldi noticed his goats grew lively after eating red berries from a shrub. The plant was Coffea arabica, which still grows wild in the highland forests of southwestern Ethiopia.' },
  { title: 'Yemen', text: 'By the fifteenth century, Sufi monasteries in Yemen were brewing a drink from roasted seeds to stay awake during night prayers. The port of Mocha became the centre of the trade and lent its name to a style of beans.' },
  { title: 'Coffeehouses', text: 'Coffeehouses spread from Mecca and Cairo to Istanbul, then to Venice, London and Vienna in the seventeenth century. They were called penny universities in England because anyone could join the conversation for the price of a cup.' },
  { title: 'Arabica and robusta', text: 'Two species dominate the market. Arabica grows at altitude, has more sugars and acidity and tastes sweeter; robusta tolerates heat and disease, carries nearly twice the caffeine and tastes harsher and more bitter.' },
  { title: 'The cherry', text: 'A coffee bean is the seed of a cherry-like fruit. Each cherry usually holds two seeds facing each other; when only one develops it is rounder and sold separately as a peaberry.' },
  { title: 'Growing regions', text: 'Coffee grows in the bean belt between the tropics of Cancer and Capricorn. Brazil is the largest producer, followed by Vietnam, Colombia, Indonesia and Ethiopia.' },
  { title: 'Altitude', text: 'High-grown beans mature slowly in cool mountain air, which makes them denser and more complex. Growers in Central America grade their lots as strictly hard bean when they come from above about 1,350 metres.' },
  { title: 'Washed processing', text: 'In the washed process the fruit is stripped from the seed, the sticky mucilage is fermented away in tanks of water, and the beans are dried. Washed coffees taste clean, bright and acidic.' },
  { title: 'Natural processing', text: 'In the natural process whole cherries are dried in the sun for weeks before the dried fruit is hulled off. The fruit sugars give these coffees heavy body and flavours of blueberry, strawberry or wine.' },
  { title: 'Honey processing', text: 'Honey processing removes the skin but leaves some of the sticky mucilage on the bean while it dries. The result sits between washed and natural coffees in sweetness and body.' },
  { title: 'Green coffee storage', text: 'Unroasted green beans keep for up to a year in cool, dry conditions, which is why coffee is shipped green and roasted close to where it is drunk.' },
  { title: 'Roasting chemistry', text: 'Roasting drives off water, then sugars caramelise and amino acids react with sugars in the Maillard reaction, creating hundreds of aroma compounds. Around 196 degrees Celsius the beans crack audibly as steam escapes: the first crack.' },
  { title: 'Roast levels', text: 'Light roasts keep the acidity and the flavour of the origin, fruity or floral. Dark roasts, taken past the second crack, trade those for bitter, smoky, chocolate notes and an oily surface.' },
  { title: 'Resting after roasting', text: 'Freshly roasted beans release carbon dioxide for days. Most roasters let them rest for several days before brewing, because the escaping gas disturbs extraction and makes espresso gush.' },
  { title: 'Grinding', text: 'Burr grinders crush beans to a uniform size while blade grinders chop them unevenly. Uneven grounds extract unevenly: fine particles turn bitter while coarse ones stay sour.' },
  { title: 'Grind size', text: 'The grind must match the brew method: powder-fine for Turkish coffee, fine for espresso, medium for drip and pour-over, coarse for the French press and cold brew.' },
  { title: 'Water', text: 'A cup is about ninety-eight percent water, so its taste matters. Very soft water extracts poorly and tastes flat, very hard water dulls acidity and scales machines; filtered tap water with moderate minerals works best.' },
  { title: 'Brewing temperature', text: 'Water just off the boil, between 90 and 96 degrees Celsius, extracts coffee well. Colder water leaves the cup thin and sour; water that is too hot pulls out harsh, bitter compounds.' },
  { title: 'Ratio', text: 'A common starting ratio for filter coffee is one gram of ground coffee to sixteen grams of water. Weighing both with a scale makes a good cup repeatable.' },
  { title: 'Extraction', text: 'Under-extracted coffee, brewed too briefly, too coarse or too cool, tastes sour and salty because acids dissolve first. Over-extracted coffee tastes bitter and dry because the slow-dissolving compounds take over.' },
  { title: 'Espresso', text: 'Espresso forces hot water through a compact puck of finely ground coffee at about nine bars of pressure. A shot takes twenty-five to thirty seconds and is topped by crema, a foam of oils and gas.' },
  { title: 'Pulling a shot', text: 'If a shot runs fast and tastes sharp, grind finer; if it drips slowly and tastes harsh, grind coarser. Baristas adjust the grind daily because humidity changes how the coffee behaves.' },
  { title: 'Milk drinks', text: 'A cappuccino is espresso with equal parts steamed milk and foam; a latte has more milk and a thin layer of foam; a flat white uses velvety microfoam over a double shot.' },
  { title: 'French press', text: 'The French press steeps coarse grounds in hot water for about four minutes before a metal mesh plunger separates them. The mesh lets oils and fine particles through, giving a heavy, textured cup.' },
  { title: 'Pour-over', text: 'Pour-over brewing pours water by hand in slow circles over grounds in a paper filter cone such as a V60 or Chemex. The paper traps oils, giving a clean, tea-like cup.' },
  { title: 'Cold brew', text: 'Cold brew steeps coarse grounds in room-temperature or refrigerated water for twelve to twenty-four hours. Without heat, fewer acids dissolve, so the concentrate tastes smooth and mellow.' },
  { title: 'Moka pot', text: 'The stovetop moka pot pushes boiling water up through the coffee by steam pressure, only one or two bars. It makes a strong, concentrated coffee, but not true espresso.' },
  { title: 'Turkish coffee', text: 'Turkish coffee is boiled with sugar in a small pot called a cezve, with grounds as fine as flour left unfiltered in the cup. It is served with the foam on top and drunk slowly while the grounds settle.' },
  { title: 'Caffeine', text: 'Caffeine blocks adenosine receptors in the brain, delaying the feeling of tiredness. Its effects peak about an hour after drinking and it has a half-life of around five hours.' },
  { title: 'Health', text: 'Health agencies consider up to about 400 milligrams of caffeine a day, roughly four cups of brewed coffee, safe for most adults. Pregnant people are advised to stay under 200 milligrams.' },
  { title: 'Decaffeination', text: 'The Swiss Water Process removes caffeine from green beans using only water and charcoal filters, while other methods use solvents such as ethyl acetate or supercritical carbon dioxide.' },
  { title: 'Storage', text: 'Roasted coffee goes stale as oxygen, light, heat and moisture attack its oils and aromas. Keep whole beans in an airtight opaque container at room temperature and grind just before brewing.' },
];

const questions: { query: string; answer: string }[] = [
  { query: 'Why does my coffee taste sour?', answer: 'Extraction' },
  { query: 'Where was the coffee plant first discovered?', answer: 'Origins' },
  { query: 'How many cups a day can I safely drink?', answer: 'Health' },
  { query: 'What changes when beans are roasted darker?', answer: 'Roast levels' },
  { query: 'How can I make coffee without hot water?', answer: 'Cold brew' },
];

const model = await loadModel('all-MiniLM-L6-v2');
const engine = new SemanticSearch({ model });
await engine.index(paragraphs.map((p) => p.text));
console.log(`Indexed ${engine.size} paragraphs about coffee with ${model.name} (${model.dim}-d)`);

let answered = 0;
for (const { query, answer } of questions) {
  console.log(`\nQuery: '${query}'`);
  console.log('-'.repeat(60));
  const hits = await engine.search(query, { topK: 3 });
  hits.forEach((h, i) => console.log(`  ${i + 1}. [${h.score.toFixed(3)}] ${paragraphs[h.index]!.title}: ${h.document.slice(0, 60)}...`));
  const rank = hits.findIndex((h) => paragraphs[h.index]!.title === answer) + 1;
  if (rank > 0) answered++;
  console.log(`  relevant paragraph (${answer}): ${rank > 0 ? `rank ${rank}` : 'not in the top 3'}`);
}
console.log(`\nRelevant: the answering paragraph was in the top 3 for ${answered} of ${questions.length} queries.`);
await model.close();
