"""Reading user tables (encodings, delimiters, caps, bad files), column guessing, labels, instructions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from instructor_core import InputError
from instructor_core.data import (
    OTHER_LABEL,
    guess_label_column,
    guess_text_column,
    prepare_labels,
    prepare_texts,
    read_table,
)
from instructor_core.export import spreadsheet_safe, write_embeddings
from instructor_core.instructions import (
    MAX_INSTRUCTIONS,
    build_instruction,
    check_instructions,
    instruction_presets,
    phrasing_sets,
)
from instructor_core.samples import BUILTIN_DATASETS, load_builtin_dataset

TABLE = "id;text;label\n001;Café au lait, très bon;pos\n002;Horrible service;neg\n"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters_are_sniffed(delimiter):
    raw = "id{d}text{d}label\n1{d}hello there{d}a\n2{d}good bye{d}b\n".format(d=delimiter).encode()
    table = read_table(raw)
    assert table.delimiter == delimiter and list(table.frame.columns) == ["id", "text", "label"]


@pytest.mark.parametrize(
    ("encoding", "reported"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("cp1252", None)],
)
def test_encodings(encoding, reported):
    table = read_table(TABLE.encode(encoding))
    assert table.frame.loc[0, "text"] == "Café au lait, très bon"
    assert table.frame.columns[0] == "id"  # no BOM glued to the first name
    if reported:
        assert table.encoding == reported
    else:
        assert any("Read the file as" in n for n in table.notes)


def test_everything_is_kept_as_text():
    frame = read_table(TABLE.encode()).frame
    assert list(frame["id"]) == ["001", "002"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"text,label\n", "no rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "does not look like a text table"),
        (bytes(range(1, 32)) * 50, "does not look like a text table"),
    ],
)
def test_bad_files(raw, message):
    with pytest.raises(InputError, match=message):
        read_table(raw)


def test_row_and_byte_caps():
    raw = ("text\n" + "".join(f"row {i}\n" for i in range(30))).encode()
    with pytest.raises(InputError, match="about 30 rows; the limit here is 10"):
        read_table(raw, max_rows=10)
    with pytest.raises(InputError, match="MB limit"):
        read_table(raw, max_bytes=50)
    assert len(read_table(raw, max_rows=30).frame) == 30


def test_malformed_rows_are_skipped_and_reported():
    table = read_table(b"a,b\n1,2\n3,4,5,6\n7,8\n")
    assert len(table.frame) == 2 and any("malformed" in n for n in table.notes)


def test_duplicate_and_blank_column_names():
    table = read_table(b"text,text,\nx,y,z\n")
    assert list(table.frame.columns) == ["text", "text.1", "column_3"]
    assert any("duplicate" in n for n in table.notes) and any("blank" in n for n in table.notes)


def test_read_from_path(tmp_path):
    path = tmp_path / "data.tsv"
    path.write_text("text\tlabel\nhello\ta\n", encoding="utf-8")
    assert read_table(path).frame.loc[0, "text"] == "hello"
    with pytest.raises(InputError, match="not found"):
        read_table(tmp_path / "missing.csv")


def test_prepare_texts_drops_and_counts_empties():
    frame = pd.DataFrame({"text": [" a ", None, "  ", "b"], "other": [1, 2, 3, 4]})
    prepared = prepare_texts(frame, "text")
    assert prepared.texts == ["a", "b"] and list(prepared.row_index) == [0, 3] and prepared.n_dropped == 2
    assert "Skipped 2 row(s)" in prepared.notes[0]
    with pytest.raises(InputError, match="Columns: text, other"):
        prepare_texts(frame, "body")
    with pytest.raises(InputError, match="no text"):
        prepare_texts(pd.DataFrame({"text": [None, " "]}), "text")


def test_column_guessers():
    frame = pd.DataFrame({
        "id": [str(i) for i in range(40)],
        "review": [f"this is a fairly long review text number {i} about things" for i in range(40)],
        "stars": [str(i % 5) for i in range(40)],
        "category": ["a", "b"] * 20,
    })
    assert guess_text_column(frame) == "review"
    assert guess_label_column(frame, exclude=["review"]) == "category"


def test_labels_are_capped_with_other():
    values = [f"label {i}" for i in range(1000)] + ["common"] * 50 + [None]
    labels, notes = prepare_labels(pd.Series(values))
    assert len(set(labels) - {None}) == 30 and OTHER_LABEL in set(labels) and labels[-1] is None
    assert "1,001 distinct values" in notes[0]


def test_spreadsheet_formulas_are_neutralised_and_numbers_kept():
    safe = spreadsheet_safe(pd.DataFrame({"t": ["=SUM(A1)", "+1", "-x", "@me", "fine"], "n": [-1, 2, 3, 4, 5]}))
    assert list(safe["t"]) == ["'=SUM(A1)", "'+1", "'-x", "'@me", "fine"] and list(safe["n"]) == [-1, 2, 3, 4, 5]


@pytest.mark.parametrize("suffix", [".npy", ".parquet"])
def test_write_embeddings(tmp_path, suffix):
    vectors = np.arange(6, dtype=np.float32).reshape(3, 2)
    path = write_embeddings(vectors, tmp_path / f"e{suffix}")
    loaded = np.load(path) if suffix == ".npy" else np.stack(pd.read_parquet(path)["embedding"])
    np.testing.assert_array_equal(loaded, vectors)


def test_build_instruction_template_and_omissions():
    assert build_instruction("Amazon", "review", "classifying sentiment") == \
        "Represent the Amazon review for classifying sentiment: "
    assert build_instruction("", "question", "for retrieving supporting documents.") == \
        "Represent the question for retrieving supporting documents: "
    assert build_instruction("  medical ", "", "") == "Represent the medical text: "
    assert build_instruction() == "Represent the text: "


def test_check_instructions():
    assert check_instructions(["a: ", None, "  "][:2]) == ["a: ", ""]
    with pytest.raises(InputError, match=f"limit is {MAX_INSTRUCTIONS}"):
        check_instructions([f"i{n}" for n in range(MAX_INSTRUCTIONS + 1)])
    with pytest.raises(InputError, match="appears twice"):
        check_instructions(["x: ", "x:  "])
    with pytest.raises(InputError, match="at least one"):
        check_instructions([])


def test_instruction_library():
    kinds = {p.task_type for p in instruction_presets()}
    assert kinds == {"classification", "clustering", "retrieval", "sts"}
    retrieval = [p.name for p in instruction_presets("retrieval")]
    assert any(n.endswith("(query)") for n in retrieval) and any(n.endswith("(document)") for n in retrieval)
    assert all(p.instruction.endswith(": ") for p in instruction_presets())
    assert all(len(v) >= 4 for v in phrasing_sets().values()) and len(phrasing_sets()) >= 4


def test_builtin_datasets_have_two_crossed_label_columns():
    for name, spec in BUILTIN_DATASETS.items():
        frame = load_builtin_dataset(name)
        assert len(frame) >= 200 and not frame[spec["text_column"]].duplicated().any()
        first, second = spec["label_columns"]
        crossed = pd.crosstab(frame[first], frame[second])
        assert (crossed > 0).all().all()  # every combination occurs: the labelings are independent


def test_long_cells_are_not_dropped():
    frame = pd.DataFrame({"text": ["word " * 100_000, "short"], "id": ["1", "2"]})
    table = read_table(frame.to_csv(index=False).encode())
    assert table.frame["text"].str.len().tolist() == [500_000, 5]
