"""Clustering on blobs with known answers, automatic k, noise, keywords and cluster summaries."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.cluster.hierarchy import linkage
from scipy.spatial.distance import pdist

from instructor_core import InputError, clustering, neighbours
from instructor_core.clustering import (
    NOISE_KEYWORDS,
    assign_to_centroids,
    cluster,
    cluster_centroids,
    cluster_keywords,
    cluster_summary,
    euclidean_distances,
    representative_texts,
)
from instructor_core.metrics import cluster_label_agreement
from tests.test_metrics import blobs


@pytest.mark.parametrize("method", ["kmeans", "agglomerative", "hdbscan"])
def test_recovers_blobs_numbered_by_size(method):
    x, truth = blobs(sizes=(20, 60, 40, 30))
    result = cluster(x, method=method, k_range=(2, 8), min_cluster_size=10)
    assert result.method == method and result.n_clusters == 4
    assert cluster_label_agreement(result.labels, truth)["ari"] == 1.0
    assert result.labels.dtype.kind == "i"
    assert np.bincount(result.labels).tolist() == [60, 40, 30, 20]  # 0 is the largest
    assert result.silhouette > 0.5


def test_automatic_k_scores_every_k_and_picks_the_best():
    x, _ = blobs(sizes=(30, 30, 30))
    result = cluster(x, "kmeans", "auto", k_range=(2, 6))
    assert set(result.k_scores) == {2, 3, 4, 5, 6}
    assert result.n_clusters == 3 == max(result.k_scores, key=result.k_scores.get)
    assert result.silhouette == result.k_scores[3]


def test_k_range_is_capped_at_n_minus_one():
    x, _ = blobs(sizes=(3, 3))
    assert max(cluster(x, "agglomerative", "auto", k_range=(2, 12)).k_scores) == 5


def test_fixed_k_is_respected_and_deterministic():
    x, _ = blobs(sizes=(30, 30, 30), spread=1.5)
    result = cluster(x, "kmeans", 5, random_state=1)
    assert result.n_clusters == 5 == len(set(result.labels)) and result.k_scores == {}
    np.testing.assert_array_equal(result.labels, cluster(x, "kmeans", 5, random_state=1).labels)


def test_hdbscan_marks_outliers_as_noise():
    x, _ = blobs(sizes=(40, 40))
    rng = np.random.default_rng(0)
    shared = 8 * rng.normal(size=x.shape[1]) / np.sqrt(x.shape[1])  # brings the blobs' directions closer...
    outliers = rng.normal(size=(3, x.shape[1])) - shared  # ...and these three far from both
    result = cluster(np.vstack([x + shared, outliers]), "hdbscan", n_clusters=7)  # n_clusters is ignored
    assert result.n_clusters == 2
    assert (result.labels[-3:] == -1).all() and (result.labels[:-3] >= 0).all()


def test_input_errors():
    x, _ = blobs(sizes=(5, 5))
    with pytest.raises(InputError, match="at least 2 texts"):
        cluster(x[:1])
    with pytest.raises(InputError, match="between 2 and 10"):
        cluster(x, "kmeans", 11)
    with pytest.raises(InputError, match="between 2 and 10"):
        cluster(x, "kmeans", 1)
    with pytest.raises(InputError, match="'auto' or a whole number"):
        cluster(x, "kmeans", "many")
    with pytest.raises(InputError, match="Unknown clustering method"):
        cluster(x, "dbscan")
    with pytest.raises(InputError, match="at least 2"):
        cluster(x, "hdbscan", min_cluster_size=1)
    with pytest.raises(InputError, match="set the number of clusters yourself"):
        cluster(x[:2], "kmeans", "auto")


def planted_texts(seed: int = 0) -> tuple[list[str], np.ndarray]:
    """Three clusters of texts drawing on one shared filler vocabulary plus one planted word each."""
    rng = np.random.default_rng(seed)
    filler = ["table", "window", "river", "garden", "market", "letter", "summer", "engine", "silver", "forest"]
    planted = ["volcano", "saxophone", "glacier"]
    labels = np.repeat([0, 1, 2], 15)
    texts = [" ".join([*rng.choice(filler, 6), planted[c]]) for c in labels]
    return texts, labels


def test_keywords_find_each_clusters_planted_word():
    texts, labels = planted_texts()
    keywords = cluster_keywords(texts, labels, top_n=3)
    assert [words[0] for words in keywords.values()] == ["volcano", "saxophone", "glacier"]
    assert all(len(words) == 3 for words in keywords.values())


def test_keywords_without_vocabulary_and_in_other_languages():
    assert cluster_keywords(["the a", "of and", ""], [0, 1, 1]) == {0: [], 1: []}  # only stop words
    keywords = cluster_keywords(["le chat dort", "le chat mange", "東京 大阪", "東京 京都"], [0, 0, 1, 1], top_n=1)
    assert keywords == {0: ["chat"], 1: ["東京"]}


def test_representative_texts_are_nearest_the_centroid():
    texts = ["core", "edge", "middle", "other"]
    x = np.array([[1.0, 0.1], [0.2, 1.0], [1.0, 0.5], [-1.0, 0.0]])
    labels = np.array([0, 0, 0, 1])
    assert representative_texts(texts, x, labels, n=2) == {0: ["middle", "core"], 1: ["other"]}


def test_summary_lists_clusters_by_size_with_noise_last():
    texts, labels = planted_texts()
    x = np.eye(3)[labels]
    labels = np.where(np.arange(len(labels)) < 5, -1, labels)  # five noise rows, taken from cluster 0
    summary = cluster_summary(texts, x, labels, top_n_keywords=2, n_representatives=2)
    assert list(summary.columns) == ["cluster", "size", "share", "keywords", "representatives"]
    assert summary["cluster"].tolist() == [1, 2, 0, -1] and summary["size"].tolist() == [15, 15, 10, 5]
    assert summary["share"].sum() == pytest.approx(1.0, abs=2e-3)  # shares are rounded to 3 decimals
    assert summary["keywords"].iloc[0].startswith("saxophone")
    assert summary["keywords"].iloc[-1] == NOISE_KEYWORDS
    assert summary["representatives"].iloc[0].count(" | ") == 1


def test_centroids_fitted_on_a_sample_label_the_rest_as_kmeans_would():
    x, truth = blobs(sizes=(40, 60, 50))
    rng = np.random.default_rng(0)
    sample = rng.choice(len(x), size=60, replace=False)
    fitted = cluster(x[sample], "kmeans", 3)
    centres = cluster_centroids(x[sample], fitted.labels)
    assert centres.shape == (3, x.shape[1])
    np.testing.assert_array_equal(assign_to_centroids(x[sample], centres), fitted.labels)  # the sample keeps its labels
    assert cluster_label_agreement(assign_to_centroids(x, centres), truth)["ari"] == 1.0  # and the rest join theirs


def test_blocked_euclidean_distances_equal_pdist_and_give_the_same_ward_tree(monkeypatch):
    x, _ = blobs(sizes=(40, 30, 25), spread=0.8)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    monkeypatch.setattr(neighbours, "BLOCK_BYTES", 8 * len(x) * 6)  # blocks of 6 rows, the last one short
    monkeypatch.setattr(clustering, "BLOCK_BYTES", neighbours.BLOCK_BYTES)
    distances = euclidean_distances(x)
    np.testing.assert_allclose(distances, pdist(x.astype(np.float64)), atol=1e-7)
    ours, scipys = linkage(distances, method="ward"), linkage(x.astype(np.float64), method="ward")
    np.testing.assert_array_equal(ours[:, [0, 1, 3]], scipys[:, [0, 1, 3]])  # the same merges in the same order
    np.testing.assert_allclose(ours[:, 2], scipys[:, 2], atol=1e-6)


def test_a_clustering_is_computed_once_per_input_and_parameters(monkeypatch):
    calls = []
    real_partition, real_linkage = clustering._partition, clustering.linkage
    monkeypatch.setattr(clustering, "_partition", lambda *a: calls.append(a[2]) or real_partition(*a))
    monkeypatch.setattr(clustering, "linkage", lambda *a, **kw: calls.append("tree") or real_linkage(*a, **kw))
    clustering.RESULTS.clear()
    clustering.TREES.clear()
    x, _ = blobs(sizes=(20, 20, 20))
    first = cluster(x, "kmeans", "auto", k_range=(2, 5))
    first.labels[:] = 0  # the caller's copy: the cached result is untouched
    first.notes.append("changed")
    again = cluster(x.copy(), "kmeans", "auto", k_range=(2, 5))
    assert calls == ["kmeans"] and len(set(again.labels)) == 3 and again.notes == []
    cluster(x, "agglomerative", 3)
    cluster(x, "agglomerative", 4)  # another k cuts the same tree again
    assert calls == ["kmeans", "agglomerative", "tree", "agglomerative"]
    moved = x.copy()
    moved[0, 0] += 1e-3  # changed input: clustered again
    cluster(moved, "agglomerative", 3)
    assert calls[-2:] == ["agglomerative", "tree"]


def test_reclustering_a_table_reuses_its_vectors_clusters_graph_and_layout(tiny_encoder, monkeypatch):
    """The Cluster page's second run: another k or algorithm keeps the layout, another projection keeps the
    vectors and the clusters; other texts compute everything again."""
    import pandas as pd

    from instructor_core import explore, projection

    calls = []
    real_layout, real_graph, real_partition = projection._umap, projection.knn_graph, clustering._partition
    monkeypatch.setattr(projection, "_umap", lambda *a, **kw: calls.append("layout") or real_layout(*a, **kw))
    monkeypatch.setattr(projection, "knn_graph", lambda *a, **kw: calls.append("graph") or real_graph(*a, **kw))
    monkeypatch.setattr(clustering, "_partition", lambda *a: calls.append(a[2]) or real_partition(*a))
    for cache in (projection.LAYOUTS, projection.GRAPHS, clustering.RESULTS, clustering.TREES):
        cache.clear()
    texts = [f"{topic} review number {i}" for i in range(12) for topic in ("camera", "novel", "blender")]

    def run(method, k, projection_name, rows=texts):
        return explore.cluster_texts(tiny_encoder, pd.DataFrame({"text": rows}), rows, list(range(len(rows))),
                                     "Represent the review: ", method=method, n_clusters=k,
                                     projection=projection_name)

    first = run("kmeans", 3, "umap")
    assert calls == ["kmeans", "layout", "graph"]
    misses = tiny_encoder.cache.stats()["misses"]
    another_k = run("kmeans", 4, "umap")
    another_algorithm = run("agglomerative", 4, "umap")
    assert calls == ["kmeans", "layout", "graph", "kmeans", "agglomerative"]  # no layout, no graph again
    np.testing.assert_array_equal(another_k.frame[["x", "y"]], first.frame[["x", "y"]])
    np.testing.assert_array_equal(another_algorithm.frame[["x", "y"]], first.frame[["x", "y"]])
    pca = run("kmeans", 4, "pca")
    assert calls[-1] == "agglomerative" and tiny_encoder.cache.stats()["misses"] == misses  # nothing encoded
    np.testing.assert_array_equal(pca.frame["cluster"], another_k.frame["cluster"])
    run("kmeans", 4, "umap", rows=texts[:-1])  # another table (its vectors cached): clustered and projected again
    assert calls[-3:] == ["kmeans", "layout", "graph"]
