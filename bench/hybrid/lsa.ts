/**
 * LSA vectors (latent semantic analysis): TF-IDF rows of the documents,
 * reduced to `dim` dimensions by a truncated SVD (randomized range finder
 * with power iterations, then the eigenvectors of a small Gram matrix by
 * Jacobi rotations). Queries are folded into the same space. Vectors that
 * mean something, made here without any model: the benchmark's vector side.
 */
import { mulberry32 } from '../../src/random.js';

/** Sparse rows: per row, term ids and weights. */
interface Sparse {
  ids: Int32Array[];
  w: Float64Array[];
  cols: number;
}

const TOKEN = /[\p{L}\p{N}]{2,}/gu;
const tokens = (text: string): string[] => text.toLowerCase().match(TOKEN) ?? [];

export interface Lsa {
  dim: number;
  /** documents.length x dim, rows L2-normalised. */
  documents: Float32Array;
  /** Folds texts into the space: texts.length x dim, rows L2-normalised. */
  embed(texts: readonly string[]): Float32Array;
}

/** Builds LSA vectors of `documents` in `dim` dimensions (terms kept: df >= 2, at most maxTerms by df). */
export function buildLsa(documents: readonly string[], dim: number, seed = 1, maxTerms = 30_000, powerIterations = 2): Lsa {
  const df = new Map<string, number>();
  const docTokens = documents.map((d) => tokens(d));
  for (const ts of docTokens) for (const t of new Set(ts)) df.set(t, (df.get(t) ?? 0) + 1);
  const n = documents.length;
  const kept = [...df].filter(([, c]) => c >= 2 && c < n * 0.5).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, maxTerms);
  const vocab = new Map(kept.map(([t], i) => [t, i]));
  const idf = Float64Array.from(kept, ([, c]) => Math.log(n / c));
  const rowsOf = (list: readonly string[][]): Sparse => {
    const ids: Int32Array[] = [];
    const w: Float64Array[] = [];
    for (const ts of list) {
      const tf = new Map<number, number>();
      for (const t of ts) {
        const id = vocab.get(t);
        if (id !== undefined) tf.set(id, (tf.get(id) ?? 0) + 1);
      }
      const rowIds = Int32Array.from(tf.keys());
      const rowW = Float64Array.from(rowIds, (id) => (1 + Math.log(tf.get(id) as number)) * (idf[id] as number));
      let norm = 0;
      for (const x of rowW) norm += x * x;
      norm = Math.sqrt(norm) || 1;
      for (let i = 0; i < rowW.length; i++) rowW[i]! /= norm;
      ids.push(rowIds);
      w.push(rowW);
    }
    return { ids, w, cols: kept.length };
  };
  const A = rowsOf(docTokens);
  const m = A.cols;
  const l = dim + 10; // oversampling
  const rand = mulberry32(seed);
  // Y = A * Omega (n x l), Omega m x l gaussian-ish (uniform [-1, 1] is enough for a range finder).
  let Z: Float64Array = new Float64Array(m * l);
  for (let i = 0; i < Z.length; i++) Z[i] = rand() * 2 - 1;
  const times = (z: Float64Array): Float64Array => {
    // A (n x m) * z (m x l) -> n x l
    const out = new Float64Array(n * l);
    for (let r = 0; r < n; r++) {
      const ids = A.ids[r] as Int32Array;
      const w = A.w[r] as Float64Array;
      const o = r * l;
      for (let j = 0; j < ids.length; j++) {
        const base = (ids[j] as number) * l;
        const x = w[j] as number;
        for (let c = 0; c < l; c++) out[o + c]! += x * (z[base + c] as number);
      }
    }
    return out;
  };
  const timesT = (y: Float64Array): Float64Array => {
    // A^T (m x n) * y (n x l) -> m x l
    const out = new Float64Array(m * l);
    for (let r = 0; r < n; r++) {
      const ids = A.ids[r] as Int32Array;
      const w = A.w[r] as Float64Array;
      const o = r * l;
      for (let j = 0; j < ids.length; j++) {
        const base = (ids[j] as number) * l;
        const x = w[j] as number;
        for (let c = 0; c < l; c++) out[base + c]! += x * (y[o + c] as number);
      }
    }
    return out;
  };
  let Y: Float64Array = orthonormalize(times(Z), n, l);
  for (let it = 0; it < powerIterations; it++) {
    Z = orthonormalize(timesT(Y), m, l);
    Y = orthonormalize(times(Z), n, l);
  }
  // B^T = A^T Q (m x l); B B^T = Q^T A A^T Q (l x l) = (B^T)^T B^T.
  const Bt = timesT(Y);
  const G = new Float64Array(l * l);
  for (let i = 0; i < m; i++) {
    const o = i * l;
    for (let a = 0; a < l; a++) {
      const x = Bt[o + a] as number;
      if (x === 0) continue;
      for (let b = a; b < l; b++) G[a * l + b]! += x * (Bt[o + b] as number);
    }
  }
  for (let a = 0; a < l; a++) for (let b = 0; b < a; b++) G[a * l + b] = G[b * l + a] as number;
  const { values, vectors } = jacobiEigen(G, l);
  const order = Array.from(values.keys()).sort((a, b) => (values[b] as number) - (values[a] as number)).slice(0, dim);
  // Term projection P = B^T U_B Sigma^-1 (m x dim): a text's TF-IDF row times P gives its coordinates.
  const P = new Float64Array(m * dim);
  order.forEach((e, c) => {
    const sigma = Math.sqrt(Math.max(values[e] as number, 1e-12));
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let a = 0; a < l; a++) s += (Bt[i * l + a] as number) * (vectors[a * l + e] as number);
      P[i * dim + c] = s / sigma;
    }
  });
  const project = (S: Sparse): Float32Array => {
    const out = new Float32Array(S.ids.length * dim);
    S.ids.forEach((ids, r) => {
      const w = S.w[r] as Float64Array;
      const acc = new Float64Array(dim);
      for (let j = 0; j < ids.length; j++) {
        const base = (ids[j] as number) * dim;
        for (let c = 0; c < dim; c++) acc[c]! += (w[j] as number) * (P[base + c] as number);
      }
      let norm = 0;
      for (const x of acc) norm += x * x;
      norm = Math.sqrt(norm) || 1;
      for (let c = 0; c < dim; c++) out[r * dim + c] = (acc[c] as number) / norm;
    });
    return out;
  };
  return { dim, documents: project(A), embed: (texts) => project(rowsOf(texts.map(tokens))) };
}

/** Modified Gram-Schmidt on the columns of a (rows x cols) row-major matrix. */
function orthonormalize(x: Float64Array, rows: number, cols: number): Float64Array {
  for (let c = 0; c < cols; c++) {
    for (let p = 0; p < c; p++) {
      let dot = 0;
      for (let r = 0; r < rows; r++) dot += (x[r * cols + c] as number) * (x[r * cols + p] as number);
      for (let r = 0; r < rows; r++) x[r * cols + c]! -= dot * (x[r * cols + p] as number);
    }
    let norm = 0;
    for (let r = 0; r < rows; r++) norm += (x[r * cols + c] as number) ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let r = 0; r < rows; r++) x[r * cols + c]! /= norm;
  }
  return x;
}

/** Eigenvalues and eigenvectors (columns) of a symmetric matrix, by cyclic Jacobi rotations. */
function jacobiEigen(g: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(g);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += (a[p * n + q] as number) ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q] as number;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = ((a[q * n + q] as number) - (a[p * n + p] as number)) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p] as number;
          const akq = a[k * n + q] as number;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k] as number;
          const aqk = a[q * n + k] as number;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p] as number;
          const vkq = v[k * n + q] as number;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: n }, (_, i) => a[i * n + i] as number), vectors: v };
}
