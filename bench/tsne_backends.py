"""Which t-SNE is faster here: openTSNE or scikit-learn? (chooses ``projection.TSNE_BACKEND``)

Run: ``.venv/bin/python bench/tsne_backends.py``. Both get the same clustered 384-d data (the bundled
model's width), cosine metric, perplexity 30, PCA init, all cores; times are the best of two runs.
"""

from __future__ import annotations

import os
import time

import numpy as np


def data(n: int, dim: int = 384, k: int = 12, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, dim))
    return (centers[rng.integers(k, size=n)] + 0.6 * rng.normal(size=(n, dim))).astype(np.float32)


def opentsne(x: np.ndarray) -> None:
    from openTSNE import TSNE

    TSNE(perplexity=30, metric="cosine", initialization="pca", n_jobs=os.cpu_count(), random_state=0).fit(x)


def sklearn(x: np.ndarray) -> None:
    from sklearn.manifold import TSNE

    TSNE(perplexity=30, metric="cosine", init="pca", n_jobs=os.cpu_count(), random_state=0).fit_transform(x)


def best_of(fn, x: np.ndarray, repeats: int = 2) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - start)
    return min(times)


if __name__ == "__main__":
    print(f"{os.cpu_count()} CPU cores")
    print(f"{'points':>7} {'openTSNE s':>11} {'sklearn s':>10} {'faster':>9}")
    for n in (1000, 5000):
        x = data(n)
        a, b = best_of(opentsne, x), best_of(sklearn, x)
        print(f"{n:>7} {a:>11.1f} {b:>10.1f} {'openTSNE' if a < b else 'sklearn':>9}")
