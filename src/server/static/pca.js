// Principal component analysis of a few hundred vectors: the two leading
// eigenvectors of the covariance matrix by power iteration with deflation
// (no library; d x d covariance, fine for d up to a few thousand).

/**
 * @param {number[][]} vectors n rows of d values
 * @returns {{ points: [number, number][], explained: [number, number] }} the rows projected on the two components, and the share of variance each explains
 */
export function pca2(vectors) {
  const n = vectors.length;
  if (n === 0) return { points: [], explained: [0, 0] };
  const d = vectors[0].length;
  const mean = new Float64Array(d);
  for (const v of vectors) for (let j = 0; j < d; j++) mean[j] += v[j] / n;
  const centred = vectors.map((v) => Float64Array.from(v, (x, j) => x - mean[j]));
  const cov = new Float64Array(d * d);
  for (const v of centred) {
    for (let a = 0; a < d; a++) {
      const va = v[a];
      if (va === 0) continue;
      for (let b = a; b < d; b++) cov[a * d + b] += va * v[b];
    }
  }
  for (let a = 0; a < d; a++) for (let b = a; b < d; b++) cov[b * d + a] = cov[a * d + b] /= Math.max(1, n - 1);
  let total = 0;
  for (let a = 0; a < d; a++) total += cov[a * d + a];
  const components = [];
  const values = [];
  for (let c = 0; c < 2; c++) {
    // A fixed start (not random): the same data gives the same picture.
    let v = Float64Array.from({ length: d }, (_, j) => 1 + ((j * 7919) % 13) / 13);
    let lambda = 0;
    for (let it = 0; it < 200; it++) {
      const w = new Float64Array(d);
      for (let a = 0; a < d; a++) {
        let s = 0;
        for (let b = 0; b < d; b++) s += cov[a * d + b] * v[b];
        w[a] = s;
      }
      const norm = Math.hypot(...w);
      if (norm === 0) break;
      for (let a = 0; a < d; a++) w[a] /= norm;
      const delta = w.reduce((s, x, a) => s + Math.abs(x - v[a]), 0);
      v = w;
      lambda = norm;
      if (delta < 1e-9) break;
    }
    components.push(v);
    values.push(lambda);
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) cov[a * d + b] -= lambda * v[a] * v[b];
  }
  const points = centred.map((x) => components.map((v) => x.reduce((s, xi, j) => s + xi * v[j], 0)));
  return { points, explained: values.map((l) => (total > 0 ? l / total : 0)) };
}
