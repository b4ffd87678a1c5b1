"""Cosine similarity matrices, as arrays and as labelled tables."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def cosine_similarity_matrix(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Cosine similarity of every row of ``a`` with every row of ``b`` (``a`` itself when None)."""
    a_unit = l2_normalize(a)
    b_unit = a_unit if b is None else l2_normalize(b)
    return np.clip(a_unit @ b_unit.T, -1.0, 1.0)


def unique_labels(labels: Sequence[object]) -> list[str]:
    """Labels made unique for use as table headers: repeats get " (2)", " (3)"..."""
    seen: dict[str, int] = {}
    out = []
    for label in map(str, labels):
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def similarity_frame(matrix: np.ndarray, row_labels: Sequence[object], col_labels: Sequence[object] | None = None
                     ) -> pd.DataFrame:
    """A similarity matrix as a DataFrame with (unique) row and column labels."""
    rows = unique_labels(row_labels)
    return pd.DataFrame(np.asarray(matrix), index=rows, columns=rows if col_labels is None else unique_labels(col_labels))
