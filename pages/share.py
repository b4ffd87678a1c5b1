"""Page state in the address bar: each run writes its page's inputs into the URL query, so the URL is a
link to that comparison; opening such a link restores those inputs and shows the page's result.

On every visit each page's main action runs once with the inputs shown (the page's first example, or
what the link restored), so a first-time visitor sees a real result before clicking anything. The
results for the examples are computed once per model (at start-up, or by the first visitor) and served
from :class:`FirstVisitCache` to everyone after, so visitors do not each pay for UMAP, clustering and
bootstrap intervals.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from dataclasses import dataclass, field
from urllib.parse import urlencode

import gradio as gr

from instructor_core.instructions import NO_INSTRUCTION
from instructor_core.samples import BUILTIN_DATASETS, load_builtin_dataset

import pandas as pd

from .common import NONE, OUTPUT_MAX_AGE_S, AppContext, DatasetInputs, loaded_encoder

log = logging.getLogger(__name__)

# Runs in the browser after a page's run: puts the query the server encoded into the address bar.
SET_URL_JS = "(query) => { if (query) { window.history.replaceState(null, '', window.location.pathname + query); } }"
MAX_QUERY_VALUE = 4000  # characters per field; a longer text is left out of the link (browsers cap URLs)
# A cached first-visit result is served this long; its downloads live OUTPUT_MAX_AGE_S, so every visitor
# who gets it still has at least half an hour to download them.
FIRST_VISIT_MAX_AGE_S = OUTPUT_MAX_AGE_S // 2


@dataclass
class SharedPage:
    """What one page shares: its tab id, the inputs kept in the URL (query key -> component), the
    actions shown on a first visit (handler, inputs, outputs) and the run events that update the URL."""

    tab: str
    fields: dict[str, gr.components.Component]
    actions: list[tuple[Callable, list, list]]
    runs: list = field(default_factory=list)
    dataset: DatasetInputs | None = None
    # menus whose choices come from a built-in dataset (name -> {component: choices}); a link to another
    # dataset than the page opened with gets that dataset's menu, and all of it when the link names none
    dataset_menus: Callable[[str], dict[gr.components.Component, list[str]]] | None = None


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
        for component, choices in (page.dataset_menus(query["dataset"]) if page.dataset_menus else {}).items():
            value = updates.get(component)
            updates[component] = gr.update(choices=choices, value=choices if value is None else value)
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
    if isinstance(component, gr.Dropdown) and component.multiselect:
        return json.dumps([str(v) for v in (value or [])])
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
    if isinstance(component, gr.Dropdown) and component.multiselect:
        try:
            values = json.loads(raw)
        except ValueError:
            return None
        offered = [value for _, value in component.choices]
        if not isinstance(values, list) or not all(
                isinstance(v, str) and (v in offered or component.allow_custom_value) for v in values):
            return None
        return values
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


class FirstVisitCache:
    """Each page's first-visit results for its example inputs, per resolved model: computed once, then
    served to every visitor for FIRST_VISIT_MAX_AGE_S (never once a download it names is gone). Other
    inputs (a shared link's) are computed as usual; only the examples are kept, so memory stays bounded."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self._results: dict[tuple[str, str], tuple[float, tuple]] = {}
        self._locks: defaultdict[tuple[str, str], threading.Lock] = defaultdict(threading.Lock)
        self._guard = threading.Lock()

    def serve(self, pages: Sequence[SharedPage], model: gr.components.Component) -> None:
        """Make every page's first-visit actions answer from this cache."""
        for page in pages:
            page.actions = [(self.wrap(f"{page.tab}/{i}", handler, inputs, model), inputs, outputs)
                            for i, (handler, inputs, outputs) in enumerate(page.actions)]

    def wrap(self, name: str, handler: Callable, inputs: list, model: gr.components.Component) -> Callable:
        """``handler`` (whose inputs include the ``model`` picker), answering from the cache when called
        with the inputs as built; visitors arriving while it computes wait for that one result."""
        at, n = inputs.index(model), len(inputs)
        examples = _canonical([_initial_value(c) for i, c in enumerate(inputs) if i != at])

        @functools.wraps(handler)
        def cached(*args, **kwargs):  # Gradio passes gr.Progress positionally, after the inputs
            encoder = loaded_encoder(self._ctx, args[at])
            if encoder is None or _canonical([v for i, v in enumerate(args[:n]) if i != at]) != examples:
                return handler(*args, **kwargs)
            key = (name, encoder.name)
            with self._guard:
                lock = self._locks[key]
            with lock:
                hit = self._results.get(key)
                if hit is not None and self._usable(*hit):
                    return hit[1]
                result = handler(*args, **kwargs)
                if _complete(result):
                    self._results[key] = (time.monotonic(), result)
                return result

        return cached

    def _usable(self, made: float, result: tuple) -> bool:
        """Young enough, and every download it names still on disk."""
        if time.monotonic() - made > FIRST_VISIT_MAX_AGE_S:
            return False
        folder = str(self._ctx.output_dir)
        return all(Path(v).exists() for v in result if isinstance(v, str) and v.startswith(folder))


def _complete(result: object) -> bool:
    """A real result, not a failed or cancelled run (those leave ``gr.update()`` in the other outputs)."""
    return isinstance(result, tuple) and not any(isinstance(v, dict) and v.get("__type__") == "update"
                                                 for v in result)


def _canonical(values: Sequence) -> str:
    """``values`` as comparable text: a table by its cells, numbers as floats (a slider may send 15 or 15.0)."""

    def plain(value: object) -> object:
        if isinstance(value, pd.DataFrame):
            return [list(value.columns), value.astype(object).where(value.notna(), None).values.tolist()]
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        return value

    return json.dumps([plain(v) for v in values], default=str)


def warm_up(pages: Sequence[SharedPage]) -> None:
    """Run every page's first-visit actions once (at start-up, in the background), so the first visitor
    finds the examples' results ready (in the :class:`FirstVisitCache` the actions answer from)."""
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
