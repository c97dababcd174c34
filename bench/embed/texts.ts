/**
 * bench/embed/texts.ts: the texts bench:embed embeds, generated from a
 * seeded word list (Zipf-weighted, with some numbers and rare words that the
 * WordPiece vocabulary splits into several pieces): 35% short queries (5-12
 * words), 40% sentences (12-40 words), 25% paragraphs (40-200 words).
 */
import { mulberry32, pickCumulative } from '../lib/data.js';

export const SEED = 7;
export const MIX = { query: 0.35, sentence: 0.4, paragraph: 0.25 } as const;
export const WORDS_RANGE = { query: [5, 12], sentence: [12, 40], paragraph: [40, 200] } as const;

// Common English words first (drawn most often), then topical and rarer
// words, some of which the WordPiece vocabulary splits into several pieces.
export const WORDS = `
the of and to a in is that for it as was with be by on not this are or from at which but have an they you were
their has would when if so no will more can out other what up about into only them some could time these two may
then do first any like now such make over our even most after also made many did must before back see through way
where get much go well your know should down work year because come people just say each those take day good how
long own too little use very great still here life both between old under last never place same another think
house while high right might came off find since used give against three look few general hand school part small
upon course home during number again world water city data system search query index vector model user service
server request response memory disk file page table record value result answer question problem method process
team project customer product price market order report study paper author book story music film game player match
season weather morning evening night road train flight hotel room kitchen garden window door phone email message
simple quick easy hard large small new recent early late better best strong weak open close fast slow clear free
important different possible available similar local global public private simple useful common special modern
build run start stop read write send receive update delete store load save check test measure compare improve
explain describe discuss support include require provide return create change follow happen remain consider
however therefore although because whether without within across around above below among toward beyond
latency throughput benchmark embedding tokenizer transformer encoder decoder attention gradient optimizer
quantization normalization cosine similarity retrieval semantic lexical multilingual sentence paragraph
kubernetes postgres javascript typescript compiler interpreter asynchronous concurrency parallelism threadpool
microservice dashboard telemetry observability configuration deployment authentication authorization
photosynthesis mitochondria archaeology astronomy meteorology biodiversity infrastructure cryptocurrency
refrigerator thermostat headphones smartphone wheelbarrow lighthouse marathon volcano earthquake tsunami
Amsterdam Nairobi Montevideo Reykjavik Kyoto Saskatchewan Mississippi Himalaya Sahara Patagonia
`
  .trim()
  .split(/\s+/);

/** Zipf-like cumulative weights over WORDS (rank^-0.9). */
const CUMULATIVE = (() => {
  const w = WORDS.map((_, r) => 1 / (r + 1) ** 0.9);
  const total = w.reduce((a, b) => a + b, 0);
  let acc = 0;
  return w.map((x) => (acc += x / total));
})();

export type Kind = keyof typeof MIX;

/** A text generator over one seeded PRNG: words, sentences and texts of each kind. */
function writer(rnd: () => number) {
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const word = (): string => {
    if (rnd() < 0.03) return String(int(1, 2026));
    return WORDS[pickCumulative(CUMULATIVE, rnd())] as string;
  };
  const capital = (w: string): string => w.charAt(0).toUpperCase() + w.slice(1);
  const sentence = (words: number): string => {
    const parts: string[] = [];
    for (let i = 0; i < words; i++) {
      let w = word();
      if (i === 0) w = capital(w);
      if (i < words - 1 && rnd() < 0.07) w += ',';
      parts.push(w);
    }
    return `${parts.join(' ')}${rnd() < 0.1 ? '?' : '.'}`;
  };
  const text = (kind: Kind, count: number): string => {
    if (kind === 'query') return Array.from({ length: count }, word).join(' ') + (rnd() < 0.3 ? '?' : '');
    if (kind === 'sentence') return sentence(count);
    const sentences: string[] = [];
    for (let left = count; left > 0; ) {
      const len = Math.min(left, int(8, 25));
      sentences.push(sentence(len));
      left -= len;
    }
    return sentences.join(' ');
  };
  return { int, text };
}

/** n texts from the seed, with each one's kind and word count. */
export function makeTexts(n: number, seed: number): { texts: string[]; kinds: Kind[]; words: number[] } {
  const rnd = mulberry32(seed);
  const { int, text } = writer(rnd);
  const texts: string[] = [];
  const kinds: Kind[] = [];
  const words: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = rnd();
    const kind: Kind = u < MIX.query ? 'query' : u < MIX.query + MIX.sentence ? 'sentence' : 'paragraph';
    const [lo, hi] = WORDS_RANGE[kind];
    const count = int(lo, hi);
    texts.push(text(kind, count));
    kinds.push(kind);
    words.push(count);
  }
  return { texts, kinds, words };
}
