"""CPU seconds and peak memory of ``project(..., "umap")`` on a large table: a full fit (exact kNN graph) vs a fit
on a 20,000-row sample plus ``transform``, the numbers behind ``projection.SAMPLE_ABOVE``.

    python -m bench.umap_scale full|sampled [--rows 100000] [--cache /tmp/umap_sample_vectors.npy]

Run each mode in its own process (peak memory is per process). The rows are the cached real embeddings of
``bench.umap_sample`` repeated with a little noise (2 % per coordinate, renormalised) up to ``--rows``.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np

from instructor_core.projection import FIT_ROWS, project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["full", "sampled"])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/umap_sample_vectors.npy"),
                        help="vectors written by bench.umap_sample")
    args = parser.parse_args()
    base = np.load(args.cache)
    rng = np.random.default_rng(0)
    copies = -(-args.rows // len(base))
    x = np.concatenate([base + 0.02 * rng.normal(size=base.shape).astype(np.float32) for _ in range(copies)])
    x = x[: args.rows] / np.linalg.norm(x[: args.rows], axis=1, keepdims=True)
    project(x[:300], "umap", sample_above=100, fit_rows=100)  # numba compiles outside the timing
    project(x[:300], "umap")
    start, cpu = time.perf_counter(), time.process_time()
    fit_rows = min(FIT_ROWS, args.rows)
    coords = project(x, "umap", sample_above=args.rows if args.mode == "full" else fit_rows, fit_rows=fit_rows)
    print(f"{args.mode}: {len(x):,} rows, wall {time.perf_counter() - start:.0f} s, CPU {time.process_time() - cpu:.0f} s, "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB, "
          f"all finite: {bool(np.isfinite(coords).all())}")


if __name__ == "__main__":
    main()
