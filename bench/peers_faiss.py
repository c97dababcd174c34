#!/usr/bin/python3
"""bench/peers_faiss.py: the FAISS side of `npm run bench:peers`.

Run by bench/peers.ts as a subprocess under /usr/bin/python3 (Debian's
python3-faiss; see bench/setup-peers.sh). It is a small line protocol so the
TypeScript driver can interleave FAISS with the other libraries in one run:
every line on stdin is one JSON command, every answer one JSON line on
stdout. Vectors and queries are read from the raw float32 (.f32, row-major)
files the driver wrote; result ids go back as raw int64 files, k-means
centroids as raw float32 files (the driver scores them itself, the same way
for every library).

Commands (all times in seconds, measured here with time.perf_counter, so
they include the Python -> C++ call but not the pipe):
  {"cmd": "info"}
  {"cmd": "load", "data": path, "queries": path, "dim": d, "rows": n}
                                                      the first n rows of data
  {"cmd": "flat_build"}                               IndexFlatIP.add
  {"cmd": "drop", "index": "flat"}                    frees an index
  {"cmd": "ivf_io", "path": p}                        write_index / read_index timed, file size
  {"cmd": "ivf_build", "nlist": n, "niter": i, "maxPointsPerCentroid": m}
  {"cmd": "single", "index": "flat"|"ivf", "count": c, "nprobe": p, "out": path}
  {"cmd": "batch", "index": "flat"|"ivf", "nprobe": p, "out": path}
  {"cmd": "kmeans", "lib": "faiss"|"sklearn", "data": path, "dim": d,
   "rows": n, "k": k, "niter": i, "maxPointsPerCentroid": m, "seed": s,
   "out": path}                                       centroids to out
  {"cmd": "quit"}
"""
import json
import os
import sys
import time

try:
    import faiss
    import numpy as np
except ImportError as e:  # the driver checks first; this is a fallback
    print(json.dumps({"error": f"missing module: {e.name}; run bench/setup-peers.sh"}), flush=True)
    sys.exit(3)

K = 10
state = {}


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def index_for(cmd):
    index = state[cmd["index"]]
    if cmd["index"] == "ivf":
        index.nprobe = int(cmd["nprobe"])
    if cmd["index"] == "hnsw":
        index.hnsw.efSearch = int(cmd["nprobe"])  # the setting swept: ef
    return index


def sklearn_version():
    try:
        import sklearn
    except ImportError:
        return None
    return sklearn.__version__


def kmeans(cmd):
    """k-means on the first `rows` rows of `data`: faiss.Kmeans or sklearn
    KMeans with the same k, iterations, seed and subsample (at most
    k * maxPointsPerCentroid points, as FAISS and semvec sample), random
    initialisation (FAISS has no k-means++). The time includes the
    subsampling; the centroids go to `out`."""
    d, k, rows = int(cmd["dim"]), int(cmd["k"]), int(cmd["rows"])
    niter, seed = int(cmd["niter"]), int(cmd["seed"])
    max_points = k * int(cmd["maxPointsPerCentroid"])
    x = np.fromfile(cmd["data"], dtype=np.float32, count=rows * d).reshape(rows, d)
    if cmd["lib"] == "faiss":
        km = faiss.Kmeans(d, k, niter=niter, seed=seed, max_points_per_centroid=int(cmd["maxPointsPerCentroid"]), spherical=False)
        t0 = time.perf_counter()
        km.train(x)
        seconds = time.perf_counter() - t0
        centroids, iterations = km.centroids, niter
        # FAISS's objective is that of the last assignment, before the last update.
        own = float(km.obj[-1])
    elif cmd["lib"] == "sklearn":
        from sklearn.cluster import KMeans

        t0 = time.perf_counter()
        train = x if rows <= max_points else x[np.random.default_rng(seed).choice(rows, max_points, replace=False)]
        # tol = 0: stop only when no point changes cluster (as semvec), else run niter.
        km = KMeans(n_clusters=k, init="random", n_init=1, max_iter=niter, tol=0.0, algorithm="lloyd", random_state=seed).fit(train)
        seconds = time.perf_counter() - t0
        centroids, iterations, own = km.cluster_centers_, int(km.n_iter_), float(km.inertia_)
    else:
        raise ValueError(f"unknown k-means library {cmd['lib']!r}")
    np.ascontiguousarray(centroids, dtype=np.float32).tofile(cmd["out"])
    return {"seconds": seconds, "iterations": iterations, "trainingPoints": min(rows, max_points), "ownInertia": own}


def handle(cmd):
    c = cmd["cmd"]
    if c == "info":
        return {
            "faiss": faiss.__version__,
            "numpy": np.__version__,
            "compileOptions": faiss.get_compile_options(),
            "ompThreads": faiss.omp_get_max_threads(),
            "python": sys.version.split()[0],
            "sklearn": sklearn_version(),
        }
    if c == "load":
        d = int(cmd["dim"])
        t0 = time.perf_counter()
        state["x"] = np.fromfile(cmd["data"], dtype=np.float32, count=int(cmd["rows"]) * d).reshape(-1, d)
        state["q"] = np.fromfile(cmd["queries"], dtype=np.float32).reshape(-1, d)
        state["dim"] = d
        return {"seconds": time.perf_counter() - t0, "n": state["x"].shape[0], "nq": state["q"].shape[0]}
    if c == "flat_build":
        index = faiss.IndexFlatIP(state["dim"])
        t0 = time.perf_counter()
        index.add(state["x"])
        state["flat"] = index
        return {"seconds": time.perf_counter() - t0}
    if c == "ivf_build":
        d = state["dim"]
        quantizer = faiss.IndexFlatIP(d)
        index = faiss.IndexIVFFlat(quantizer, d, int(cmd["nlist"]), faiss.METRIC_INNER_PRODUCT)
        index.cp.niter = int(cmd["niter"])
        index.cp.max_points_per_centroid = int(cmd["maxPointsPerCentroid"])
        index.cp.seed = 1234
        t0 = time.perf_counter()
        index.train(state["x"])
        t1 = time.perf_counter()
        index.add(state["x"])
        t2 = time.perf_counter()
        state["ivf"] = index
        state["ivf_quantizer"] = quantizer  # keep it alive
        return {"trainSeconds": t1 - t0, "addSeconds": t2 - t1}
    if c == "hnsw_build":
        # IndexHNSWFlat, inner product; add builds on every OpenMP thread.
        index = faiss.IndexHNSWFlat(state["dim"], int(cmd["m"]), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(cmd["efConstruction"])
        t0 = time.perf_counter()
        index.add(state["x"])
        state["hnsw"] = index
        return {"addSeconds": time.perf_counter() - t0}
    if c == "drop":
        state.pop(cmd["index"], None)
        return {}
    if c in ("ivf_io", "hnsw_io"):
        # FAISS has no memory counter: the serialised size stands in for it
        # (an IndexIVFFlat's file holds its centroids, ids and vectors).
        t0 = time.perf_counter()
        faiss.write_index(state["ivf" if c == "ivf_io" else "hnsw"], cmd["path"])
        t1 = time.perf_counter()
        loaded = faiss.read_index(cmd["path"])
        t2 = time.perf_counter()
        del loaded
        return {"saveSeconds": t1 - t0, "loadSeconds": t2 - t1, "fileBytes": os.path.getsize(cmd["path"])}
    if c == "single":
        index = index_for(cmd)
        q = state["q"]
        count = int(cmd["count"])
        nq = q.shape[0]
        for i in range(3):  # warm-up
            index.search(q[i % nq : i % nq + 1], K)
        times = []
        ids = np.empty((count, K), dtype=np.int64)
        for i in range(count):
            row = q[i % nq : i % nq + 1]
            t0 = time.perf_counter()
            _, I = index.search(row, K)
            times.append(time.perf_counter() - t0)
            ids[i] = I[0]
        ids.tofile(cmd["out"])
        return {"times": times}
    if c == "batch":
        index = index_for(cmd)
        t0 = time.perf_counter()
        _, I = index.search(state["q"], K)
        seconds = time.perf_counter() - t0
        I.astype(np.int64).tofile(cmd["out"])
        return {"seconds": seconds}
    if c == "kmeans":
        return kmeans(cmd)
    raise ValueError(f"unknown command {c!r}")


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        cmd = json.loads(line)
        if cmd.get("cmd") == "quit":
            reply({"ok": True})
            return
        try:
            reply(handle(cmd))
        except Exception as e:  # report, keep serving
            reply({"error": f"{type(e).__name__}: {e}"})


if __name__ == "__main__":
    main()
