#!/usr/bin/python3
"""bench/codes_choice.py: the measurement behind the choice of list codes
(docs/choosing-an-index.md, "Why RaBitQ-style codes rather than 4-bit PQ
fast-scan").

On 20,000 unit vectors of 384 dimensions (64 anisotropic clusters with a
decaying spectrum, seeded) and 200 queries, or on the first rows of a
real-text cache directory given as the first argument: the fraction of the
true top 10 (inner product) found among the first 10, 64 and 200 candidates
ranked by each code's estimate, without IVF and without re-ranking.
RaBitQ-style codes of 1, 2 and 4 bits (random rotation, per-vector grid,
the unbiased estimator; queries quantised to 8 bits) against FAISS
IndexPQFastScan (4-bit PQ) with 96 and 192 sub-quantizers, from Debian's
python3-faiss. Runs under /usr/bin/python3 (bench/setup-peers.sh).
"""
import numpy as np, faiss, time, sys
rng = np.random.default_rng(1)
d, n, nq = 384, 20000, 200
# anisotropic mixture: 64 clusters, decaying spectrum (like SVD of text)
scales = (1.0 / np.sqrt(np.arange(1, d + 1))).astype(np.float32)
cent = rng.standard_normal((64, d)).astype(np.float32) * scales * 2
def gen(m):
    lab = rng.integers(0, 64, m)
    x = cent[lab] + rng.standard_normal((m, d)).astype(np.float32) * scales
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
if len(sys.argv) > 1:
    import json
    meta = json.load(open(sys.argv[1] + '/meta.json'))
    v = np.fromfile(sys.argv[1] + '/vectors.f32', dtype=np.float32).reshape(-1, d)[:n]
    q = np.fromfile(sys.argv[1] + '/queries.f32', dtype=np.float32).reshape(-1, d)[:nq]
    x = v
else:
    x, q = gen(n), gen(nq)
gt = np.argsort(-(q @ x.T), axis=1)[:, :10]
def recall(est, R=10):
    top = np.argsort(-est, axis=1)[:, :R]
    return np.mean([len(set(gt[i]) & set(top[i])) / 10 for i in range(nq)])
mu = x.mean(0)
r = x - mu; t = q - mu
P, _ = np.linalg.qr(rng.standard_normal((d, d)))
rr = r @ P.T; tt = t @ P.T
def rq(B):
    if B == 1:
        u = np.where(rr >= 0, 1.0, -1.0)
    else:
        L = 2 ** B - 1
        best = None; bestc = -1
        m = np.abs(rr).max(1, keepdims=True)
        us = []; cs = []
        for f in np.linspace(0.3, 1.0, 15):
            delta = 2 * m * f / (L + 1)
            c = np.clip(np.floor(rr / delta + (L + 1) / 2), 0, L)
            u = 2 * c - L
            cos = (u * rr).sum(1) / np.linalg.norm(u, axis=1) / np.linalg.norm(rr, axis=1)
            us.append(u); cs.append(cos)
        cs = np.stack(cs); idx = cs.argmax(0)
        u = np.stack(us)[idx, np.arange(n)]
    scale = (rr * rr).sum(1) / (rr * u).sum(1)
    # query quantised to int8 (B>1) or 4-bit (B=1)
    a = np.abs(tt).max(1, keepdims=True) / 127
    tq = np.round(tt / a) * a
    return (tq @ u.T) * scale + (mu @ r.T)  # +<q,mu> constant per query
for B in (1, 2, 4):
    est = rq(B)
    print(f'rq{B}: bytes/vec {d*B/8+8:.0f}  recall@10 codes {recall(est):.3f}  recall in top64 {recall(est,64):.3f} top200 {recall(est,200):.3f}', flush=True)
for M in (96, 192):
    pq = faiss.IndexPQFastScan(d, M, 4, faiss.METRIC_INNER_PRODUCT)
    pq.train(x); pq.add(x)
    D, I = pq.search(q, 200)
    def rc(R): return np.mean([len(set(gt[i]) & set(I[i, :R])) / 10 for i in range(nq)])
    print(f'pq-fastscan M={M}x4: bytes/vec {M/2:.0f}  recall@10 codes {rc(10):.3f}  top64 {rc(64):.3f} top200 {rc(200):.3f}', flush=True)
