/** The one conversion of index scores into a collection's distance and score. */
import { describe, expect, it } from 'vitest';

import { FlatIndex, type Metric } from '../src/index.js';
import { distanceAndScore } from '../src/scores.js';
import { randomVectors } from './helpers/data.js';

describe('distanceAndScore', () => {
  it("l2: the index's squared distance is the distance, its negation the score", () => {
    expect(distanceAndScore('l2', 4)).toEqual({ distance: 4, score: -4 });
    expect(distanceAndScore('l2', 0)).toEqual({ distance: 0, score: -0 });
  });

  it("ip and cosine: the similarity is the score, 1 - similarity Chroma's distance", () => {
    for (const metric of ['ip', 'cosine'] as Metric[]) {
      expect(distanceAndScore(metric, 0.75)).toEqual({ distance: 0.25, score: 0.75 });
      expect(distanceAndScore(metric, -2)).toEqual({ distance: 3, score: -2 });
    }
  });

  it('turns every best-first result list into ascending distances and descending scores', () => {
    const dim = 8;
    for (const metric of ['ip', 'cosine', 'l2'] as Metric[]) {
      const index = new FlatIndex({ dim, metric });
      index.add(randomVectors(200, dim, 3));
      const r = index.search(randomVectors(1, dim, 4), 20);
      const converted = Array.from(r.scores, (s) => distanceAndScore(metric, s));
      for (let j = 1; j < converted.length; j++) {
        expect(converted[j]!.distance, metric).toBeGreaterThanOrEqual(converted[j - 1]!.distance);
        expect(converted[j]!.score, metric).toBeLessThanOrEqual(converted[j - 1]!.score);
      }
    }
  });
});
