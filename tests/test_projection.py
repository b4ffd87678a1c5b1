"""2-D projections: shape, determinism, separation kept, input checks, Procrustes alignment."""

from __future__ import annotations

import numpy as np
import pytest
import umap
from scipy.spatial.distance import cdist
from sklearn.neighbors import NearestNeighbors
from scipy.stats import ortho_group

from instructor_core import InputError, neighbours, projection
from instructor_core.neighbours import knn_graph
from instructor_core.projection import align_to, project, project_pair
from tests.test_metrics import blobs


def nearest_neighbour_agreement(coords: np.ndarray, labels: np.ndarray) -> float:
    """Share of points whose nearest other point (Euclidean, as the eye sees it) has the same label."""
    distances = cdist(coords, coords)
    np.fill_diagonal(distances, np.inf)
    return float(np.mean(labels[distances.argmin(axis=1)] == labels))


@pytest.mark.parametrize("method", ["pca", "umap", "tsne"])
def test_projection_is_deterministic_and_keeps_blobs_apart(method):
    x, labels = blobs(sizes=(20, 20, 20))
    first = project(x, method, random_state=3)
    projection.LAYOUTS.clear()  # computed again, not served from the cache
    projection.GRAPHS.clear()
    again = project(x, method, random_state=3)
    assert first.shape == (60, 2) and first.dtype == np.float32
    np.testing.assert_array_equal(first, again)
    assert nearest_neighbour_agreement(first, labels) == 1.0
    if method != "pca":  # PCA has no randomness; the others must actually use the seed
        assert not np.array_equal(first, project(x, method, random_state=4))


def test_sklearn_tsne_backend_also_works(monkeypatch):
    x, labels = blobs(sizes=(15, 15))
    monkeypatch.setattr(projection, "TSNE_BACKEND", "sklearn")
    coords = project(x, "tsne", perplexity=5)
    projection.LAYOUTS.clear()
    np.testing.assert_array_equal(coords, project(x, "tsne", perplexity=5))
    assert nearest_neighbour_agreement(coords, labels) == 1.0


def test_params_are_clamped_for_small_inputs():
    x, _ = blobs(sizes=(4, 4))
    assert project(x, "tsne", perplexity=30).shape == (8, 2)  # perplexity capped below n
    assert project(x, "umap", n_neighbors=50).shape == (8, 2)  # n_neighbors capped at n - 1


def test_fewer_than_six_texts_fall_back_to_pca():
    x, _ = blobs(sizes=(3, 2))
    np.testing.assert_array_equal(project(x, "umap"), project(x, "pca"))
    np.testing.assert_array_equal(project(x, "tsne"), project(x, "pca"))


def test_input_errors():
    x, _ = blobs(sizes=(5, 5))
    with pytest.raises(InputError, match="at least 3 texts"):
        project(x[:2], "pca")
    with pytest.raises(InputError, match="Unknown projection"):
        project(x, "mds")
    with pytest.raises(InputError, match="does not take: perplexity"):
        project(x, "umap", perplexity=5)
    with pytest.raises(InputError, match="does not take: n_neighbors, spread"):
        project(x, "tsne", spread=1, n_neighbors=3)
    with pytest.raises(InputError, match="n_neighbors must be"):
        project(x, "umap", n_neighbors=1)
    with pytest.raises(InputError, match="min_dist must be"):
        project(x, "umap", min_dist="close")
    with pytest.raises(InputError, match="Unknown metric"):
        project(x, "tsne", metric="hamming")
    with pytest.raises(InputError, match="2-D array"):
        project(x[0], "pca")


def test_procrustes_recovers_rotation_reflection_scale_and_shift():
    reference = np.random.default_rng(1).normal(size=(50, 2))
    angle = 1.1
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = 3.5 * reference @ rotation @ np.diag([1, -1]) + np.array([10.0, -4.0])
    aligned = align_to(reference, moved)
    assert aligned.dtype == np.float32
    np.testing.assert_allclose(aligned, reference, atol=1e-5)


def test_procrustes_of_a_collapsed_layout_only_shifts_it():
    reference = np.random.default_rng(1).normal(size=(5, 2))
    collapsed = np.full((5, 2), 7.0)
    np.testing.assert_allclose(align_to(reference, collapsed), np.tile(reference.mean(axis=0), (5, 1)), atol=1e-6)
    with pytest.raises(ValueError, match="differ in shape"):
        align_to(reference, reference[:4])


def test_project_pair_aligns_b_onto_a():
    x, _ = blobs(sizes=(20, 20))
    rotated = 2.0 * x @ ortho_group.rvs(x.shape[1], random_state=0)  # same cosine geometry, other axes
    a, b = project_pair(x, rotated, method="pca")
    np.testing.assert_allclose(b, a, atol=1e-3)
    with pytest.raises(InputError, match="same texts"):
        project_pair(x, x[:-1], method="pca")


@pytest.mark.parametrize("method", ["pca", "umap"])
def test_a_projection_fitted_on_a_sample_places_new_points_with_their_blob(method):
    x, labels = blobs(sizes=(30, 30, 30))
    order = np.random.default_rng(1).permutation(len(x))
    sample, rest = order[:45], order[45:]
    fitted = projection.fit_projection(x[sample], method, random_state=0)
    coords = fitted.transform(x)
    assert coords.shape == (90, 2) and coords.dtype == np.float32 and fitted.transform(x[:0]).shape == (0, 2)
    fitted_coords = fitted.transform(x[sample])
    # each new point's nearest sample point in 2-D is from its own blob
    nearest = cdist(coords[rest], fitted_coords).argmin(axis=1)
    assert np.mean(labels[sample][nearest] == labels[rest]) == 1.0
    if method == "pca":  # the same layout as project() draws for the sample itself
        np.testing.assert_allclose(fitted_coords, project(x[sample], "pca"), atol=1e-4)


def test_fit_projection_refuses_tsne_and_tiny_samples():
    x, _ = blobs(sizes=(5, 5))
    with pytest.raises(InputError, match="t-SNE cannot place new points"):
        projection.fit_projection(x, "tsne")
    with pytest.raises(InputError, match="at least 3"):
        projection.fit_projection(x[:2], "pca")


def test_above_fit_rows_umap_is_fitted_on_a_sample_and_places_every_row_in_order():
    x, labels = blobs(sizes=(40, 40, 40))
    coords = project(x, "umap", random_state=0, sample_above=100, fit_rows=50)
    assert coords.shape == (120, 2) and coords.dtype == np.float32 and np.isfinite(coords).all()
    np.testing.assert_array_equal(coords, project(x, "umap", random_state=0, sample_above=100, fit_rows=50))
    # rows come back in input order: each row's nearest point is from its own blob (shuffled rows would not be)
    assert nearest_neighbour_agreement(coords, labels) >= 0.95
    # the sampled rows keep the fit's own layout; the sample is the seed's, not the first rows
    sample = np.sort(np.random.default_rng(0).choice(120, size=50, replace=False))
    fitted = projection.fit_projection(x[sample], "umap", random_state=0)
    np.testing.assert_array_equal(coords[sample], fitted.sample_layout)
    assert not np.array_equal(sample, np.arange(50))


def test_tsne_above_fit_rows_is_drawn_as_sampled_umap_and_the_note_says_so():
    x, _ = blobs(sizes=(20, 20))
    np.testing.assert_array_equal(project(x, "tsne", sample_above=35, fit_rows=30),
                                  project(x, "umap", sample_above=35, fit_rows=30))
    note = projection.sampled_fit_note(40, "t-SNE", sample_above=35, fit_rows=30)
    assert "fitted on 30 sampled rows of 40" in note and "t-SNE" in note and "other 10" in note
    assert "t-SNE" not in projection.sampled_fit_note(40, "umap", sample_above=35, fit_rows=30)
    assert projection.sampled_fit_note(35, "umap", sample_above=35, fit_rows=30) == ""  # at the threshold: full fit
    assert projection.sampled_fit_note(10_000, "pca", sample_above=35) == ""  # PCA is always fitted on every row


def test_fit_rows_below_a_neighbourhood_is_refused():
    x, _ = blobs(sizes=(10, 10))
    with pytest.raises(InputError, match="fit_rows must be at least"):
        project(x, "umap", sample_above=10, fit_rows=3)
    with pytest.raises(InputError, match="at most sample_above"):
        project(x, "umap", sample_above=10, fit_rows=15)


# ----- the exact kNN graph UMAP runs on, and the caches --------------------------------------------------------------


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_knn_graph_equals_sklearn_brute_force_in_umaps_layout(monkeypatch, metric):
    x = np.random.default_rng(0).normal(size=(300, 16)).astype(np.float32)
    x[7] = 0  # a zero vector: cosine distance 1 from every row, as in sklearn
    monkeypatch.setattr(neighbours, "BLOCK_BYTES", 4 * 300 * 7)  # blocks of 7 rows: the last one is short
    indices, distances = knn_graph(x, 15, metric)
    expected_distances, expected_indices = NearestNeighbors(n_neighbors=15, metric=metric, algorithm="brute"
                                                            ).fit(x).kneighbors(x)
    assert indices.shape == distances.shape == (300, 15)
    assert indices.dtype == np.int32 and distances.dtype == np.float32  # what NNDescent hands UMAP
    np.testing.assert_array_equal(indices[:, 0], np.arange(300))  # each row is its own first neighbour...
    np.testing.assert_array_equal(distances[:, 0], 0)  # ...at distance 0
    rows = np.arange(300) != 7  # sklearn puts the zero row's own index anywhere among its ties
    np.testing.assert_array_equal(indices[rows], expected_indices[rows])
    np.testing.assert_allclose(distances[rows], expected_distances[rows], atol=1e-5)
    if metric == "cosine":  # a zero vector is at cosine distance 1 from every other row
        np.testing.assert_allclose(distances[7, 1:], 1, atol=1e-6)
    else:
        np.testing.assert_array_equal(indices[7], expected_indices[7])
    with pytest.raises(InputError, match="more texts than neighbours"):
        knn_graph(x[:10], 11)


def test_umap_never_runs_nndescent_and_is_deterministic_for_a_seed(monkeypatch):
    def refused(*args, **kwargs):
        raise AssertionError("UMAP ran its own nearest-neighbour search")

    monkeypatch.setattr(umap.umap_, "nearest_neighbors", refused)
    x, labels = blobs(sizes=(30, 30, 30))
    first = project(x, "umap", random_state=5)
    projection.LAYOUTS.clear()
    projection.GRAPHS.clear()
    np.testing.assert_array_equal(first, project(x, "umap", random_state=5))
    assert nearest_neighbour_agreement(first, labels) == 1.0


def test_umap_keeps_well_separated_clusters_apart_past_umaps_exact_search_size(monkeypatch):
    """From 4,096 points UMAP would search neighbours approximately; it gets the exact graph here too."""
    monkeypatch.setattr(umap.umap_, "nearest_neighbors", lambda *a, **kw: pytest.fail("NNDescent ran"))
    x, labels = blobs(sizes=(1400, 1400, 1400), dim=16, spread=0.4)
    coords = project(x, "umap", random_state=0)
    assert coords.shape == (4200, 2)
    assert nearest_neighbour_agreement(coords, labels) == 1.0
    centres = np.stack([coords[labels == c].mean(axis=0) for c in range(3)])
    widest = max(np.linalg.norm(coords[labels == c] - centres[c], axis=1).max() for c in range(3))
    assert cdist(centres, centres)[np.triu_indices(3, 1)].min() > widest  # no blob reaches another's centre


def test_a_layout_is_computed_once_per_input_method_seed_and_params(monkeypatch):
    calls = []
    real_umap, real_graph = projection._umap, projection.knn_graph
    monkeypatch.setattr(projection, "_umap", lambda *a, **kw: calls.append("layout") or real_umap(*a, **kw))
    monkeypatch.setattr(projection, "knn_graph", lambda *a, **kw: calls.append("graph") or real_graph(*a, **kw))
    projection.LAYOUTS.clear()
    projection.GRAPHS.clear()
    x, _ = blobs(sizes=(20, 20))
    first = project(x, "umap")
    first[:] = 0  # the caller's copy: the cached layout is untouched
    again = project(x.copy(), "umap")  # equal vectors, another array
    assert calls == ["layout", "graph"] and not np.all(again == 0)
    project(x, "umap", min_dist=0.5)  # another layout on the same graph
    project(x, "umap", random_state=1)
    assert calls == ["layout", "graph", "layout", "layout"]
    changed = x.copy()
    changed[0, 0] += 1e-3  # one number changed: computed again
    project(changed, "umap")
    assert calls[-2:] == ["layout", "graph"]
    np.testing.assert_array_equal(project(x, "umap"), again)
    assert len(calls) == 6
