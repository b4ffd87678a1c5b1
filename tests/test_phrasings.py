"""Agreement between instruction phrasings and the per-phrasing report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from instructor_core import InputError
from instructor_core.phrasings import phrasing_report, similarity_rank_agreement, vector_agreement
from tests.test_metrics import blobs


def test_vector_agreement_known_values():
    x, _ = blobs()
    noise = np.random.default_rng(2).normal(size=x.shape)
    agreement = vector_agreement([x, 2 * x, noise])
    assert agreement.shape == (3, 3) and agreement.dtype == np.float32
    np.testing.assert_allclose(agreement, agreement.T)
    np.testing.assert_allclose(np.diag(agreement), 1)
    assert agreement[0, 1] == pytest.approx(1.0, abs=1e-5) and abs(agreement[0, 2]) < 0.1
    angle = 0.7  # every text's vector turned by the same angle: agreement is its cosine
    texts = np.random.default_rng(3).normal(size=(20, 2))
    turned = texts @ np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
    assert vector_agreement([texts, turned])[0, 1] == pytest.approx(np.cos(angle), abs=1e-5)


def test_rank_agreement_known_values():
    x, _ = blobs()
    noise = np.random.default_rng(2).normal(size=x.shape)
    ranks = similarity_rank_agreement([x, 2 * x, noise])
    assert ranks[0, 1] == pytest.approx(1.0, abs=1e-5) and abs(ranks[0, 2]) < 0.1
    np.testing.assert_allclose(np.diag(ranks), 1)


def test_rank_agreement_on_sampled_pairs_is_close_and_seeded():
    x, _ = blobs(spread=1.0)
    other = x + np.random.default_rng(4).normal(size=x.shape)
    full = similarity_rank_agreement([x, other])[0, 1]
    sampled = similarity_rank_agreement([x, other], max_pairs=2000, random_state=1)[0, 1]
    assert sampled == pytest.approx(full, abs=0.05) and sampled != full
    assert sampled == similarity_rank_agreement([x, other], max_pairs=2000, random_state=1)[0, 1]


def test_phrasings_must_cover_the_same_texts():
    x, _ = blobs()
    with pytest.raises(InputError, match="same texts"):
        vector_agreement([x, x[:-1]])
    with pytest.raises(InputError, match="at least one phrasing"):
        similarity_rank_agreement([])


def test_report_with_labels_picks_the_best_phrasing():
    x, labels = blobs()
    tight, loose = blobs(spread=0.1)[0], blobs(spread=0.5)[0]  # both separate perfectly; tight has the
    # higher silhouette
    noise = np.random.default_rng(2).normal(size=x.shape)
    report = phrasing_report({"noise": noise, "loose": loose, "tight": tight}, labels)
    assert list(report.metrics.columns) == ["phrasing", "knn_accuracy", "knn_accuracy_low", "knn_accuracy_high",
                                            "silhouette", "silhouette_low", "silhouette_high"]
    assert list(report.metrics["phrasing"]) == ["noise", "loose", "tight"]
    assert report.metrics["knn_accuracy"].tolist()[1:] == [1.0, 1.0]
    assert report.best == "tight"
    assert isinstance(report.vector_agreement, pd.DataFrame)
    assert list(report.rank_agreement.index) == list(report.rank_agreement.columns) == ["noise", "loose", "tight"]


def test_report_without_labels_has_no_best():
    x, _ = blobs()
    report = phrasing_report({"a": x, "b": 2 * x})
    assert report.best is None and report.metrics[["knn_accuracy", "silhouette"]].isna().all().all()
    assert report.vector_agreement.loc["a", "b"] == pytest.approx(1.0, abs=1e-5)
