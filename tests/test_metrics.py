"""Label separation metrics on blobs with known answers; unlabeled rows and tiny classes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from instructor_core import InputError
from instructor_core.metrics import (
    cluster_label_agreement,
    instruction_effect,
    knn_accuracy,
    label_separation,
    silhouette_cosine,
)


def blobs(sizes: tuple[int, ...] = (40, 40, 40), dim: int = 32, spread: float = 0.3, seed: int = 0
          ) -> tuple[np.ndarray, np.ndarray]:
    """Well-separated Gaussian blobs (float32) and their blob ids; shared by the analysis tests."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(len(sizes), dim))
    labels = np.repeat(np.arange(len(sizes)), sizes)
    return (centers[labels] + spread * rng.normal(size=(len(labels), dim))).astype(np.float32), labels


def test_separated_blobs_score_high_and_shuffled_labels_score_chance():
    x, labels = blobs()
    assert knn_accuracy(x, labels) == 1.0
    assert silhouette_cosine(x, labels) > 0.5
    shuffled = np.random.default_rng(0).permutation(labels)
    assert knn_accuracy(x, shuffled) < 0.55  # chance is 1/3
    assert abs(silhouette_cosine(x, shuffled)) < 0.1


def test_string_and_int_labels_give_the_same_scores():
    x, labels = blobs(spread=1.5)  # overlapping, so the scores are not trivially 1
    names = [f"label {v}" for v in labels]  # same sort order as the ints, hence the same folds
    assert knn_accuracy(x, labels) == knn_accuracy(x, names) < 1.0
    assert silhouette_cosine(x, labels) == pytest.approx(silhouette_cosine(x, names))


def test_unlabeled_rows_are_left_out():
    x, labels = blobs(spread=1.5)
    partial = [None if i % 7 == 0 else ("" if i % 11 == 0 else (np.nan if i % 13 == 0 else str(v)))
               for i, v in enumerate(labels)]
    keep = np.array([v not in (None, "") and v == v for v in partial])
    subset_labels = labels[keep].astype(str)
    assert knn_accuracy(x, partial) == knn_accuracy(x[keep], subset_labels)
    assert silhouette_cosine(x, partial) == pytest.approx(silhouette_cosine(x[keep], subset_labels))


def test_small_classes_reduce_folds_and_singletons_are_ignored():
    x, labels = blobs(sizes=(20, 20, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 5 stratified folds of a 4-member class would warn
        assert knn_accuracy(x, labels) == 1.0
    with_singleton = ["lonely", *labels[1:].tolist()]
    assert knn_accuracy(x, with_singleton) == knn_accuracy(x[1:], labels[1:]) == 1.0
    assert knn_accuracy(x[:5], ["a", "a", "b", "b", "c"]) is not None


def test_undefined_metrics_are_none():
    x, _ = blobs()
    one_label = ["a"] * len(x)
    all_singletons = [str(i) for i in range(len(x))]
    assert knn_accuracy(x, one_label) is None and silhouette_cosine(x, one_label) is None
    assert knn_accuracy(x, all_singletons) is None and silhouette_cosine(x, all_singletons) is None
    assert knn_accuracy(x, [None] * len(x)) is None


def test_silhouette_sample_is_seeded():
    x, labels = blobs(spread=1.5)
    sampled = silhouette_cosine(x, labels, sample_size=30, random_state=1)
    assert sampled == silhouette_cosine(x, labels, sample_size=30, random_state=1)
    assert sampled != silhouette_cosine(x, labels, sample_size=30, random_state=2)


def test_label_count_must_match_rows():
    x, labels = blobs()
    with pytest.raises(InputError, match="labels for"):
        knn_accuracy(x, labels[:-1])


def test_cluster_label_agreement():
    assert cluster_label_agreement([5, 5, 1, 1], ["a", "a", "b", "b"]) == {"ari": 1.0, "nmi": 1.0}
    assert cluster_label_agreement([0, 1, 0, 1], ["a", "a", "b", "b"])["ari"] < 0
    assert cluster_label_agreement([0, 0, 1, 1, 0], ["a", "a", "b", "b", None])["ari"] == 1.0  # unlabeled row ignored
    assert np.isnan(cluster_label_agreement([0, 1], [None, None])["ari"])


def test_label_separation_and_instruction_effect():
    x, labels = blobs()
    noise = np.random.default_rng(5).normal(size=x.shape)
    assert label_separation(x, labels) == {"knn_accuracy": 1.0, "silhouette": silhouette_cosine(x, labels)}
    effect = instruction_effect(noise, x, labels)
    assert list(effect.columns) == ["metric", "without", "with", "delta"]
    assert list(effect["metric"]) == ["knn_accuracy", "silhouette"]
    np.testing.assert_allclose(effect["delta"], effect["with"] - effect["without"])
    assert effect.set_index("metric").loc["knn_accuracy", "delta"] > 0.4
    undefined = instruction_effect(noise, x, ["a"] * len(x))
    assert undefined["delta"].isna().all()
