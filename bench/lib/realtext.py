#!/usr/bin/python3
"""bench/lib/realtext.py: a vector set with the structure of real text.

Run by bench/lib/realtext.ts (under Debian's /usr/bin/python3, with
python3-numpy and python3-sklearn; bench/setup-peers.sh installs them) when
its cache is missing; it can also be run by hand:

    /usr/bin/python3 bench/lib/realtext.py --out bench/.cache/realtext

What it does, reproducibly for the same installed Debian packages:

1. Texts: the English manual pages (/usr/share/man/man1..man8, roff markup
   stripped, split at paragraph macros and blank lines), the package
   documentation (/usr/share/doc: READMEs, NEWS, changelogs, copyright
   files, plain text, Markdown and HTML with tags stripped; split at blank
   lines and at changelog bullets) and the info manuals (/usr/share/info).
   Files are read in sorted path order.
2. Units: paragraphs of 8 to 400 words whose words are mostly letters,
   de-duplicated (lowercase, whitespace collapsed). When the paragraphs are
   fewer than --target, sentences of 8 words or more taken from
   multi-sentence paragraphs are added (de-duplicated against everything),
   up to --target: a set chunked at two granularities, as retrieval corpora
   often are. Both counts are recorded.
3. Queries: --queries paragraphs drawn (seeded) and held out: neither they
   nor any sentence taken from them is in the stored set.
4. Vectors: TF-IDF (sublinear tf, l2 rows, terms in at least 3 and at most
   30% of units) reduced to --dim dimensions by truncated SVD (randomized,
   fitted on a seeded sample of at most --svd-sample units), then
   L2-normalised: latent semantic analysis, whose vectors share what makes
   text embeddings hard for approximate search (an uneven spectrum, a
   dominant mean direction, hubs, near-duplicates) unlike a gaussian
   mixture. Units whose TF-IDF row is empty are dropped.
5. Order: the stored units are shuffled with the seed, so the first n rows
   of the file are a sample of the whole set at every n.

Files written to --out (raw little-endian float32, row-major):
  vectors.f32   count x dim
  queries.f32   queries x dim
  meta.json     counts, sources, parameters, a SHA-256 of the unit texts
"""
import argparse
import gzip
import hashlib
import html
import json
import os
import re
import sys
import time

try:
    import numpy as np
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
except ImportError as e:
    sys.stderr.write(f"missing module {e.name}: run sh bench/setup-peers.sh (python3-numpy, python3-sklearn)\n")
    sys.exit(3)

MIN_WORDS, MAX_WORDS = 8, 400
ROFF_BREAKS = {"PP", "P", "LP", "SH", "SS", "TP", "IP", "HP", "sp", "br", "Sh", "Ss", "Pp", "Bl", "El", "It", "Bd", "Ed", "TS", "TE", "nf", "fi", "RS", "RE"}
# Inline roff macros whose arguments are text (man and mdoc).
ROFF_TEXT = {"B", "I", "BR", "RB", "IR", "RI", "BI", "IB", "SM", "SB", "Nm", "Ar", "Fl", "Cm", "Xr", "Em", "Sy", "Li", "Pa", "Va", "Fn", "Ic", "Dv", "Ev", "Op", "Ql", "Dq", "Sq", "Nd"}
ROFF_ESCAPE = re.compile(r"\\f(?:\[[^\]]*\]|\(..|.)|\\\(..|\\\[[^\]]*\]|\\\*(?:\(..|\[[^\]]*\]|.)|\\[sv][-+]?\d+|\\.")
TAG = re.compile(r"<[^>]+>")
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
WORD = re.compile(r"[A-Za-z]{2,}")


def log(msg):
    sys.stderr.write(f"  realtext: {msg}\n")
    sys.stderr.flush()


def read_text(path):
    try:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as f:
            raw = f.read(4 << 20)
    except (OSError, EOFError, gzip.BadGzipFile):
        return ""
    if b"\x00" in raw[:4096]:
        return ""
    return raw.decode("utf-8", "replace")


def files_under(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if not os.path.islink(path) and os.path.isfile(path):
                out.append(path)
    return out


def roff_paragraphs(text):
    paras, cur = [], []
    for line in text.split("\n"):
        if line.startswith((".", "'")):
            m = re.match(r"^[.']\s*(\w+)\s*(.*)", line)
            if not m:
                continue
            macro, args = m.group(1), m.group(2)
            if macro in ROFF_BREAKS:
                if cur:
                    paras.append(" ".join(cur))
                    cur = []
            elif macro in ROFF_TEXT:
                cur.append(ROFF_ESCAPE.sub(" ", args.replace('"', "")))
            continue
        if not line.strip():
            if cur:
                paras.append(" ".join(cur))
                cur = []
            continue
        cur.append(ROFF_ESCAPE.sub(" ", line))
    if cur:
        paras.append(" ".join(cur))
    return paras


def plain_paragraphs(text, is_html):
    if is_html:
        text = html.unescape(TAG.sub(" ", re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text)))
    # Blank lines end paragraphs; so do changelog and list bullets.
    return re.split(r"\n\s*\n|\n\s*[*+-]\s+", text)


def clean(para):
    words = para.split()
    if not (MIN_WORDS <= len(words) <= MAX_WORDS):
        return None
    text = " ".join(words)
    if len(WORD.findall(text)) < 0.6 * len(words):
        return None  # code, tables, lists of names
    return text


def collect(sources):
    """Paragraphs (source index, text) in file order, de-duplicated."""
    seen, units, per_source = set(), [], {}
    for tag, root in sources:
        paths = files_under(root)
        kept = 0
        for path in paths:
            text = read_text(path)
            if not text:
                continue
            if tag == "man":
                paras = roff_paragraphs(text)
            else:
                paras = plain_paragraphs(text, path.endswith((".html", ".html.gz", ".htm")))
            for p in paras:
                c = clean(p)
                if c is None:
                    continue
                key = c.lower()
                if key in seen:
                    continue
                seen.add(key)
                units.append(c)
                kept += 1
        per_source[root] = {"files": len(paths), "paragraphs": kept}
        log(f"{root}: {len(paths)} files, {kept} paragraphs")
    return units, seen, per_source


def sentences_of(paragraphs, exclude, seen, limit):
    """Sentences of >= MIN_WORDS words from multi-sentence paragraphs (not
    those in `exclude`), new to `seen`, at most `limit`, in paragraph order."""
    out = []
    for i, p in enumerate(paragraphs):
        if len(out) >= limit:
            break
        if i in exclude:
            continue
        parts = SENTENCE.split(p)
        if len(parts) < 2:
            continue
        for s in parts:
            c = clean(s)
            if c is None or c.lower() in seen:
                continue
            seen.add(c.lower())
            out.append((i, c))
            if len(out) >= limit:
                break
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--target", type=int, default=1_000_000, help="stored units wanted (sentences fill the gap)")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--svd-sample", type=int, default=200_000)
    a = ap.parse_args()
    t0 = time.time()
    roots = [("man", f"/usr/share/man/man{s}") for s in range(1, 9)] + [("doc", "/usr/share/doc"), ("info", "/usr/share/info")]
    paragraphs, seen, per_root = collect(roots)
    merged = {}
    for tag, root in roots:
        info = per_root[root]
        m = merged.setdefault(tag, {"roots": [], "files": 0, "paragraphs": 0})
        m["roots"].append(root)
        m["files"] += info["files"]
        m["paragraphs"] += info["paragraphs"]
    rng = np.random.default_rng(a.seed)
    query_idx = set(int(i) for i in rng.choice(len(paragraphs), a.queries, replace=False))
    stored = [p for i, p in enumerate(paragraphs) if i not in query_idx]
    need = max(0, a.target - len(stored))
    sents = sentences_of(paragraphs, query_idx, seen, need)
    log(f"{len(paragraphs)} paragraphs ({len(stored)} stored, {a.queries} queries), {len(sents)} sentences added")
    texts = stored + [s for _, s in sents]
    kinds = np.array([0] * len(stored) + [1] * len(sents), dtype=np.uint8)
    queries = [paragraphs[i] for i in sorted(query_idx)]
    digest = hashlib.sha256("\n".join(texts + queries).encode("utf-8")).hexdigest()

    vec = TfidfVectorizer(sublinear_tf=True, min_df=3, max_df=0.3, dtype=np.float32, token_pattern=r"(?u)\b[A-Za-z][A-Za-z0-9_]+\b")
    x = vec.fit_transform(texts)
    xq = vec.transform(queries)
    log(f"tf-idf: {x.shape[0]} x {x.shape[1]}, {x.nnz} non-zeros ({time.time() - t0:.0f} s)")
    sample = rng.choice(x.shape[0], min(a.svd_sample, x.shape[0]), replace=False)
    svd = TruncatedSVD(n_components=a.dim, algorithm="randomized", n_iter=5, random_state=a.seed)
    svd.fit(x[np.sort(sample)])
    log(f"svd fitted on {len(sample)} rows ({time.time() - t0:.0f} s)")

    def project(m):
        out = np.empty((m.shape[0], a.dim), dtype=np.float32)
        for s in range(0, m.shape[0], 100_000):
            out[s : s + 100_000] = svd.transform(m[s : s + 100_000]).astype(np.float32)
        norms = np.linalg.norm(out, axis=1)
        keep = norms > 1e-6
        out[keep] /= norms[keep, None]
        return out, keep

    v, keep = project(x)
    q, qkeep = project(xq)
    v, kinds = v[keep], kinds[keep]
    q = q[qkeep]
    order = rng.permutation(v.shape[0])
    v, kinds = v[order], kinds[order]
    os.makedirs(a.out, exist_ok=True)
    tmp = os.path.join(a.out, f"vectors.f32.tmp-{os.getpid()}")
    v.tofile(tmp)
    os.replace(tmp, os.path.join(a.out, "vectors.f32"))
    tmp = os.path.join(a.out, f"queries.f32.tmp-{os.getpid()}")
    q.tofile(tmp)
    os.replace(tmp, os.path.join(a.out, "queries.f32"))
    meta = {
        "format": 1,
        "dim": a.dim,
        "count": int(v.shape[0]),
        "paragraphs": int((kinds == 0).sum()),
        "sentences": int((kinds == 1).sum()),
        "queries": int(q.shape[0]),
        "droppedEmpty": int((~keep).sum() + (~qkeep).sum()),
        "sources": merged,
        "params": {"seed": a.seed, "target": a.target, "minWords": MIN_WORDS, "maxWords": MAX_WORDS, "svdSample": int(len(sample)), "vocabulary": int(x.shape[1])},
        "explainedVariance": float(svd.explained_variance_ratio_.sum()),
        "textSha256": digest,
        "seconds": round(time.time() - t0, 1),
    }
    tmp = os.path.join(a.out, f"meta.json.tmp-{os.getpid()}")
    with open(tmp, "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    os.replace(tmp, os.path.join(a.out, "meta.json"))
    log(f"done: {meta['count']} vectors ({meta['paragraphs']} paragraphs, {meta['sentences']} sentences), {meta['queries']} queries, {meta['seconds']} s")


if __name__ == "__main__":
    main()
