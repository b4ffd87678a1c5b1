"""The MEDI-style training mixture: examples of every task of :mod:`.tasks`, grouped into sub-datasets.

Examples are grouped by ``(dataset, phrasing)`` into sub-datasets, so that a batch drawn from one
sub-dataset has one task (in-batch negatives are meaningful, as in the paper's per-task batches) and one
prompt per column (sentence-transformers' ``prompts={dataset: {column: prompt}}``). Phrasings listed in
``heldout_phrasings`` are never trained with: evaluation scores them as instructions the model never saw.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .tasks import (COLUMNS, CROSSED_DEV_PERMILLE, CROSSED_SOURCES, DEFAULT_DATASETS, HELDOUT_PERMILLE,
                    NO_INSTRUCTION, TASKS, TaskSpec, crossed_split, default_data_dir, labeled_split, pair_split)


@dataclass
class Mixture:
    """Sub-datasets (``"{dataset}__p{k}"`` per phrasing, ``"{dataset}__none"`` without instruction), each a
    dict of equal-length columns, and the ST ``prompts`` mapping ``{sub-dataset: {column: instruction}}``."""

    columns: dict[str, dict[str, list[str]]]
    prompts: dict[str, dict[str, str]]
    stats: dict[str, dict[str, int]] = field(default_factory=dict)
    # classification sub-datasets only: per row [class id of anchor and positive, class id of the negative]
    labels: dict[str, list[list[int]]] = field(default_factory=dict)

    def __len__(self) -> int:
        return sum(len(next(iter(cols.values()))) for cols in self.columns.values())

    def to_dataset_dict(self):
        """A ``datasets.DatasetDict`` of the sub-datasets, for ``SentenceTransformerTrainer``."""
        from datasets import Dataset, DatasetDict

        return DatasetDict({key: Dataset.from_dict(cols) for key, cols in self.columns.items()})

    def summary(self) -> pd.DataFrame:
        rows = [{"dataset": name, **counts} for name, counts in self.stats.items()]
        return pd.DataFrame(rows)


def classification_examples(frame: pd.DataFrame, n: int, rng: random.Random
                            ) -> list[tuple[str, str, str, int, int]]:
    """``(anchor, positive, negative, anchor class id, negative class id)``: the positive shares the
    anchor's label, the negative has another label. Anchors are distinct texts (up to ``n``); labels with a
    single text cannot anchor. Class ids index the sorted label names."""
    by_label: dict[str, list[str]] = defaultdict(list)
    for text, label in zip(frame["text"], frame["label"]):
        by_label[label].append(text)
    labels = sorted(by_label)
    if len(labels) < 2:
        return []
    anchors = [(t, lab) for lab in labels for t in by_label[lab] if len(by_label[lab]) >= 2]
    rng.shuffle(anchors)
    out = []
    for text, label in anchors[:n]:
        same = by_label[label]
        positive = text
        while positive == text:
            positive = same[rng.randrange(len(same))]
        other = labels[rng.randrange(len(labels) - 1)]
        other = labels[-1] if other == label else other
        negative = by_label[other][rng.randrange(len(by_label[other]))]
        out.append((text, positive, negative, labels.index(label), labels.index(other)))
    return out


def _fill_negatives(rows: list[tuple[str, ...]], rng: random.Random) -> list[tuple[str, ...]]:
    """Make every row a triplet when most rows have a hard negative: rows without one get a random
    positive of another row (an ordinary in-batch-style negative)."""
    with_neg = sum(len(r) == 3 for r in rows)
    if with_neg < len(rows) / 2:
        return [r[:2] for r in rows]
    out = []
    for row in rows:
        if len(row) == 2:
            for _ in range(100):
                other = rows[rng.randrange(len(rows))]
                if other[1] != row[1] and other[0] != row[0]:
                    break
            row = (*row, other[1])
        out.append(row)
    return out


def crossed_frame(name: str, n: int, data_dir: Path, permille: int, rng: random.Random,
                  dev_seed: int = 0) -> pd.DataFrame:
    """``text``, ``label``, ``other`` of a crossed task from the train splits of its sources, about ``n``
    texts shared evenly between them (texts whose source label maps to nothing are left out). A task over
    a two-label set (``TaskSpec.source``) reads that set's train part (``dev_seed`` picks its dev part)."""
    spec = TASKS[name]
    if spec.source:
        frame = crossed_split(spec.source, "train", data_dir, CROSSED_DEV_PERMILLE, dev_seed)
        frame = frame.assign(label=frame[spec.label], other=frame[spec.other] if spec.other else "")
        frame = frame[frame["label"] != ""][["text", "label", "other"]]
        return frame.sample(min(len(frame), n), random_state=rng.randrange(2**31)).reset_index(drop=True)
    sources = CROSSED_SOURCES[name]
    parts = []
    for source, (label, other) in sources.items():
        frame = labeled_split(source, "train", data_dir, permille)
        frame = frame.assign(
            label=frame["label"].map(label) if isinstance(label, dict) else label,
            other=frame["label"].map(other) if isinstance(other, dict) else (other or ""))
        frame = frame.dropna(subset=["label"]).fillna({"other": ""})
        parts.append(frame.sample(min(len(frame), n // len(sources)), random_state=rng.randrange(2**31)))
    return pd.concat(parts, ignore_index=True)


def crossed_examples(frame: pd.DataFrame, n: int, rng: random.Random) -> list[tuple[str, str, str, int, int]]:
    """Like :func:`classification_examples`, with a property ``other`` the instruction must look past: the
    positive shares the anchor's label and, where possible, differs in ``other``; the negative has another
    label and, where possible, the same ``other`` ("" = unknown)."""
    cells: dict[tuple[str, str], list[str]] = defaultdict(list)
    by_label: dict[str, list[str]] = defaultdict(list)
    for text, label, other in zip(frame["text"], frame["label"], frame["other"]):
        cells[(label, other)].append(text)
        by_label[label].append(text)
    labels = sorted(by_label)
    if len(labels) < 2:
        return []
    anchors = [(t, lab, oth) for (lab, oth) in sorted(cells) for t in cells[(lab, oth)] if len(by_label[lab]) >= 2]
    rng.shuffle(anchors)
    out = []
    for text, label, other in anchors[:n]:
        crossing = [cells[(label, o)] for (lab, o) in cells if lab == label and o and o != other]
        pool = crossing[rng.randrange(len(crossing))] if crossing and other else by_label[label]
        positive = pool[rng.randrange(len(pool))]
        while positive == text:
            positive = by_label[label][rng.randrange(len(by_label[label]))]
        same_other = [lab for lab in labels if lab != label and other and (lab, other) in cells]
        negative_label = rng.choice(same_other or [lab for lab in labels if lab != label])
        pool = cells[(negative_label, other)] if same_other else by_label[negative_label]
        negative = pool[rng.randrange(len(pool))]
        out.append((text, positive, negative, labels.index(label), labels.index(negative_label)))
    return out


def twin_examples(rows: list[tuple[str, str, str, int, int]], frame: pd.DataFrame
                  ) -> list[tuple[str, str, str, int, int]]:
    """The crossed twin of ``rows`` (built from ``frame``, whose ``other`` is the twin's label): the same
    anchors with positive and hard negative swapped. A crossed row's positive differs from its anchor in
    ``other`` and its negative shares it, so under the twin's label the roles swap; rows where that does
    not hold (no crossing text existed) are left out. Class ids index the sorted ``other`` values."""
    other = dict(zip(frame["text"], frame["other"]))
    names = sorted({o for o in other.values() if o})
    return [(a, n, p, names.index(other[a]), names.index(other[p])) for a, p, n, _, _ in rows
            if other.get(a) and other.get(n) == other[a] and other.get(p) and other[p] != other[a]]


def build_mixture(
    datasets: Mapping[str, Mapping[str, object] | None] | Iterable[str] | None = None,
    *,
    data_dir: str | Path | None = None,
    no_instruction_share: float = 0.2,
    no_instruction_kinds: Iterable[str] = ("symmetric", "asymmetric"),
    heldout_permille: int = HELDOUT_PERMILLE,
    max_examples_scale: float = 1.0,
    classification_hard_negatives: bool = True,
    heldout_phrasings: Mapping[str, Iterable[int]] | None = None,
    dev_seed: int = 0,
    seed: int = 0,
) -> Mixture:
    """Build the training mixture.

    ``datasets``: names (``TASKS`` keys) or ``{name: {"max_examples": int, "phrasings": [int, ...]}}``;
    None means v1's tasks (``tasks.DEFAULT_DATASETS``) with their default caps. ``max_examples_scale`` multiplies every cap (tests use
    a small value). ``classification_hard_negatives=False`` leaves out the negative column of classification
    sets (a random other-label text, which the other-label positives of the batch already provide; it
    saves a third of the compute per example). ``heldout_phrasings``: ``{name: [k, ...]}`` phrasings never
    trained with (kept for evaluation). ``dev_seed`` picks the held-out dev part of the two-label sets
    (``tasks.crossed_split``). A crossed task with a ``twin`` in the mixture reuses the twin's anchors with
    positives and negatives swapped (same-text hard negatives across the two instructions). Deterministic
    for a given ``seed``.
    """
    if datasets is None:
        datasets = DEFAULT_DATASETS
    elif not isinstance(datasets, Mapping):
        datasets = {name: {} for name in datasets}
    unknown = set(datasets) - set(TASKS)
    if unknown:
        raise ValueError(f"Unknown dataset(s) {sorted(unknown)}; known: {', '.join(TASKS)}")
    if not 0.0 <= no_instruction_share <= 1.0:
        raise ValueError("no_instruction_share must be between 0 and 1")
    no_instruction_kinds = set(no_instruction_kinds)
    data_dir = Path(data_dir or default_data_dir())
    columns: dict[str, dict[str, list[str]]] = {}
    prompts: dict[str, dict[str, str]] = {}
    stats: dict[str, dict[str, int]] = {}
    label_ids: dict[str, list[list[int]]] = {}
    heldout_phrasings = {name: {int(k) for k in ks} for name, ks in (heldout_phrasings or {}).items()}
    crossed_built: dict[str, tuple[list[tuple[str, ...]], pd.DataFrame]] = {}
    # a twin is built after the task it mirrors
    order = sorted(datasets, key=lambda name: bool(TASKS[name].twin and TASKS[name].twin in datasets))
    for name in order:
        options = datasets[name]
        options = dict(options or {})
        spec: TaskSpec = TASKS[name]
        rng = random.Random(f"{seed}:{name}")
        cap = max(1, int(int(options.get("max_examples", spec.max_examples)) * max_examples_scale))
        if spec.kind == "classification":
            rows: list[tuple[str, ...]] = classification_examples(
                labeled_split(name, "train", data_dir, heldout_permille), cap, rng)
        elif spec.kind == "crossed" and spec.twin in crossed_built:
            rows = twin_examples(*crossed_built[spec.twin])[:cap]
        elif spec.kind == "crossed":
            frame = crossed_frame(name, cap, data_dir, heldout_permille, rng, dev_seed)
            rows = crossed_examples(frame, cap, rng)
            crossed_built[name] = (rows, frame)
        else:
            rows = pair_split(name, "train", data_dir, heldout_permille)
            rows = [(r[1], r[0], *r[2:]) if spec.kind == "symmetric" and rng.random() < 0.5 else r for r in rows]
            rng.shuffle(rows)
            rows = _fill_negatives(rows[:cap], rng)
        phrasings = [int(k) for k in options.get("phrasings", range(len(spec.instructions)))
                     if int(k) not in heldout_phrasings.get(name, ())]
        if not phrasings:
            raise ValueError(f"{name}: every phrasing is held out; keep at least one for training")
        share = no_instruction_share if spec.kind in no_instruction_kinds else 0.0
        groups: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        for row in rows:
            if share and rng.random() < share:
                groups[f"{name}__{NO_INSTRUCTION}"].append(row)
            else:
                groups[f"{name}__p{phrasings[rng.randrange(len(phrasings))]}"].append(row)
        counts: Counter[str] = Counter()
        width = 0
        for key in sorted(groups):
            group = groups[key]
            if spec.kind == "classification":
                width = 3 if classification_hard_negatives else 2
            elif spec.kind == "crossed":  # always keeps its negative: it is what makes the task crossed
                width = 3
            else:
                width = len(group[0])
            columns[key] = {col: [row[i] for row in group] for i, col in enumerate(COLUMNS[:width])}
            if spec.labeled:
                label_ids[key] = [[row[3], row[4]] for row in group]
            if key.endswith(f"__{NO_INSTRUCTION}"):
                prompts[key] = {}
                counts["no_instruction"] += len(group)
            else:
                full = spec.prompts(int(key.rsplit("__p", 1)[1]))
                prompts[key] = {col: full[col] for col in COLUMNS[:width]}
                counts["instructed"] += len(group)
        stats[name] = {"examples": len(rows), "columns": width if rows else 0, **counts}
    return Mixture(columns, prompts, stats, label_ids)
