"""Per-text label scores and a seeded, paired bootstrap over texts, so no difference is read from noise.

Every separation metric the explorer reports is a mean over texts: kNN accuracy is the share of texts
whose out-of-fold k-nearest-neighbour vote is right (the same stratified folds and classifier as
``metrics.knn_accuracy``, so the mean equals it whenever the folds are of equal size), and the cosine
silhouette is the mean of each text's silhouette (as ``metrics.silhouette_cosine``, on the same seeded
sample). Scoring each text once and then resampling *texts* makes the bootstrap cheap: a resample is a
weight vector over texts, and all resampled means of all spaces are one matrix product, so neither the
neighbour lists nor any distance is recomputed per resample. The resample weights are shared by every
space (a *paired* bootstrap), so the interval of a difference B − A accounts for both being measured
on the same texts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import silhouette_samples
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.neighbors import KNeighborsClassifier

from .metrics import _labelled_mask
from .similarity import l2_normalize

MIN_PER_CLASS = 5  # labels with fewer texts are left out: one or two examples give no stable neighbourhood
N_RESAMPLES = 1000
SILHOUETTE_SAMPLE = 5000
INTERVAL_NOTE = ("95 % intervals: paired bootstrap over texts ({n:,} resamples, seed {seed}); they show how much "
                 "the numbers would move with other texts like these, not other folds or other models.")


@dataclass
class TextScores:
    """Each text's kNN hit (0/1) and silhouette in one space; NaN where a text is not scored."""

    knn_accuracy: np.ndarray
    silhouette: np.ndarray
    note: str = ""  # why some or all texts are not scored; "" when every labelled text is

    @property
    def usable(self) -> bool:
        return bool(np.isfinite(self.knn_accuracy).any())


def scorable_labels(labels: Sequence[object], min_per_class: int = MIN_PER_CLASS) -> tuple[np.ndarray, str]:
    """Labels as strings with None where a text is unlabelled or its label has too few texts; and a note.

    The note is empty when every labelled text counts, names the dropped labels otherwise, and says why
    nothing can be scored when fewer than two labels have ``min_per_class`` texts.
    """
    labels = list(labels)
    keep = _labelled_mask(labels)
    names = np.array([str(v) if k else None for v, k in zip(labels, keep)], dtype=object)
    values, counts = np.unique(names[keep].astype(str), return_counts=True)
    small = values[counts < min_per_class]
    enough = values[counts >= min_per_class]
    names[np.isin(names.astype(str), small) & keep] = None
    if len(enough) < 2:
        found = ", ".join(f"'{v}' {c}" for v, c in zip(values, counts)) or "no labelled texts"
        return np.full(len(labels), None, dtype=object), (
            f"Too few labelled texts to measure label separation: at least 2 labels need {min_per_class} or more "
            f"texts each (found {found}).")
    if len(small):
        shown = ", ".join(f"'{v}'" for v in small[:5]) + (" …" if len(small) > 5 else "")
        return names, (f"{len(small)} label(s) with fewer than {min_per_class} texts left out of the scores: {shown}.")
    return names, ""


def text_scores(embeddings: np.ndarray, labels: Sequence[object], k: int = 5, folds: int = 5,
                random_state: int = 0, min_per_class: int = MIN_PER_CLASS,
                silhouette_sample: int = SILHOUETTE_SAMPLE) -> TextScores:
    """Per-text out-of-fold kNN hits and cosine silhouettes of ``labels`` in one embedding space.

    Texts whose label is missing or has fewer than ``min_per_class`` texts score NaN; above
    ``silhouette_sample`` scored texts a seeded sample (the same for every space of the same texts) gets
    silhouettes. Same ``labels`` and seed give the same folds and sample in every space, so scores pair.
    """
    x = l2_normalize(embeddings)
    names, note = scorable_labels(labels, min_per_class)
    knn = np.full(len(x), np.nan)
    silhouette = np.full(len(x), np.nan)
    rows = np.flatnonzero(names != None)  # noqa: E711 - elementwise on an object array
    if len(rows) == 0:
        return TextScores(knn, silhouette, note)
    y = names[rows].astype(str)
    n_folds = int(min(folds, np.unique(y, return_counts=True)[1].min()))
    smallest_train_fold = len(y) - int(np.ceil(len(y) / n_folds))
    classifier = KNeighborsClassifier(n_neighbors=min(k, smallest_train_fold), metric="cosine", algorithm="brute")
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=random_state)
    knn[rows] = cross_val_predict(classifier, x[rows], y, cv=splitter) == y
    # the sample silhouette_score draws for the same seed, so the mean equals metrics.silhouette_cosine
    sample = (np.random.RandomState(random_state).permutation(len(rows))[:silhouette_sample]
              if len(rows) > silhouette_sample else np.arange(len(rows)))
    if len(np.unique(y[sample])) >= 2:
        silhouette[rows[sample]] = silhouette_samples(x[rows[sample]], y[sample], metric="cosine")
    return TextScores(knn, silhouette, note)


@dataclass(frozen=True)
class Interval:
    """A mean (or difference of means) over texts and its 95 % bootstrap interval."""

    estimate: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def format(self, digits: int = 3, signed: bool = False) -> str:
        """E.g. ``0.812 [0.770, 0.850]``; signed: ``+0.012 [−0.004, +0.028]``."""
        spec = f"{'+' if signed else ''}.{digits}f"
        return f"{self.estimate:{spec}} [{self.low:{spec}}, {self.high:{spec}}]".replace("-", "−")


class PairedBootstrap:
    """Resampled means of several per-text score vectors, all drawn with the same resamples of texts.

    Texts with a NaN score in any vector are left out of all of them, so every mean and every difference
    is over the same texts.
    """

    def __init__(self, scores: Mapping[str, np.ndarray], n_resamples: int = N_RESAMPLES, random_state: int = 0):
        names = list(scores)
        matrix = np.vstack([np.asarray(scores[name], dtype=np.float64) for name in names]) if names else np.empty((0, 0))
        common = np.isfinite(matrix).all(axis=0)
        self.names = names
        self.n_texts = int(common.sum())
        self.n_resamples, self.random_state = n_resamples, random_state
        values = matrix[:, common]
        self.estimates = dict(zip(names, values.mean(axis=1) if self.n_texts else [np.nan] * len(names)))
        self._resampled = dict(zip(names, values @ _resample_weights(self.n_texts, n_resamples, random_state).T))

    def interval(self, name: str) -> Interval | None:
        """The mean of ``name`` over the common texts with its percentile interval; None without texts."""
        return self._interval(self.estimates[name], self._resampled[name])

    def difference(self, b: str, a: str) -> Interval | None:
        """Mean of ``b`` minus mean of ``a`` with the paired percentile interval; None without texts."""
        return self._interval(self.estimates[b] - self.estimates[a], self._resampled[b] - self._resampled[a])

    def _interval(self, estimate: float, resampled: np.ndarray) -> Interval | None:
        if self.n_texts == 0:
            return None
        low, high = np.percentile(resampled, [2.5, 97.5])
        return Interval(float(estimate), float(low), float(high))


def _resample_weights(n: int, n_resamples: int, random_state: int) -> np.ndarray:
    """(n_resamples, n) float32: how often each text is drawn in each resample, divided by n."""
    if n == 0:
        return np.zeros((n_resamples, 0), dtype=np.float32)
    draws = np.random.default_rng(random_state).integers(n, size=(n_resamples, n), dtype=np.int64)
    draws += np.arange(n_resamples, dtype=np.int64)[:, None] * n  # one bincount for all resamples
    counts = np.bincount(draws.ravel(), minlength=n_resamples * n).reshape(n_resamples, n)
    return (counts / n).astype(np.float32)


def interval_note(n_resamples: int = N_RESAMPLES, random_state: int = 0) -> str:
    return INTERVAL_NOTE.format(n=n_resamples, seed=random_state)
