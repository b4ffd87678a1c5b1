"""Does an instruction help? kNN accuracy and silhouette per labeled set, with no instruction, the task's
instruction and a mismatched one; and STS-B dev Spearman. Only data the training mixture never saw.

    python -m instructor_core.evaluate bundled-base instructor-mini [MODEL ...] [--max-rows 2000] [--json out.json]

Any catalogued model (``python -m instructor_core models``), hub id or folder works: each is encoded through
its family's profile, with the paper-style instruction for INSTRUCTOR, fixed-prefix and plain models, and
the same task as a task phrase for templated families (EmbeddingGemma, Qwen3-Embedding, E5-instruct).

Evaluation sets (see :mod:`instructor_core.training.tasks` for the splits):

* official dev splits: emotion ``val.txt``, STS-B ``sts-dev.csv``;
* hash-held-out 10 % of SST-2, AG News, TREC and Banking77 (never in the training mixture);
* the app's own built-in sets (``assets/datasets``): product reviews labelled by sentiment and by product
  category, questions by topic and by answer type -- written for the demo, in no training set.

Each task lists the instruction it is evaluated with and a *mismatched* one (another task's, e.g. a
topic instruction on a sentiment task), in both styles; ``seen`` says whether the matching instruction is,
verbatim, one of instructor-mini's training phrasings.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, ModelLoadError
from .tasks import (CROSSED_SOURCES, DATA_ENV, LABELED_SETS, REPO_ROOT, TASKS as TRAINING_TASKS,
                    all_training_instructions, crossed_split, labeled_split, stsb_split)

APP_DATASETS = REPO_ROOT / "assets" / "datasets"
CONDITIONS = ("none", "match", "mismatch")
LABELED_ROWS, CROSSED_ROWS = 2000, 400  # default texts per labeled / crossed set (stratified samples)
STS_INSTRUCTION = "Represent the sentence for retrieving semantically similar sentences: "
STS_TASK = "Retrieve semantically similar text"  # the task phrase E5-instruct and Qwen3 use for STS

_REVIEW_SENTIMENT = "Represent the product review for classifying its sentiment: "
_REVIEW_CATEGORY = "Represent the product review for classifying its product category: "
_QUESTION_TOPIC = "Represent the question for classifying its topic: "
_QUESTION_TYPE = "Represent the question for classifying the type of its expected answer: "


@dataclass(frozen=True)
class LabeledTask:
    """One labeled evaluation: texts of ``source`` labelled by ``label_column``."""

    name: str
    group: str  # the kind of label: sentiment, topic, question type, intent, emotion
    source: str  # a medi labeled set ("sst2", ...) or an app dataset ("product_reviews", "questions")
    label_column: str
    instruction: str
    mismatched: str
    task: str  # the same two as task phrases, for templated families
    mismatched_task: str

    @property
    def seen(self) -> bool:
        return self.instruction in all_training_instructions()

    def instructions_for(self, style: str) -> tuple[str, str]:
        """(matching, mismatched) in a family's style: "instructor" or "task" (see ModelProfile.style)."""
        return (self.task, self.mismatched_task) if style == "task" else (self.instruction, self.mismatched)


def _sentiment_topic(text_type: str) -> tuple[str, str]:
    return f"Classify the sentiment of a given {text_type}", f"Classify the topic of a given {text_type}"


_T_REVIEW = ("Classify the sentiment of a given product review", "Classify the product category of a given product review")
_T_QUESTION = ("Classify the topic of a given question", "Classify the type of answer a given question expects")


TASKS: tuple[LabeledTask, ...] = (
    LabeledTask("sst2 (held-out)", "sentiment", "sst2", "label",
                "Represent the movie review for classifying sentiment: ",
                "Represent the movie review for classifying its topic: ", *_sentiment_topic("movie review")),
    LabeledTask("product reviews: sentiment", "sentiment", "product_reviews", "sentiment",
                _REVIEW_SENTIMENT, _REVIEW_CATEGORY, *_T_REVIEW),
    LabeledTask("emotion (val)", "emotion", "emotion", "label",
                "Represent the tweet for classifying the emotion: ",
                "Represent the tweet for classifying its topic: ",
                "Classify the emotion expressed in a given tweet", "Classify the topic of a given tweet"),
    LabeledTask("ag_news (held-out)", "topic", "ag_news", "label",
                "Represent the news article for classifying its topic: ",
                "Represent the news article for classifying its sentiment: ",
                *reversed(_sentiment_topic("news article"))),
    LabeledTask("product reviews: category", "topic", "product_reviews", "category",
                _REVIEW_CATEGORY, _REVIEW_SENTIMENT, *reversed(_T_REVIEW)),
    LabeledTask("questions: topic", "topic", "questions", "topic", _QUESTION_TOPIC, _QUESTION_TYPE, *_T_QUESTION),
    LabeledTask("trec (held-out)", "question type", "trec", "label", _QUESTION_TYPE, _QUESTION_TOPIC,
                *reversed(_T_QUESTION)),
    LabeledTask("questions: answer type", "question type", "questions", "answer_type",
                _QUESTION_TYPE, _QUESTION_TOPIC, *reversed(_T_QUESTION)),
    LabeledTask("banking77 (held-out)", "intent", "banking77", "label",
                "Represent the bank customer query for classifying its intent: ",
                "Represent the bank customer query for classifying its sentiment: ",
                "Classify the intent of a given bank customer query",
                "Classify the sentiment of a given bank customer query"),
)


def load_task_data(task: LabeledTask, max_rows: int = LABELED_ROWS, seed: int = 0,
                   data_dir: str | Path | None = None) -> pd.DataFrame:
    """``text`` and ``label`` of a task's evaluation split, at most ``max_rows`` (stratified, seeded)."""
    if task.source in LABELED_SETS:
        frame = labeled_split(task.source, "dev", data_dir)
    else:
        frame = pd.read_csv(APP_DATASETS / f"{task.source}.csv", dtype=str, keep_default_na=False)
        frame = frame.rename(columns={task.label_column: "label"})[["text", "label"]]
    if len(frame) > max_rows:
        frac = max_rows / len(frame)
        keep = [idx for _, group in frame.groupby("label", sort=True)
                for idx in group.sample(max(1, round(len(group) * frac)), random_state=seed).index]
        frame = frame.loc[sorted(keep)]
    return frame.reset_index(drop=True)


def _style(encoder) -> str:
    """How the encoder's family writes instructions ("instructor" for plain functions)."""
    profile = getattr(encoder, "profile", None)
    return profile.style if profile is not None else "instructor"


def _encoder_fn(encoder, batch_size: int) -> Callable[[list[str], str | None], np.ndarray]:
    if callable(encoder) and not hasattr(encoder, "encode"):
        return encoder
    return lambda texts, instruction: encoder.encode(texts, instruction=instruction or None, batch_size=batch_size)


def evaluate_labeled(encoder, tasks: Sequence[LabeledTask] = TASKS, *, max_rows: int = LABELED_ROWS,
                     batch_size: int = 64, data_dir: str | Path | None = None,
                     log: Callable[[str], None] | None = None) -> pd.DataFrame:
    """One row per task and condition: ``knn_accuracy`` and ``silhouette``.

    ``encoder``: an :class:`~instructor_core.Encoder` (or anything with ``encode(texts, instruction=...)``),
    or a function ``(texts, instruction) -> array``.
    """
    from ..metrics import knn_accuracy, silhouette_cosine

    encode, style = _encoder_fn(encoder, batch_size), _style(encoder)
    rows = []
    for task in tasks:
        frame = load_task_data(task, max_rows=max_rows, data_dir=data_dir)
        texts, labels = frame["text"].tolist(), frame["label"].tolist()
        for condition, instruction in zip(CONDITIONS, (None, *task.instructions_for(style))):
            start = time.perf_counter()
            vectors = encode(texts, instruction)
            rows.append({
                "task": task.name, "group": task.group, "n": len(texts), "labels": len(set(labels)),
                "condition": condition, "instruction": instruction or "",
                "seen": task.seen if condition == "match" and style == "instructor" else None,
                "knn_accuracy": knn_accuracy(vectors, labels), "silhouette": silhouette_cosine(vectors, labels),
            })
            if log:
                r = rows[-1]
                log(f"{task.name:28s} {condition:8s} knn={r['knn_accuracy']:.4f} sil={r['silhouette']:.4f} "
                    f"({time.perf_counter() - start:.1f}s)")
    return pd.DataFrame(rows)


def evaluate_stsb(encoder, instruction: str | None = None, *, batch_size: int = 64,
                  data_dir: str | Path | None = None, max_pairs: int | None = None) -> float:
    """Spearman correlation (x100) of cosine similarity with the STS-B dev gold scores."""
    from scipy.stats import spearmanr

    frame = stsb_split("dev", data_dir)
    if max_pairs:
        frame = frame.head(max_pairs)
    encode = _encoder_fn(encoder, batch_size)
    a = encode(frame["sentence1"].tolist(), instruction)
    b = encode(frame["sentence2"].tolist(), instruction)
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return float(spearmanr((a * b).sum(1), frame["score"]).statistic * 100)


def pivot(labeled: pd.DataFrame) -> pd.DataFrame:
    """Wide table: one row per task, kNN and silhouette per condition, and match-minus-none deltas."""
    wide = labeled.pivot_table(index=["task", "group"], columns="condition",
                               values=["knn_accuracy", "silhouette"], sort=False)
    wide.columns = [f"{'knn' if m == 'knn_accuracy' else 'sil'}_{c}" for m, c in wide.columns]
    wide = wide[[f"{m}_{c}" for m in ("knn", "sil") for c in CONDITIONS]]
    wide["knn_gain"] = wide["knn_match"] - wide["knn_none"]
    wide["mismatch_below_match"] = wide["knn_mismatch"] < wide["knn_match"]
    return wide.reset_index()


def targets(labeled: pd.DataFrame, sts: float, base_sts: float | None = None) -> dict[str, object]:
    """The issue's targets: on sentiment and topic tasks, kNN with the matching instruction >= 5 points
    above no instruction and the mismatched instruction below the matching one; STS-B within 1 point."""
    wide = pivot(labeled)
    sel = wide[wide["group"].isin(["sentiment", "topic"])]
    out: dict[str, object] = {
        "knn_gain_points": {t: round(g * 100, 2) for t, g in zip(sel["task"], sel["knn_gain"])},
        "gain_ge_5_points_all": bool((sel["knn_gain"] >= 0.05).all()),
        "mean_gain_points": {grp: round(float(g["knn_gain"].mean() * 100), 2) for grp, g in sel.groupby("group")},
        "mismatch_below_match_all": bool(sel["mismatch_below_match"].all()),
    }
    if base_sts is not None:
        out["stsb_delta_points"] = round(sts - base_sts, 2)
        out["stsb_within_1_point"] = bool(sts >= base_sts - 1.0)
    return out


def evaluate_model(model: str, *, max_rows: int = LABELED_ROWS, batch_size: int = 64, device: str = "auto",
                   tasks: Sequence[LabeledTask] = TASKS, data_dir: str | Path | None = None,
                   log: Callable[[str], None] | None = None, trust_remote_code: bool = False) -> dict[str, object]:
    """Everything for one model: the labeled long table, STS-B dev Spearman without/with instruction."""
    from ..encoder import load_encoder

    encoder = load_encoder(model, device=device, dtype="fp32" if device == "cpu" else "auto",
                           trust_remote_code=trust_remote_code)
    start = time.perf_counter()
    labeled = evaluate_labeled(encoder, tasks, max_rows=max_rows, batch_size=batch_size, data_dir=data_dir,
                               log=log)
    sts_none = evaluate_stsb(encoder, None, batch_size=batch_size, data_dir=data_dir)
    sts_instruction = STS_TASK if _style(encoder) == "task" else STS_INSTRUCTION
    sts_instr = evaluate_stsb(encoder, sts_instruction, batch_size=batch_size, data_dir=data_dir)
    if log:
        log(f"STS-B dev Spearman: {sts_none:.2f} (no instruction), {sts_instr:.2f} (with instruction)")
    return {"model": model, "name": encoder.name, "family": encoder.profile.label, "labeled": labeled,
            "stsb_spearman": sts_none,
            "stsb_spearman_instructed": sts_instr, "seconds": round(time.perf_counter() - start, 1)}


def format_report(results: Sequence[dict[str, object]]) -> str:
    """Markdown tables: per model the labeled table, then STS-B, then the targets against the first model."""
    lines = []
    for res in results:
        wide = pivot(res["labeled"])
        lines.append(f"### {res['model']} ({res['family']})\n")
        lines.append("| task | group | kNN none | kNN match | kNN mismatch | gain | sil none | sil match | sil mismatch |")
        lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for r in wide.itertuples(index=False):
            lines.append(f"| {r.task} | {r.group} | {r.knn_none * 100:.1f} | {r.knn_match * 100:.1f} | "
                         f"{r.knn_mismatch * 100:.1f} | {r.knn_gain * 100:+.1f} | {r.sil_none:.3f} | "
                         f"{r.sil_match:.3f} | {r.sil_mismatch:.3f} |")
        lines.append("")
    lines.append("| model | STS-B dev Spearman (no instruction) | with STS instruction |")
    lines.append("|---|---:|---:|")
    for res in results:
        lines.append(f"| {res['model']} | {res['stsb_spearman']:.2f} | {res['stsb_spearman_instructed']:.2f} |")
    base = results[0]
    for res in results:
        check = targets(res["labeled"], res["stsb_spearman"], base["stsb_spearman"] if res is not base else None)
        lines.append(f"\nTargets for {res['model']}: {json.dumps(check)}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# Crossed sets: every text labeled twice, so an instruction has something to choose between (issue 15)

CROSSED_CONDITIONS = ("none", "match", "crossed", "unseen")
V2_CONFIG = REPO_ROOT / "configs" / "instructor-mini-v2.json"


@dataclass(frozen=True)
class CrossedSet:
    """Texts with two label columns; ``labels`` maps each column to the training task whose phrasings
    instruct it (its first trained phrasing is "match", the other column's is "crossed", its held-out
    phrasings are "unseen")."""

    name: str
    source: str  # "product_reviews" / "questions" (assets/datasets), "reviews" (crossed_split), "trec"
    labels: dict[str, str]


CROSSED_EVAL_SETS: tuple[CrossedSet, ...] = (
    CrossedSet("product reviews (built-in)", "product_reviews",
               {"sentiment": "reviews_sentiment_x", "category": "reviews_category_x"}),
    CrossedSet("questions (built-in)", "questions", {"topic": "questions_topic_x", "answer_type": "trec"}),
    CrossedSet("reviews dev (MDSD + FDU-MTL)", "reviews",
               {"category": "reviews_category_x", "sentiment": "reviews_sentiment_x"}),
    CrossedSet("TREC dev (topic x answer type)", "trec", {"topic": "questions_topic_x", "answer_type": "trec"}),
)


def _stratified(frame: pd.DataFrame, columns: list[str], max_rows: int, seed: int) -> pd.DataFrame:
    """At most ``max_rows`` rows, each cell of ``columns`` kept in proportion (at least one row each)."""
    if len(frame) <= max_rows:
        return frame.reset_index(drop=True)
    frac = max_rows / len(frame)
    keep = [idx for _, group in frame.groupby(columns, sort=True)
            for idx in group.sample(max(1, round(len(group) * frac)), random_state=seed).index]
    return frame.loc[sorted(keep)].reset_index(drop=True)


def load_crossed_set(spec: CrossedSet, max_rows: int = CROSSED_ROWS, seed: int = 0, dev_seed: int = 0,
                     data_dir: str | Path | None = None) -> pd.DataFrame:
    """``text`` and the set's two label columns, dev data only: the built-in sets, the held-out part of
    the reviews (``dev_seed``), TREC's held-out questions whose fine tag has a topic (ENTY and LOC)."""
    columns = list(spec.labels)
    if spec.source in ("product_reviews", "questions"):
        frame = pd.read_csv(APP_DATASETS / f"{spec.source}.csv", dtype=str, keep_default_na=False)
    elif spec.source == "trec":
        frame = labeled_split("trec_fine", "dev", data_dir)
        topic_of = CROSSED_SOURCES["question_topic_x"]["trec_fine"][0]
        frame = frame.assign(topic=frame["label"].map(topic_of), answer_type=frame["label"].str.split(":").str[0])
        frame = frame.dropna(subset=["topic"])
    else:
        frame = crossed_split(spec.source, "dev", data_dir, seed=dev_seed)
    return _stratified(frame[["text", *columns]], columns, max_rows, seed)


def evaluate_crossed(encoder, sets: Sequence[CrossedSet] = CROSSED_EVAL_SETS, *,
                     heldout_phrasings: dict[str, list[int]] | None = None, max_rows: int = CROSSED_ROWS,
                     batch_size: int = 64, dev_seed: int = 0, data_dir: str | Path | None = None,
                     log: Callable[[str], None] | None = None) -> pd.DataFrame:
    """One row per set, label column and condition: kNN accuracy and silhouette under no instruction, the
    label's matching instruction, the other label's ("crossed") and each held-out phrasing of the
    matching task ("unseen", one row per phrasing). ``heldout_phrasings``: ``{task: [k, ...]}`` as in a
    training config (default: configs/instructor-mini-v2.json's)."""
    from ..metrics import knn_accuracy, silhouette_cosine

    if heldout_phrasings is None:
        heldout_phrasings = json.loads(V2_CONFIG.read_text(encoding="utf-8"))["data"]["heldout_phrasings"]
    encode = _encoder_fn(encoder, batch_size)
    rows = []
    for spec in sets:
        frame = load_crossed_set(spec, max_rows=max_rows, dev_seed=dev_seed, data_dir=data_dir)
        texts = frame["text"].tolist()
        cache: dict[str, np.ndarray] = {}

        def vectors(instruction: str) -> np.ndarray:
            if instruction not in cache:
                cache[instruction] = encode(texts, instruction or None)
            return cache[instruction]

        def phrasings(task: str) -> tuple[str, list[str]]:
            held = set(heldout_phrasings.get(task, ()))
            instructions = TRAINING_TASKS[task].instructions
            seen = [ins for k, ins in enumerate(instructions) if k not in held]
            return seen[0], [ins for k, ins in enumerate(instructions) if k in held]

        for column, task in spec.labels.items():
            other_task = next(t for c, t in spec.labels.items() if c != column)
            match, unseen = phrasings(task)
            conditions = [("none", ""), ("match", match), ("crossed", phrasings(other_task)[0])]
            conditions += [("unseen", ins) for ins in unseen]
            labels = frame[column].tolist()
            for condition, instruction in conditions:
                start = time.perf_counter()
                vecs = vectors(instruction)
                rows.append({"set": spec.name, "label": column, "n": len(texts), "classes": len(set(labels)),
                             "condition": condition, "instruction": instruction,
                             "knn_accuracy": knn_accuracy(vecs, labels), "silhouette": silhouette_cosine(vecs, labels)})
                if log:
                    r = rows[-1]
                    log(f"{spec.name[:28]:28s} {column:12s} {condition:8s} knn={r['knn_accuracy']:.4f} "
                        f"sil={r['silhouette']:.4f} ({time.perf_counter() - start:.1f}s)")
    return pd.DataFrame(rows)


def crossed_pivot(crossed: pd.DataFrame) -> pd.DataFrame:
    """One row per set and label: kNN and silhouette per condition ("unseen": the mean over the held-out
    phrasings), and the issue's goal: match >= crossed + 5 points and match >= none."""
    wide = crossed.pivot_table(index=["set", "label", "n", "classes"], columns="condition",
                               values=["knn_accuracy", "silhouette"], aggfunc="mean", sort=False)
    wide.columns = [f"{'knn' if m == 'knn_accuracy' else 'sil'}_{c}" for m, c in wide.columns]
    wide = wide[[f"{m}_{c}" for m in ("knn", "sil") for c in CROSSED_CONDITIONS if f"{m}_{c}" in wide]]
    wide["match_minus_crossed"] = wide["knn_match"] - wide["knn_crossed"]
    wide["goal_met"] = (wide["match_minus_crossed"] >= 0.05) & (wide["knn_match"] >= wide["knn_none"])
    return wide.reset_index()


def format_crossed_report(results: Sequence[dict[str, object]]) -> str:
    """Markdown: per model the crossed table (kNN %, silhouette), then STS-B dev Spearman."""
    lines = []
    for res in results:
        wide = crossed_pivot(res["crossed"])
        lines.append(f"### {res['model']}\n")
        lines.append("| set | label | n | kNN none | kNN match | kNN crossed | kNN unseen | match - crossed | goal | "
                     "sil none | sil match | sil crossed | sil unseen |")
        lines.append("|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|")
        for r in wide.itertuples(index=False):
            lines.append(f"| {r.set} | {r.label} ({r.classes}) | {r.n} | {r.knn_none * 100:.1f} | "
                         f"{r.knn_match * 100:.1f} | {r.knn_crossed * 100:.1f} | {r.knn_unseen * 100:.1f} | "
                         f"{r.match_minus_crossed * 100:+.1f} | {'met' if r.goal_met else 'missed'} | "
                         f"{r.sil_none:.3f} | {r.sil_match:.3f} | {r.sil_crossed:.3f} | {r.sil_unseen:.3f} |")
        lines.append("")
    lines.append("| model | STS-B dev Spearman (no instruction) |")
    lines.append("|---|---:|")
    lines += [f"| {res['model']} | " + ("not run" if res["stsb_spearman"] is None else f"{res['stsb_spearman']:.2f}")
              + " |" for res in results]
    return "\n".join(lines)


def seed_summary(runs: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """One row per set and label over several runs of :func:`evaluate_crossed` (one per training seed):
    each :func:`crossed_pivot` number's mean and sample sd, in how many runs the goal was met, whether the
    means meet it, and by how many points they miss it (the larger of the two shortfalls; 0 when met)."""
    if not runs:
        raise ValueError("no runs to summarise")
    pivots = pd.concat([crossed_pivot(run) for run in runs])
    grouped = pivots.groupby(["set", "label", "n", "classes"], sort=False)
    numbers = [c for c in pivots.columns if c.startswith(("knn_", "sil_")) or c == "match_minus_crossed"]
    out = grouped[numbers].mean().add_suffix("_mean").join(grouped[numbers].std(ddof=1).fillna(0.0).add_suffix("_sd"))
    out["runs"], out["goal_met_runs"] = grouped.size(), grouped["goal_met"].sum()
    shortfall = pd.concat([0.05 - out["match_minus_crossed_mean"], out["knn_none_mean"] - out["knn_match_mean"]],
                          axis=1).max(axis=1)
    out["goal_met_on_mean"], out["missed_by"] = shortfall <= 0, shortfall.clip(lower=0)
    return out.reset_index()


def format_seed_report(summary: pd.DataFrame, stsb: Sequence[float] = ()) -> str:
    """Markdown of :func:`seed_summary`: kNN % and silhouette as mean ± sd over the seeds, the goal on the
    means with the shortfall in points, and STS-B dev Spearman over the same seeds."""
    def pm(row, name: str, scale: float, digits: int) -> str:
        return f"{row[f'{name}_mean'] * scale:.{digits}f} ± {row[f'{name}_sd'] * scale:.{digits}f}"

    lines = ["| set | label | n | kNN none | kNN match | kNN crossed | kNN unseen | match - crossed | goal (means) | "
             "seeds meeting it | sil none | sil match | sil crossed | sil unseen |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    for _, r in summary.iterrows():
        goal = "met" if r["goal_met_on_mean"] else f"missed by {r['missed_by'] * 100:.1f}"
        knn = " | ".join(pm(r, f"knn_{c}", 100, 1) for c in CROSSED_CONDITIONS)
        sil = " | ".join(pm(r, f"sil_{c}", 1, 3) for c in CROSSED_CONDITIONS)
        lines.append(f"| {r['set']} | {r['label']} ({r['classes']}) | {r['n']} | {knn} | "
                     f"{r['match_minus_crossed_mean'] * 100:+.1f} | {goal} | {r['goal_met_runs']}/{r['runs']} | {sil} |")
    if len(stsb):
        values = np.asarray(stsb, dtype=float)
        spread = values.std(ddof=1) if len(values) > 1 else 0.0
        lines.append(f"\nSTS-B dev Spearman (no instruction) over {len(values)} seeds: {values.mean():.2f} ± {spread:.2f}")
    return "\n".join(lines)


def _to_jsonable(result: dict[str, object]) -> dict[str, object]:
    out = dict(result)
    for key in ("labeled", "crossed"):
        if key in result:
            out[key] = result[key].to_dict(orient="records")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m instructor_core.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", help="catalogue names ('bundled-base', 'instructor-mini', "
                                                  "'Qwen/Qwen3-Embedding-0.6B', ...), hub ids or folders; "
                                                  "the first is the baseline of the STS-B target")
    parser.add_argument("--max-rows", type=int, help=f"texts per set, stratified sample (default {LABELED_ROWS} per "
                                                      f"labeled set, {CROSSED_ROWS} per crossed set)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--tasks", nargs="*", help="only these task names (default: all)")
    parser.add_argument("--data-dir", help=f"training data folder (default: ${DATA_ENV} or ../shared/data/train)")
    parser.add_argument("--json", help="also write all numbers to this JSON file")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--trust-remote-code", action="store_true",
                        help="let models that ship their own code (gte-Qwen2, Nomic) run it")
    parser.add_argument("--crossed", metavar="CONFIG", nargs="?", const=str(V2_CONFIG),
                        help="instead: the crossed sets (each text labeled twice) with the held-out phrasings and "
                             "dev seed of this training config (default configs/instructor-mini-v2.json); "
                             f"--max-rows then defaults to {CROSSED_ROWS}")
    parser.add_argument("--sets", nargs="*", help="with --crossed: only the crossed sets whose names start with "
                                                 "these (default: all)")
    parser.add_argument("--stsb-pairs", type=int, help="with --crossed: STS-B dev pairs to score (default all; "
                                                       "0 skips STS-B)")
    parser.add_argument("--combine", nargs="+", metavar="JSON",
                        help="instead: summarise --crossed --json reports of one model trained with several seeds "
                             "(one file per seed; several files per seed, e.g. per set, are merged by their seed "
                             "tag 'seed<N>' in the model path) as mean ± sd")
    args = parser.parse_args(argv)
    if args.combine:
        return _main_combine(args.combine)
    if not args.models:
        parser.error("name at least one model (or --combine JSON files)")
    if args.crossed:
        return _main_crossed(args)
    tasks = [t for t in TASKS if not args.tasks or t.name in args.tasks]
    log = None if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    results = []
    for model in args.models:
        if log:
            log(f"== {model}")
        try:
            results.append(evaluate_model(model, max_rows=args.max_rows or LABELED_ROWS, batch_size=args.batch_size,
                                          device=args.device, tasks=tasks, data_dir=args.data_dir, log=log,
                                          trust_remote_code=args.trust_remote_code))
        except (InputError, ModelLoadError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    print(format_report(results))
    if args.json:
        _write_json(args.json, {"tasks": [asdict(t) | {"seen": t.seen} for t in tasks], "results": results})
    return 0


def _main_crossed(args: argparse.Namespace) -> int:
    from ..encoder import load_encoder

    data = json.loads(Path(args.crossed).read_text(encoding="utf-8")).get("data", {})
    heldout, dev_seed = data.get("heldout_phrasings", {}), int(data.get("dev_seed", 0))
    max_rows = args.max_rows or CROSSED_ROWS
    log = None if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    results = []
    for model in args.models:
        if log:
            log(f"== {model}")
        try:
            encoder = load_encoder(model, device=args.device, dtype="fp32" if args.device == "cpu" else "auto",
                                   trust_remote_code=args.trust_remote_code)
        except (InputError, ModelLoadError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        start = time.perf_counter()
        sets = [spec for spec in CROSSED_EVAL_SETS if not args.sets or spec.name.startswith(tuple(args.sets))]
        crossed = evaluate_crossed(encoder, sets, heldout_phrasings=heldout, max_rows=max_rows, batch_size=args.batch_size,
                                   dev_seed=dev_seed, data_dir=args.data_dir, log=log)
        sts = None if args.stsb_pairs == 0 else evaluate_stsb(encoder, None, batch_size=args.batch_size,
                                                               data_dir=args.data_dir, max_pairs=args.stsb_pairs)
        results.append({"model": model, "name": encoder.name, "crossed": crossed, "stsb_spearman": sts,
                        "seconds": round(time.perf_counter() - start, 1)})
    print(format_crossed_report(results))
    if args.json:
        _write_json(args.json, {"config": args.crossed, "heldout_phrasings": heldout, "dev_seed": dev_seed,
                                "results": results})
    return 0


def _main_combine(paths: Sequence[str]) -> int:
    """Print :func:`format_seed_report` for crossed JSON reports, grouped into runs by the model's seed tag."""
    runs: dict[str, list[pd.DataFrame]] = {}
    stsb: dict[str, float] = {}
    for path in paths:
        try:
            report = json.loads(Path(path).read_text(encoding="utf-8"))
            results = [r for r in report["results"] if "crossed" in r]
        except (OSError, ValueError, KeyError, TypeError) as err:
            print(f"error: {path} is not a report of `evaluate --crossed --json`: {err}", file=sys.stderr)
            return 2
        for result in results:
            seed = re.search(r"seed(\d+)", str(result["model"]))
            key = seed.group(0) if seed else str(result["model"])
            runs.setdefault(key, []).append(pd.DataFrame(result["crossed"]))
            if result.get("stsb_spearman") is not None:
                stsb[key] = float(result["stsb_spearman"])
    if not runs:
        print("error: none of the files holds crossed results", file=sys.stderr)
        return 2
    print(f"Runs: {', '.join(runs)}\n")
    print(format_seed_report(seed_summary([pd.concat(parts) for parts in runs.values()]), list(stsb.values())))
    return 0


def _write_json(path: str, payload: dict[str, object]) -> None:
    """The run's report as JSON (results made JSON-safe), creating the folder."""
    payload = {**payload, "results": [_to_jsonable(r) for r in payload["results"]]}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(payload, indent=2), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
