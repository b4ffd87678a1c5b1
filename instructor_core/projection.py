"""2-D projections of embeddings (UMAP, t-SNE, PCA) and alignment of two layouts for side-by-side views."""

from __future__ import annotations

import numpy as np
from scipy.linalg import orthogonal_procrustes

from .errors import InputError
from .similarity import l2_normalize

METHODS = ("umap", "tsne", "pca")
_PARAMS = {"umap": {"n_neighbors", "min_dist", "metric"}, "tsne": {"perplexity", "metric"}, "pca": set()}
# openTSNE beat scikit-learn's t-SNE on a 2-core machine (bench/tsne_backends.py: 1.8 s vs 2.3 s at
# 1k points, 14.5 s vs 35.1 s at 5k, 384-d cosine), and its lead grows with n.
TSNE_BACKEND = "opentsne"


def project(embeddings: np.ndarray, method: str = "umap", random_state: int = 0, **params: object) -> np.ndarray:
    """Project ``embeddings`` (n, d) to (n, 2) float32; the same input and seed give the same layout."""
    method = method.lower()
    if method not in METHODS:
        raise InputError(f"Unknown projection '{method}'. Choose one of: UMAP, t-SNE, PCA.")
    unknown = set(params) - _PARAMS[method]
    if unknown:
        raise InputError(f"{method} does not take: {', '.join(sorted(unknown))}.")
    x = np.asarray(embeddings, dtype=np.float32)
    n = len(x)
    if n < 3:
        raise InputError(f"Need at least 3 texts to draw a projection; got {n}.")
    if method == "pca" or n < 6:  # UMAP and t-SNE need a neighbourhood; with 3-5 points PCA says as much
        return _pca(x)
    if method == "umap":
        return _umap(x, random_state, **params)
    return _tsne(x, random_state, **params)


def _pca(x: np.ndarray) -> np.ndarray:
    from sklearn.decomposition import PCA

    coords = PCA(n_components=2, svd_solver="full").fit_transform(x - x.mean(axis=0))
    signs = np.sign(coords[np.abs(coords).argmax(axis=0), [0, 1]])  # fix the arbitrary sign of each axis
    return (coords * np.where(signs == 0, 1, signs)).astype(np.float32)


def _umap(x: np.ndarray, random_state: int, n_neighbors: int = 15, min_dist: float = 0.1,
          metric: str = "cosine") -> np.ndarray:
    import umap

    reducer = umap.UMAP(n_components=2, n_neighbors=int(max(2, min(n_neighbors, len(x) - 1))),
                        min_dist=float(min_dist), metric=metric, random_state=random_state, init="spectral"
                        if len(x) > n_neighbors + 2 else "random", n_jobs=1)
    return reducer.fit_transform(x).astype(np.float32)


def _tsne(x: np.ndarray, random_state: int, perplexity: float = 30.0, metric: str = "cosine") -> np.ndarray:
    perplexity = float(max(1.0, min(perplexity, (len(x) - 1) / 3)))
    if TSNE_BACKEND == "opentsne":
        from openTSNE import TSNE

        return np.asarray(TSNE(perplexity=perplexity, metric=metric, random_state=random_state, n_jobs=-1,
                               initialization="pca", verbose=False).fit(x), dtype=np.float32)
    from sklearn.manifold import TSNE as SkTSNE

    return SkTSNE(perplexity=perplexity, metric=metric, init="pca", random_state=random_state).fit_transform(
        x).astype(np.float32)


def warm_up() -> None:
    """Compile UMAP's numba code now (about 10 s on first use) so the first user request does not pay it."""
    x = np.random.default_rng(0).normal(size=(64, 8)).astype(np.float32)
    _umap(x, random_state=0, n_neighbors=5)


def align_to(reference: np.ndarray, layout: np.ndarray) -> np.ndarray:
    """``layout`` rotated/reflected, scaled and shifted to best match ``reference`` (orthogonal Procrustes),
    so two layouts of the same texts can be compared point by point."""
    ref, lay = np.asarray(reference, dtype=np.float64), np.asarray(layout, dtype=np.float64)
    ref_center, lay_center = ref.mean(axis=0), lay.mean(axis=0)
    ref_c, lay_c = ref - ref_center, lay - lay_center
    ref_scale, lay_scale = np.linalg.norm(ref_c), np.linalg.norm(lay_c)
    if ref_scale == 0 or lay_scale == 0:
        return layout.astype(np.float32)
    rotation, _ = orthogonal_procrustes(lay_c / lay_scale, ref_c / ref_scale)
    return ((lay_c / lay_scale) @ rotation * ref_scale + ref_center).astype(np.float32)


def project_pair(embeddings_a: np.ndarray, embeddings_b: np.ndarray, method: str = "umap", random_state: int = 0,
                 **params: object) -> tuple[np.ndarray, np.ndarray]:
    """Both sets projected with the same method and seed; B aligned onto A."""
    if len(embeddings_a) != len(embeddings_b):
        raise InputError("Both sets must hold the same texts to be compared side by side.")
    coords_a = project(embeddings_a, method, random_state, **params)
    coords_b = project(embeddings_b, method, random_state, **params)
    return coords_a, align_to(coords_a, coords_b)
