"""Instruction robustness (the INSTRUCTOR paper's paraphrase analysis) on the user's data.

The same texts embedded under K phrasings of one instruction: do the phrasings give the same vectors,
the same neighbourhoods, and the same separation of the user's labels?
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from .errors import InputError
from .metrics import SEPARATION_METRICS
from .similarity import l2_normalize
from .uncertainty import N_RESAMPLES, PairedBootstrap, interval_note, text_scores


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
    ranks = np.stack([rankdata(_pair_cosines(u, first, second)) for u in units])
    with np.errstate(invalid="ignore", divide="ignore"):
        agreement = np.corrcoef(ranks) if len(first) > 2 else np.full((len(units), len(units)), np.nan)
    np.fill_diagonal(agreement, 1.0)
    return np.atleast_2d(agreement).astype(np.float32)


def _pair_cosines(units: np.ndarray, first: np.ndarray, second: np.ndarray, chunk: int = 16_384) -> np.ndarray:
    """Cosine of each pair (first[i], second[i]) of unit rows, a chunk of pairs at a time (no pairs x d copies)."""
    return np.concatenate([np.einsum("ij,ij->i", units[first[s : s + chunk]], units[second[s : s + chunk]])
                           for s in range(0, len(first), chunk)] or [np.empty(0, dtype=units.dtype)])


def _text_pairs(n: int, max_pairs: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Indices (i, j), i < j: every pair, or about ``max_pairs`` drawn uniformly (no n x n index arrays)."""
    if n * (n - 1) // 2 <= max_pairs:
        return np.triu_indices(n, k=1)
    first, second = rng.integers(n, size=(2, max_pairs))
    distinct = first != second
    return np.minimum(first, second)[distinct], np.maximum(first, second)[distinct]


@dataclass
class PhrasingReport:
    """Agreement between phrasings and, given labels, each one's separation with 95 % intervals.

    ``metrics`` columns: phrasing, knn_accuracy, silhouette, each with ``_low`` / ``_high``, and with a
    placebo among the spaces ``knn_accuracy_vs_placebo`` (+ ``_low`` / ``_high``). ``best`` is named only when its
    lead over the runner-up is outside the noise (the paired interval of the difference excludes 0);
    ``verdict`` says so in a sentence either way.
    """

    metrics: pd.DataFrame
    vector_agreement: pd.DataFrame  # K x K, indexed by phrasing
    rank_agreement: pd.DataFrame  # K x K, indexed by phrasing
    best: str | None
    verdict: str
    notes: list[str] = field(default_factory=list)


def phrasing_report(embeddings_by_phrasing: Mapping[str, np.ndarray], labels: Sequence[object] | None = None,
                    controls: Sequence[str] = (), placebo: str | None = None, n_resamples: int = N_RESAMPLES,
                    random_state: int = 0) -> PhrasingReport:
    """How K phrasings agree with one another and, given labels, how well each separates them.

    ``controls`` name spaces that are measured but never "best" (no instruction, the placebo);
    ``placebo`` names the space every phrasing's kNN accuracy is compared with.
    """
    names = [str(name) for name in embeddings_by_phrasing]
    spaces = list(embeddings_by_phrasing.values())
    columns = ["phrasing", *(f"{m}{s}" for m in SEPARATION_METRICS for s in ("", "_low", "_high"))]
    if placebo is not None:
        columns += ["knn_accuracy_vs_placebo", "knn_accuracy_vs_placebo_low", "knn_accuracy_vs_placebo_high"]
    agreement = {"vector_agreement": pd.DataFrame(vector_agreement(spaces), index=names, columns=names),
                 "rank_agreement": pd.DataFrame(similarity_rank_agreement(spaces), index=names, columns=names)}
    if labels is None:
        return PhrasingReport(pd.DataFrame({"phrasing": names}, columns=columns), **agreement, best=None,
                              verdict="Pick a label column to rank the phrasings.")
    scores = [text_scores(space, labels, random_state=random_state) for space in spaces]
    if not scores[0].usable:
        return PhrasingReport(pd.DataFrame({"phrasing": names}, columns=columns), **agreement, best=None,
                              verdict=scores[0].note, notes=[scores[0].note])
    boots = {m: PairedBootstrap({n: getattr(s, m) for n, s in zip(names, scores)}, n_resamples,
                                random_state) for m in SEPARATION_METRICS}
    rows = []
    for name in names:
        row: dict[str, object] = {"phrasing": name}
        for metric, boot in boots.items():
            interval = boot.interval(name)
            row.update({metric: interval.estimate, f"{metric}_low": interval.low, f"{metric}_high": interval.high})
        if placebo is not None:
            delta = boots["knn_accuracy"].difference(name, placebo) if name != placebo else None
            for suffix, field_name in (("", "estimate"), ("_low", "low"), ("_high", "high")):
                row[f"knn_accuracy_vs_placebo{suffix}"] = None if delta is None else getattr(delta, field_name)
        rows.append(row)
    best, verdict = _best_phrasing([n for n in names if n not in set(controls)], boots)
    notes = [n for n in (scores[0].note, interval_note(n_resamples, random_state)) if n]
    return PhrasingReport(pd.DataFrame(rows, columns=columns), **agreement, best=best, verdict=verdict, notes=notes)


def _best_phrasing(candidates: list[str], boots: dict[str, PairedBootstrap]) -> tuple[str | None, str]:
    """The top phrasing by kNN accuracy (then silhouette) and a sentence; the name only when its lead over
    the runner-up is clear of noise — on kNN accuracy, or on silhouette when both classify every text alike."""
    if len(candidates) < 2:
        return None, "Enter two or more phrasings to rank them."
    knn, sil = boots["knn_accuracy"], boots["silhouette"]
    ranked = sorted(candidates, key=lambda n: (-knn.estimates[n], -sil.estimates[n]))  # stable: first listed wins ties
    top, runner_up = ranked[:2]
    gap = knn.difference(top, runner_up)
    metric = "kNN accuracy"
    if gap.estimate == gap.low == gap.high == 0:  # the same texts right in both: let silhouette decide
        gap, metric = sil.difference(top, runner_up), "silhouette"
    lead = f"{gap.format(signed=True)} in {metric} over the runner-up, “{runner_up}”"
    if gap.excludes_zero:
        return top, f"**Best phrasing:** {top} — {lead}."
    return None, (f"**The phrasings are indistinguishable on this data:** the top one, “{top}”, leads by {lead}; "
                  "the 95 % interval includes 0.")
