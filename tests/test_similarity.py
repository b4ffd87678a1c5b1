"""Cosine similarity matrices and their labelled tables."""

from __future__ import annotations

import numpy as np
import pytest

from instructor_core.similarity import cosine_similarity_matrix, similarity_frame


def test_known_values_and_zero_rows():
    a = np.array([[1, 0], [0, 2], [0, 0], [-3, 0]], dtype=np.float64)
    matrix = cosine_similarity_matrix(a)
    assert matrix.dtype == np.float32
    expected = [[1, 0, 0, -1], [0, 1, 0, 0], [0, 0, 0, 0], [-1, 0, 0, 1]]  # the zero row is similar to nothing
    np.testing.assert_allclose(matrix, expected, atol=1e-7)


def test_a_against_b():
    a = np.array([[1.0, 1.0], [1.0, 0.0]])
    b = np.array([[2.0, 0.0], [0.0, 5.0], [1.0, 1.0]])
    matrix = cosine_similarity_matrix(a, b)
    assert matrix.shape == (2, 3)
    np.testing.assert_allclose(matrix, [[np.sqrt(0.5), np.sqrt(0.5), 1], [1, 0, np.sqrt(0.5)]], atol=1e-6)


def test_random_matrix_is_symmetric_with_unit_diagonal_and_bounded():
    x = np.random.default_rng(0).normal(size=(50, 16))
    matrix = cosine_similarity_matrix(x)
    np.testing.assert_allclose(matrix, matrix.T, atol=1e-6)
    np.testing.assert_allclose(np.diag(matrix), 1, atol=1e-6)
    assert matrix.min() >= -1 and matrix.max() <= 1


def test_frame_makes_labels_unique():
    frame = similarity_frame(np.eye(5), ["x", "x", "y", "x", 7])
    assert list(frame.index) == ["x", "x (2)", "y", "x (3)", "7"] == list(frame.columns)
    tricky = similarity_frame(np.eye(3), ["x", "x", "x (2)"])
    assert tricky.index.is_unique


def test_frame_with_column_labels():
    frame = similarity_frame(np.zeros((2, 3)), ["a", "b"], ["c", "c", "d"])
    assert list(frame.index) == ["a", "b"] and list(frame.columns) == ["c", "c (2)", "d"]
    with pytest.raises(ValueError, match="does not match"):
        similarity_frame(np.zeros((2, 3)), ["a", "b"])
