"""The smaller trust fixes of issue 17, item 5: what a visitor sees says what it means."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pandas as pd
import pytest

from instructor_core import ModelLoadError, plots
from instructor_core.export import spreadsheet_safe
from instructor_core.instructions import NO_INSTRUCTION, check_instructions
from instructor_core.pool import EncoderPool

ROOT = Path(__file__).resolve().parents[1]
SENTIMENT = "Represent the product review for classifying its sentiment: "


def test_no_instruction_row_is_written_out_and_read_as_blank(client):
    from pages import playground

    assert [NO_INSTRUCTION] in playground._rows(playground.EXAMPLE_INSTRUCTIONS)
    assert check_instructions([SENTIMENT, f" {NO_INSTRUCTION} "]) == [SENTIMENT, ""]
    table = {"headers": ["instruction"], "data": [[SENTIMENT], [NO_INSTRUCTION]]}
    blank = {"headers": ["instruction"], "data": [[SENTIMENT], [""]]}
    marked, *_ = client.predict("instructor-mini", "Cheap and cheerful.", table, api_name="/instruction_similarity")
    empty, *_ = client.predict("instructor-mini", "Cheap and cheerful.", blank, api_name="/instruction_similarity")
    assert marked["plot"] == empty["plot"]  # the marker is no instruction, not an instruction reading "(no ...)"


@pytest.mark.parametrize("width", [20, 45, 80])
def test_titles_and_labels_are_cut_between_words(width):
    text = "The battery died after two days, but the seller refunded me within an hour and apologised twice."
    short = plots.shorten(text, width)
    assert len(short) <= width and short.endswith("…")
    assert text.startswith(short[:-1]) and text[len(short) - 1] in " ,"  # the cut falls before a space
    title = plots.scatter([[0, 0], [1, 1]], ["a", "b"], title="B: " + text).layout.title.text
    assert all(line == "B:" or line.split()[-1] in text.split() for line in title.split("<br>"))


def test_only_the_chosen_projections_sliders_are_shown():
    from pages.projection import parameter_visibility

    shown = {name: [u["visible"] for u in parameter_visibility(name)] for name in ("UMAP", "t-SNE", "PCA")}
    assert shown == {"UMAP": [True, True, False], "t-SNE": [False, False, True], "PCA": [False, False, False]}


def test_dash_then_digit_or_space_stays_text_and_formulas_are_neutralised():
    cells = ["-3", "-1,5", "- a list item", "-2+3+cmd|' /C calc'!A0", "-=1", "- =HYPERLINK(x)", "=1+1", "@x"]
    assert spreadsheet_safe(pd.DataFrame({"c": cells}))["c"].tolist() == [
        "-3", "-1,5", "- a list item", "'-2+3+cmd|' /C calc'!A0", "'-=1", "'- =HYPERLINK(x)", "'=1+1", "'@x"]
    readme = (ROOT / "README.md").read_text()
    assert "leading `'`" in readme and "`-3`" in readme


def test_readme_headless_example_uses_a_file_that_exists():
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"-m instructor_core embed (\S+)", readme)
    assert command and (ROOT / shlex.split(command.group(1))[0]).is_file()


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def test_hosted_texts_never_ask_a_visitor_to_run_commands_or_pass_folders(bundled_encoder):
    from app import create_app, parse_args
    from pages.common import model_banner

    assert "python" in model_banner(bundled_encoder)  # the local app may say how to start a better model...
    hosted_banner = model_banner(bundled_encoder, hosted=True)
    demo = create_app(parse_args(["--hosted", "--model", "bundled-base"]))
    texts = [*_strings([c.get("props", {}) for c in demo.config["components"]]), hosted_banner]
    offending = [t for t in texts if re.search(r"python |app\.py|pip install|--model|local folder|pass a folder", t)]
    assert offending == []  # ...the hosted one never does


def test_hosted_model_that_cannot_load_says_so_without_server_advice():
    pool = EncoderPool("bundled", device="cpu", allowed=["bundled", "nobody/not-cached-here"])
    with pytest.raises(ModelLoadError) as err:
        pool.get("nobody/not-cached-here")
    message = str(err.value)
    assert "cannot be loaded on this server" in message and "bundled" in message
    assert not re.search(r"folder|download|python", message, re.IGNORECASE)
