"""Which t-SNE is faster here, openTSNE or scikit-learn, and on how many threads? (sets ``projection.TSNE_*``)

Run: ``.venv/bin/python bench/tsne_backends.py`` (about 3 minutes on 2 cores). Every configuration gets
the same clustered 384-d data (the bundled model's width), cosine metric, perplexity 30, PCA init and
seed; threads are capped with threadpoolctl (BLAS and OpenMP) and the backend's own ``n_jobs``. Times
are the best of ``REPEATS[n]`` runs. The layout's 2-D kNN accuracy on the planted clusters is printed
too, so a speed win is not bought with a worse picture.
"""

from __future__ import annotations

import os
import time

import numpy as np
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from threadpoolctl import threadpool_limits

REPEATS = {1000: 2, 5000: 1}  # sizes and runs per configuration; keeps the whole bench near 3 minutes


def clustered_data(n: int, dim: int = 384, k: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points around ``k`` random centres (noise comparable to the centre spread), and their cluster ids."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, dim))
    labels = rng.integers(k, size=n)
    return (centers[labels] + 0.6 * rng.normal(size=(n, dim))).astype(np.float32), labels


def run_opentsne(x: np.ndarray, threads: int) -> np.ndarray:
    from openTSNE import TSNE

    return np.asarray(TSNE(perplexity=30, metric="cosine", initialization="pca", n_jobs=threads,
                           random_state=0).fit(x))


def run_sklearn(x: np.ndarray, threads: int) -> np.ndarray:
    from sklearn.manifold import TSNE

    return TSNE(perplexity=30, metric="cosine", init="pca", n_jobs=threads, random_state=0).fit_transform(x)


BACKENDS = {"openTSNE": run_opentsne, "sklearn": run_sklearn}


def layout_knn_accuracy(layout: np.ndarray, labels: np.ndarray) -> float:
    """5-fold accuracy of a 5-NN classifier on the 2-D layout (Euclidean, as the eye sees it)."""
    return float(cross_val_score(KNeighborsClassifier(5), layout, labels, cv=5).mean())


def timed(backend: str, x: np.ndarray, threads: int, repeats: int) -> tuple[float, np.ndarray]:
    """Fastest wall time over ``repeats`` runs on ``threads`` threads, and the last layout."""
    times = []
    with threadpool_limits(limits=threads):
        for _ in range(repeats):
            start = time.perf_counter()
            layout = BACKENDS[backend](x, threads)
            times.append(time.perf_counter() - start)
    return min(times), layout


if __name__ == "__main__":
    cores = os.cpu_count() or 1
    print(f"{cores} CPU cores, load average {os.getloadavg()[0]:.1f} at start; "
          "384-d, 12 clusters, cosine, perplexity 30")
    print(f"{'points':>7} {'backend':>9} {'threads':>8} {'seconds':>8} {'2-D knn':>8}")
    for n, repeats in REPEATS.items():
        x, labels = clustered_data(n)
        for backend in BACKENDS:
            for threads in sorted({1, cores}):
                seconds, layout = timed(backend, x, threads, repeats)
                print(f"{n:>7} {backend:>9} {threads:>8} {seconds:>8.1f} {layout_knn_accuracy(layout, labels):>8.3f}",
                      flush=True)
