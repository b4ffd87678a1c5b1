"""Instruction robustness (the INSTRUCTOR paper's paraphrase analysis) on the user's data.

The same texts embedded under K phrasings of one instruction: do the phrasings give the same vectors,
the same neighbourhoods, and the same separation of the user's labels?
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from .errors import InputError
from .metrics import SEPARATION_METRICS, label_separation
from .similarity import l2_normalize


def _unit_spaces(embeddings_list: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Each phrasing's embeddings L2-normalised; InputError unless they cover the same texts."""
    if len(embeddings_list) == 0:
        raise InputError("Give at least one phrasing to compare.")
    units = [l2_normalize(e) for e in embeddings_list]
    if len({u.shape for u in units}) > 1:
        raise InputError("Every phrasing must embed the same texts with the same model; got arrays of shapes "
                         f"{sorted({u.shape for u in units})}.")
    return units


def vector_agreement(embeddings_list: Sequence[np.ndarray]) -> np.ndarray:
    """(K, K) float32: mean over texts of the cosine between a text's vectors under phrasings a and b."""
    units = _unit_spaces(embeddings_list)
    flat = np.stack([u.ravel() for u in units])  # (K, n * d): one dot product sums all n per-text cosines
    agreement = flat @ flat.T / max(len(units[0]), 1)
    np.fill_diagonal(agreement, 1.0)  # also for zero vectors, whose cosine with themselves reads 0
    return agreement.astype(np.float32)


def similarity_rank_agreement(embeddings_list: Sequence[np.ndarray], max_pairs: int = 200_000,
                              random_state: int = 0) -> np.ndarray:
    """(K, K) float32: Spearman correlation between phrasings of the cosine similarity of every text pair.

    Above ``max_pairs`` pairs, a seeded uniform sample of about ``max_pairs`` pairs (the same for all
    phrasings) stands in for all of them. NaN off the diagonal when there are fewer than 3 texts.
    """
    units = _unit_spaces(embeddings_list)
    first, second = _text_pairs(len(units[0]), max_pairs, np.random.default_rng(random_state))
    ranks = np.stack([rankdata(np.sum(u[first] * u[second], axis=1)) for u in units])
    with np.errstate(invalid="ignore", divide="ignore"):
        agreement = np.corrcoef(ranks) if len(first) > 2 else np.full((len(units), len(units)), np.nan)
    np.fill_diagonal(agreement, 1.0)
    return np.atleast_2d(agreement).astype(np.float32)


def _text_pairs(n: int, max_pairs: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Indices (i, j), i < j: every pair, or about ``max_pairs`` drawn uniformly (no n x n index arrays)."""
    if n * (n - 1) // 2 <= max_pairs:
        return np.triu_indices(n, k=1)
    first, second = rng.integers(n, size=(2, max_pairs))
    distinct = first != second
    return np.minimum(first, second)[distinct], np.maximum(first, second)[distinct]


@dataclass
class PhrasingReport:
    metrics: pd.DataFrame  # phrasing, knn_accuracy, silhouette (None without labels)
    vector_agreement: pd.DataFrame  # K x K, indexed by phrasing
    rank_agreement: pd.DataFrame  # K x K, indexed by phrasing
    best: str | None  # highest kNN accuracy, silhouette breaking ties; None without usable labels


def phrasing_report(embeddings_by_phrasing: Mapping[str, np.ndarray], labels: Sequence[object] | None = None
                    ) -> PhrasingReport:
    """How K phrasings agree with one another and, given labels, how well each separates them."""
    names = [str(name) for name in embeddings_by_phrasing]
    spaces = list(embeddings_by_phrasing.values())
    no_labels = dict.fromkeys(SEPARATION_METRICS)
    rows = [{"phrasing": name, **(no_labels if labels is None else label_separation(space, labels))}
            for name, space in zip(names, spaces)]
    metrics = pd.DataFrame(rows, columns=["phrasing", *SEPARATION_METRICS])
    return PhrasingReport(
        metrics=metrics,
        vector_agreement=pd.DataFrame(vector_agreement(spaces), index=names, columns=names),
        rank_agreement=pd.DataFrame(similarity_rank_agreement(spaces), index=names, columns=names),
        best=_best_phrasing(rows),
    )


def _best_phrasing(rows: list[dict[str, object]]) -> str | None:
    """Phrasing with the highest kNN accuracy, then silhouette; the first listed wins exact ties."""
    scored = [row for row in rows if row["knn_accuracy"] is not None]
    if not scored:
        return None
    unknown = -np.inf  # a missing silhouette loses every tie
    best = max(scored, key=lambda row: (row["knn_accuracy"],
                                        unknown if row["silhouette"] is None else row["silhouette"]))
    return str(best["phrasing"])
