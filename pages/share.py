"""Page state in the address bar: each run writes its page's inputs into the URL query, so the URL is a
link to that comparison; opening such a link restores those inputs and shows the page's result.

On every visit each page's main action runs once with the inputs shown (the page's first example, or
what the link restored), so a first-time visitor sees a real result before clicking anything.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

import gradio as gr

from instructor_core.instructions import NO_INSTRUCTION
from instructor_core.samples import BUILTIN_DATASETS, load_builtin_dataset

from .common import NONE, DatasetInputs

log = logging.getLogger(__name__)

# Runs in the browser after a page's run: puts the query the server encoded into the address bar.
SET_URL_JS = "(query) => { if (query) { window.history.replaceState(null, '', window.location.pathname + query); } }"
MAX_QUERY_VALUE = 4000  # characters per field; a longer text is left out of the link (browsers cap URLs)


@dataclass
class SharedPage:
    """What one page shares: its tab id, the inputs kept in the URL (query key -> component), the
    actions shown on a first visit (handler, inputs, outputs) and the run events that update the URL."""

    tab: str
    fields: dict[str, gr.components.Component]
    actions: list[tuple[Callable, list, list]]
    runs: list = field(default_factory=list)
    dataset: DatasetInputs | None = None


def encode_query(tab: str, model: str, fields: Mapping[str, gr.components.Component], values: Sequence) -> str:
    """``?tab=...&model=...&key=value...`` for the page's current inputs; an uploaded table cannot travel
    in a link, so a page on an upload shares only its tab and model."""
    params = {"tab": tab, "model": model or ""}
    for (key, component), value in zip(fields.items(), values):
        params[key] = _encode(component, value)
    if params.get("dataset") not in BUILTIN_DATASETS and "dataset" in params:
        params = {"tab": tab, "model": params["model"]}
    return "?" + urlencode({k: v for k, v in params.items() if len(v) <= MAX_QUERY_VALUE})


def restore(pages: Sequence[SharedPage], tabs: gr.Tabs, query: Mapping[str, str]) -> dict:
    """Component updates that put the page named by ``query["tab"]`` back as the link describes; values
    a widget cannot take (an unknown dataset, a method not offered) are ignored."""
    page = next((p for p in pages if p.tab == query.get("tab")), None)
    if page is None:
        return {}
    updates: dict = {tabs: gr.Tabs(selected=page.tab)}
    label_column = page.dataset.label_column if page.dataset else None
    for key, component in page.fields.items():
        if key in query and component is not label_column:  # a label is checked against the table's columns
            value = _decode(component, query[key])
            if value is not None:
                updates[component] = value
    if page.dataset is not None and query.get("dataset") in BUILTIN_DATASETS:
        updates.update(_dataset_columns(page.dataset, query["dataset"], query.get("label")))
    elif label_column is not None and query.get("label") in [value for _, value in label_column.choices]:
        updates[label_column] = query["label"]
    return updates


def _dataset_columns(data: DatasetInputs, name: str, label: str | None) -> dict:
    """Column pickers for built-in dataset ``name``, the label column from the link when it has one."""
    spec, columns = BUILTIN_DATASETS[name], list(load_builtin_dataset(name).columns)
    updates = {data.text_column: gr.update(choices=columns, value=spec["text_column"])}
    if data.label_column is not None:
        chosen = label if label in [NONE, *columns] else spec["label_columns"][0]
        updates[data.label_column] = gr.update(choices=[NONE, *columns], value=chosen)
    return updates


def _encode(component: gr.components.Component, value: object) -> str:
    if isinstance(component, gr.Dataframe):
        rows = value.get("data", []) if isinstance(value, dict) else getattr(value, "values", value)
        return json.dumps(["" if not row or row[0] is None else str(row[0]) for row in list(rows or [])])
    if isinstance(component, gr.Checkbox):
        return "1" if value else "0"
    return "" if value is None else str(value)


def _decode(component: gr.components.Component, raw: str) -> object | None:
    """The widget value ``raw`` stands for, or None when the widget cannot take it."""
    if isinstance(component, gr.Dataframe):
        try:
            rows = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(rows, list) or not all(isinstance(r, str) for r in rows):
            return None
        return [[r or NO_INSTRUCTION] for r in rows]
    if isinstance(component, gr.Checkbox):
        return raw == "1"
    if isinstance(component, (gr.Slider, gr.Number)):
        try:
            return float(raw)
        except ValueError:
            return None
    if isinstance(component, (gr.Radio, gr.Dropdown)):
        offered = [value for _, value in component.choices]
        if raw not in offered and not getattr(component, "allow_custom_value", False):
            return None
    return raw


def warm_up(pages: Sequence[SharedPage]) -> None:
    """Run every page's first-visit actions once (at start-up, in the background), so the examples'
    embeddings are cached and the first visitor's results come back without model time."""
    for page in pages:
        for handler, inputs, _ in page.actions:
            quiet = {"progress": lambda *_, **__: None} if "progress" in inspect.signature(handler).parameters else {}
            result = handler(*[_initial_value(c) for c in inputs], **quiet)
            if isinstance(result[-1], str) and result[-1].startswith("⛔"):
                log.warning("first-visit result of the %s page failed: %s", page.tab, result[-1])


def _initial_value(component: gr.components.Component) -> object:
    """The value a handler receives for ``component`` as built (a table as rows, like the UI sends it)."""
    if isinstance(component, gr.Dataframe):
        return component.preprocess(component.data_model(**component.value))
    return component.value
