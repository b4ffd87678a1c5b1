"""Similarity, projection, clustering, metrics and phrasing analysis on synthetic data with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from instructor_core import InputError
from instructor_core.clustering import cluster, cluster_keywords, cluster_summary, representative_texts
from instructor_core.metrics import (
    cluster_label_agreement,
    instruction_effect,
    knn_accuracy,
    label_separation,
    silhouette_cosine,
)
from instructor_core.phrasings import phrasing_report, similarity_rank_agreement, vector_agreement
from instructor_core.projection import align_to, project, project_pair
from instructor_core.similarity import cosine_similarity_matrix, similarity_frame


def blobs(n_per: int = 40, k: int = 3, dim: int = 32, spread: float = 0.3, seed: int = 0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, dim))
    labels = np.repeat(np.arange(k), n_per)
    return (centers[labels] + spread * rng.normal(size=(k * n_per, dim))).astype(np.float32), labels


def test_cosine_matrix_known_values():
    a = np.array([[1, 0], [0, 2], [0, 0]], dtype=np.float32)
    m = cosine_similarity_matrix(a)
    np.testing.assert_allclose(m, [[1, 0, 0], [0, 1, 0], [0, 0, 0]], atol=1e-7)
    np.testing.assert_allclose(cosine_similarity_matrix(a[:1], np.array([[-3.0, 0]])), [[-1]])
    frame = similarity_frame(m, ["x", "x", "y"])
    assert list(frame.index) == ["x", "x (2)", "y"] == list(frame.columns)


@pytest.mark.parametrize("method", ["pca", "umap", "tsne"])
def test_projection_shape_and_determinism(method):
    x, _ = blobs(n_per=20)
    first, second = project(x, method, random_state=3), project(x, method, random_state=3)
    assert first.shape == (60, 2) and first.dtype == np.float32
    np.testing.assert_array_equal(first, second)


def test_projection_keeps_blobs_apart():
    x, labels = blobs(n_per=30)
    coords = project(x, "pca")
    assert knn_accuracy(coords, labels) == 1.0


def test_projection_input_errors():
    with pytest.raises(InputError, match="at least 3"):
        project(np.ones((2, 4)), "pca")
    with pytest.raises(InputError, match="Unknown projection"):
        project(np.ones((10, 4)), "mds")
    with pytest.raises(InputError, match="does not take: perplexity"):
        project(np.ones((10, 4)), "umap", perplexity=5)


def test_procrustes_recovers_rotation_reflection_scale_and_shift():
    rng = np.random.default_rng(1)
    ref = rng.normal(size=(50, 2))
    angle = 1.1
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ np.diag([1, -1])
    moved = 3.5 * ref @ rotation + np.array([10.0, -4.0])
    np.testing.assert_allclose(align_to(ref, moved), ref, atol=1e-5)


def test_project_pair_aligns_b_to_a():
    x, _ = blobs(n_per=20)
    a, b = project_pair(x, x[:, ::-1] * 2.0, method="pca")  # same geometry, other frame
    np.testing.assert_allclose(a, b, atol=1e-3)


@pytest.mark.parametrize("method", ["kmeans", "agglomerative", "hdbscan"])
def test_clustering_recovers_blobs(method):
    x, labels = blobs(n_per=40, k=4)
    result = cluster(x, method=method, n_clusters="auto", k_range=(2, 8), min_cluster_size=10)
    assert result.n_clusters == 4
    assert cluster_label_agreement(result.labels, labels)["ari"] > 0.95
    sizes = np.bincount(result.labels[result.labels >= 0])
    assert list(sizes) == sorted(sizes, reverse=True)  # 0 is the largest


def test_auto_k_reports_scores_and_fixed_k_is_respected():
    x, _ = blobs(n_per=30, k=3)
    auto = cluster(x, "kmeans", "auto", k_range=(2, 6))
    assert set(auto.k_scores) == {2, 3, 4, 5, 6} and max(auto.k_scores, key=auto.k_scores.get) == 3
    assert cluster(x, "kmeans", 5).n_clusters == 5
    np.testing.assert_array_equal(cluster(x, "kmeans", 3, random_state=1).labels, cluster(x, "kmeans", 3, random_state=1).labels)
    with pytest.raises(InputError, match="between 2 and"):
        cluster(x, "kmeans", 500)


def test_keywords_and_representatives():
    texts = [f"pasta sauce garlic dinner {i}" for i in range(10)] + [f"battery charger phone cable {i}" for i in range(10)]
    labels = np.array([0] * 10 + [1] * 10)
    keywords = cluster_keywords(texts, labels, top_n=3)
    assert set(keywords[0]) <= {"pasta", "sauce", "garlic", "dinner", "pasta sauce", "sauce garlic", "garlic dinner"}
    assert "battery" in " ".join(keywords[1]) and "pasta" not in " ".join(keywords[1])
    assert cluster_keywords(["the a", "of and"], [0, 1]) == {0: [], 1: []}  # only stop words
    x = np.vstack([np.eye(4)[[0] * 9 + [1]], np.eye(4)[[2] * 10]])
    assert representative_texts(texts, x, labels, n=1)[0] == [texts[0]]
    summary = cluster_summary(texts, x, labels)
    assert list(summary.columns) == ["cluster", "size", "share", "keywords", "representatives"]
    assert summary["size"].sum() == 20


def test_noise_cluster_is_listed_last():
    x, _ = blobs(n_per=10, k=2)
    labels = np.array([0] * 9 + [-1] + [1] * 10)
    assert cluster_summary([f"t{i}" for i in range(20)], x, labels)["cluster"].tolist() == [1, 0, -1]


def test_separation_metrics_known_answers():
    x, labels = blobs()
    assert knn_accuracy(x, labels) == 1.0
    assert silhouette_cosine(x, labels) > 0.5
    shuffled = np.random.default_rng(0).permutation(labels)
    assert knn_accuracy(x, shuffled) < 0.6 and abs(silhouette_cosine(x, shuffled)) < 0.1
    assert knn_accuracy(x, ["a"] * len(x)) is None and silhouette_cosine(x, ["a"] * len(x)) is None


def test_metrics_ignore_missing_labels_and_singletons():
    x, labels = blobs(n_per=10)
    partial = [None if i % 5 == 0 else str(v) for i, v in enumerate(labels)]
    partial[1] = "lonely"
    assert knn_accuracy(x, partial) == 1.0
    assert label_separation(x, partial)["silhouette"] is not None


def test_instruction_effect_is_with_minus_without():
    x, labels = blobs()
    noise = np.random.default_rng(5).normal(size=x.shape)
    effect = instruction_effect(noise, x, labels).set_index("metric")
    assert effect.loc["knn_accuracy", "delta"] == pytest.approx(effect.loc["knn_accuracy", "with"]
                                                                - effect.loc["knn_accuracy", "without"])
    assert effect.loc["knn_accuracy", "delta"] > 0.4


def test_cluster_label_agreement():
    assert cluster_label_agreement([0, 0, 1, 1], ["a", "a", "b", "b"]) == {"ari": 1.0, "nmi": 1.0}
    assert cluster_label_agreement([0, 1, 0, 1], ["a", "a", "b", "b"])["ari"] < 0


def test_phrasing_agreement_and_report():
    x, labels = blobs()
    noise = np.random.default_rng(2).normal(size=x.shape).astype(np.float32)
    spaces = {"same": x, "scaled copy": 2 * x, "noise": noise}
    agreement = vector_agreement(list(spaces.values()))
    assert agreement[0, 1] == pytest.approx(1.0, abs=1e-5) and agreement[0, 2] < 0.2
    ranks = similarity_rank_agreement(list(spaces.values()))
    assert ranks[0, 1] == pytest.approx(1.0, abs=1e-5) and abs(ranks[0, 2]) < 0.2
    report = phrasing_report(spaces, labels)
    assert list(report.metrics["phrasing"]) == list(spaces)
    assert report.best in {"same", "scaled copy"}
    assert isinstance(report.vector_agreement, pd.DataFrame) and report.vector_agreement.shape == (3, 3)
    assert phrasing_report(spaces).best is None
