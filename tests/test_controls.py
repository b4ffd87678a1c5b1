"""Placebo, crossed matrix, neighbour movement and bootstrap intervals on data whose answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from instructor_core import InputError, explore
from instructor_core.controls import crossed_matrix, neutral_prefix, placebo_for, placebo_instruction
from instructor_core.metrics import knn_accuracy, silhouette_cosine
from instructor_core.neighbours import biggest_movers, jaccard_overlap, neighbour_lists, neighbour_movement
from instructor_core.phrasings import phrasing_report
from instructor_core.uncertainty import Interval, PairedBootstrap, scorable_labels, text_scores
from tests.fake_encoder import SENTIMENT_INSTRUCTION, TOPIC_INSTRUCTION, FakeEncoder
from tests.test_metrics import blobs


def words(text: str) -> int:
    return len(text.split())


# ----- placebo -------------------------------------------------------------------------------------


def test_placebo_has_the_instructions_token_count_and_no_task_words():
    instruction = "Represent the product review for classifying its sentiment: "
    placebo = placebo_instruction(instruction, words)
    assert words(placebo) == words(instruction) and placebo.endswith(": ")
    assert not {"review", "sentiment", "classifying", "represent"} & set(placebo.lower().split())
    assert placebo_instruction("   ", words) == "" and neutral_prefix(0, words) == ""
    long = neutral_prefix(80, words)  # longer than the neutral sentence: its words repeat
    assert words(long) == 80


def test_placebo_never_exceeds_the_count_when_words_split_into_several_tokens():
    def characters(text: str) -> int:  # a "tokenizer" with one token per 3 characters
        return -(-len(text.strip()) // 3)

    placebo = placebo_instruction("Represent the question for retrieval: ", characters)
    assert 0 < characters("Represent the question for retrieval: ") - characters(placebo) <= 3


def test_one_placebo_for_several_instructions_matches_the_median_and_says_so():
    placebo, note = placebo_for(["a b c: ", "a b c d e: ", "", "a b c d e f g h: "], words)
    assert words(placebo) == 5 and "3–8" in note and "5 tokens" in note
    assert placebo_for(["", " "], words) == ("", "")


# ----- bootstrap -----------------------------------------------------------------------------------


def test_paired_bootstrap_of_a_constant_shift_is_exact_and_seeded():
    rng = np.random.default_rng(0)
    a = rng.normal(size=500)
    boot = PairedBootstrap({"a": a, "b": a + 0.25}, n_resamples=400, random_state=3)
    shift = boot.difference("b", "a")
    assert shift.estimate == pytest.approx(0.25) and shift.low == pytest.approx(0.25) == pytest.approx(shift.high)
    mean = boot.interval("a")
    assert mean.low < a.mean() < mean.high
    assert mean.high - mean.low == pytest.approx(2 * 1.96 / np.sqrt(500), rel=0.2)  # normal-theory width
    assert PairedBootstrap({"a": a, "b": a + 0.25}, 400, 3).interval("a") == mean  # same seed, same resamples
    assert PairedBootstrap({"a": a, "b": a + 0.25}, 400, 4).interval("a").low != mean.low


def test_bootstrap_uses_only_texts_scored_in_every_vector():
    a = np.array([1.0, 0.0, np.nan, 1.0])
    b = np.array([1.0, 1.0, 1.0, np.nan])
    boot = PairedBootstrap({"a": a, "b": b}, 100, 0)
    assert boot.n_texts == 2 and boot.estimates["a"] == 0.5 and boot.estimates["b"] == 1.0
    assert PairedBootstrap({"a": np.full(3, np.nan)}, 100, 0).interval("a") is None


def test_interval_format_and_zero():
    assert Interval(0.0123, -0.004, 0.028).format(signed=True) == "+0.012 [−0.004, +0.028]"
    assert not Interval(0.01, -0.004, 0.028).excludes_zero and Interval(-0.1, -0.2, -0.01).excludes_zero


def test_text_scores_average_to_the_reported_metrics():
    x, labels = blobs(sizes=(40, 40, 40), spread=1.5)  # 120 texts: five equal folds
    scores = text_scores(x, labels)
    assert np.nanmean(scores.knn_accuracy) == pytest.approx(knn_accuracy(x, labels))
    assert np.nanmean(scores.silhouette) == pytest.approx(silhouette_cosine(x, labels), abs=1e-5)
    assert text_scores(x, labels, random_state=1).knn_accuracy.mean() == pytest.approx(
        knn_accuracy(x, labels, random_state=1))


def test_too_few_texts_per_label_is_a_message_not_nan():
    names, note = scorable_labels(["a", "a", "b", "b"])
    assert all(v is None for v in names) and "at least 2 labels need 5" in note and "'a' 2" in note
    names, note = scorable_labels(["a"] * 6 + ["b"] * 6 + ["c"] * 2 + [None])
    assert list(names[-3:]) == [None, None, None] and "'c'" in note and "left out" in note
    x, _ = blobs(sizes=(2, 2))
    report = phrasing_report({"one": x, "two": 2 * x}, ["a", "a", "b", "b"])
    assert report.best is None and "Too few labelled texts" in report.verdict
    assert report.metrics["knn_accuracy"].isna().all()  # empty, with the verdict saying why


# ----- best phrasing -------------------------------------------------------------------------------


def test_a_real_winner_is_named():
    x, labels = blobs(spread=0.8, sizes=(60, 60, 60))
    muddled = x + 2.5 * np.random.default_rng(1).normal(size=x.shape)
    report = phrasing_report({"(no instruction)": muddled, "clear": x, "muddled": muddled}, labels,
                             controls=["(no instruction)"])
    assert report.best == "clear" and report.verdict.startswith("**Best phrasing:** clear")
    assert report.metrics.set_index("phrasing").loc["clear", "knn_accuracy_low"] > \
        report.metrics.set_index("phrasing").loc["muddled", "knn_accuracy_high"]


def test_no_winner_from_noise():
    x, labels = blobs(spread=2.0, sizes=(30, 30, 30))
    rng = np.random.default_rng(7)
    twins = {f"phrasing {i}": x + 0.3 * rng.normal(size=x.shape) for i in range(4)}  # the same space, re-noised
    report = phrasing_report(twins, labels)
    assert report.best is None and "indistinguishable" in report.verdict and "includes 0" in report.verdict


def test_perfect_ties_on_knn_are_decided_by_silhouette():
    x, labels = blobs()
    tight, loose = blobs(spread=0.1)[0], blobs(spread=0.5)[0]
    report = phrasing_report({"loose": loose, "tight": tight, "x": x}, labels)
    assert report.best == "tight" and "silhouette" in report.verdict


def test_controls_are_measured_but_never_best():
    x, labels = blobs(spread=0.8)
    noise = np.random.default_rng(2).normal(size=x.shape)
    report = phrasing_report({"(no instruction)": x, "placebo": x, "p1": noise, "p2": noise + 0.01}, labels,
                             controls=["(no instruction)", "placebo"], placebo="placebo")
    assert report.best is None
    versus = report.metrics.set_index("phrasing")["knn_accuracy_vs_placebo_high"]
    assert versus["p1"] < 0 and np.isnan(versus["placebo"])


# ----- neighbours ----------------------------------------------------------------------------------


def test_neighbour_lists_match_a_brute_force_sort():
    x = np.random.default_rng(0).normal(size=(50, 8)).astype(np.float32)
    lists = neighbour_lists(x, 5)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    np.testing.assert_array_equal(lists, np.argsort(-sims, axis=1, kind="stable")[:, :5])
    with pytest.raises(InputError, match="more texts than neighbours"):
        neighbour_lists(x[:5], 5)


def test_jaccard_known_values():
    a = np.array([[1, 2, 3], [1, 2, 3], [1, 2, 3]])
    b = np.array([[3, 2, 1], [4, 5, 6], [1, 2, 9]])
    np.testing.assert_allclose(jaccard_overlap(a, b), [1.0, 0.0, 2 / 4])


def test_a_placebo_keeps_neighbours_and_a_real_instruction_moves_them():
    encoder = FakeEncoder()
    result = explore.neighbour_movement_between(encoder, encoder.texts, "", SENTIMENT_INSTRUCTION, k=10,
                                                method="pca")
    movement = result.movement
    assert words(result.placebo) == words(SENTIMENT_INSTRUCTION)
    assert movement.mean_reference_overlap.low > 0.9  # the placebo only shifts every text alike
    assert movement.mean_overlap.high < 0.7  # sentiment instruction: other neighbours
    assert movement.difference.high < 0  # and the gap is beyond noise
    assert result.coords_a.shape == result.coords_b.shape == (120, 2)
    assert any("Placebo" in n for n in result.notes) and any("bootstrap" in n for n in result.notes)
    movers = biggest_movers(movement, encoder.texts, encoder.sentiment, top=5)
    assert list(movers.columns) == ["text", "label", "overlap", "movement", "placebo_overlap", "neighbours_a",
                                    "neighbours_b"]
    assert movers["overlap"].is_monotonic_increasing and movers["overlap"].iloc[0] == movement.overlap.min()


def test_movement_between_two_models_needs_the_same_texts_and_shrinks_k_for_tiny_sets():
    x = np.random.default_rng(0).normal(size=(6, 4))
    small = neighbour_movement(x, x, k=10)
    assert small.k == 5 and np.all(small.overlap == 1) and "k lowered from 10" in small.notes[0]
    with pytest.raises(InputError, match="same texts"):
        neighbour_movement(x, x[:5])
    with pytest.raises(InputError, match="at least 3 texts"):
        neighbour_movement(x[:2], x[:2])


# ----- crossed matrix ------------------------------------------------------------------------------


def _noisy_encoder() -> FakeEncoder:
    return FakeEncoder(n=160, seed=1)


def test_crossed_matrix_shows_each_instruction_separating_its_own_labels():
    encoder = _noisy_encoder()
    result = explore.crossed_label_matrix(encoder, encoder.texts, {"topic": encoder.topic,
                                                                   "sentiment": encoder.sentiment},
                                          [SENTIMENT_INSTRUCTION, TOPIC_INSTRUCTION])
    silhouette = result.wide("silhouette")
    assert list(silhouette.columns) == ["topic", "sentiment"]
    assert list(silhouette.index)[:2] == ["(no instruction)", f"placebo: {result.notes[0].split('“')[1].split('”')[0]}"]
    sentiment_row, topic_row = SENTIMENT_INSTRUCTION.strip(), TOPIC_INSTRUCTION.strip()
    assert silhouette.loc[sentiment_row, "sentiment"] > silhouette.loc[topic_row, "sentiment"] + 0.3
    assert silhouette.loc[topic_row, "topic"] > silhouette.loc[sentiment_row, "topic"] + 0.3
    cells = result.table.set_index(["instruction", "label_column"])
    gain = cells.loc[(sentiment_row, "sentiment")]
    assert gain["silhouette_vs_placebo_low"] > 0 and gain["silhouette_low"] <= gain["silhouette"] <= gain["silhouette_high"]
    placebo_gain = cells.loc[(topic_row, "sentiment")]  # the topic instruction only shifts, like the placebo
    assert placebo_gain["silhouette_vs_placebo_low"] <= 0 <= placebo_gain["silhouette_vs_placebo_high"]
    assert (result.table["note"] == "").all()


def test_crossed_matrix_cells_without_enough_labels_say_so():
    x, labels = blobs(sizes=(30, 30))
    few = ["a", "b", "a", "b"] + [None] * 56
    result = crossed_matrix({"none": x, "placebo": 2 * x}, {"good": labels, "few": few})
    cells = result.table.set_index(["instruction", "label_column"])
    assert cells.loc[("none", "few"), "note"] == "too few labelled texts"
    assert pd.isna(cells.loc[("none", "few"), "knn_accuracy"]) and cells.loc[("none", "good"), "knn_accuracy"] == 1.0
    assert any(n.startswith("few: Too few labelled texts") for n in result.notes)


def test_crossed_matrix_input_checks():
    encoder = FakeEncoder(n=20)
    with pytest.raises(InputError, match="at least one instruction"):
        explore.crossed_label_matrix(encoder, encoder.texts, {"topic": encoder.topic}, [""])
    with pytest.raises(InputError, match="label column"):
        explore.crossed_label_matrix(encoder, encoder.texts, {}, [TOPIC_INSTRUCTION])


# ----- placebo in the existing views ---------------------------------------------------------------


def test_phrasings_and_projection_report_against_the_placebo():
    encoder = _noisy_encoder()
    report = explore.compare_phrasings(encoder, encoder.texts, encoder.sentiment,
                                       [TOPIC_INSTRUCTION, SENTIMENT_INSTRUCTION])
    names = list(report.metrics["phrasing"])
    assert names[0] == "(no instruction)" and names[1].startswith("placebo: ") and len(names) == 4
    assert report.best == SENTIMENT_INSTRUCTION.strip()
    assert any(n.startswith("Placebo") for n in report.notes)
    projection = explore.compare_projections(encoder, encoder.texts, encoder.sentiment, "", SENTIMENT_INSTRUCTION,
                                             method="pca")
    effect = projection.effect.set_index("metric")
    assert list(effect.columns) == ["without", "with", "delta", "delta_low", "delta_high", "placebo", "b_vs_placebo",
                                    "b_vs_placebo_low", "b_vs_placebo_high"]
    assert effect.loc["silhouette", "b_vs_placebo_low"] > 0
    assert effect.loc["silhouette", "placebo"] == pytest.approx(effect.loc["silhouette", "without"], abs=0.05)
    matrix = explore.one_text_many_instructions(encoder, "text 3", ["", SENTIMENT_INSTRUCTION], placebo=True)
    assert matrix.shape == (3, 3) and matrix.index[-1].startswith("placebo: ")
    assert matrix.iloc[0, 2] > matrix.iloc[0, 1]  # the placebo moves the text less than the instruction


def test_crossed_heatmap_keeps_instructions_that_differ_only_at_the_end_apart():
    from instructor_core import plots

    x, labels = blobs(sizes=(30, 30))
    long_a = "Represent the product review for classifying its sentiment: "
    long_b = "Represent the product review for classifying its product category: "
    result = crossed_matrix({"(no instruction)": x, long_a: 2 * x, long_b: x + 0.1},
                            {"good": labels, "few": ["a", "b"] + [None] * 58}, placebo=None)
    figure = plots.crossed_heatmap(result.table)
    knn = figure.data[0]
    assert len(set(knn.y)) == 3 and any("sentiment" in y for y in knn.y) and any("category" in y for y in knn.y)
    assert [row[1] for row in knn.text] == ["too few texts"] * 3 and knn.z[0][1] is None
    assert knn.text[0][0].startswith("1.000<br>[1.000, 1.000]")
