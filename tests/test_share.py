"""Shared links (issue 17, item 6): a page's inputs written to the URL query come back as the same
widget values; what a widget cannot take is ignored, and uploads never travel in a link."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import parse_qsl

import gradio as gr
import pytest

from instructor_core.instructions import NO_INSTRUCTION
from instructor_core.samples import QUESTIONS, REVIEWS
from pages import share
from pages.common import OUTPUT_MAX_AGE_S, UPLOAD, AppContext, dataset_inputs


@pytest.fixture(scope="module")
def page():
    """A page with every kind of shared widget, built the way the real pages build theirs."""
    ctx = AppContext(pool=None)  # type: ignore[arg-type]  # building widgets loads no model
    with gr.Blocks():
        with gr.Tabs() as tabs:
            with gr.Tab("Demo", id="demo"):
                data = dataset_inputs(ctx, "demo")
                fields = {
                    "dataset": data.choice, "label": data.label_column,
                    "text": gr.Textbox(value="A text"),
                    "instructions": gr.Dataframe(value=[["Represent it: "], [NO_INSTRUCTION]], headers=["instruction"],
                                                 column_count=1, type="array"),
                    "method": gr.Radio(["UMAP", "PCA"], value="UMAP"), "none": gr.Checkbox(value=True),
                    "k": gr.Dropdown(["auto", "2"], value="auto", allow_custom_value=True),
                }
    return share.SharedPage("demo", fields, [], dataset=data), tabs


def _query(url: str) -> dict[str, str]:
    assert url.startswith("?")
    return dict(parse_qsl(url[1:], keep_blank_values=True))


def test_a_link_restores_every_field(page):
    shared, tabs = page
    values = [QUESTIONS, "answer_type", "Who discovered penicillin? & why", [["Represent the question: "], [""]],
              "PCA", False, "7"]
    query = _query(share.encode_query("demo", "instructor-mini", shared.fields, values))
    assert query["tab"] == "demo" and query["model"] == "instructor-mini"
    updates = share.restore([shared], tabs, query)
    fields = shared.fields
    assert updates[fields["dataset"]] == QUESTIONS
    assert updates[fields["text"]] == "Who discovered penicillin? & why"
    assert updates[fields["instructions"]] == [["Represent the question: "], [NO_INSTRUCTION]]
    assert (updates[fields["method"]], updates[fields["none"]], updates[fields["k"]]) == ("PCA", False, "7")
    label = updates[shared.dataset.label_column]  # the question set's columns, with the link's label chosen
    assert label["value"] == "answer_type" and "topic" in label["choices"]
    assert updates[shared.dataset.text_column]["value"] == "text"
    assert updates[tabs].selected == "demo"


def test_values_a_widget_cannot_take_are_ignored(page):
    shared, tabs = page
    updates = share.restore([shared], tabs, {"tab": "demo", "dataset": "No such set", "method": "MDS",
                                             "instructions": "not json", "label": "nope"})
    assert set(updates) == {tabs}  # nothing restored, the page keeps its example
    assert share.restore([shared], tabs, {"tab": "elsewhere", "text": "x"}) == {}


def test_an_upload_is_not_put_in_a_link(page):
    shared, _ = page
    values = [UPLOAD, "label", "private text", [["x"]], "UMAP", True, "auto"]
    assert _query(share.encode_query("demo", "instructor-mini", shared.fields, values)) == {
        "tab": "demo", "model": "instructor-mini"}
    assert "dataset" in _query(share.encode_query("demo", "m", shared.fields, [REVIEWS, *values[1:]]))


# ----- first-visit results: computed once per model, not once per visitor -------------------------------


@pytest.fixture()
def cluster_page(tiny_instructor_path, monkeypatch):
    """The real cluster page on the tiny model, its first-visit action served from a FirstVisitCache, and
    a list that grows by one each time the core clusters."""
    from instructor_core import explore
    from instructor_core.pool import EncoderPool
    from pages import cluster

    calls: list[str] = []
    original = explore.cluster_texts

    def counted(*args, **kwargs):
        calls.append(args[4])  # the instruction
        return original(*args, **kwargs)

    monkeypatch.setattr(explore, "cluster_texts", counted)
    ctx = AppContext(EncoderPool(tiny_instructor_path, device="cpu"))
    with gr.Blocks():
        model = gr.Dropdown([tiny_instructor_path], value=tiny_instructor_path)
        page = cluster.build(ctx, model)
    share.FirstVisitCache(ctx).serve([page], model)
    handler, inputs, _ = page.actions[0]
    return handler, [share._initial_value(c) for c in inputs], calls, ctx


def _quiet(handler, values):
    """Call ``handler`` as Gradio does: the progress tracker passed positionally after the inputs."""
    return handler(*values, lambda *_, **__: None)


def test_two_first_visits_cluster_once(cluster_page):
    handler, values, calls, _ = cluster_page
    first, second = _quiet(handler, values), _quiet(handler, values)
    assert len(calls) == 1 and second is first  # the second visitor got the first one's result
    assert first[-1].startswith("ℹ️") and first[2].endswith("clustered.csv")


def test_a_link_with_other_inputs_still_computes(cluster_page):
    handler, values, calls, _ = cluster_page
    instruction = 4  # model, dataset, upload, text column, instruction, ...
    other = [*values[:instruction], "Represent the review for clustering by price: ", *values[instruction + 1:]]
    _quiet(handler, values)
    result = _quiet(handler, other)
    assert calls == [values[instruction], other[instruction]] and result[-1].startswith("ℹ️")


def test_a_cached_result_never_points_at_a_deleted_download(cluster_page, monkeypatch):
    handler, values, calls, _ = cluster_page
    first = _quiet(handler, values)
    shutil.rmtree(Path(first[2]).parent)  # the hourly clean-up removed its clustered.csv
    again = _quiet(handler, values)
    assert len(calls) == 2 and Path(again[2]).exists()
    monkeypatch.setattr(share, "FIRST_VISIT_MAX_AGE_S", -1)  # and a stale result is recomputed before that
    _quiet(handler, values)
    assert len(calls) == 3
    assert share.FIRST_VISIT_MAX_AGE_S < OUTPUT_MAX_AGE_S  # served only while its downloads are kept


def test_a_failed_run_is_not_kept(tmp_path):
    """A first visit that failed (or was cancelled) is tried again by the next visitor."""
    outcomes = iter([(gr.update(), "⛔ the model is busy"), ("result", "ℹ️ done")])
    calls: list[int] = []

    def handler(model_name, text):
        calls.append(1)
        return next(outcomes)

    pool = type("Pool", (), {"get": lambda self, name: type("E", (), {"name": "resolved"})()})()
    ctx = AppContext(pool, output_dir=tmp_path)  # type: ignore[arg-type]
    with gr.Blocks():
        model, text = gr.Dropdown(["m"], value="m"), gr.Textbox("example")
    cached = share.FirstVisitCache(ctx).wrap("demo", handler, [model, text], model)
    assert cached("m", "example")[-1].startswith("⛔")
    assert cached("m", "example") == cached("m", "example") == ("result", "ℹ️ done")
    assert len(calls) == 2


def test_the_controls_page_shares_its_inputs_and_shows_both_results_on_load():
    from pages import controls

    ctx = AppContext(pool=None)  # type: ignore[arg-type]  # building widgets loads no model
    with gr.Blocks():
        model = gr.Dropdown(["m"], value="m")
        with gr.Tabs() as tabs, gr.Tab("Does the instruction matter?", id="controls"):
            page = controls.build(ctx, model)
    assert page.tab == "controls" and len(page.actions) == 2  # the crossed matrix and the neighbour movement
    assert all(inputs[0] is model for _, inputs, _ in page.actions)
    values = {"dataset": QUESTIONS, "label": "topic", "columns": ["topic", "answer_type"],
              "instructions": "Represent the question for its topic: ", "a": "", "b": "Represent the question: ",
              "k": 7, "method": "PCA"}
    query = _query(share.encode_query("controls", "m", page.fields, [values[key] for key in page.fields]))
    assert query["columns"] == '["topic", "answer_type"]'
    updates = share.restore([page], tabs, query)
    fields = page.fields
    assert updates[fields["columns"]]["value"] == ["topic", "answer_type"]
    # the page opened on the reviews; a link to the questions gets the questions' label menu
    assert [value for _, value in fields["columns"].choices] == ["sentiment", "category"]
    assert updates[fields["columns"]]["choices"] == ["topic", "answer_type"]
    no_columns = share.restore([page], tabs, {"tab": "controls", "dataset": QUESTIONS})
    assert no_columns[fields["columns"]] == {"__type__": "update", "choices": ["topic", "answer_type"],
                                             "value": ["topic", "answer_type"]}
    assert (updates[fields["b"]], updates[fields["k"]], updates[fields["method"]]) == (
        "Represent the question: ", 7.0, "PCA")
    assert updates[fields["label"]]["value"] == "topic" and updates[tabs].selected == "controls"
    assert fields["columns"] not in share.restore([page], tabs, {"tab": "controls", "columns": "topic"})  # not a list
    bad_list = share.restore([page], tabs, {"tab": "controls", "dataset": QUESTIONS, "columns": "topic"})
    assert bad_list[fields["columns"]]["value"] == ["topic", "answer_type"]  # the dataset's own, not the link's
