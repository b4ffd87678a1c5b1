"""How well an embedding space separates labels, and how much an instruction changes that.

Labels may be strings or numbers; None, NaN and blank strings mark unlabeled rows, which every label
metric leaves out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, silhouette_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from .errors import InputError
from .similarity import l2_normalize

SEPARATION_METRICS = ("knn_accuracy", "silhouette")


def _labelled_mask(labels: Sequence[object]) -> np.ndarray:
    """True where a row has a label (not None, NaN or blank)."""
    series = pd.Series(list(labels), dtype=object)
    return (series.notna() & (series.astype(str).str.strip() != "")).to_numpy()


def _labelled(embeddings: np.ndarray, labels: Sequence[object]) -> tuple[np.ndarray, np.ndarray]:
    """The labelled rows of ``embeddings`` (any array, one row per label) and their labels as strings."""
    labels = list(labels)
    if len(labels) != len(embeddings):
        raise InputError(f"There are {len(labels)} labels for {len(embeddings)} texts; they must match one to one.")
    keep = _labelled_mask(labels)
    return np.asarray(embeddings)[keep], np.array([str(v) for v, k in zip(labels, keep) if k], dtype=object)


def silhouette_cosine(embeddings: np.ndarray, labels: Sequence[object], sample_size: int = 5000,
                      random_state: int = 0) -> float | None:
    """Mean cosine silhouette of the labels (-1..1), on a seeded sample of ``sample_size`` rows when larger.

    None when fewer than 2 labels or every label is a singleton (the silhouette is undefined).
    """
    x, y = _labelled(embeddings, labels)
    n_labels = len(set(y))
    if n_labels < 2 or n_labels >= len(y):
        return None
    sample = sample_size if len(y) > sample_size else None
    return float(silhouette_score(x, y, metric="cosine", sample_size=sample, random_state=random_state))


def knn_accuracy(embeddings: np.ndarray, labels: Sequence[object], k: int = 5, folds: int = 5,
                 random_state: int = 0) -> float | None:
    """Stratified cross-validated accuracy of a cosine k-nearest-neighbour classifier.

    Labels with a single example cannot be both trained on and tested, so they are left out; the
    number of folds shrinks to the size of the smallest remaining label (at least 2). None when fewer
    than 2 labels have 2 examples.
    """
    setup = _knn_setup(embeddings, labels, k, folds, random_state)
    if setup is None:
        return None
    x, y, _, classifier, splitter = setup
    return float(cross_val_score(classifier, x, y, cv=splitter).mean())


def knn_predictions(embeddings: np.ndarray, labels: Sequence[object], k: int = 5, folds: int = 5,
                    random_state: int = 0) -> np.ndarray:
    """Each text's label as predicted by the cross-validated kNN classifier of :func:`knn_accuracy`
    (same folds, same neighbours), so one can see *which* texts a space gets wrong.

    Object array, one entry per text: the predicted label as a string, or None for texts that were
    not scored (no label, a label with a single example, or fewer than 2 usable labels).
    """
    predictions = np.full(len(list(labels)), None, dtype=object)
    setup = _knn_setup(embeddings, labels, k, folds, random_state)
    if setup is not None:
        x, y, rows, classifier, splitter = setup
        predictions[rows] = cross_val_predict(classifier, x, y, cv=splitter)
    return predictions


def _knn_setup(embeddings: np.ndarray, labels: Sequence[object], k: int, folds: int, random_state: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, KNeighborsClassifier, StratifiedKFold] | None:
    """The scorable rows (unit vectors, labels, their positions) with the classifier and folds to use."""
    labels = list(labels)
    x, y = _labelled(embeddings, labels)
    rows = np.flatnonzero(_labelled_mask(labels))
    values, counts = np.unique(y, return_counts=True)
    keep = np.isin(y, values[counts >= 2])
    x, y, rows = x[keep], y[keep], rows[keep]
    counts = counts[counts >= 2]
    if len(counts) < 2:
        return None
    folds = int(min(folds, counts.min()))
    smallest_train_fold = len(y) - int(np.ceil(len(y) / folds))
    classifier = KNeighborsClassifier(n_neighbors=min(k, smallest_train_fold), metric="cosine", algorithm="brute")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    return l2_normalize(x), y, rows, classifier, splitter


def cluster_label_agreement(clusters: Sequence[int], labels: Sequence[object]) -> dict[str, float]:
    """Adjusted Rand index and normalised mutual information between clusters and the labelled rows' labels.

    1 is perfect agreement; ARI is about 0 for chance. NaN for both when no row has a label.
    """
    kept, y = _labelled(np.asarray(clusters), labels)
    if len(y) == 0:
        return {"ari": float("nan"), "nmi": float("nan")}
    return {"ari": float(adjusted_rand_score(y, kept)), "nmi": float(normalized_mutual_info_score(y, kept))}


def label_separation(embeddings: np.ndarray, labels: Sequence[object]) -> dict[str, float | None]:
    """kNN accuracy and cosine silhouette of ``labels`` in one embedding space."""
    return {"knn_accuracy": knn_accuracy(embeddings, labels), "silhouette": silhouette_cosine(embeddings, labels)}


def instruction_effect(without: np.ndarray, with_: np.ndarray, labels: Sequence[object]) -> pd.DataFrame:
    """Rows knn_accuracy and silhouette; columns metric, without, with, delta (with minus without)."""
    before, after = label_separation(without, labels), label_separation(with_, labels)
    rows = [{"metric": metric, "without": before[metric], "with": after[metric],
             "delta": None if before[metric] is None or after[metric] is None else after[metric] - before[metric]}
            for metric in SEPARATION_METRICS]
    return pd.DataFrame(rows, columns=["metric", "without", "with", "delta"])
