"""How well an embedding space separates labels, and how much an instruction changes that."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, silhouette_score
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from .similarity import l2_normalize

SEPARATION_METRICS = ("knn_accuracy", "silhouette")


def _labelled(embeddings: np.ndarray, labels: Sequence[object]) -> tuple[np.ndarray, np.ndarray]:
    """Rows with a label (None/NaN/blank are unlabeled and left out), labels as strings."""
    labels = pd.Series(list(labels), dtype=object)
    if len(labels) != len(embeddings):
        raise ValueError(f"{len(labels)} labels for {len(embeddings)} embeddings")
    keep = labels.notna().to_numpy() & (labels.astype(str).str.strip() != "").to_numpy()
    return np.asarray(embeddings)[keep], labels[keep].astype(str).to_numpy()


def silhouette_cosine(embeddings: np.ndarray, labels: Sequence[object], sample_size: int = 5000,
                      random_state: int = 0) -> float | None:
    """Mean cosine silhouette of the labels (-1..1); None when fewer than 2 labels or all singletons."""
    x, y = _labelled(embeddings, labels)
    n_labels = len(set(y))
    if n_labels < 2 or n_labels >= len(y):
        return None
    sample = min(sample_size, len(y)) if len(y) > sample_size else None
    return float(silhouette_score(x, y, metric="cosine", sample_size=sample, random_state=random_state))


def knn_accuracy(embeddings: np.ndarray, labels: Sequence[object], k: int = 5, folds: int = 5,
                 random_state: int = 0) -> float | None:
    """Cross-validated accuracy of a cosine kNN classifier; labels with a single example are left out.

    Folds shrink to the size of the smallest class (at least 2); None if no class has 2 examples.
    """
    x, y = _labelled(embeddings, labels)
    values, counts = np.unique(y, return_counts=True)
    keep = np.isin(y, values[counts >= 2])
    x, y = x[keep], y[keep]
    if len(set(y)) < 2:
        return None
    folds = int(min(folds, np.unique(y, return_counts=True)[1].min()))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    n_train = len(y) - len(y) // folds - 1
    classifier = KNeighborsClassifier(n_neighbors=max(1, min(k, n_train)), metric="cosine")
    return float(cross_val_score(classifier, l2_normalize(x), y, cv=splitter).mean())


def cluster_label_agreement(clusters: Sequence[int], labels: Sequence[object]) -> dict[str, float]:
    """Adjusted Rand index and normalised mutual information between clusters and labels."""
    clusters = np.asarray(clusters)
    labels = pd.Series(list(labels), dtype=object)
    keep = labels.notna().to_numpy()
    y = labels[keep].astype(str).to_numpy()
    return {"ari": float(adjusted_rand_score(y, clusters[keep])),
            "nmi": float(normalized_mutual_info_score(y, clusters[keep]))}


def label_separation(embeddings: np.ndarray, labels: Sequence[object]) -> dict[str, float | None]:
    """kNN accuracy and cosine silhouette of ``labels`` in one embedding space."""
    return {"knn_accuracy": knn_accuracy(embeddings, labels), "silhouette": silhouette_cosine(embeddings, labels)}


def instruction_effect(without: np.ndarray, with_: np.ndarray, labels: Sequence[object]) -> pd.DataFrame:
    """Each separation metric without and with an instruction, and the difference (with minus without)."""
    before, after = label_separation(without, labels), label_separation(with_, labels)
    rows = []
    for metric in SEPARATION_METRICS:
        a, b = before[metric], after[metric]
        rows.append({"metric": metric, "without": a, "with": b,
                     "delta": None if a is None or b is None else b - a})
    return pd.DataFrame(rows)
