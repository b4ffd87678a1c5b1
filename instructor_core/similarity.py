"""Cosine similarity matrices, as arrays and as labelled tables."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as float32; zero rows stay zero (so their similarities are 0, not NaN)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def cosine_similarity_matrix(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """(len(a), len(b)) float32 cosine similarity of every row of ``a`` with every row of ``b`` (``a`` if None)."""
    a_unit = l2_normalize(a)
    b_unit = a_unit if b is None else l2_normalize(b)
    return np.clip(a_unit @ b_unit.T, -1.0, 1.0)


def unique_labels(labels: Sequence[object]) -> list[str]:
    """Labels as strings made unique for table headers: repeats get " (2)", " (3)"..."""
    taken: set[str] = set()
    copies: dict[str, int] = {}
    out = []
    for label in map(str, labels):
        candidate = label
        while candidate in taken:  # a loop, as "x (2)" may itself be one of the labels
            copies[label] = copies.get(label, 1) + 1
            candidate = f"{label} ({copies[label]})"
        taken.add(candidate)
        out.append(candidate)
    return out


def similarity_frame(matrix: np.ndarray, row_labels: Sequence[object], col_labels: Sequence[object] | None = None
                     ) -> pd.DataFrame:
    """A similarity matrix as a DataFrame with unique row and column labels (columns = rows when None)."""
    matrix = np.asarray(matrix)
    rows = unique_labels(row_labels)
    columns = rows if col_labels is None else unique_labels(col_labels)
    if matrix.shape != (len(rows), len(columns)):
        raise ValueError(f"matrix of shape {matrix.shape} does not match {len(rows)} x {len(columns)} labels")
    return pd.DataFrame(matrix, index=rows, columns=columns)
