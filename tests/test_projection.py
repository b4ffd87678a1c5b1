"""2-D projections: shape, determinism, separation kept, input checks, Procrustes alignment."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from scipy.stats import ortho_group

from instructor_core import InputError
from instructor_core import projection
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
    first, again = project(x, method, random_state=3), project(x, method, random_state=3)
    assert first.shape == (60, 2) and first.dtype == np.float32
    np.testing.assert_array_equal(first, again)
    assert nearest_neighbour_agreement(first, labels) == 1.0
    if method != "pca":  # PCA has no randomness; the others must actually use the seed
        assert not np.array_equal(first, project(x, method, random_state=4))


def test_sklearn_tsne_backend_also_works(monkeypatch):
    x, labels = blobs(sizes=(15, 15))
    monkeypatch.setattr(projection, "TSNE_BACKEND", "sklearn")
    coords = project(x, "tsne", perplexity=5)
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
    coords = project(x, "umap", random_state=0, fit_rows=50)
    assert coords.shape == (120, 2) and coords.dtype == np.float32 and np.isfinite(coords).all()
    np.testing.assert_array_equal(coords, project(x, "umap", random_state=0, fit_rows=50))  # deterministic
    # rows come back in input order: each row's nearest point is from its own blob (shuffled rows would not be)
    assert nearest_neighbour_agreement(coords, labels) >= 0.95
    # the sampled rows keep the fit's own layout; the sample is the seed's, not the first rows
    sample = np.sort(np.random.default_rng(0).choice(120, size=50, replace=False))
    fitted = projection.fit_projection(x[sample], "umap", random_state=0)
    np.testing.assert_array_equal(coords[sample], fitted.sample_layout)
    assert not np.array_equal(sample, np.arange(50))


def test_tsne_above_fit_rows_is_drawn_as_sampled_umap_and_the_note_says_so():
    x, _ = blobs(sizes=(20, 20))
    np.testing.assert_array_equal(project(x, "tsne", fit_rows=30), project(x, "umap", fit_rows=30))
    note = projection.sampled_fit_note(40, "t-SNE", fit_rows=30)
    assert "fitted on 30 sampled rows of 40" in note and "t-SNE" in note and "other 10" in note
    assert "t-SNE" not in projection.sampled_fit_note(40, "umap", fit_rows=30)
    assert projection.sampled_fit_note(30, "umap", fit_rows=30) == ""  # at the threshold: a full fit
    assert projection.sampled_fit_note(10_000, "pca", fit_rows=30) == ""  # PCA is always fitted on every row


def test_fit_rows_below_a_neighbourhood_is_refused():
    x, _ = blobs(sizes=(10, 10))
    with pytest.raises(InputError, match="fit_rows must be at least"):
        project(x, "umap", fit_rows=3)
