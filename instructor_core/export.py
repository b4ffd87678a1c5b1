"""Files users download: tables safe to open in a spreadsheet, embeddings as .npy or parquet."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

# A cell starting with one of these is run as a formula by Excel / LibreOffice / Sheets (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# ...except "-" then a digit or a space with nothing a formula needs to do harm after it (no =, +, @, a
# function's "(", or DDE's "|" and "!"): "-3", "-1,5", "- a list item" stay as written.
_PLAIN_DASH = re.compile(r"-[\d ][^=+@|!()\t\r]*", re.DOTALL)


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells that would start a formula are prefixed with ``'``.

    Numbers stay numbers (a numeric -3 is not a formula), and so do text cells like "-3" or "- item";
    only text cells are touched, as OWASP advises.
    """
    safe = frame.copy()
    for column in safe.columns[[not pd.api.types.is_numeric_dtype(t) for t in safe.dtypes]]:
        safe[column] = safe[column].map(_neutralise)
    return safe


def _neutralise(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _PLAIN_DASH.fullmatch(value):
        return "'" + value
    return value


def write_embeddings(embeddings: np.ndarray, path: str | Path) -> Path:
    """Save ``embeddings`` (n, dim) to ``path``: ``.npy`` as is, ``.parquet`` one row per text with
    ``row`` (position in the uploaded table) and ``embedding`` (list of floats) columns."""
    path = Path(path)
    embeddings = np.asarray(embeddings, dtype=np.float32)
    if path.suffix == ".npy":
        np.save(path, embeddings)
    elif path.suffix == ".parquet":
        pd.DataFrame({"row": np.arange(len(embeddings)), "embedding": list(embeddings)}).to_parquet(path, index=False)
    else:
        raise ValueError(f"Unsupported embeddings format '{path.suffix}'; use .npy or .parquet.")
    return path
