"""Instruction robustness (the paper's paraphrase analysis) on the user's data: do phrasings agree?"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from .metrics import label_separation
from .similarity import l2_normalize


def vector_agreement(embeddings_list: Sequence[np.ndarray]) -> np.ndarray:
    """(K, K): mean over texts of the cosine between a text's vectors under phrasing a and phrasing b."""
    units = [l2_normalize(e) for e in embeddings_list]
    k = len(units)
    out = np.ones((k, k), dtype=np.float32)
    for a in range(k):
        for b in range(a + 1, k):
            out[a, b] = out[b, a] = float(np.mean(np.sum(units[a] * units[b], axis=1)))
    return out


def similarity_rank_agreement(embeddings_list: Sequence[np.ndarray], max_pairs: int = 200_000,
                              random_state: int = 0) -> np.ndarray:
    """(K, K): Spearman correlation of the text-pair similarities under each phrasing (same pairs for all)."""
    n = len(embeddings_list[0])
    rows, cols = np.triu_indices(n, k=1)
    if len(rows) > max_pairs:
        pick = np.random.default_rng(random_state).choice(len(rows), max_pairs, replace=False)
        rows, cols = rows[pick], cols[pick]
    units = [l2_normalize(e) for e in embeddings_list]
    sims = [np.sum(u[rows] * u[cols], axis=1) for u in units]
    k = len(sims)
    out = np.ones((k, k), dtype=np.float32)
    for a in range(k):
        for b in range(a + 1, k):
            out[a, b] = out[b, a] = float(spearmanr(sims[a], sims[b]).statistic) if len(rows) > 1 else np.nan
    return out


@dataclass
class PhrasingReport:
    metrics: pd.DataFrame  # phrasing, knn_accuracy, silhouette
    vector_agreement: pd.DataFrame
    rank_agreement: pd.DataFrame
    best: str | None  # highest kNN accuracy (silhouette breaks ties); None without labels


def phrasing_report(embeddings_by_phrasing: Mapping[str, np.ndarray], labels: Sequence[object] | None = None
                    ) -> PhrasingReport:
    """Agreement between phrasings and, with labels, the separation metrics of each."""
    names = list(embeddings_by_phrasing)
    spaces = list(embeddings_by_phrasing.values())
    rows = [{"phrasing": name, **(label_separation(e, labels) if labels is not None else
                                   {"knn_accuracy": None, "silhouette": None})}
            for name, e in zip(names, spaces)]
    metrics = pd.DataFrame(rows, columns=["phrasing", "knn_accuracy", "silhouette"])
    best = None
    if labels is not None and metrics["knn_accuracy"].notna().any():
        ranked = metrics.assign(s=metrics["silhouette"].fillna(-2)).sort_values(["knn_accuracy", "s"], ascending=False)
        best = str(ranked["phrasing"].iloc[0])
    return PhrasingReport(
        metrics,
        pd.DataFrame(vector_agreement(spaces), index=names, columns=names),
        pd.DataFrame(similarity_rank_agreement(spaces), index=names, columns=names),
        best,
    )
