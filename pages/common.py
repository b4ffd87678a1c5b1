"""What every page shares: the app context, error-to-message wiring, progress, dataset pickers."""

from __future__ import annotations

import functools
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd
from gradio.context import LocalContext

from instructor_core import InputError, JobStopped, ModelLoadError, jobs
from instructor_core.data import (
    DEFAULT_MAX_ROWS,
    guess_label_column,
    guess_text_column,
    prepare_labels,
    prepare_texts,
    read_table,
)
from instructor_core.encoder import Encoder, Progress
from instructor_core.export import spreadsheet_safe
from instructor_core.models import BUNDLED_BASE, INSTRUCTOR_MINI
from instructor_core.pool import EncoderPool
from instructor_core.samples import BUILTIN_DATASETS, load_builtin_dataset

log = logging.getLogger(__name__)

UPLOAD = "Upload a CSV…"
NONE = "(none)"
OUTPUT_MAX_AGE_S = 3600  # downloads are kept this long; Gradio serves its own copy meanwhile


class RunningJobs:
    """The jobs running now, by (browser session, action), so a page's Cancel button stops its own run."""

    def __init__(self) -> None:
        self._jobs: dict[tuple[str, str], list[jobs.Job]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def running(self, key: tuple[str, str], job: jobs.Job) -> Iterator[jobs.Job]:
        with self._lock:
            self._jobs.setdefault(key, []).append(job)
        try:
            yield job
        finally:
            with self._lock:
                self._jobs[key].remove(job)
                if not self._jobs[key]:
                    del self._jobs[key]

    def __len__(self) -> int:
        """How many jobs are running."""
        with self._lock:
            return sum(len(running) for running in self._jobs.values())

    def cancel(self, key: tuple[str, str]) -> int:
        """Cancel the jobs running under ``key``; how many there were."""
        with self._lock:
            running = list(self._jobs.get(key, []))
        for job in running:
            job.cancel()
        return len(running)


@dataclass
class AppContext:
    """Settings and shared objects every page needs."""

    pool: EncoderPool
    max_rows: int = DEFAULT_MAX_ROWS
    hosted: bool = False
    time_limit: int | None = None  # seconds a main action may run (hosted mode)
    output_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="instructor-explorer-")))
    jobs: RunningJobs = field(default_factory=RunningJobs)


def status(message: str = "", kind: str = "info") -> str:
    """Markdown for a page's status line; ``kind`` is info, warning or error."""
    icon = {"info": "ℹ️", "warning": "⚠️", "error": "⛔"}[kind]
    return f"{icon} {message}" if message else ""


def guarded(n_outputs: int) -> Callable:
    """Wrap a handler whose last output is a status Markdown: user errors become a message there,
    unexpected ones a short apology (logged with the traceback); other outputs keep their values."""

    def decorate(handler: Callable) -> Callable:
        @functools.wraps(handler)
        def wrapper(*args, **kwargs):
            try:
                return handler(*args, **kwargs)
            except (InputError, ModelLoadError) as err:
                message = status(str(err), "error")
            except JobStopped as err:
                message = status(str(err), "warning")
            except Exception as err:  # noqa: BLE001 - a page must never show a traceback
                log.exception("handler %s failed", handler.__name__)
                message = status(f"Something went wrong ({type(err).__name__}: {err}). Your inputs are unchanged.",
                                 "error")
            return (*[gr.update() for _ in range(n_outputs - 1)], message)

        return wrapper

    return decorate


def main_action(ctx: AppContext, action: str, n_outputs: int) -> Callable:
    """:func:`guarded`, run as a :class:`~instructor_core.jobs.Job`: the time limit holds (the core stops
    between batches and stages, and refuses work its measured speed says cannot finish, saying how many
    rows would fit), and a Cancel button (:func:`wire_cancel` with the same ``action``) stops it."""

    def decorate(handler: Callable) -> Callable:
        safe = guarded(n_outputs)(handler)

        @functools.wraps(handler)
        def wrapper(*args, **kwargs):
            job = jobs.Job(time_limit=ctx.time_limit)
            with ctx.jobs.running((_session(), action), job), job:
                return safe(*args, **kwargs)

        wrapper.job_action = action  # which Cancel stops it (see tests/test_jobs.py)
        return wrapper

    return decorate


def _session() -> str:
    """The browser session of the request being handled (Gradio sets it for the handler's thread)."""
    request = LocalContext.request.get(None)
    return getattr(request, "session_hash", None) or ""


def cancel_button(elem_id: str) -> gr.Button:
    """The Cancel button placed beside a page's run button; :func:`wire_cancel` makes it work."""
    return gr.Button("Cancel", variant="stop", size="sm", scale=0, min_width=120, elem_id=elem_id)


def wire_cancel(ctx: AppContext, action: str, button: gr.Button, run_event: gr.events.Dependency,
                message: gr.Markdown) -> None:
    """``button`` stops this session's running ``action`` (a :func:`main_action`): the core checks the job's
    flag between batches and stages, so the work really ends and frees its worker; the page stops waiting."""

    def cancel(request: gr.Request):
        stopped = ctx.jobs.cancel((getattr(request, "session_hash", None) or "", action))
        return status("Cancelled." if stopped else "Nothing was running.", "warning")

    button.click(cancel, None, message, cancels=[run_event], api_visibility="private")


def progress_callback(progress: gr.Progress, what: str = "Embedding", expected_s: float | None = None,
                      then: str = "") -> Progress:
    """Adapt ``gr.Progress`` to the core's ``progress(done, total)`` callback; the text says about how long
    is left (``expected_s``, an estimate made before starting, until the first batch is measured) and, once
    every text is done, what comes ``then`` (so a long clustering step does not look like a stalled bar)."""
    time_left = jobs.TimeLeft(expected_s)

    def report(done: int, total: int) -> None:
        progress((done, total), desc=progress_text(what, done, total, time_left(done, total), then), unit="texts")

    return report


def progress_text(what: str, done: int, total: int, left_s: float | None, then: str = "") -> str:
    """ "Embedding 1,200/100,000 texts · about 6 min left on this machine"; when done, "· done, now ``then``"."""
    text = f"{what} {done:,}/{total:,} texts"
    if done >= total:
        return f"{text} · done, now {then}" if then else text
    return text if left_s is None else f"{text} · about {jobs.duration(left_s)} left on this machine"


def model_banner(encoder: Encoder, hosted: bool = False) -> str:
    """Markdown naming the active model, how an instruction reaches it, and whether it was ever trained
    to follow one (with the catalogue's note on the model, if any); a hosted visitor is pointed to the
    Model menu, never to commands they cannot run."""
    profile, entry = encoder.profile, encoder.source.entry
    text = f"**Model:** `{encoder.name}` · {encoder.dim}-d · {encoder.device} · {profile.describe()}"
    note = f" ({entry.note})" if entry else ""
    advice = (f"For instruction-following pick `{INSTRUCTOR_MINI}` in the Model menu." if hosted
              else "For the real thing run `python app.py --model hkunlp/instructor-large`.")
    if profile.instructions == "free":
        return text + f" · instruction-tuned ✅{note}"
    if profile.instructions == "fixed":
        prefixes = ", ".join(f"`{p}`" for _, p in profile.presets) or "its named prompts"
        return text + f" · trained with fixed prefixes only ({prefixes}), not free instructions{note}. {advice}"
    return text + (
        f" · **not instruction-tuned**: instructions were never part of its training, so instruction effects "
        f"will be weak{note}. {advice}"
    )


PREVIEW_TEXT = "⟨text⟩"


def loaded_encoder(ctx: AppContext, model_name: str) -> Encoder | None:
    """The encoder for ``model_name``, or None when it cannot load (the model picker says why)."""
    try:
        return ctx.pool.get(model_name)
    except (InputError, ModelLoadError):
        return None


def preview_markdown(encoder: Encoder, instructions: list[str | None], who: str = "The model") -> str:
    """Markdown: the exact string the model reads for each instruction (its family's template applied),
    with the text shown as ⟨text⟩ and line breaks as ↵."""
    shown = [encoder.model_input(PREVIEW_TEXT, ins).replace("`", "'").replace("\n", "↵") for ins in instructions]
    if len(shown) == 1:
        return f"{who} reads: `{shown[0]}`"
    return f"{who} reads:\n" + "\n".join(f"- `{line}`" for line in shown)


def instruction_preview(ctx: AppContext, model: gr.Dropdown, box: gr.components.Component,
                        to_instructions: Callable[[object], list[str | None]] = lambda value: [value],
                        elem_id: str | None = None, who: str = "The model") -> gr.Markdown:
    """A small line under an instruction ``box`` with what the model reads; it follows the box and the
    model picker. ``to_instructions`` turns the box's value into instructions (one per line, per row)."""

    def render(model_name: str, value: object) -> str:
        encoder = loaded_encoder(ctx, model_name)
        return preview_markdown(encoder, to_instructions(value), who) if encoder else ""

    preview = gr.Markdown(render(model.value, box.value), elem_id=elem_id, elem_classes=["instruction-preview"])
    for event in (box.change, model.change):
        event(render, [model, box], preview, api_visibility="private", show_progress="hidden", queue=False)
    return preview


def model_b_picker(model: gr.Dropdown, elem_id: str) -> gr.Dropdown:
    """A second model picker for "compare two models": the main picker's choices, and a default other
    than the main picker's model (the base model next to the instruction-tuned one, when both are offered)."""
    values = [value for _, value in model.choices]
    default = next((v for v in (BUNDLED_BASE, INSTRUCTOR_MINI, *values) if v in values and v != model.value), None)
    return gr.Dropdown(model.choices, value=default, label="Model B", allow_custom_value=model.allow_custom_value,
                       elem_id=elem_id, info="compared with the model picked at the top (A)")


def model_columns(frame: pd.DataFrame, model_a: str, model_b: str) -> pd.DataFrame:
    """A two-model table for display (rounded): model_a / model_b / delta named after the models, and
    ``x_a`` / ``x_b`` / ``x_delta`` as ``x (A)`` / ``x (B)`` / ``x (B − A)``."""
    whole = {"model_a": f"A: {model_a}", "model_b": f"B: {model_b}", "delta": "B − A"}

    def rename(column: str) -> str:
        if column in whole:
            return whole[column]
        for suffix, side in (("_a", "A"), ("_b", "B"), ("_delta", "B − A")):
            if column.endswith(suffix):
                return f"{column[: -len(suffix)]} ({side})"
        return column

    return frame.round(4).rename(columns=rename)


# ----- datasets: a built-in sample or an uploaded CSV -----------------------------------------------


def dataset_choices() -> list[str]:
    return [*BUILTIN_DATASETS, UPLOAD]


def load_frame(choice: str, upload: str | None, max_rows: int) -> tuple[pd.DataFrame, list[str]]:
    """The chosen table and notes about reading it (encoding, skipped rows)."""
    if choice == UPLOAD:
        if not upload:
            raise InputError("Upload a CSV or TSV file first (or pick a built-in dataset).")
        table = read_table(upload, max_rows=max_rows)
        return table.frame, table.notes
    if choice not in BUILTIN_DATASETS:
        raise InputError(f"Unknown dataset '{choice}'.")
    return load_builtin_dataset(choice), []


def column_updates(choice: str, upload: str | None, max_rows: int, with_label: bool = True):
    """Dropdown updates for the text and label (colour) columns after the dataset changes, plus a status."""
    frame, notes = load_frame(choice, upload, max_rows)
    columns = list(frame.columns)
    text_column = BUILTIN_DATASETS[choice]["text_column"] if choice in BUILTIN_DATASETS else guess_text_column(frame)
    label_column = (BUILTIN_DATASETS[choice]["label_columns"][0] if choice in BUILTIN_DATASETS
                    else guess_label_column(frame, exclude=[text_column] if text_column else []))
    message = f"{len(frame):,} rows, {len(columns)} columns." + "".join(f" {n}" for n in notes)
    updates = [gr.update(choices=columns, value=text_column or columns[0])]
    if with_label:
        updates.append(gr.update(choices=[NONE, *columns], value=label_column or NONE))
    return (*updates, status(message))


@dataclass
class Dataset:
    """Texts (empty ones dropped) and optional labels read from a table, ready for the core."""

    frame: pd.DataFrame
    texts: list[str]
    row_index: np.ndarray  # positions in ``frame`` of the kept texts
    labels: np.ndarray | None
    notes: list[str]


def load_dataset(choice: str, upload: str | None, text_column: str, label_column: str | None,
                 max_rows: int) -> Dataset:
    """Read the chosen table and take its texts (and labels, unless ``label_column`` is none)."""
    frame, notes = load_frame(choice, upload, max_rows)
    prepared = prepare_texts(frame, text_column)
    job = jobs.current()
    if job is not None:  # lets a stop at the time limit say how many rows would fit
        job.rows = len(prepared.texts)
    notes = [*notes, *prepared.notes]
    labels = None
    if label_column and label_column != NONE:
        if label_column not in frame.columns:
            raise InputError(f"Column '{label_column}' is not in the table. Columns: {', '.join(frame.columns)}.")
        labels, label_notes = prepare_labels(frame[label_column].iloc[prepared.row_index])
        notes += label_notes
    return Dataset(frame, prepared.texts, prepared.row_index, labels, notes)


def output_path(ctx: AppContext, name: str) -> Path:
    """A path for a download in a fresh per-request folder; folders older than an hour are removed."""
    cutoff = time.time() - OUTPUT_MAX_AGE_S
    for old in ctx.output_dir.iterdir():
        if old.is_dir() and old.stat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(dir=ctx.output_dir)) / name


def write_csv(frame: pd.DataFrame, ctx: AppContext, name: str) -> str:
    """Write ``frame`` for download, spreadsheet formulas neutralised."""
    path = output_path(ctx, name)
    spreadsheet_safe(frame).to_csv(path, index=False)
    return str(path)


def upload_updates(upload: str | None, max_rows: int, with_label: bool = True):
    """Widget updates after a file is uploaded or removed: the Dataset switches to the upload even when
    the file cannot be read, so Run reports the problem instead of quietly using a built-in set; an
    unreadable or removed file empties the column pickers and its "N rows" line."""
    if upload:
        try:
            return gr.update(value=UPLOAD), *column_updates(UPLOAD, upload, max_rows, with_label)
        except InputError as err:
            message = status(str(err), "error")
    else:
        message = ""
    label = [gr.update(choices=[NONE], value=NONE)] if with_label else []
    return gr.update(value=UPLOAD), gr.update(choices=[], value=None), *label, message


@dataclass
class DatasetInputs:
    """The widgets that pick a table and its columns."""

    choice: gr.Dropdown
    upload: gr.File
    text_column: gr.Dropdown
    label_column: gr.Dropdown | None
    message: gr.Markdown

    def clears(self, results: list[gr.components.Component]) -> None:
        """Empty a page's ``results`` whenever the user changes the dataset, so no output of the previous
        table stays on screen next to the new one."""
        for event in (self.choice.input, self.upload.upload, self.upload.clear):
            event(lambda: [None] * len(results), None, results, api_visibility="private")


def dataset_inputs(ctx: AppContext, prefix: str, label_title: str = "Label column",
                   with_label: bool = True, default: str | None = None) -> DatasetInputs:
    """A dataset dropdown (built-in sets or an upload), the upload box and column pickers, wired up."""
    default = default or next(iter(BUILTIN_DATASETS))
    spec = BUILTIN_DATASETS[default]
    columns = list(load_builtin_dataset(default).columns)
    with gr.Row():
        choice = gr.Dropdown(dataset_choices(), value=default, label="Dataset", scale=2, elem_id=f"{prefix}-dataset")
        upload = gr.File(label=f"CSV / TSV (up to {ctx.max_rows:,} rows)", file_types=[".csv", ".tsv", ".txt"],
                         scale=2, elem_id=f"{prefix}-upload")
        # Custom values: API callers name columns of other tables; the handlers check they exist.
        text_column = gr.Dropdown(columns, value=spec["text_column"], label="Text column", scale=1,
                                  allow_custom_value=True, elem_id=f"{prefix}-text-column")
        label_column = (gr.Dropdown([NONE, *columns], value=spec["label_columns"][0], label=label_title, scale=1,
                                    allow_custom_value=True, elem_id=f"{prefix}-label-column") if with_label else None)
    message = gr.Markdown(elem_id=f"{prefix}-data-status")
    outputs = [text_column, *([label_column] if with_label else []), message]

    @guarded(len(outputs))
    def refresh(choice_value, upload_value):
        return column_updates(choice_value, upload_value, ctx.max_rows, with_label)

    def on_upload(upload_value):
        return upload_updates(upload_value, ctx.max_rows, with_label)

    upload.upload(on_upload, upload, [choice, *outputs], api_visibility="private")
    upload.clear(on_upload, upload, [choice, *outputs], api_visibility="private")
    choice.input(refresh, [choice, upload], outputs, api_visibility="private")
    return DatasetInputs(choice, upload, text_column, label_column, message)
