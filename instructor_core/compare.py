"""Two models on the same texts and task: which one separates the labels, and on which texts they differ.

Pure functions on embeddings and labels (``explore.compare_models`` encodes and calls them). The two
models' spaces may have different dimensions: every metric is computed in each model's own space, and
only the 2-D maps are aligned to each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .metrics import SEPARATION_METRICS, _labelled_mask, knn_predictions, label_separation
from .neighbours import NeighbourMovement

# Display order of the per-text verdicts: where the models disagree first.
VERDICTS = ("only A right", "only B right", "both wrong", "both right", "not scored")
# Below this many scored texts a few points of kNN accuracy between two models can be chance (the
# standard error of an accuracy near 0.8 is 0.04 at 100 texts, 0.08 at 25).
MIN_RELIABLE_TEXTS = 100
# Differences smaller than this are reported as "about the same".
TIE = 0.01


def separation_table(emb_a: np.ndarray, emb_b: np.ndarray, labels: Sequence[object],
                     baseline_a: np.ndarray | None = None, baseline_b: np.ndarray | None = None) -> pd.DataFrame:
    """Columns metric, model_a, model_b, delta (B minus A): kNN accuracy and silhouette of each model's space;
    with the no-instruction ``baseline_*`` spaces also each metric's ``*_instruction_gain`` (with minus without)
    — how much each model *follows* the instruction, not only how well it separates the labels."""
    after = {"a": label_separation(emb_a, labels), "b": label_separation(emb_b, labels)}
    values = {m: (after["a"][m], after["b"][m]) for m in SEPARATION_METRICS}
    if baseline_a is not None and baseline_b is not None:
        before = {"a": label_separation(baseline_a, labels), "b": label_separation(baseline_b, labels)}
        for m in SEPARATION_METRICS:
            values[f"{m}_instruction_gain"] = (_minus(after["a"][m], before["a"][m]),
                                               _minus(after["b"][m], before["b"][m]))
    rows = [{"metric": m, "model_a": a, "model_b": b, "delta": _minus(b, a)} for m, (a, b) in values.items()]
    return pd.DataFrame(rows, columns=["metric", "model_a", "model_b", "delta"])


def labelled_count(labels: Sequence[object]) -> int:
    """How many texts carry a label (the rest are left out of every score)."""
    return int(_labelled_mask(list(labels)).sum())


def text_verdicts(texts: Sequence[str], labels: Sequence[object], emb_a: np.ndarray, emb_b: np.ndarray
                  ) -> pd.DataFrame:
    """One row per text, in input order: verdict (one of ``VERDICTS``), label, predicted_a, predicted_b
    (cross-validated kNN, as in ``metrics.knn_accuracy``) and text (last: it is the wide column)."""
    labels = list(labels)
    predicted_a, predicted_b = knn_predictions(emb_a, labels), knn_predictions(emb_b, labels)
    truth = np.array([str(v) if keep else None for v, keep in zip(labels, _labelled_mask(labels))], dtype=object)
    verdicts = [_verdict(t, a, b) for t, a, b in zip(truth, predicted_a, predicted_b)]
    return pd.DataFrame({"verdict": verdicts, "label": truth, "predicted_a": predicted_a,
                         "predicted_b": predicted_b, "text": list(texts)})


def _verdict(truth: str | None, a: str | None, b: str | None) -> str:
    if truth is None or a is None or b is None:
        return "not scored"
    right_a, right_b = a == truth, b == truth
    if right_a and right_b:
        return "both right"
    if right_a:
        return "only A right"
    return "only B right" if right_b else "both wrong"


def _minus(x: float | None, y: float | None) -> float | None:
    return None if x is None or y is None else x - y


def _fmt(value: float | None, signed: bool = False) -> str:
    return "n/a" if value is None else (f"{value:+.3f}" if signed else f"{value:.3f}")


def _which_is_better(model_a: str, model_b: str, a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return "cannot be compared"
    if abs(b - a) < TIE:
        return f"about the same (within {TIE})"
    return f"**{'B' if b > a else 'A'}** (`{model_b if b > a else model_a}`) is higher by {abs(b - a):.3f}"


@dataclass
class ModelComparison:
    """The same texts under the same instruction in model A and model B: 2-D maps (B aligned onto A),
    separation metrics per model, per-text kNN verdicts, and how many of each text's nearest neighbours
    the two models share (``movement``)."""

    model_a: str
    model_b: str
    instruction: str
    coords_a: np.ndarray
    coords_b: np.ndarray
    metrics: pd.DataFrame  # metric, model_a, model_b, delta; empty without labels
    verdicts: pd.DataFrame  # verdict, label, predicted_a, predicted_b, text; input order; empty without labels
    movement: NeighbourMovement | None = None  # k-NN overlap per text between A's and B's space
    notes: list[str] = field(default_factory=list)

    def wrong(self, side: str) -> np.ndarray:
        """Bool per text: model ``side`` ("a" or "b") predicts a label other than the text's own."""
        if self.verdicts.empty:
            return np.zeros(len(self.coords_a), dtype=bool)
        wrong_verdicts = {"a": {"only B right", "both wrong"}, "b": {"only A right", "both wrong"}}[side]
        return self.verdicts["verdict"].isin(wrong_verdicts).to_numpy()

    def verdict_table(self) -> pd.DataFrame:
        """The verdicts with a ``row`` column (position in the input), texts where the models disagree first."""
        if self.verdicts.empty:
            return self.verdicts
        table = self.verdicts.reset_index(names="row")
        if self.movement is not None:
            table.insert(2, "neighbour_overlap", self.movement.overlap)
        order = table["verdict"].map({v: i for i, v in enumerate(VERDICTS)})
        return table.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)

    def counts(self) -> dict[str, int]:
        """How many texts got each verdict (every verdict listed, zeros included)."""
        found = self.verdicts["verdict"].value_counts() if not self.verdicts.empty else {}
        return {v: int(found.get(v, 0)) for v in VERDICTS}

    def summary(self) -> str:
        """Markdown: which model separates the labels better under this instruction, follows it more, and
        how much the two agree on each text's neighbours."""
        shared = "" if self.movement is None else "\n\n" + self.movement.summary()
        if self.metrics.empty:
            return "Pick a label column to score the two models." + shared
        by_metric = self.metrics.set_index("metric")
        knn = by_metric.loc["knn_accuracy"]
        lines = [f"**kNN accuracy** — A `{self.model_a}` {_fmt(knn.model_a)} · B `{self.model_b}` "
                 f"{_fmt(knn.model_b)}: {_which_is_better(self.model_a, self.model_b, knn.model_a, knn.model_b)}."]
        if "knn_accuracy_instruction_gain" in by_metric.index:
            gain = by_metric.loc["knn_accuracy_instruction_gain"]
            lines.append(f"**The instruction itself** (vs no instruction) changes kNN accuracy by "
                         f"{_fmt(gain.model_a, True)} under A and {_fmt(gain.model_b, True)} under B: "
                         f"{_which_is_better(self.model_a, self.model_b, gain.model_a, gain.model_b)}.")
        counts = self.counts()
        lines.append(f"**Per text:** {counts['only A right']} right only under A, {counts['only B right']} right "
                     f"only under B, {counts['both right']} right under both, {counts['both wrong']} wrong under both.")
        return "\n\n".join(lines) + shared


@dataclass
class ModelPhrasingComparison:
    """The same K phrasings scored under model A and model B, side by side."""

    model_a: str
    model_b: str
    # phrasing, knn_accuracy_a, knn_accuracy_b, knn_accuracy_delta, silhouette_a, silhouette_b, silhouette_delta
    metrics: pd.DataFrame
    best_a: str | None
    best_b: str | None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Markdown: each model's best phrasing and how much its kNN accuracy moves across phrasings."""
        lines = []
        for side, name, best in (("a", self.model_a, self.best_a), ("b", self.model_b, self.best_b)):
            scores = self.metrics[f"knn_accuracy_{side}"].dropna()
            if scores.empty:
                lines.append(f"**{side.upper()}** `{name}`: no phrasing could be scored.")
                continue
            if best is None:  # phrasings.phrasing_report names a best only when it beats the runner-up beyond noise
                lines.append(f"**{side.upper()}** `{name}`: no phrasing beats the runner-up beyond noise (95 % "
                             f"interval); kNN accuracy spans {scores.min():.3f}–{scores.max():.3f} across the phrasings.")
                continue
            best_score = self.metrics.set_index("phrasing").loc[best, f"knn_accuracy_{side}"]
            lines.append(f"**{side.upper()}** `{name}`: best phrasing “{best}” (kNN {best_score:.3f}); kNN accuracy "
                         f"spans {scores.min():.3f}–{scores.max():.3f} across the phrasings.")
        return "\n\n".join(lines)


def phrasing_table(metrics_a: pd.DataFrame, metrics_b: pd.DataFrame) -> pd.DataFrame:
    """Two per-phrasing metric tables (``phrasings.PhrasingReport.metrics``) joined on the phrasing, with
    B minus A for each metric; phrasings in A's order (both tables score the same phrasings)."""
    joined = metrics_a.merge(metrics_b, on="phrasing", how="left", suffixes=("_a", "_b"))
    columns = ["phrasing"]
    for m in SEPARATION_METRICS:
        a, b = (pd.to_numeric(joined[f"{m}_{side}"], errors="coerce") for side in "ab")
        joined[f"{m}_delta"] = b - a  # NaN where either model could not score the phrasing
        columns += [f"{m}_a", f"{m}_b", f"{m}_delta"]
    return joined[columns]

