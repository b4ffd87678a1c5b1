"""Per-text label scores and a seeded, paired bootstrap over texts, so no difference is read from noise.

Every separation metric the explorer reports is a mean over texts: kNN accuracy is the share of texts
whose out-of-fold k-nearest-neighbour vote is right (the folds and vote of ``metrics.knn_accuracy``, so
the mean equals it whenever the folds are of equal size), and the cosine silhouette is the mean of each
text's silhouette (``metrics.silhouette_cosine`` exactly up to 5,000 texts; above that it samples, while
these scores use every text). Each text is scored once, in one pass over the similarity matrix; a
resample is then a weight vector over texts, and all resampled means of all spaces are one matrix
product, so no neighbour search or distance is repeated per resample. The resample weights are shared by
every space (a *paired* bootstrap), so the interval of a difference B − A accounts for both being
measured on the same texts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedKFold

from .metrics import _labelled_mask
from .similarity import l2_normalize

MIN_PER_CLASS = 5  # labels with fewer texts are left out: one or two examples give no stable neighbourhood
N_RESAMPLES = 1000
_BLOCK = 512  # rows of the similarity matrix held at once
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
                random_state: int = 0, min_per_class: int = MIN_PER_CLASS) -> TextScores:
    """Per-text out-of-fold kNN hits and cosine silhouettes of ``labels`` in one embedding space.

    Texts whose label is missing or has fewer than ``min_per_class`` texts score NaN. The kNN hits use the
    folds and the vote of ``metrics.knn_accuracy`` (stratified, shuffled with ``random_state``; ties go to
    the first label in sorted order); silhouettes are exact over all scored texts. Both come from one pass
    over the cosine similarity matrix, a block of rows at a time. Same labels and seed give the same folds
    in every space, so scores of different spaces pair text by text.
    """
    x = l2_normalize(embeddings)
    names, note = scorable_labels(labels, min_per_class)
    knn = np.full(len(x), np.nan)
    silhouette = np.full(len(x), np.nan)
    rows = np.flatnonzero(names != None)  # noqa: E711 - elementwise on an object array
    if len(rows) == 0:
        return TextScores(knn, silhouette, note)
    classes, y = np.unique(names[rows].astype(str), return_inverse=True)
    sizes = np.bincount(y)
    n_folds = int(min(folds, sizes.min()))
    fold = np.empty(len(rows), dtype=np.int64)
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=random_state)
    for f, (_, test) in enumerate(splitter.split(np.zeros(len(rows)), y)):
        fold[test] = f
    k = min(k, len(rows) - int(np.ceil(len(rows) / n_folds)))  # the smallest training fold, as metrics does
    xs, onehot = x[rows], np.eye(len(classes), dtype=np.float32)[y]
    for start in range(0, len(rows), _BLOCK):
        block = slice(start, start + _BLOCK)
        sims = xs[block] @ xs.T
        own = np.arange(sims.shape[0])
        # silhouette: mean cosine distance to each label's texts, the text itself left out of its own label
        self_sim = sims[own, own + start].copy()
        sums = sims @ onehot
        sums[own, y[block]] -= self_sim
        counts = np.broadcast_to(sizes, sums.shape).astype(np.float64).copy()
        counts[own, y[block]] -= 1
        distance = 1 - sums / counts
        a = distance[own, y[block]]
        distance[own, y[block]] = np.inf
        b = distance.min(axis=1)
        silhouette[rows[block]] = (b - a) / np.maximum(np.maximum(a, b), 1e-12)
        # kNN: neighbours only from the other folds
        sims[fold[block][:, None] == fold[None, :]] = -np.inf
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        votes = (y[top][:, :, None] == np.arange(len(classes))).sum(axis=1)
        knn[rows[block]] = votes.argmax(axis=1) == y[block]
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
        matrix = (np.vstack([np.asarray(scores[name], dtype=np.float64) for name in names]) if names
                  else np.empty((0, 0)))
        common = np.isfinite(matrix).all(axis=0)
        self.names = names
        self.n_texts = int(common.sum())
        self.n_resamples, self.random_state = n_resamples, random_state
        values = matrix[:, common]
        self.estimates = dict(zip(names, values.mean(axis=1) if self.n_texts else [np.nan] * len(names)))
        self._resampled = dict(zip(names, _resampled_means(values, n_resamples, random_state)))

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


def _resampled_means(values: np.ndarray, n_resamples: int, random_state: int, chunk: int = 100) -> np.ndarray:
    """(m, n_resamples): each row of ``values`` (m, n) averaged over bootstrap resamples of its n columns.

    A resample is a count per text (how often it was drawn); ``chunk`` resamples at a time keep memory at
    chunk x n counts whatever the number of texts.
    """
    m, n = values.shape
    if n == 0:
        return np.zeros((m, n_resamples))
    rng = np.random.default_rng(random_state)
    out = np.empty((m, n_resamples))
    for start in range(0, n_resamples, chunk):
        size = min(chunk, n_resamples - start)
        draws = rng.integers(n, size=(size, n)) + np.arange(size)[:, None] * n  # one bincount for the chunk
        counts = np.bincount(draws.ravel(), minlength=size * n).reshape(size, n)
        out[:, start : start + size] = values @ (counts / n).T
    return out


def interval_note(n_resamples: int = N_RESAMPLES, random_state: int = 0) -> str:
    return INTERVAL_NOTE.format(n=n_resamples, seed=random_state)
