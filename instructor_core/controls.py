"""Controls for instruction effects: a placebo instruction, and the instructions × label columns matrix.

Any prefix moves an embedding, so an instruction's effect means little alone. The *placebo* is a
neutral sentence with no task in it, cut to the same number of tokens as the instruction (by the
model's own tokenizer) and ended with ": " like an instruction. What the instruction does beyond what
the placebo does is what its meaning does. We chose a neutral sentence over the instruction's words
shuffled because a shuffle keeps the instruction's vocabulary ("sentiment", "review"), which
mean-pooled encoders read regardless of word order — a shuffled instruction still carries meaning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .uncertainty import N_RESAMPLES, Interval, PairedBootstrap, TextScores, interval_note, text_scores

PLACEBO = "placebo"
# Common words that name no domain, text type or task; each is one token in WordPiece and SentencePiece vocabularies.
NEUTRAL_WORDS = ("this is a line of plain words that says nothing in particular and goes on in the same "
                 "way for as long as it has to so that it is as long as the other one").split()


def neutral_prefix(n_tokens: int, count_tokens: Callable[[str], int]) -> str:
    """The longest run of ``NEUTRAL_WORDS`` (repeated as needed) plus ": " of at most ``n_tokens`` tokens.

    "" for 0 tokens. Exactly ``n_tokens`` whenever each word is one token (``count_tokens`` counts
    without the model's special tokens).
    """
    best = ""
    for m in range(1, n_tokens + 1):
        candidate = " ".join(NEUTRAL_WORDS[i % len(NEUTRAL_WORDS)] for i in range(m)).capitalize() + ": "
        if count_tokens(candidate) > n_tokens:
            break
        best = candidate
    return best


def placebo_instruction(instruction: str, count_tokens: Callable[[str], int]) -> str:
    """The placebo of one instruction: a neutral prefix of its token count ("" for a blank instruction)."""
    return neutral_prefix(count_tokens(instruction), count_tokens) if instruction.strip() else ""


def placebo_for(instructions: Sequence[str], count_tokens: Callable[[str], int]) -> tuple[str, str]:
    """One placebo for several instructions, matched to their median token length; and a note saying so.

    ("", "") when every instruction is blank.
    """
    lengths = sorted(count_tokens(i) for i in instructions if i.strip())
    if not lengths:
        return "", ""
    placebo = neutral_prefix(lengths[len(lengths) // 2], count_tokens)
    spread = f"{lengths[0]}" if lengths[0] == lengths[-1] else f"{lengths[0]}–{lengths[-1]}"
    return placebo, (f"Placebo: “{placebo.strip()}” ({count_tokens(placebo)} tokens; the instructions have "
                     f"{spread}) — a neutral prefix of the same length, so its effect is what any prefix does.")


@dataclass
class CrossedMatrix:
    """kNN accuracy and silhouette for every instruction × label column, with 95 % intervals.

    ``table`` has one row per cell: instruction, label_column, knn_accuracy (+ _low, _high), silhouette
    (+ _low, _high), knn_accuracy_vs_placebo and silhouette_vs_placebo (+ _low, _high; the paired difference from the
    placebo row), and ``note`` (why a cell is empty, e.g. too few labelled texts; "" otherwise).
    """

    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def wide(self, metric: str = "knn_accuracy") -> pd.DataFrame:
        """instructions × label columns of one metric (NaN where a column cannot be scored)."""
        order = {name: list(dict.fromkeys(self.table[name])) for name in ("instruction", "label_column")}
        return self.table.pivot(index="instruction", columns="label_column", values=metric).reindex(
            index=order["instruction"], columns=order["label_column"])


    def display(self) -> pd.DataFrame:
        """The table as text for people: each value with its interval, "too few labelled texts" where empty."""
        def cell(row: pd.Series, name: str, signed: bool) -> str:
            if row["note"]:
                return row["note"]
            if row[name] is None or pd.isna(row[name]):
                return "—"
            return Interval(row[name], row[f"{name}_low"], row[f"{name}_high"]).format(signed=signed)

        out = self.table[["instruction", "label_column"]].rename(columns={"label_column": "label column"})
        for name, title, signed in (("knn_accuracy", "kNN accuracy [95 %]", False),
                                    ("silhouette", "silhouette [95 %]", False),
                                    ("knn_accuracy_vs_placebo", "kNN − placebo [95 %]", True),
                                    ("silhouette_vs_placebo", "silhouette − placebo [95 %]", True)):
            out[title] = [cell(row, name, signed) for _, row in self.table.iterrows()]
        return out


_METRICS = ("knn_accuracy", "silhouette")


def crossed_matrix(spaces: Mapping[str, np.ndarray], label_columns: Mapping[str, Sequence[object]],
                   placebo: str | None = PLACEBO, n_resamples: int = N_RESAMPLES, random_state: int = 0
                   ) -> CrossedMatrix:
    """Score every space (named by instruction) on every label column; ``placebo`` names the reference row."""
    rows, notes = [], []
    for column, labels in label_columns.items():
        scores: dict[str, TextScores] = {name: text_scores(space, labels, random_state=random_state)
                                         for name, space in spaces.items()}
        note = next(iter(scores.values())).note if scores else ""
        if note:
            notes.append(f"{column}: {note}")
        usable = all(s.usable for s in scores.values())
        boots = {metric: PairedBootstrap({name: getattr(s, metric) for name, s in scores.items()}, n_resamples,
                                         random_state) for metric in _METRICS} if usable else {}
        for name in spaces:
            row: dict[str, object] = {"instruction": name, "label_column": column,
                                      "note": "" if usable else "too few labelled texts"}
            for metric in _METRICS:
                boot = boots.get(metric)
                value = boot.interval(name) if boot else None
                delta = (boot.difference(name, placebo) if boot and placebo in spaces and name != placebo else None)
                for prefix, interval in ((metric, value), (f"{metric}_vs_placebo", delta)):
                    row[prefix] = None if interval is None else interval.estimate
                    row[f"{prefix}_low"] = None if interval is None else interval.low
                    row[f"{prefix}_high"] = None if interval is None else interval.high
            rows.append(row)
    notes.append(interval_note(n_resamples, random_state))
    return CrossedMatrix(pd.DataFrame(rows), notes)
