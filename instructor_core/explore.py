"""The explorer's analyses, one function per question a user asks; encoder + inputs in, data out.

These are what the app's pages call (and what a notebook can call): they validate input, encode
(through the encoder's cache, so repeating a question costs no model time) and run the analysis. Under a
:class:`~instructor_core.jobs.Job` they stop between stages when it is cancelled or out of time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .clustering import check_size, cluster, cluster_summary
from .compare import (
    MIN_RELIABLE_TEXTS,
    ModelComparison,
    ModelPhrasingComparison,
    labelled_count,
    phrasing_table,
    separation_table,
    text_verdicts,
)
from .controls import PLACEBO, CrossedMatrix, crossed_matrix, placebo_for
from .encoder import Encoder, Progress
from .errors import InputError
from .instructions import NO_INSTRUCTION, check_instructions
from .jobs import checkpoint
from .metrics import SEPARATION_METRICS
from .neighbours import DEFAULT_K, NeighbourMovement, neighbour_movement
from .phrasings import PhrasingReport, phrasing_report
from .projection import (
    FIT_ROWS,
    MIN_NEIGHBOURHOOD_POINTS,
    SAMPLE_ABOVE,
    project,
    project_pair,
    sampled_fit_note,
)
from .similarity import cosine_similarity_matrix, similarity_frame
from .uncertainty import N_RESAMPLES, PairedBootstrap, interval_note, text_scores

MAX_PLAYGROUND_TEXTS = 20


def instruction_label(instruction: str) -> str:
    """How an instruction is named in tables and legends; blank means no instruction."""
    return instruction.strip() or NO_INSTRUCTION


def truncation_note(encoder: Encoder, texts: Sequence[str], instructions: Sequence[str | None] = ("",)) -> str:
    """A sentence saying how many texts are cut at the model's token limit (with the longest instruction)."""
    longest = max((i or "" for i in instructions), key=len)
    n = encoder.count_truncated(texts, longest)
    if not n:
        return ""
    return (f"{n:,} text(s) are longer than the {encoder.max_seq_length} tokens this model reads (instruction "
            "included); only their beginning was embedded.")


def placebo_label(placebo: str) -> str:
    """How the placebo is named in tables and legends."""
    return f"{PLACEBO}: {placebo.strip()}"


def one_text_many_instructions(encoder: Encoder, text: str, instructions: Sequence[str | None],
                               placebo: bool = False) -> pd.DataFrame:
    """Cosine similarity between the vectors of one ``text`` under each instruction (K x K).

    With ``placebo``, a last row/column holds the text under a neutral prefix of the instructions' median
    token length, so each instruction's distance from "no instruction" can be read against a prefix's.
    """
    text = (text or "").strip()
    if not text:
        raise InputError("Enter a text to embed.")
    instructions = check_instructions(instructions)
    if len(instructions) < 2:
        raise InputError("Enter at least two instructions to compare (a blank one means 'no instruction').")
    labels = [instruction_label(i) for i in instructions]
    neutral, _ = placebo_for(instructions, encoder.count_tokens) if placebo else ("", "")
    if neutral:
        instructions, labels = [*instructions, neutral], [*labels, placebo_label(neutral)]
    vectors = encoder.encode([text] * len(instructions), instruction=instructions)
    return similarity_frame(cosine_similarity_matrix(vectors), labels)


def texts_under_instructions(
    encoder: Encoder, texts: Sequence[str], instructions: Sequence[str | None]
) -> dict[str, pd.DataFrame]:
    """Text-by-text cosine matrix under each instruction, keyed by instruction label."""
    texts = [t.strip() for t in texts if t and t.strip()]
    if len(texts) < 2:
        raise InputError("Enter at least two texts, one per line, to see which become neighbours.")
    if len(texts) > MAX_PLAYGROUND_TEXTS:
        raise InputError(f"You entered {len(texts)} texts; the playground compares up to {MAX_PLAYGROUND_TEXTS}.")
    instructions = check_instructions(instructions)
    vectors = _encode_each(encoder, texts, instructions, progress=None)
    return {
        instruction_label(ins): similarity_frame(cosine_similarity_matrix(v), texts)
        for ins, v in zip(instructions, vectors)
    }


def compare_phrasings(
    encoder: Encoder,
    texts: Sequence[str],
    labels: Sequence[object] | None,
    phrasings: Sequence[str | None],
    include_no_instruction: bool = True,
    progress: Progress | None = None,
    include_placebo: bool = True,
    random_state: int = 0,
) -> PhrasingReport:
    """Encode ``texts`` under each phrasing (and none, and a placebo) and report how the spaces agree and
    separate labels; no instruction and the placebo are controls, never "best". Notes: truncation, placebo."""
    phrasings = [p for p in check_instructions(phrasings) if p]
    if not phrasings:
        raise InputError("Enter at least one phrasing of the instruction.")
    texts = list(texts)
    neutral, placebo_note = placebo_for(phrasings, encoder.count_tokens) if include_placebo else ("", "")
    controls = ([""] if include_no_instruction else []) + ([neutral] if neutral else [])
    spaces = [*controls, *phrasings]
    vectors = _encode_each(encoder, texts, spaces, progress)
    checkpoint("comparing the phrasings")
    names = [placebo_label(p) if p and p == neutral else instruction_label(p) for p in spaces]
    report = phrasing_report(dict(zip(names, vectors)), labels, controls=names[: len(controls)],
                             placebo=placebo_label(neutral) if neutral else None, random_state=random_state)
    report.notes = [n for n in (truncation_note(encoder, texts, spaces), placebo_note, *report.notes) if n]
    return report


@dataclass
class ProjectionComparison:
    """Two layouts of the same texts (B aligned to A) with their label separation metrics.

    ``effect`` rows: knn_accuracy, silhouette; columns: metric, without (A), with (B), delta (B − A) with
    delta_low / delta_high (95 %), placebo (a neutral prefix as long as B) and b_vs_placebo with its interval.
    """

    coords_a: np.ndarray
    coords_b: np.ndarray
    metrics_a: dict[str, float | None]
    metrics_b: dict[str, float | None]
    effect: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def compare_projections(
    encoder: Encoder,
    texts: Sequence[str],
    labels: Sequence[object] | None,
    instruction_a: str | None,
    instruction_b: str | None,
    method: str = "umap",
    random_state: int = 0,
    progress: Progress | None = None,
    **params: object,
) -> ProjectionComparison:
    """Project ``texts`` embedded under instruction A and under B side by side, B aligned to A; with labels,
    the separation under A, B and B's placebo, and B − A and B − placebo with bootstrap intervals."""
    instruction_a, instruction_b = instruction_a or "", instruction_b or ""
    if instruction_a.strip() == instruction_b.strip():
        raise InputError("Instructions A and B are the same; change one of them to see its effect.")
    texts = list(texts)
    neutral, placebo_note = placebo_for([instruction_b], encoder.count_tokens)
    wanted = [instruction_a, instruction_b] + ([neutral] if labels is not None and neutral else [])
    emb_a, emb_b, *emb_placebo = _encode_each(encoder, texts, wanted, progress)
    checkpoint("the projection")
    coords_a, coords_b = project_pair(emb_a, emb_b, method=method, random_state=random_state, **params)
    notes = [n for n in (truncation_note(encoder, texts, wanted), sampled_fit_note(len(texts), method)) if n]
    if labels is None:
        return ProjectionComparison(coords_a, coords_b, {}, {}, pd.DataFrame(), notes)
    checkpoint("the label metrics")
    spaces = {"a": emb_a, "b": emb_b, **({"placebo": emb_placebo[0]} if emb_placebo else {})}
    effect, metrics, effect_notes = _separation_effect(spaces, labels, random_state)
    notes += [*effect_notes, *([placebo_note] if emb_placebo else [])]
    return ProjectionComparison(coords_a, coords_b, metrics["a"], metrics["b"], effect, notes)


def _separation_effect(spaces: dict[str, np.ndarray], labels: Sequence[object], random_state: int
                       ) -> tuple[pd.DataFrame, dict[str, dict[str, float | None]], list[str]]:
    """Spaces "a", "b" (and "placebo"): the effect table, each space's metrics, and notes."""
    scores = {name: text_scores(space, labels, random_state=random_state) for name, space in spaces.items()}
    note = scores["a"].note
    if not scores["a"].usable:
        empty = dict.fromkeys(SEPARATION_METRICS)
        return pd.DataFrame(), {name: empty for name in spaces}, [note]
    rows, metrics = [], {name: {} for name in spaces}
    for metric in SEPARATION_METRICS:
        boot = PairedBootstrap({name: getattr(s, metric) for name, s in scores.items()},
                               N_RESAMPLES, random_state)
        for name in spaces:
            metrics[name][metric] = boot.estimates[name]
        delta = boot.difference("b", "a")
        row = {"metric": metric, "without": boot.estimates["a"], "with": boot.estimates["b"], "delta": delta.estimate,
               "delta_low": delta.low, "delta_high": delta.high}
        if "placebo" in spaces:
            versus = boot.difference("b", "placebo")
            row.update({"placebo": boot.estimates["placebo"], "b_vs_placebo": versus.estimate,
                        "b_vs_placebo_low": versus.low, "b_vs_placebo_high": versus.high})
        rows.append(row)
    return pd.DataFrame(rows), metrics, [n for n in (note, interval_note(N_RESAMPLES, random_state)) if n]


def crossed_label_matrix(
    encoder: Encoder,
    texts: Sequence[str],
    label_columns: dict[str, Sequence[object]],
    instructions: Sequence[str | None],
    progress: Progress | None = None,
    random_state: int = 0,
) -> CrossedMatrix:
    """kNN accuracy and silhouette for (no instruction, placebo, each instruction) × each label column.

    The paper's claim at a glance: an instruction for a task should separate that task's labels best.
    """
    given = [i for i in check_instructions(instructions) if i.strip()]
    if not given:
        raise InputError("Enter at least one instruction (one per line) to cross with the label columns.")
    if not label_columns:
        raise InputError("Pick at least one label column.")
    texts = list(texts)
    neutral, placebo_note = placebo_for(given, encoder.count_tokens)
    spaces = ["", neutral, *given]
    vectors = _encode_each(encoder, texts, spaces, progress)
    checkpoint("the crossed matrix")
    names = [instruction_label(""), placebo_label(neutral), *(instruction_label(i) for i in given)]
    result = crossed_matrix(dict(zip(names, vectors)), label_columns, placebo=names[1], random_state=random_state)
    result.notes = [n for n in (truncation_note(encoder, texts, spaces), placebo_note, *result.notes) if n]
    return result


@dataclass
class InstructionMovement:
    """How neighbourhoods change from instruction A to B: per-text overlap (``movement``, with the placebo of
    B as reference) and both layouts, B aligned to A."""

    movement: NeighbourMovement
    coords_a: np.ndarray
    coords_b: np.ndarray
    placebo: str
    notes: list[str] = field(default_factory=list)


def neighbour_movement_between(
    encoder: Encoder,
    texts: Sequence[str],
    instruction_a: str | None,
    instruction_b: str | None,
    k: int = DEFAULT_K,
    method: str = "umap",
    random_state: int = 0,
    progress: Progress | None = None,
) -> InstructionMovement:
    """Each text's k-NN overlap between instruction A and B; the reference is A against B's placebo."""
    instruction_a, instruction_b = instruction_a or "", instruction_b or ""
    if instruction_a.strip() == instruction_b.strip():
        raise InputError("Instructions A and B are the same; change one of them to see neighbours move.")
    texts = list(texts)
    neutral, placebo_note = placebo_for([instruction_b], encoder.count_tokens)
    wanted = [instruction_a, instruction_b, *([neutral] if neutral else [])]
    emb_a, emb_b, *emb_placebo = _encode_each(encoder, texts, wanted, progress)
    checkpoint("the neighbour movement")
    movement = neighbour_movement(emb_a, emb_b, k, reference=emb_placebo[0] if emb_placebo else None,
                                  random_state=random_state)
    checkpoint("the projection")
    coords_a, coords_b = project_pair(emb_a, emb_b, method=method, random_state=random_state)
    notes = [n for n in (truncation_note(encoder, texts, wanted), placebo_note, *movement.notes,
                         sampled_fit_note(len(texts), method)) if n]
    return InstructionMovement(movement, coords_a, coords_b, neutral, notes)


def compare_models(
    encoder_a: Encoder,
    encoder_b: Encoder,
    texts: Sequence[str],
    labels: Sequence[object] | None,
    instruction: str | None,
    method: str = "umap",
    random_state: int = 0,
    progress: Progress | None = None,
    **params: object,
) -> ModelComparison:
    """The same texts under the same instruction in model A and model B ("which model follows it?").

    Each model encodes the instruction its own way; both spaces are projected with the same method, params
    and seed, B's map aligned onto A's. With labels: kNN accuracy and silhouette per model, the gain each
    model gets from the instruction (vs none) and each text's kNN verdict under A and B. From 3 texts on:
    each text's nearest-neighbour overlap between the two models' spaces.
    """
    _check_two_models(encoder_a, encoder_b)
    instruction = check_instructions([instruction])[0]
    texts = list(texts)
    # No instruction is the baseline that shows how much each model *follows* the instruction.
    instructions = [instruction, ""] if instruction else [""]
    spaces_a = _encode_each(encoder_a, texts, instructions, progress)
    spaces_b = _encode_each(encoder_b, texts, instructions, progress)
    coords_a, coords_b = project_pair(spaces_a[0], spaces_b[0], method=method, random_state=random_state, **params)
    notes = _comparison_notes(encoder_a, encoder_b, texts, labels, [instruction])
    if len(texts) < MIN_NEIGHBOURHOOD_POINTS:
        notes.append(f"With fewer than {MIN_NEIGHBOURHOOD_POINTS} texts both maps are drawn with PCA.")
    if labels is None:
        metrics, verdicts = pd.DataFrame(), pd.DataFrame()
    else:
        metrics = separation_table(spaces_a[0], spaces_b[0], labels, *(
            (spaces_a[1], spaces_b[1]) if instruction else ()))
        verdicts = text_verdicts(texts, labels, spaces_a[0], spaces_b[0])
    movement = neighbour_movement(spaces_a[0], spaces_b[0], random_state=random_state) if len(texts) >= 3 else None
    return ModelComparison(encoder_a.name, encoder_b.name, instruction, coords_a, coords_b, metrics, verdicts,
                           movement, notes)


def compare_models_phrasings(
    encoder_a: Encoder,
    encoder_b: Encoder,
    texts: Sequence[str],
    labels: Sequence[object] | None,
    phrasings: Sequence[str | None],
    include_no_instruction: bool = True,
    progress: Progress | None = None,
) -> ModelPhrasingComparison:
    """The same K phrasings (and none) scored under model A and model B: label separation side by side."""
    _check_two_models(encoder_a, encoder_b)
    if labels is None:
        raise InputError("Pick a label column: the two models are compared by how well each phrasing separates "
                         "the labels.")
    texts = list(texts)
    # no placebo here: each model's placebo is matched to its own tokenizer, so the rows would not pair up
    report_a = compare_phrasings(encoder_a, texts, labels, phrasings, include_no_instruction, progress,
                                 include_placebo=False)
    report_b = compare_phrasings(encoder_b, texts, labels, phrasings, include_no_instruction, progress,
                                 include_placebo=False)
    notes = _comparison_notes(encoder_a, encoder_b, texts, labels, phrasings)
    return ModelPhrasingComparison(encoder_a.name, encoder_b.name, phrasing_table(report_a.metrics, report_b.metrics),
                                   report_a.best, report_b.best, notes)


def _check_two_models(encoder_a: Encoder, encoder_b: Encoder) -> None:
    """InputError when A and B are one model (the same weights under two names, e.g. auto and instructor-mini)."""
    if encoder_a is encoder_b or encoder_a.identity == encoder_b.identity:
        raise InputError(f"Model A and model B are the same model (`{encoder_a.name}`); pick a different model B.")


def _comparison_notes(encoder_a: Encoder, encoder_b: Encoder, texts: Sequence[str], labels: Sequence[object] | None,
                      instructions: Sequence[str | None]) -> list[str]:
    """What a reader of a two-model comparison should know: truncation per model (each has its own
    tokenizer and limit), models never trained with instructions, too few or no labels, different sizes."""
    notes = []
    for side, encoder in (("A", encoder_a), ("B", encoder_b)):
        cut = truncation_note(encoder, texts, instructions)
        if cut:
            notes.append(f"Model {side} (`{encoder.name}`): {cut}")
        if not encoder.instruction_tuned:
            notes.append(f"Model {side} (`{encoder.name}`) was never trained with instructions, so any effect an "
                         "instruction has on it is incidental.")
    if encoder_a.dim != encoder_b.dim:
        notes.append(f"The spaces differ in size ({encoder_a.dim}-d vs {encoder_b.dim}-d): each model is scored in "
                     "its own space, and only the 2-D maps are aligned.")
    if labels is None:
        notes.append("No label column: the maps are drawn, but neither model can be scored.")
    else:
        labelled = labelled_count(labels)
        if labelled < MIN_RELIABLE_TEXTS:
            notes.append(f"Only {labelled} labelled texts: a difference of a few points between the models can be "
                         "chance.")
    return notes


@dataclass
class ClusteredTable:
    """The user's table with ``cluster``, ``cluster_keywords``, ``x``, ``y`` added to every original column."""

    frame: pd.DataFrame
    summary: pd.DataFrame
    embeddings: np.ndarray  # one row per row of ``frame``; NaN where the text was empty
    n_clusters: int
    silhouette: float | None
    notes: list[str] = field(default_factory=list)


def cluster_texts(
    encoder: Encoder,
    frame: pd.DataFrame,
    texts: Sequence[str],
    row_index: np.ndarray,
    instruction: str | None = None,
    method: str = "kmeans",
    n_clusters: int | str = "auto",
    projection: str = "umap",
    random_state: int = 0,
    progress: Progress | None = None,
    sample_above: int = SAMPLE_ABOVE,
    fit_rows: int = FIT_ROWS,
) -> ClusteredTable:
    """Embed ``texts`` (rows ``row_index`` of ``frame``), cluster and project them, and return the table.

    Rows whose text was empty keep all their columns, with an empty cluster and no coordinates; a user
    column already named like an added one is kept as ``<name>_original``. Running it again on the same table
    with another k, algorithm or projection reuses what did not change: the encoder's cached vectors and the
    library's cached clusterings, kNN graph, layout and keyword counts. Above ``sample_above`` texts the layout
    is fitted on a sample (:func:`~instructor_core.projection.project`; a note says so).
    """
    check_size(len(texts), method)  # before minutes of embedding, not after
    vectors = encoder.encode(list(texts), instruction=instruction or None, progress=progress)
    checkpoint("clustering")
    result = cluster(vectors, method=method, n_clusters=n_clusters, random_state=random_state)
    checkpoint("the projection")
    coords = project(vectors, method=projection, random_state=random_state, sample_above=sample_above,
                     fit_rows=fit_rows)
    checkpoint("the keywords")
    summary = cluster_summary(list(texts), vectors, result.labels)
    keywords = dict(zip(summary["cluster"], summary["keywords"]))

    out = frame.copy()
    for column in ("cluster", "cluster_keywords", "x", "y"):
        if column in out.columns:
            out = out.rename(columns={column: f"{column}_original"})
    out["cluster"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out["cluster_keywords"] = pd.Series([""] * len(out), dtype=object).to_numpy()
    out["x"], out["y"] = np.nan, np.nan
    positions = np.asarray(row_index)
    out.iloc[positions, out.columns.get_loc("cluster")] = result.labels
    out.iloc[positions, out.columns.get_loc("cluster_keywords")] = [keywords.get(c, "") for c in result.labels]
    out.iloc[positions, out.columns.get_loc("x")] = coords[:, 0]
    out.iloc[positions, out.columns.get_loc("y")] = coords[:, 1]

    notes = [truncation_note(encoder, texts, [instruction]), *result.notes,  # clustering's: HDBSCAN's noise share
             sampled_fit_note(len(vectors), projection, sample_above, fit_rows)]
    return ClusteredTable(out, summary, table_embeddings(vectors, positions, len(frame)), result.n_clusters,
                          result.silhouette, [n for n in notes if n])


def table_embeddings(vectors: np.ndarray, row_index: np.ndarray, n_rows: int) -> np.ndarray:
    """Vectors of the kept rows placed at their table positions; NaN rows where the text was empty,
    so row i of the embeddings file is row i of the user's table."""
    embeddings = np.full((n_rows, vectors.shape[1]), np.nan, dtype=np.float32)
    embeddings[np.asarray(row_index)] = vectors
    return embeddings


def _encode_each(
    encoder: Encoder, texts: list[str], instructions: Sequence[str], progress: Progress | None
) -> list[np.ndarray]:
    """``texts`` under each instruction in one call (one progress bar over all of it), split back."""
    n = len(texts)
    if n == 0:
        raise InputError("There are no texts to embed.")
    vectors = encoder.encode(texts * len(instructions), instruction=[i for i in instructions for _ in texts],
                             progress=progress)
    return [vectors[k * n : (k + 1) * n] for k in range(len(instructions))]
