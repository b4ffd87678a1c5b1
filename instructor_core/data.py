"""Reading the user's tables robustly: encodings, delimiters, caps, and which column holds the text.

Every cell is read as text, so nothing the user uploaded is altered (leading zeros, ids, dates, a
literal "NA"), and every column is kept: the app adds columns, it never drops the user's.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from .errors import InputError

# 100,000 rows: 150 MB of 384-d float32 vectors, HDBSCAN past its brute-force size, UMAP fitted on a sample
# (projection.SAMPLE_ABOVE); embedding them takes minutes on a CPU, and the Cluster page says how long first.
DEFAULT_MAX_ROWS = 100_000
HOSTED_MAX_ROWS = 20_000  # a public demo's requests run under a time limit that 100,000 rows would overrun
DEFAULT_MAX_BYTES = 100 * 2**20
MAX_LABEL_CLASSES = 30
OTHER_LABEL = "(other)"
_DELIMITERS = ",;\t|"
# A one-column file is parsed with a separator that does not occur in text, so commas inside it stay.
_NO_SEPARATOR = "\x1f"
_BOMS = (  # longest first: the UTF-32 LE BOM starts with the UTF-16 LE one
    (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"),
)
# Encodings a detector may name that real tables use; anything rarer it proposes is a misfire on a
# short Western sample ("résumé" read as Urdu cp1006), so cp1252 — what Excel on Windows writes — wins.
_KNOWN_ENCODINGS = {
    "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258", "koi8_r", "koi8_u",
    "cp932", "shift_jis", "euc_jp", "iso2022_jp", "gb2312", "gbk", "gb18030", "big5", "cp949", "euc_kr",
    "iso8859_2", "iso8859_5", "iso8859_7", "iso8859_8", "iso8859_9", "tis_620", "cp874", "mac_cyrillic",
}
_WESTERN = {"cp1252", "latin_1", "iso8859_15"}
_BINARY_MESSAGE = ("This file does not look like a text table (CSV/TSV). Is it a spreadsheet (.xlsx), "
                   "an image or a zip? Save or export it as CSV first.")
# The csv module's default 128 KiB cell limit silently loses rows with long texts (a pasted article).
csv.field_size_limit(2**31 - 1)
_LABEL_WORDS = ("label", "categor", "class", "topic", "sentiment", "intent", "type", "tag", "group", "target")


@dataclass
class LoadedTable:
    """A user's table as strings, how it was read, and notes for the user (encoding, skipped lines...)."""

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

    Only empty cells become missing (NaN). Raises :class:`InputError` for empty, binary, oversized or
    row-capped files, with a message that says what was found and what to do.
    """
    raw, filename = _read_bytes(source, max_bytes, filename)
    if not raw.strip():
        raise InputError("The file is empty. Upload a CSV with a header row and at least one row of data.")
    text, encoding = _decode(raw)
    notes = [] if encoding in {"utf-8", "utf-8-sig"} else [
        f"Read the file as {encoding}, not UTF-8; check that accented letters look right."]
    delimiter = _sniff_delimiter(text, filename)
    header, width = _header_and_width(text, delimiter)
    names, renamed = _column_names(header, width)
    bad_lines: list[list[str]] = []

    def skip_bad_line(line: list[str]) -> None:  # returning None makes pandas skip the line
        bad_lines.append(line)

    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=delimiter, header=0, names=names, dtype=str, keep_default_na=False,
            na_values=[""], skip_blank_lines=True, index_col=False, nrows=max_rows + 1, engine="python",
            on_bad_lines=skip_bad_line,
        )
    except pd.errors.EmptyDataError:
        raise InputError("The file is empty. Upload a CSV with a header row and at least one row of data.") from None
    except (pd.errors.ParserError, csv.Error) as err:
        raise InputError(f"This file could not be read as a table ({err}). Check for an unclosed quote (\") "
                         "and save it again as CSV.") from None
    if len(frame) > max_rows:
        raise InputError(
            f"The file has about {max(_count_rows(text), max_rows + 1):,} rows; the limit here is {max_rows:,}. "
            f"Upload a sample of at most {max_rows:,} rows."
        )
    read = len(frame) + len(bad_lines)
    if text.count('"') % 2 and _count_records(text, delimiter) > read:  # pandas drops an unclosed quote's rest
        raise InputError(f"Row {read + 1:,} opens a quote (\") that is never closed, so the rows from there on "
                         "cannot be read. Close or remove that quote and upload the file again.")
    if frame.empty:
        raise InputError("The file has column names but no rows. Add at least one row of data.")
    if bad_lines:
        notes.append(f"Skipped {len(bad_lines):,} malformed line(s) with more fields than the table's "
                     f"{len(names)} columns.")
    if renamed:
        notes.append("Renamed columns: " + ", ".join(renamed) + ".")
    public_delimiter = "," if delimiter == _NO_SEPARATOR else delimiter
    return LoadedTable(frame.reset_index(drop=True), encoding, public_delimiter, notes)


def _megabytes(n: int) -> str:
    value = n / 2**20
    return f"{value:,.1f} MB" if value >= 0.1 else f"{value:.2g} MB"


def _read_bytes(source, max_bytes: int, filename: str | None) -> tuple[bytes, str]:
    """The file's bytes (at most ``max_bytes``) and its name, for the extension."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw = bytes(source)
    elif hasattr(source, "read"):
        raw = source.read(max_bytes + 1)
        filename = filename or str(getattr(source, "name", "") or "")
    else:
        path = Path(source)
        filename = filename or path.name
        if not path.is_file():
            raise InputError(f"File not found: {path.name}.")
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(f"The file is {_megabytes(size)}, over the {_megabytes(max_bytes)} limit. "
                             "Upload a smaller file or a sample of its rows.")
        raw = path.read_bytes()
    if len(raw) > max_bytes:
        size = "larger than" if hasattr(source, "read") else f"{_megabytes(len(raw))}, over"
        raise InputError(f"The file is {size} the {_megabytes(max_bytes)} limit. "
                         "Upload a smaller file or a sample of its rows.")
    return raw, filename or ""


def _decode(raw: bytes) -> tuple[str, str]:
    """Text and the encoding used: BOM, strict UTF-8, charset detection, then cp1252/latin-1."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                raise InputError(f"The file starts like {encoding} text but is not valid {encoding}. "
                                 "Save it again as UTF-8 CSV.") from None
            if _control_share(text[:4096]) > 0.05:
                raise InputError(_BINARY_MESSAGE)
            return text, encoding
    if b"\x00" in raw[:4096] or _control_share(raw[:4096]) > 0.05:
        raise InputError(_BINARY_MESSAGE)
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    for encoding in _encoding_candidates(raw):
        try:
            return raw.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError):
            continue
    return raw.decode("latin-1"), "latin-1"  # decodes any bytes


def _encoding_candidates(raw: bytes) -> list[str]:
    """Encodings to try, best first: the detector's guess when it is a common one, else cp1252."""
    from charset_normalizer import from_bytes

    guesses = [match.encoding for match in from_bytes(raw[:200_000])]
    if _WESTERN & set(guesses) or not guesses or guesses[0] not in _KNOWN_ENCODINGS:
        return ["cp1252"]
    best = guesses[0]
    try:  # cp1250 and cp1252 agree on most accented letters: name the familiar one when the text is the same
        if raw.decode(best) == raw.decode("cp1252"):
            return ["cp1252"]
    except UnicodeDecodeError:
        pass
    return [best, "cp1252"]


def _control_share(sample: bytes | str) -> float:
    """Share of control characters other than tab and line breaks: high in binary files."""
    codes = sample if isinstance(sample, bytes) else [ord(c) for c in sample]
    control = sum(c < 32 and c not in (9, 10, 13) for c in codes)
    return control / len(codes) if len(codes) else 0.0


def _sniff_delimiter(text: str, filename: str) -> str:
    """The delimiter: csv.Sniffer among those in the header, then the extension, then consistency."""
    lines = [line[:2000] for line in text[:500_000].splitlines()[:50] if line.strip()]
    header = lines[0] if lines else ""
    present = [d for d in _DELIMITERS if d in header]
    if len(present) <= 1:
        return present[0] if present else _NO_SEPARATOR
    sample = "\n".join(lines)
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(present)).delimiter
    except csv.Error:
        pass
    if filename.lower().endswith((".tsv", ".tab")) and "\t" in present:
        return "\t"
    return max(present, key=lambda d: (_consistency(sample, d), header.count(d)))


def _consistency(sample: str, delimiter: str) -> float:
    """Share of the sample's rows with as many fields as its header under ``delimiter``."""
    rows = list(csv.reader(io.StringIO(sample), delimiter=delimiter))
    return sum(len(row) == len(rows[0]) for row in rows) / len(rows)


def _header_and_width(text: str, delimiter: str) -> tuple[list[str], int]:
    """The header row's names as written, and how many columns to read: more than the names when the
    first 50 rows usually have more fields (a trailing delimiter, an unnamed column). pandas allows at
    most as many as the first data row has."""
    try:
        rows = [row for row in itertools.islice(csv.reader(io.StringIO(text), delimiter=delimiter), 51) if row]
    except csv.Error:
        rows = []
    if len(rows) < 2:
        return (rows[0], len(rows[0])) if rows else ([], 0)
    widths = Counter(len(row) for row in rows[1:])
    usual = max(widths, key=lambda w: (widths[w], w))
    return rows[0], max(len(rows[0]), min(usual, len(rows[1])))


def _count_records(text: str, delimiter: str) -> int:
    """Data rows as the csv module reads them (quoted line breaks included)."""
    return sum(1 for row in csv.reader(io.StringIO(text), delimiter=delimiter) if row) - 1


def _count_rows(text: str) -> int:
    """Data rows as lines minus the header, without splitting the text (quoted line breaks overcount)."""
    newline = "\n" if "\n" in text else "\r"
    return text.count(newline) + (not text.endswith(newline)) - 1


def _column_names(header: list[str], width: int) -> tuple[list[str], list[str]]:
    """Unique names for the columns, and what was renamed: a blank name becomes ``column_N``, a repeated
    one gets pandas' ``.1`` suffix, and fields that rows have beyond the header get ``column_N`` too."""
    written = header + [""] * (width - len(header))
    taken = set(written)
    names: list[str] = []
    renamed = []
    for i, name in enumerate(written):
        if not name.strip():
            new, suffix = f"column_{i + 1}", 1
            while new in taken:
                new, suffix = f"column_{i + 1}_{suffix}", suffix + 1
            renamed.append(f"{'blank' if i < len(header) else 'unnamed extra field'} → {new}")
        elif name in names:
            new, suffix = f"{name}.1", 1
            while new in taken:
                suffix += 1
                new = f"{name}.{suffix}"
            renamed.append(f"duplicate {name!r} → {new!r}")
        else:
            new = name
        taken.add(new)
        names.append(new)
    return names, renamed


def _words(name: object) -> list[str]:
    """A column name's words, lowercased: "productCategory" and "product_category" → product, category."""
    return [w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", str(name))]


def guess_text_column(frame: pd.DataFrame) -> str | None:
    """The column most like free text: most words per cell on average, mostly distinct values.

    Columns of mostly numbers, dates or id-like codes ("A-1023") are skipped. Looks at the first 2,000 rows.
    """
    best, best_score = None, 0.0
    sample = frame.head(2000)
    for position, column in enumerate(sample.columns):
        values = sample.iloc[:, position].dropna().astype(str).str.strip()
        values = values[values != ""]
        if values.empty or values.str.fullmatch(r"[\d.,:\-/+%$€£ ]+|\S*\d\S*").mean() > 0.8:
            continue
        score = values.str.split().str.len().mean() * values.nunique() / len(values)
        if score > best_score:
            best, best_score = column, score
    return best


def guess_label_column(frame: pd.DataFrame, exclude: Collection[str] = ()) -> str | None:
    """A mostly filled column with 2 to min(50, n/2) distinct values; names like label/category/topic win,
    then fewer classes."""
    n = len(frame)
    candidates = []
    for position, column in enumerate(frame.columns):
        if column in exclude:
            continue
        values = frame.iloc[:, position].dropna().astype(str).str.strip()
        values = values[values != ""]
        distinct = values.nunique()
        if 2 <= distinct <= min(50, max(2, n // 2)) and len(values) >= n / 2:
            named = any(word.startswith(_LABEL_WORDS) for word in _words(column))
            candidates.append((not named, distinct, position))
    return frame.columns[min(candidates)[2]] if candidates else None


@dataclass
class PreparedTexts:
    """The non-empty texts of one column, where they sit in the frame, and what was skipped."""

    texts: list[str]
    row_index: np.ndarray  # positions in the frame of the rows kept
    n_dropped: int
    notes: list[str] = field(default_factory=list)


def _column_list(frame: pd.DataFrame, limit: int = 20) -> str:
    names = [str(c) for c in frame.columns]
    more = f" … ({len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def prepare_texts(frame: pd.DataFrame, column: str) -> PreparedTexts:
    """Stripped texts of ``column``; empty and missing ones are skipped and counted."""
    if not column:
        raise InputError(f"Choose the column that holds the texts. Columns: {_column_list(frame)}.")
    if column not in frame.columns:
        close = [str(c) for c in frame.columns if str(c).strip().lower() == str(column).strip().lower()]
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise InputError(f"There is no column '{column}'.{hint} Columns: {_column_list(frame)}.")
    values = frame[column]
    if isinstance(values, pd.DataFrame):
        raise InputError(f"Several columns are named '{column}'; rename them so each name is unique.")
    texts = values.astype("string").str.strip()
    keep = texts.notna() & (texts != "")
    row_index = np.flatnonzero(keep.to_numpy())
    if len(row_index) == 0:
        raise InputError(f"Column '{column}' has no text: every row is empty. Pick the column that holds the texts.")
    dropped = len(frame) - len(row_index)
    notes = [f"Skipped {dropped:,} row(s) with an empty text (the rows themselves are kept)."] if dropped else []
    return PreparedTexts(texts[keep].tolist(), row_index, dropped, notes)


def prepare_labels(values: pd.Series | Sequence[object], max_classes: int = MAX_LABEL_CLASSES
                   ) -> tuple[np.ndarray, list[str]]:
    """Labels as strings (None where missing) and notes; beyond ``max_classes`` distinct values the
    rarest become "(other)" — a column with a thousand values is rarely a label, and a legend cannot show it."""
    series = pd.Series(values, dtype="string").str.strip().replace("", pd.NA).reset_index(drop=True)
    counts = series.value_counts()
    notes = []
    if len(counts) > max_classes:
        keep = set(counts.index[: max_classes - 1])
        series = series.where(series.isna() | series.isin(keep), OTHER_LABEL)
        notes.append(f"The label column has {len(counts):,} distinct values; the {max_classes - 1} most frequent "
                     f"are kept and the rest grouped as '{OTHER_LABEL}'. Is it really a label column?")
    labels = np.array([None if pd.isna(v) else str(v) for v in series], dtype=object)
    return labels, notes
