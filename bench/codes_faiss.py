#!/usr/bin/python3
"""bench/codes_faiss.py: the FAISS side of `npm run bench:codes`.

Run by bench/codes.ts under /usr/bin/python3 (Debian's python3-faiss; see
bench/setup-peers.sh) on the very vectors, queries and ground truth of the
semvec run, written as raw files: data.f32 and queries.f32 (row-major
float32), truth.i64 (10 ids per query). Builds IndexIVFPQFastScan (4-bit PQ,
fast-scan layout) with M sub-quantizers over an inner-product coarse
quantizer of nlist lists, wrapped in IndexRefineFlat (exact re-ranking of
k_factor * 10 candidates from the float vectors held in memory), and prints
one JSON line: per (M, nprobe, k_factor) recall@10 and single-query QPS (one thread),
the build time, and the bytes per vector of the codes.

Usage: codes_faiss.py DIR DIM NLIST
"""
import json
import sys
import time

import faiss
import numpy as np

K = 10
SINGLE = 200


def main():
    folder, dim, nlist = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    data = np.fromfile(f"{folder}/data.f32", dtype=np.float32).reshape(-1, dim)
    queries = np.fromfile(f"{folder}/queries.f32", dtype=np.float32).reshape(-1, dim)
    truth = np.fromfile(f"{folder}/truth.i64", dtype=np.int64).reshape(-1, K)
    # One thread: single queries gain nothing from OpenMP here, and its
    # spinning threads collapse on a busy machine.
    faiss.omp_set_num_threads(1)
    out = {"faiss": faiss.__version__, "threads": 1, "configs": []}
    for m in (dim // 2, dim):
        quantizer = faiss.IndexFlatIP(dim)
        base = faiss.IndexIVFPQFastScan(quantizer, dim, nlist, m, 4, faiss.METRIC_INNER_PRODUCT)
        index = faiss.IndexRefineFlat(base)
        t0 = time.perf_counter()
        index.train(data)
        index.add(data)
        build = time.perf_counter() - t0
        points = []
        for nprobe in (8, 16, 32, 64, 128, 256):
            if nprobe > nlist:
                continue
            base.nprobe = nprobe
            for k_factor in (2, 4, 8):
                index.k_factor = k_factor
                found = np.stack([index.search(queries[i : i + 1], K)[1][0] for i in range(len(queries))])
                hits = sum(len(set(found[i]) & set(truth[i])) for i in range(len(queries)))
                calls = min(SINGLE, len(queries))
                t0 = time.perf_counter()
                for i in range(calls):
                    index.search(queries[i : i + 1], K)
                seconds = time.perf_counter() - t0
                points.append({"nprobe": nprobe, "rerank": k_factor * K, "recall": hits / (K * len(queries)), "qps": calls / seconds})
        out["configs"].append({"name": f"faiss IVFPQFastScan M={m} x4 + refine", "codeBytesPerVector": m / 2, "buildSeconds": build, "points": points})
        del index, base, quantizer
    print(json.dumps(out), flush=True)


main()
