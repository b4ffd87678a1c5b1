"""Compare two models: constructed spaces with known answers (one separates the labels, one does not)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from instructor_core import InputError, explore, plots
from instructor_core.compare import VERDICTS, phrasing_table, separation_table, text_verdicts
from instructor_core.metrics import knn_accuracy, knn_predictions
from tests.test_metrics import blobs

TASK = "Represent the text for classifying its blob: "


@dataclass
class FakeEncoder:
    """An ``Encoder`` stand-in over fixed vectors: ``follows`` gives the blob space under any instruction
    and noise without one; otherwise noise under every instruction (a model that ignores instructions)."""

    name: str
    follows: bool
    dim: int = 32
    instruction_tuned: bool = True
    max_seq_length: int = 256
    truncated: int = 0

    def __post_init__(self) -> None:
        self.identity = self.name
        self.space = blobs(dim=self.dim)[0]
        self.noise = np.random.default_rng(7).normal(size=self.space.shape).astype(np.float32)
        self.index = {f"text {i}": i for i in range(len(self.space))}

    def encode(self, texts, instruction=None, progress=None):
        instructions = [instruction] * len(texts) if isinstance(instruction, str) else instruction
        return np.stack([(self.space if self.follows and ins else self.noise)[self.index[t]]
                         for t, ins in zip(texts, instructions)])

    def count_truncated(self, texts, instruction=None) -> int:
        return self.truncated


TEXTS = [f"text {i}" for i in range(120)]
LABELS = blobs()[1]


def test_neighbour_overlap_between_models_is_one_for_the_same_space_and_low_for_noise():
    same = explore.compare_models(FakeEncoder("follows", True), FakeEncoder("twin", True), TEXTS, None, TASK,
                                  method="pca")
    assert np.all(same.movement.overlap == 1.0) and same.movement.mean_overlap.estimate == 1.0
    other = explore.compare_models(FakeEncoder("follows", True), FakeEncoder("ignores", False, dim=8), TEXTS, None,
                                   TASK, method="pca")
    assert other.movement.mean_overlap.high < 0.3  # blobs vs noise: few neighbours in common
    assert "Mean neighbour overlap between A and B" in other.summary()
    assert other.summary().startswith("Pick a label column")


def test_knn_predictions_are_the_folds_of_knn_accuracy():
    x, labels = blobs(spread=1.6)  # overlapping: some texts are mislabelled
    predicted = knn_predictions(x, labels)
    right = predicted == labels.astype(str)
    assert 0.5 < right.mean() < 1.0
    # 3 labels x 40 texts, 5 folds of 24: the mean of fold accuracies equals the share of right texts
    assert right.mean() == pytest.approx(knn_accuracy(x, labels), abs=1e-9)
    ragged = [*labels[:-1].astype(str), None]  # an unlabelled text is not scored
    assert knn_predictions(x, ragged)[-1] is None


def test_model_that_follows_the_instruction_wins():
    a, b = FakeEncoder("follows", follows=True), FakeEncoder("ignores", follows=False, dim=8)
    result = explore.compare_models(a, b, TEXTS, LABELS, TASK, method="pca")
    table = result.metrics.set_index("metric")
    assert list(result.metrics.columns) == ["metric", "model_a", "model_b", "delta"]
    assert table.loc["knn_accuracy", "model_a"] == 1.0 and table.loc["knn_accuracy", "model_b"] < 0.55
    assert table.loc["knn_accuracy", "delta"] == pytest.approx(table.model_b.knn_accuracy - 1.0)
    # A goes from noise (no instruction) to blobs: a large gain; B is noise either way: no gain
    assert table.loc["knn_accuracy_instruction_gain", "model_a"] > 0.4
    assert table.loc["knn_accuracy_instruction_gain", "model_b"] == 0.0
    assert result.coords_a.shape == result.coords_b.shape == (120, 2)
    counts = result.counts()
    assert counts["only B right"] == counts["both wrong"] == counts["not scored"] == 0
    assert counts["only A right"] + counts["both right"] == 120 and counts["only A right"] > 60
    assert not result.wrong("a").any() and result.wrong("b").sum() == counts["only A right"]
    table = result.verdict_table()
    assert list(table.columns) == ["row", "verdict", "neighbour_overlap", "label", "predicted_a", "predicted_b", "text"]
    assert table["verdict"].iloc[0] == "only A right" and table["verdict"].iloc[-1] == "both right"
    assert sorted(table["row"]) == list(range(120)) and table.loc[0, "text"] == TEXTS[table.loc[0, "row"]]
    assert "**A** (`follows`) is higher" in result.summary()
    assert any("8-d" in note and "32-d" in note for note in result.notes)


def test_b_aligned_onto_a_when_both_spaces_are_the_same_geometry():
    a, b = FakeEncoder("one", follows=True), FakeEncoder("other", follows=True)
    b.space = 3.0 * a.space  # same cosine geometry, another model
    result = explore.compare_models(a, b, TEXTS, LABELS, TASK, method="pca")
    np.testing.assert_allclose(result.coords_b, result.coords_a, atol=1e-3)
    assert result.metrics.set_index("metric").loc["knn_accuracy", "delta"] == 0.0
    assert "about the same" in result.summary()


def test_notes_and_no_labels():
    a = FakeEncoder("long", follows=True, truncated=3)
    b = FakeEncoder("base", follows=False, instruction_tuned=False)
    result = explore.compare_models(a, b, TEXTS[:60], LABELS[:60], TASK, method="pca")
    notes = " ".join(result.notes)
    assert "Model A (`long`): 3 text(s) are longer than the 256 tokens" in notes
    assert "Model B (`base`) was never trained with instructions" in notes
    assert "Only 60 labelled texts" in notes
    bare = explore.compare_models(a, b, TEXTS, None, TASK, method="pca")
    assert bare.metrics.empty and bare.verdicts.empty and bare.verdict_table().empty
    assert not bare.wrong("b").any() and bare.summary().startswith("Pick a label column")
    assert any("No label column" in note for note in bare.notes)


def test_no_instruction_has_no_gain_rows():
    a, b = FakeEncoder("a", follows=True), FakeEncoder("b", follows=False)
    result = explore.compare_models(a, b, TEXTS, LABELS, "", method="pca")
    assert list(result.metrics["metric"]) == ["knn_accuracy", "silhouette"]
    assert result.instruction == ""


def test_same_model_and_bad_input_are_messages():
    a = FakeEncoder("same", follows=True)
    twin = FakeEncoder("same", follows=True)  # another object, same weights (e.g. auto and instructor-mini)
    for b in (a, twin):
        with pytest.raises(InputError, match="same model"):
            explore.compare_models(a, b, TEXTS, LABELS, TASK)
    other = FakeEncoder("other", follows=False)
    with pytest.raises(InputError, match="at least 3 texts"):
        explore.compare_models(a, other, TEXTS[:2], LABELS[:2], TASK)
    with pytest.raises(InputError, match="Pick a label column"):
        explore.compare_models_phrasings(a, other, TEXTS, None, [TASK])


def test_verdicts_leave_unlabelled_and_single_example_texts_unscored():
    x, labels = blobs(sizes=(10, 10))
    labels = [*map(str, labels[:-2]), "", "unique"]
    verdicts = text_verdicts([f"t{i}" for i in range(20)], labels, x, x[:, :4])
    assert list(verdicts["verdict"][-2:]) == ["not scored", "not scored"]
    assert pd.isna(verdicts["label"].iloc[-2]) and set(verdicts["verdict"]) <= set(VERDICTS)


def test_separation_table_gain_is_with_minus_without():
    x, labels = blobs()
    noise = np.random.default_rng(1).normal(size=x.shape)
    table = separation_table(x, noise, labels, baseline_a=noise, baseline_b=x).set_index("metric")
    assert table.loc["knn_accuracy_instruction_gain", "model_a"] == pytest.approx(1.0 - knn_accuracy(noise, labels))
    assert table.loc["knn_accuracy_instruction_gain", "model_b"] == pytest.approx(knn_accuracy(noise, labels) - 1.0)


def test_phrasings_under_two_models():
    a, b = FakeEncoder("follows", follows=True), FakeEncoder("ignores", follows=False)
    result = explore.compare_models_phrasings(a, b, TEXTS, LABELS, [TASK, "Sort these texts by blob: "])
    table = result.metrics
    assert list(table["phrasing"]) == ["(no instruction)", TASK.strip(), "Sort these texts by blob:"]
    assert list(table.columns) == ["phrasing", "knn_accuracy_a", "knn_accuracy_b", "knn_accuracy_delta",
                                   "silhouette_a", "silhouette_b", "silhouette_delta"]
    assert list(table["knn_accuracy_a"][1:]) == [1.0, 1.0] and table["knn_accuracy_b"].max() < 0.55
    np.testing.assert_allclose(table["knn_accuracy_delta"], table["knn_accuracy_b"] - table["knn_accuracy_a"])
    assert result.best_a is None  # both phrasings give A the same space: a tie is no winner
    assert "**A** `follows`: no phrasing beats the runner-up beyond noise" in result.summary()
    assert "spans" in result.summary()


def test_phrasing_table_keeps_a_order_and_missing_scores():
    a = pd.DataFrame({"phrasing": ["z", "a"], "knn_accuracy": [0.9, None], "silhouette": [0.2, None]})
    b = pd.DataFrame({"phrasing": ["z", "a"], "knn_accuracy": [0.7, 0.5], "silhouette": [0.1, 0.3]})
    table = phrasing_table(a, b)
    assert list(table["phrasing"]) == ["z", "a"]
    assert table["knn_accuracy_delta"].iloc[0] == pytest.approx(-0.2) and pd.isna(table["knn_accuracy_delta"].iloc[1])


def test_figures_pair_the_panels():
    a, b = FakeEncoder("follows", follows=True), FakeEncoder("ignores", follows=False)
    result = explore.compare_models(a, b, TEXTS, LABELS, TASK, method="pca")
    figure = plots.scatter_pair(result.coords_a, result.coords_b, TEXTS, LABELS, ("A: <b>x</b>", "B"), "blob",
                                result.wrong("a"), result.wrong("b"))
    panels = {trace.xaxis for trace in figure.data}
    assert panels == {"x", "x2"} and len(figure.data) == 2 * 3  # one trace per label per panel
    crosses = sum(list(t.marker.symbol).count("x") for t in figure.data if t.xaxis == "x2")
    assert crosses == result.wrong("b").sum() > 0
    assert "&lt;b&gt;x&lt;/b&gt;" in figure.layout.annotations[0].text  # titles are escaped
    phrasing = explore.compare_models_phrasings(a, b, TEXTS, LABELS, [TASK])
    bars = plots.metric_bars_pair(phrasing.metrics, "phrasing", ["knn_accuracy", "silhouette"], ("A", "B"))
    assert [t.name for t in bars.data] == ["A", "B", "A", "B"] and list(bars.data[0].y) == [
        *phrasing.metrics["knn_accuracy_a"]]
