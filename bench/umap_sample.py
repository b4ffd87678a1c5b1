"""UMAP fitted on a sample vs the full fit: what sampling costs in layout quality, on real embeddings.

    python -m bench.umap_sample [--rows 20000] [--samples 2000 5000 10000] [--backend int8]

Encodes ``--rows`` realistic texts (AG News and reviews, ``bench.texts``) with instructor-mini once and keeps
the vectors in ``--cache`` (reruns are free), then lays them out with a full UMAP fit and with fits on seeded
samples (the rest placed by ``transform``: ``projection.project(..., sample_above=s, fit_rows=s)``). Quality, on a fixed
subsample of rows (every layout scored on the same rows):

- trustworthiness (scikit-learn, 10 neighbours, cosine in the original space): 1 = no false neighbours in 2-D;
- 10-NN overlap with the original space: share of a row's 10 nearest neighbours in 384-d (cosine) that are
  also among its 10 nearest in the 2-D layout, neighbours searched among all rows;
- 10-NN overlap with the full fit: the same, between the layout and the full fit's layout. A second full fit
  with another seed says how much of that a seed alone changes.

Appends the table to bench/RESULTS.md with the machine and the command.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.manifold import trustworthiness
from sklearn.neighbors import NearestNeighbors

from instructor_core.projection import project

INSTRUCTION = "Represent the news article or review for clustering by topic: "
K = 10


def vectors(rows: int, backend: str, cache: Path) -> np.ndarray:
    """``rows`` embeddings of realistic texts, from ``cache`` when it holds them."""
    if cache.exists():
        x = np.load(cache)
        if len(x) >= rows:
            return x[:rows]
    from bench.texts import realistic_texts
    from instructor_core import load_encoder

    encoder = load_encoder("instructor-mini", "cpu", "fp32", backend=backend, cache_size_mb=0)
    start = time.perf_counter()
    x = encoder.encode(realistic_texts(rows), instruction=INSTRUCTION)
    print(f"encoded {rows:,} texts in {time.perf_counter() - start:.0f} s ({backend})", flush=True)
    np.save(cache, x)
    return x


def neighbours(points: np.ndarray, queries: np.ndarray, metric: str) -> np.ndarray:
    """Indices of each query row's ``K`` nearest rows of ``points`` (the row itself left out)."""
    found = NearestNeighbors(n_neighbors=K + 1, metric=metric).fit(points).kneighbors(points[queries],
                                                                                     return_distance=False)
    return np.array([[j for j in row if j != q][:K] for q, row in zip(queries, found)])


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean([len(set(x) & set(y)) / K for x, y in zip(a, b)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--samples", type=int, nargs="+", default=[2000, 5000, 10_000])
    parser.add_argument("--backend", default="int8", help="encoder backend for the one-off encode (torch or int8)")
    parser.add_argument("--score-rows", type=int, default=2000, help="rows each layout is scored on")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/umap_sample_vectors.npy"))
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    args = parser.parse_args()

    x = vectors(args.rows, args.backend, args.cache)
    load = os.getloadavg()[0]
    n = len(x)
    scored = np.sort(np.random.default_rng(123).choice(n, size=min(args.score_rows, n), replace=False))
    original = neighbours(x, scored, "cosine")
    runs = [("full fit", n, 0), ("full fit, seed 1", n, 1), *[(f"fit on {s:,}, transform {n - s:,}", s, 0)
                                                               for s in args.samples if s < n]]
    project(x[:300], "umap", sample_above=100, fit_rows=100)  # numba compiles fit and transform once, outside the timings
    rows, full = [], None
    for name, fit_rows, seed in runs:
        start, cpu_start = time.perf_counter(), time.process_time()
        coords = project(x, "umap", random_state=seed, sample_above=fit_rows, fit_rows=fit_rows)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        in_layout = neighbours(coords, scored, "euclidean")
        full = in_layout if full is None else full
        rows.append({"layout": name, "seconds": round(seconds, 1), "CPU seconds": round(cpu_seconds, 1),
                     "trustworthiness@10": round(float(trustworthiness(x[scored], coords[scored], n_neighbors=K,
                                                                 metric="cosine")), 4),
                     "10-NN overlap with 384-d": round(overlap(in_layout, original), 4),
                     "10-NN overlap with full fit": round(overlap(in_layout, full), 4)})
        print(rows[-1], flush=True)

    table = pd.DataFrame(rows).to_markdown(index=False)
    print(table)
    if args.no_write:
        return
    from bench.run import append_results, machine

    command = "python -m bench.umap_sample " + " ".join(sys.argv[1:])
    section = (f"\n\n## UMAP fitted on a sample vs the full fit, {n:,} rows ({time.strftime('%Y-%m-%d')})\n\n"
               f"`{command}` on {machine()}. instructor-mini ({args.backend}) vectors of {n:,} AG News / review "
               f"texts (~50 tokens); UMAP n_neighbors 15, min_dist 0.1, cosine, one thread; load average "
               f"{load:.1f} at the start (2 cores shared with other work: wall seconds swing with the load, CPU "
               f"seconds, the process's own, much less). Scores on the same "
               f"{len(scored):,} seeded rows for every layout; neighbours searched among all {n:,} rows.\n\n"
               f"{table}\n")
    append_results(section)


if __name__ == "__main__":
    main()
