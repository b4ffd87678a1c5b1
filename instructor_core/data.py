"""Reading the user's tables robustly: encodings, delimiters, caps, and which column holds the text.

Every cell is read as text, so nothing the user uploaded is altered (leading zeros, ids, dates), and
every column is kept: the app adds columns, it never drops the user's.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from .errors import InputError

DEFAULT_MAX_ROWS = 20_000
DEFAULT_MAX_BYTES = 50 * 2**20
MAX_LABEL_CLASSES = 30
OTHER_LABEL = "(other)"
_DELIMITERS = ",;\t|"
_BOMS = (  # longest first: the UTF-32 LE BOM starts with the UTF-16 LE one
    (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"),
)
# The csv module's default 128 KiB cell limit silently loses rows with long texts (a pasted article).
csv.field_size_limit(2**31 - 1)
_LABEL_NAMES = re.compile(r"label|category|class|topic|sentiment|intent|type|tag|group", re.IGNORECASE)


@dataclass
class LoadedTable:
    frame: pd.DataFrame
    encoding: str
    delimiter: str
    notes: list[str] = field(default_factory=list)


def read_table(
    source: str | os.PathLike[str] | bytes | BinaryIO,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    filename: str | None = None,
) -> LoadedTable:
    """Read a CSV/TSV (delimiter and encoding detected) into a DataFrame of strings.

    Raises :class:`InputError` for empty, binary, oversized or row-capped files, with a message that
    says what was found and what to do.
    """
    raw, filename = _read_bytes(source, max_bytes, filename)
    if not raw.strip():
        raise InputError("The file is empty.")
    text, encoding = _decode(raw)
    notes = [] if encoding in {"utf-8", "utf-8-sig", "ascii"} else [f"Read the file as {encoding}."]
    delimiter = _sniff_delimiter(text, filename)
    bad_lines: list[list[str]] = []
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=True, skip_blank_lines=True,
            index_col=False, nrows=max_rows + 1, engine="python",
            on_bad_lines=lambda line: bad_lines.append(line) and None,  # skip, but count
        )
    except pd.errors.EmptyDataError:
        raise InputError("The file is empty.") from None
    except (pd.errors.ParserError, csv.Error) as err:
        raise InputError(f"This file could not be read as a table: {err}") from None
    if len(frame) > max_rows:
        raise InputError(
            f"The file has about {_count_rows(text):,} rows; the limit here is {max_rows:,}. "
            f"Upload a sample of at most {max_rows:,} rows."
        )
    if frame.empty:
        raise InputError("The file has column names but no rows.")
    if bad_lines:
        notes.append(f"Skipped {len(bad_lines)} malformed line(s) with the wrong number of fields.")
    frame.columns, renamed = _clean_columns(frame.columns)
    if renamed:
        notes.append("Renamed columns: " + ", ".join(renamed) + ".")
    return LoadedTable(frame.reset_index(drop=True), encoding, delimiter, notes)


def _read_bytes(source, max_bytes: int, filename: str | None) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray)):
        raw = bytes(source)
    elif hasattr(source, "read"):
        raw = source.read(max_bytes + 1)
        filename = filename or getattr(source, "name", "")
    else:
        path = Path(source)
        filename = filename or path.name
        if not path.is_file():
            raise InputError(f"File not found: {path.name}.")
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(f"The file is {size / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB.")
        raw = path.read_bytes()
    if len(raw) > max_bytes:
        raise InputError(f"The file is over the {max_bytes / 2**20:.0f} MB limit.")
    return raw, filename or ""


def _decode(raw: bytes) -> tuple[str, str]:
    """Text and the encoding used: BOM, strict UTF-8, charset detection, then cp1252/latin-1."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(encoding), encoding
            except UnicodeDecodeError:
                raise InputError(f"The file starts like {encoding} but is not valid {encoding}.") from None
    if b"\x00" in raw[:4096] or _looks_binary(raw[:4096]):
        raise InputError("This file does not look like a text table (CSV/TSV). Is it a spreadsheet or an image? "
                         "Save it as CSV first.")
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    # Excel on Windows writes cp1252; on short samples detectors often pick a sibling (cp1250) that
    # garbles accents, so cp1252 wins whenever the detector finds it plausible at all.
    matches = from_bytes(raw[:200_000])
    plausible = [m.encoding for m in matches]
    western = {"cp1252", "latin_1", "iso8859_15"} & set(plausible)
    for encoding in (["cp1252"] if western else plausible[:1]) + ["cp1252", "latin-1"]:
        try:
            return raw.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError):
            continue
    raise InputError("The file's text encoding could not be recognised. Save it as UTF-8 CSV.")  # pragma: no cover


def _looks_binary(sample: bytes) -> bool:
    control = sum(b < 32 and b not in (9, 10, 13) for b in sample)
    return len(sample) > 0 and control / len(sample) > 0.05


def _sniff_delimiter(text: str, filename: str) -> str:
    sample = "\n".join(line[:2000] for line in text[:500_000].splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        pass
    if filename.lower().endswith((".tsv", ".tab")):
        return "\t"
    header = text.splitlines()[0] if text else ""
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _count_rows(text: str) -> int:
    """Data rows as lines minus the header (approximate: quoted cells may hold newlines)."""
    return len(text.strip().splitlines()) - 1


def _clean_columns(columns: Sequence[object]) -> tuple[list[str], list[str]]:
    """Blank names become ``column_N``; pandas' ``.1`` suffixes for duplicates are reported."""
    names, renamed = [], []
    for i, name in enumerate(map(str, columns)):
        if not name.strip() or name.startswith("Unnamed: "):
            renamed.append(f"blank → column_{i + 1}")
            name = f"column_{i + 1}"
        elif re.search(r"\.\d+$", name) and name.rsplit(".", 1)[0] in map(str, columns[:i]):
            renamed.append(f"duplicate {name.rsplit('.', 1)[0]!r} → {name!r}")
        names.append(name)
    return names, renamed


def guess_text_column(frame: pd.DataFrame) -> str | None:
    """The column most like free text: most words per cell on average, mostly distinct values."""
    best, best_score = None, 0.0
    for column in frame.columns:
        values = frame[column].dropna().astype(str)
        if values.empty or values.str.fullmatch(r"[\d.,:\-/ ]+").mean() > 0.8:
            continue  # numbers, ids and dates
        words = values.str.split().str.len().mean()
        score = words * values.nunique() / len(values)
        if score > best_score:
            best, best_score = column, score
    return best


def guess_label_column(frame: pd.DataFrame, exclude: Collection[str] = ()) -> str | None:
    """A column with 2 to min(50, n/2) distinct values, preferring names like label/category/topic."""
    n = len(frame)
    candidates = []
    for column in frame.columns:
        if column in exclude:
            continue
        distinct = frame[column].dropna().nunique()
        if 2 <= distinct <= min(50, max(2, n // 2)):
            candidates.append((not _LABEL_NAMES.search(str(column)), distinct, column))
    return min(candidates)[2] if candidates else None


@dataclass
class PreparedTexts:
    texts: list[str]
    row_index: np.ndarray  # positions in the frame of the rows kept
    n_dropped: int
    notes: list[str] = field(default_factory=list)


def prepare_texts(frame: pd.DataFrame, column: str) -> PreparedTexts:
    """Stripped texts of ``column``; empty and missing ones are skipped and counted."""
    if column not in frame.columns:
        raise InputError(f"There is no column '{column}'. Columns: {', '.join(map(str, frame.columns))}.")
    values = frame[column]
    if isinstance(values, pd.DataFrame):
        raise InputError(f"Several columns are named '{column}'; rename them so each name is unique.")
    texts = values.astype("string").str.strip()
    keep = texts.notna() & (texts != "")
    row_index = np.flatnonzero(keep.to_numpy())
    if len(row_index) == 0:
        raise InputError(f"Column '{column}' has no text: every row is empty.")
    dropped = len(frame) - len(row_index)
    notes = [f"Skipped {dropped:,} row(s) with an empty text (kept in downloads)."] if dropped else []
    return PreparedTexts(texts[keep].tolist(), row_index, dropped, notes)


def prepare_labels(values: pd.Series | Sequence[object], max_classes: int = MAX_LABEL_CLASSES
                   ) -> tuple[np.ndarray, list[str]]:
    """Labels as strings (None where missing); beyond ``max_classes`` distinct values the rarest
    become "(other)" — a column with a thousand values is rarely a label, and a legend cannot show it."""
    series = pd.Series(values, dtype="string").str.strip().replace("", pd.NA).reset_index(drop=True)
    counts = series.value_counts()
    notes = []
    if len(counts) > max_classes:
        keep = set(counts.index[: max_classes - 1])
        series = series.where(series.isna() | series.isin(keep), OTHER_LABEL)
        notes.append(f"The label column has {len(counts):,} distinct values; the {max_classes - 1} most frequent "
                     f"are kept and the rest grouped as '{OTHER_LABEL}'.")
    labels = np.array([None if pd.isna(v) else str(v) for v in series], dtype=object)
    return labels, notes
