"""Large tables (issue 16): the row caps, the time estimate before and during embedding, methods that refuse
sizes they cannot handle, UMAP fitted on a sample, and maps that draw a sample of their points. Thresholds
are lowered through parameters so each path runs on a small n."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from app import parse_args
from instructor_core import InputError, JobStopped, explore, plots
from instructor_core.clustering import check_size, cluster
from instructor_core.data import DEFAULT_MAX_ROWS, HOSTED_MAX_ROWS
from instructor_core.jobs import Job, TimeLeft, duration
from instructor_core.projection import project
from pages.common import progress_text
from tests.test_metrics import blobs


def test_local_use_takes_100k_rows_and_hosted_mode_keeps_its_lower_caps(monkeypatch):
    for name in ("MAX_ROWS", "MAX_UPLOAD_MB", "HOSTED"):
        monkeypatch.delenv(f"INSTRUCTOR_EXPLORER_{name}", raising=False)
    local, hosted = parse_args([]), parse_args(["--hosted"])
    assert (local.max_rows, local.max_upload_mb) == (DEFAULT_MAX_ROWS, 100) and DEFAULT_MAX_ROWS == 100_000
    assert (hosted.max_rows, hosted.max_upload_mb) == (HOSTED_MAX_ROWS, 20) and HOSTED_MAX_ROWS == 20_000
    assert parse_args(["--hosted", "--max-rows", "50000"]).max_rows == 50_000  # an explicit cap wins
    monkeypatch.setenv("INSTRUCTOR_EXPLORER_MAX_UPLOAD_MB", "7")
    assert parse_args([]).max_upload_mb == 7


class _NeverEncodes:
    name = "never"

    def encode(self, *args, **kwargs):
        raise AssertionError("embedded a table its clustering method cannot handle")


@pytest.mark.parametrize("method", ["hdbscan", "agglomerative"])
def test_methods_refuse_tables_past_their_size_before_any_embedding(method):
    texts = [f"t{i}" for i in range(20_001)]
    with pytest.raises(InputError, match="at most 20,000 texts.*use k-means"):
        explore.cluster_texts(_NeverEncodes(), pd.DataFrame({"text": texts}), texts, np.arange(len(texts)),
                              method=method)
    with pytest.raises(InputError, match="at most 20,000"):
        cluster(np.ones((20_001, 2), dtype=np.float32), method)
    check_size(100_000, "kmeans")  # k-means has no cap


def test_time_left_counts_down_the_estimate_then_follows_the_measured_rate():
    now = [0.0]
    left = TimeLeft(expected_s=360, clock=lambda: now[0])
    assert left(0, 100_000) == 360
    now[0] = 60
    assert left(0, 100_000) == 300  # nothing finished yet: the estimate counts down
    assert left(10_000, 100_000) == pytest.approx(540)  # 10,000 texts in 60 s: 90,000 more take 540 s
    assert left(100_000, 100_000) == 0
    cached = TimeLeft(clock=lambda: now[0])
    assert cached(50_000, 100_000) is None  # half the table was cached; no estimate was given
    now[0] = 120
    assert cached(60_000, 100_000) == pytest.approx(240)  # the rate counts only texts embedded since the start


def test_progress_text_says_how_long_is_left_on_this_machine():
    assert (progress_text("Embedding", 0, 100_000, 360)
            == "Embedding 0/100,000 texts · about 6 min left on this machine")
    assert progress_text("Embedding", 5, 10, None) == "Embedding 5/10 texts"
    assert progress_text("Embedding", 10, 10, 0.0) == "Embedding 10/10 texts"
    assert progress_text("Embedding", 10, 10, 0.0, "clustering") == "Embedding 10/10 texts · done, now clustering"
    assert [duration(s) for s in (45, 400, 9000)] == ["45 s", "7 min", "2.5 h"]


def test_the_estimate_follows_the_measured_speed_and_skips_cached_texts(bundled_encoder):
    texts = [f"estimate {i}: the parcel came on day {i % 7}." for i in range(64)]
    assert dataclasses.replace(bundled_encoder, _seconds_per_unit=None).estimate_seconds(texts) is None
    bundled_encoder.encode(texts[:32])  # measures the speed; these 32 are now cached
    fresh = bundled_encoder.estimate_seconds(texts[32:])
    assert fresh > 0
    assert bundled_encoder.estimate_seconds(texts) == pytest.approx(fresh)  # the cached half costs nothing
    assert bundled_encoder.estimate_seconds(texts[32:] * 2) == pytest.approx(2 * fresh)


def test_cluster_texts_above_fit_rows_lays_out_every_row_and_says_it_used_a_sample(bundled_encoder):
    texts = [f"Order {i}: the {('shoes', 'phone', 'lamp')[i % 3]} arrived {('late', 'broken', 'fine')[i % 3]}."
             for i in range(45)]
    result = explore.cluster_texts(bundled_encoder, pd.DataFrame({"text": texts}), texts, np.arange(45),
                                   n_clusters=3, sample_above=30, fit_rows=20)
    assert np.isfinite(result.frame[["x", "y"]].to_numpy(dtype=float)).all()
    assert any("fitted on 20 sampled rows of 45" in note for note in result.notes), result.notes


def test_a_cancelled_job_stops_between_the_batches_that_place_the_rest(monkeypatch):
    from instructor_core import projection

    monkeypatch.setattr(projection, "TRANSFORM_BATCH", 10)
    x, _ = blobs(sizes=(30, 30))
    placed = []
    original = projection.FittedProjection.transform

    def transform_then_cancel(self, rows):
        placed.append(len(rows))
        job.cancel()
        return original(self, rows)

    monkeypatch.setattr(projection.FittedProjection, "transform", transform_then_cancel)
    with (job := Job()), pytest.raises(JobStopped, match="Cancelled"):
        project(x, "umap", sample_above=20, fit_rows=20)
    assert placed == [10]  # one batch of the 40 other rows, then the stop


def _drawn_points(figure) -> int:
    return sum(len(trace.x) for trace in figure.data)


def test_a_map_past_max_points_draws_a_seeded_sample_of_every_group_and_says_so():
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(1000, 2))
    labels = [0] * 700 + [1] * 298 + [2] * 2  # cluster 2 is tiny: it must stay on the map and in the legend
    texts = [f"text {i}" for i in range(1000)]
    figure = plots.cluster_map(coords, texts, labels, {0: "a", 1: "b", 2: "c"}, "3 clusters", max_points=200)
    shown = _drawn_points(figure)
    assert 195 <= shown <= 205
    assert f"showing a sample of {shown:,} of 1,000 points" in figure.layout.title.text
    assert {trace.legendgroup for trace in figure.data} == {"0", "1", "2"}
    for trace in figure.data:  # each drawn point is its own row: position and hover text match
        rows = np.asarray(trace.customdata)
        np.testing.assert_allclose(trace.x, coords[rows, 0])
        assert list(trace.text) == [f"text {i}" for i in rows]
    again = plots.cluster_map(coords, texts, labels, {0: "a", 1: "b", 2: "c"}, "3 clusters", max_points=200)
    assert [list(t.customdata) for t in again.data] == [list(t.customdata) for t in figure.data]  # seeded
    full = plots.cluster_map(coords, texts, labels, {0: "a", 1: "b", 2: "c"}, "3 clusters")
    assert _drawn_points(full) == 1000 and "showing" not in full.layout.title.text


def test_both_panels_of_a_pair_draw_the_same_sample():
    coords = np.random.default_rng(1).normal(size=(500, 2))
    figure = plots.scatter_pair(coords, coords + 1, [str(i) for i in range(500)], ["x"] * 500, max_points=100)
    left, right = (np.asarray(t.customdata) for t in figure.data)
    np.testing.assert_array_equal(left, right)
    assert len(left) == 100 and all("showing a sample of 100 of 500 points" in a.text
                                    for a in figure.layout.annotations)
