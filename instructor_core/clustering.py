"""Clustering embeddings, choosing k, and describing clusters (c-TF-IDF keywords, representative texts)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.cluster import HDBSCAN, AgglomerativeClustering, KMeans
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import silhouette_score

from .errors import InputError
from .similarity import l2_normalize

METHODS = ("kmeans", "hdbscan", "agglomerative")
SILHOUETTE_SAMPLE = 4000  # silhouette is O(n^2): above this, score a fixed random sample


@dataclass
class ClusterResult:
    labels: np.ndarray  # int per row; -1 is HDBSCAN noise; 0 is the largest cluster
    n_clusters: int
    method: str
    silhouette: float | None
    k_scores: dict[int, float] = field(default_factory=dict)  # silhouette per k tried (automatic k)


def _silhouette(x: np.ndarray, labels: np.ndarray, random_state: int) -> float | None:
    mask = labels >= 0
    if len(set(labels[mask])) < 2 or len(set(labels[mask])) >= mask.sum():
        return None
    sample = SILHOUETTE_SAMPLE if mask.sum() > SILHOUETTE_SAMPLE else None
    return float(silhouette_score(x[mask], labels[mask], metric="cosine", sample_size=sample,
                                  random_state=random_state))


def _fit(x: np.ndarray, method: str, k: int, random_state: int, min_cluster_size: int) -> np.ndarray:
    if method == "kmeans":  # on unit vectors, Euclidean k-means is spherical (cosine) k-means
        return KMeans(n_clusters=k, n_init=4, random_state=random_state).fit_predict(x)
    if method == "agglomerative":  # Ward on unit vectors: compact clusters, no seed needed
        return AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(x)
    return HDBSCAN(min_cluster_size=min_cluster_size, copy=True).fit_predict(x)


def _by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters so 0 is the largest (ties by first appearance); noise stays -1."""
    ids, counts = np.unique(labels[labels >= 0], return_counts=True)
    order = ids[np.lexsort((ids, -counts))]
    mapping = {old: new for new, old in enumerate(order)}
    return np.array([mapping.get(v, -1) for v in labels], dtype=int)


def cluster(
    embeddings: np.ndarray,
    method: str = "kmeans",
    n_clusters: int | str = "auto",
    k_range: tuple[int, int] = (2, 12),
    random_state: int = 0,
    min_cluster_size: int | None = None,
) -> ClusterResult:
    """Cluster rows of ``embeddings``; ``n_clusters="auto"`` picks k in ``k_range`` by cosine silhouette."""
    if method not in METHODS:
        raise InputError(f"Unknown clustering method '{method}'. Choose one of: {', '.join(METHODS)}.")
    x = l2_normalize(embeddings)
    n = len(x)
    if n < 3:
        raise InputError(f"Clustering needs at least 3 texts; got {n}.")
    min_size = min_cluster_size or max(5, n // 50)
    if method == "hdbscan":
        labels = _by_size(_fit(x, method, 0, random_state, min(min_size, n)))
        return ClusterResult(labels, int(labels.max() + 1), method, _silhouette(x, labels, random_state))
    if n_clusters == "auto":
        scores = {}
        for k in range(max(2, k_range[0]), min(k_range[1], n - 1) + 1):
            score = _silhouette(x, _fit(x, method, k, random_state, min_size), random_state)
            if score is not None:
                scores[k] = score
        if not scores:
            raise InputError("Could not find any useful number of clusters for so few texts.")
        k = max(scores, key=scores.get)
    else:
        k, scores = int(n_clusters), {}
        if not 2 <= k < n:
            raise InputError(f"Number of clusters must be between 2 and {n - 1} for {n} texts; got {k}.")
    labels = _by_size(_fit(x, method, k, random_state, min_size))
    return ClusterResult(labels, k, method, scores.get(k, _silhouette(x, labels, random_state)), scores)


def cluster_keywords(texts: Sequence[str], labels: Sequence[int], top_n: int = 5) -> dict[int, list[str]]:
    """Top words of each cluster by class-based TF-IDF (BERTopic's c-TF-IDF).

    All texts of a cluster form one document; a term scores tf(term, cluster) * log(1 + A / f(term)),
    with A the average number of words per cluster and f the term's frequency over all clusters.
    """
    labels = np.asarray(labels)
    clusters = sorted(set(labels.tolist()))
    documents = [" ".join(t for t, c in zip(texts, labels) if c == cluster_id) for cluster_id in clusters]
    try:
        counts = CountVectorizer(stop_words="english", ngram_range=(1, 2), min_df=1).fit(documents)
    except ValueError:  # only stop words or no words at all
        return {c: [] for c in clusters}
    tf = counts.transform(documents).toarray().astype(float)
    words_per_cluster = tf.sum(axis=1, keepdims=True)
    idf = np.log(1 + words_per_cluster.mean() / np.maximum(tf.sum(axis=0), 1))
    scores = tf / np.maximum(words_per_cluster, 1) * idf
    vocabulary = counts.get_feature_names_out()
    return {c: [vocabulary[j] for j in np.argsort(-scores[i])[:top_n] if scores[i, j] > 0]
            for i, c in enumerate(clusters)}


def representative_texts(texts: Sequence[str], embeddings: np.ndarray, labels: Sequence[int], n: int = 3
                         ) -> dict[int, list[str]]:
    """The ``n`` texts nearest (cosine) to each cluster's centroid."""
    x, labels = l2_normalize(embeddings), np.asarray(labels)
    out = {}
    for cluster_id in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == cluster_id)
        centroid = x[members].mean(axis=0)
        nearest = members[np.argsort(-(x[members] @ centroid))[:n]]
        out[cluster_id] = [texts[i] for i in nearest]
    return out


def cluster_summary(texts: Sequence[str], embeddings: np.ndarray, labels: Sequence[int], top_n_keywords: int = 5,
                    n_representatives: int = 3) -> pd.DataFrame:
    """One row per cluster: size, share, keywords and representative texts; largest first, noise last."""
    labels = np.asarray(labels)
    keywords = cluster_keywords(texts, labels, top_n_keywords)
    representatives = representative_texts(texts, embeddings, labels, n_representatives)
    ids, sizes = np.unique(labels, return_counts=True)
    rows = [{"cluster": int(c), "size": int(s), "share": round(s / len(labels), 4),
             "keywords": ", ".join(keywords[c]), "representatives": " | ".join(representatives[c])}
            for c, s in zip(ids, sizes)]
    frame = pd.DataFrame(rows).assign(noise=lambda f: f.cluster < 0)
    ordered = frame.sort_values(["noise", "size", "cluster"], ascending=[True, False, True])
    return ordered.drop(columns="noise").reset_index(drop=True)
