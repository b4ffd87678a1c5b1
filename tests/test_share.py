"""Shared links (issue 17, item 6): a page's inputs written to the URL query come back as the same
widget values; what a widget cannot take is ignored, and uploads never travel in a link."""

from __future__ import annotations

from urllib.parse import parse_qsl

import gradio as gr
import pytest

from instructor_core.instructions import NO_INSTRUCTION
from instructor_core.samples import QUESTIONS, REVIEWS
from pages import share
from pages.common import UPLOAD, AppContext, dataset_inputs


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
