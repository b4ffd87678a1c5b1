"""Reading user tables (delimiters, encodings, caps, bad files), column guessing, texts and labels."""

from __future__ import annotations

import io
import random

import numpy as np
import pandas as pd
import pytest

from instructor_core import InputError
from instructor_core.data import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_ROWS,
    MAX_LABEL_CLASSES,
    LoadedTable,
    PreparedTexts,
    guess_label_column,
    guess_text_column,
    prepare_labels,
    prepare_texts,
    read_table,
)

ROWS = [
    ["id", "text", "label"],
    ["001", "Café au lait, très bon; naïve crème brûlée", "pos"],
    ["002", "Horrible service | never again", "neg"],
    ["003", "Zoë and José paid 5 € — “fine”", "pos"],
]
TEXTS = [row[1] for row in ROWS[1:]]


def _table(delimiter: str) -> str:
    """ROWS as a file, quoting only cells that hold the delimiter, as spreadsheets do."""
    return "".join(delimiter.join(f'"{c}"' if delimiter in c else c for c in row) + "\n" for row in ROWS)


def test_defaults():
    assert DEFAULT_MAX_ROWS == 100_000 and DEFAULT_MAX_BYTES == 100 * 2**20 and MAX_LABEL_CLASSES == 30


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters_are_detected(delimiter):
    table = read_table(_table(delimiter).encode())
    assert isinstance(table, LoadedTable) and table.delimiter == delimiter
    assert list(table.frame.columns) == ["id", "text", "label"]
    assert list(table.frame["text"]) == TEXTS and table.notes == []


def test_tab_file_with_commas_everywhere_and_tsv_name(tmp_path):
    path = tmp_path / "prices.tsv"
    path.write_text("id\tprice, EUR\ttext\n1\t3,50\thello, there, you\n2\t4\tbye, then\n", encoding="utf-8")
    table = read_table(path)
    assert table.delimiter == "\t" and list(table.frame.columns) == ["id", "price, EUR", "text"]
    assert list(table.frame["text"]) == ["hello, there, you", "bye, then"]


def test_one_column_file_keeps_commas_in_texts():
    table = read_table(b"text\nHello, world\nOne, two, three\nplain\n")
    assert list(table.frame["text"]) == ["Hello, world", "One, two, three", "plain"] and table.notes == []


def test_utf8_bom_is_not_glued_to_the_first_column():
    table = read_table(_table(",").encode("utf-8-sig"))
    assert table.encoding == "utf-8-sig" and table.frame.columns[0] == "id" and table.notes == []
    assert list(table.frame["text"]) == TEXTS


@pytest.mark.parametrize(
    ("bom", "codec"),
    [(b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe\x00\x00", "utf-32-le")],
)
def test_utf16_and_utf32_with_bom(bom, codec):
    table = read_table(bom + _table("\t").encode(codec))
    assert table.encoding == codec[:6] and table.delimiter == "\t"
    assert table.frame.columns[0] == "id" and list(table.frame["text"]) == TEXTS
    assert any(codec[:6] in note for note in table.notes)  # not UTF-8: the user is told


def test_cp1252_file_is_decoded_with_accents_and_a_note(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(_table(";").encode("cp1252"))  # €, “ ” and — exist in cp1252, not in latin-1
    table = read_table(path)
    assert table.encoding == "cp1252" and list(table.frame["text"]) == TEXTS
    assert any("Read the file as cp1252" in note for note in table.notes)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("text\nrésumé\n", ["résumé"]),
        ("id,text\n1,Ich möchte einen Kaffee\n2,Schön\n", ["Ich möchte einen Kaffee", "Schön"]),
    ],
)
def test_short_western_samples_are_not_misdetected(text, expected):
    table = read_table(text.encode("latin-1"))  # detectors guess cp1006 / hp_roman8 for these
    assert table.encoding == "cp1252" and table.frame["text"].tolist() == expected


def test_other_single_byte_encodings_are_still_detected():
    text = "имя,город\nИван,Москва\nПётр,Санкт-Петербург\nОльга,Новосибирск\n"
    table = read_table(text.encode("cp1251"))
    assert list(table.frame["город"]) == ["Москва", "Санкт-Петербург", "Новосибирск"]


@pytest.mark.parametrize("raw", [b"", b"   \n\r\n\t", b"\xef\xbb\xbf", b"\xff\xfe"])
def test_empty_files(raw):
    with pytest.raises(InputError, match="The file is empty"):
        read_table(raw)


@pytest.mark.parametrize("raw", [b"text,label\n", b"\n\ntext,label\n\n\n", b"text\r\n"])
def test_header_only(raw):
    with pytest.raises(InputError, match="has column names but no rows"):
        read_table(raw)


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 8
XLSX = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + b"[Content_Types].xml" + bytes(200)


@pytest.mark.parametrize("raw", [PNG, XLSX, random.Random(0).randbytes(5000), bytes(range(1, 32)) * 40])
def test_binary_files_renamed_csv(tmp_path, raw):
    path = tmp_path / "data.csv"
    path.write_bytes(raw)
    with pytest.raises(InputError, match=r"does not look like a text table \(CSV/TSV\)"):
        read_table(path)


def test_binary_after_a_bom():
    with pytest.raises(InputError, match="does not look like a text table"):
        read_table(b"\xff\xfe" + "".join(map(chr, range(1, 32))).encode("utf-16-le") * 40)
    with pytest.raises(InputError, match="starts like utf-16 text but is not valid"):
        read_table(b"\xff\xfe" + "text\n".encode("utf-16-le") + b"\x00\xd8")  # a lone surrogate


def test_rows_over_the_cap_are_counted_and_refused():
    raw = ("id,text\n" + "".join(f"{i},row {i}\n" for i in range(25_000))).encode()
    with pytest.raises(InputError, match="about 25,000 rows; the limit here is 20,000"):
        read_table(raw, max_rows=20_000)  # the hosted cap
    with pytest.raises(InputError, match="about 25,000 rows; the limit here is 100"):
        read_table(raw, max_rows=100)
    assert len(read_table(raw, max_rows=25_000).frame) == 25_000


def test_bytes_over_the_cap(tmp_path):
    raw = ("text\n" + "a sentence\n" * 20_000).encode()  # about 0.21 MB
    with pytest.raises(InputError, match=r"The file is 0\.2 MB, over the 0\.1 MB limit"):
        read_table(raw, max_bytes=2**20 // 10)
    path = tmp_path / "big.csv"
    path.write_bytes(raw)
    with pytest.raises(InputError, match=r"0\.2 MB, over the 0\.1 MB limit"):
        read_table(path, max_bytes=2**20 // 10)
    with pytest.raises(InputError, match=r"larger than the 0\.1 MB limit"):
        read_table(io.BytesIO(raw), max_bytes=2**20 // 10)
    assert len(read_table(raw, max_bytes=len(raw)).frame) == 20_000


def test_file_like_and_path_sources(tmp_path):
    assert list(read_table(io.BytesIO(b"a\tb\n1\t2\n"), filename="x.tsv").frame.columns) == ["a", "b"]
    with pytest.raises(InputError, match="File not found: missing.csv"):
        read_table(tmp_path / "missing.csv")


def test_cells_are_kept_as_written():
    raw = b"zip,id,score,note,text\n02134,007,1.50,NA,None\n,0001e5,-0,null,  spaced  \n"
    frame = read_table(raw).frame
    assert frame.loc[0, "zip"] == "02134" and pd.isna(frame.loc[1, "zip"])  # only an empty cell is missing
    assert list(frame["id"]) == ["007", "0001e5"] and list(frame["score"]) == ["1.50", "-0"]
    assert list(frame["note"]) == ["NA", "null"] and list(frame["text"]) == ["None", "  spaced  "]
    assert all(pd.api.types.is_string_dtype(dtype) for dtype in frame.dtypes)


def test_empty_texts_are_dropped_and_counted_after_reading():
    table = read_table(b"id,text\n1,first\n2,\n3,   \n4,fourth\n5,\n")
    prepared = prepare_texts(table.frame, "text")
    assert isinstance(prepared, PreparedTexts)
    assert prepared.texts == ["first", "fourth"] and prepared.row_index.tolist() == [0, 3]
    assert prepared.n_dropped == 3 and "Skipped 3 row(s) with an empty text" in prepared.notes[0]
    assert len(table.frame) == 5  # the user's rows are all still there


def test_prepare_texts_strips_and_keeps_everything_when_nothing_is_empty():
    prepared = prepare_texts(pd.DataFrame({"t": ["  a\n", "b "], "n": [1, 2]}), "t")
    assert prepared.texts == ["a", "b"] and prepared.n_dropped == 0 and prepared.notes == []


def test_missing_column_message_lists_columns():
    frame = pd.DataFrame({"Review": ["x"], "stars": ["5"]})
    with pytest.raises(InputError, match=r"There is no column 'body'\. Columns: Review, stars\."):
        prepare_texts(frame, "body")
    with pytest.raises(InputError, match="Did you mean 'Review'"):
        prepare_texts(frame, "review")
    with pytest.raises(InputError, match="Choose the column"):
        prepare_texts(frame, "")
    with pytest.raises(InputError, match="has no text"):
        prepare_texts(pd.DataFrame({"t": [None, " ", np.nan]}), "t")


def test_duplicate_and_blank_column_names_are_made_unique_and_reported():
    table = read_table(b"text,text,,score,text,column_3\nx,y,z,1,w,v\n")
    assert list(table.frame.columns) == ["text", "text.1", "column_3_1", "score", "text.2", "column_3"]
    assert list(table.frame.iloc[0]) == ["x", "y", "z", "1", "w", "v"]  # no cell lost
    note = next(n for n in table.notes if n.startswith("Renamed columns"))
    assert "duplicate 'text' → 'text.1'" in note and "blank → column_3_1" in note
    assert "Unnamed" not in "".join(read_table(b"a,,b\n1,2,3\n").frame.columns)


def test_malformed_rows_are_skipped_and_counted():
    table = read_table(b"a,b\n1,2\n3,4,5,6\n7,8\n9,10,11,12,13\n14\n")
    assert table.frame["a"].tolist() == ["1", "7", "14"] and pd.isna(table.frame.loc[2, "b"])
    assert any("Skipped 2 malformed line(s)" in n for n in table.notes)
    table = read_table(b"a,b\n1,2,3,4\n5,6,7,8,9\n1,2,3,4,5,6\n")  # every row wider than the header
    assert list(table.frame.columns) == ["a", "b", "column_3", "column_4"] and len(table.frame) == 1
    assert any("Skipped 2 malformed line(s)" in n for n in table.notes)


def test_rows_one_field_wider_than_the_header_keep_the_extra_field():
    table = read_table(b"a,b\n1,2,3\n4,5,6\n")
    assert list(table.frame.columns) == ["a", "b", "column_3"] and table.frame["column_3"].tolist() == ["3", "6"]


def test_unclosed_quote_is_reported_not_silently_truncated():
    with pytest.raises(InputError, match=r'Row 2 opens a quote \(\"\) that is never closed'):
        read_table(b'a,b\n0,ok\n1,"broken\n2,y\n3,z\n')
    assert read_table(b"a,b\n1,5'11\" tall\n2,y\n").frame["b"].tolist() == ["5'11\" tall", "y"]


def test_quoted_cells_with_line_breaks_and_long_texts():
    frame = pd.DataFrame({"text": ["line one\nline two, with comma", "word " * 60_000], "id": ["1", "2"]})
    table = read_table(frame.to_csv(index=False).encode())
    pd.testing.assert_frame_equal(table.frame, frame, check_dtype=False)


REALISTIC = pd.DataFrame({
    "review_id": [f"R{1000 + i}" for i in range(60)],
    "date": [f"2024-0{1 + i % 9}-1{i % 10}" for i in range(60)],
    "zip": [f"0{2100 + i}" for i in range(60)],
    "title": [f"Good {w}" for w in ["kettle", "lamp", "mug", "phone", "desk", "chair"] * 10],
    "body": [f"I bought this {i} weeks ago and it {'works well' if i % 2 else 'broke quickly'}, "
             f"the {['handle', 'cable', 'lid'][i % 3]} is the best part" for i in range(60)],
    "stars": [str(1 + i % 5) for i in range(60)],
    "verified": ["yes", "no"] * 30,
    "ProductCategory": [["kitchen", "office", "garden"][i % 3] for i in range(60)],
})


def test_guessers_pick_the_right_columns_on_a_realistic_frame():
    assert guess_text_column(REALISTIC) == "body"
    assert guess_label_column(REALISTIC, exclude=["body"]) == "ProductCategory"
    assert guess_label_column(REALISTIC.drop(columns="ProductCategory")) == "verified"  # then fewest classes


def test_guessers_ignore_ids_numbers_and_sparse_columns():
    frame = pd.DataFrame({
        "id": [f"u_{i}" for i in range(20)],
        "amount": [f"{i * 1.5:.2f}" for i in range(20)],
        "label": ["a", "b"] + [None] * 18,  # mostly empty: not a label
        "stage": [f"s{i % 4}" for i in range(20)],
    })
    assert guess_text_column(frame) == "label"  # the only column that is not numbers or codes
    assert guess_text_column(frame.drop(columns="label")) is None
    assert guess_label_column(frame) == "stage"  # "stage" is not read as "tag"
    assert guess_label_column(frame, exclude=["stage"]) is None
    assert guess_label_column(pd.DataFrame({"only": ["same"] * 10})) is None


def test_guessers_work_with_duplicate_column_names():
    frame = pd.DataFrame([["a long free text here", "x"], ["another long free text", "y"]] * 5, columns=["c", "c"])
    assert guess_text_column(frame) == "c" and guess_label_column(frame) == "c"


def test_prepare_labels_caps_a_thousand_distinct_values():
    values = [f"id-{i}" for i in range(1000)] + ["common"] * 50 + ["frequent"] * 20 + [None, "  "]
    labels, notes = prepare_labels(pd.Series(values, index=range(100, 100 + len(values))))
    kept = set(labels) - {None}
    assert len(labels) == len(values) and len(kept) == MAX_LABEL_CLASSES and "(other)" in kept
    assert {"common", "frequent"} <= kept and list(labels).count("(other)") == 1000 - (MAX_LABEL_CLASSES - 3)
    assert labels[-1] is None and labels[-2] is None  # missing stays missing
    assert "1,002 distinct values" in notes[0] and "(other)" in notes[0]


def test_prepare_labels_under_the_cap_are_strings_without_notes():
    labels, notes = prepare_labels([1, 2, None, " b "], max_classes=5)
    assert labels.tolist() == ["1", "2", None, "b"] and notes == []
    labels, notes = prepare_labels(["a", "b", "c", "a"], max_classes=2)
    assert labels.tolist() == ["a", "(other)", "(other)", "a"] and notes
