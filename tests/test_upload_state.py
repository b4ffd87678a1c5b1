"""A failed or removed upload leaves the page on the upload, so Run reports what is missing instead of
quietly processing a built-in dataset (issue 17, item 1)."""

from __future__ import annotations

import pytest

from pages.common import NONE, UPLOAD, upload_updates

BAD_FILES = {
    "empty": (b"", "empty"),
    "header only": (b"text,label\n", "no rows"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "does not look like a text table"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_failed_upload_selects_the_upload_and_empties_the_columns(tmp_path, case):
    content, expected = BAD_FILES[case]
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    choice, text_column, label_column, message = upload_updates(str(path), max_rows=100)
    assert choice["value"] == UPLOAD  # not left on the built-in set Run would otherwise use
    assert text_column["value"] is None and text_column["choices"] == []
    assert label_column["value"] == NONE
    assert message.startswith("⛔") and expected in message


def test_removed_upload_clears_its_row_count_line(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text("text,label\nfirst,a\nsecond,b\n")
    *_, message = upload_updates(str(path), max_rows=100, with_label=False)
    assert "2 rows, 2 columns" in message
    choice, text_column, message = upload_updates(None, max_rows=100, with_label=False)
    assert choice["value"] == UPLOAD and text_column["value"] is None and message == ""


@pytest.mark.parametrize(
    ("api_name", "args"),
    [
        ("/cluster", ["", "", "k-means", "auto", "PCA", ".npy"]),
        ("/project", ["", NONE, "", "Represent the review: ", "PCA", 15, 0.1, 30, 0]),
        ("/compare_phrasings", ["", NONE, "Represent the review: ", True]),
    ],
)
def test_run_after_a_failed_upload_says_what_is_missing(client, api_name, args):
    """The state a failed upload leaves (Dataset = upload, no file kept, no column) gives a message, no result."""
    *outputs, message = client.predict("instructor-mini", UPLOAD, None, *args, api_name=api_name)
    assert message.startswith("⛔") and "Upload a CSV" in message
    assert all(o in (None, {"__type__": "update"}) for o in outputs), outputs  # nothing computed
