"""Every shipped example shows what its title says on the default model, instructor-mini, measured with
the same functions and settings the pages use (issue 17, item 3)."""

from __future__ import annotations

import pytest
from sklearn.metrics import adjusted_rand_score

from instructor_core.clustering import cluster
from instructor_core.metrics import knn_accuracy
from instructor_core.samples import (
    BUILTIN_DATASETS,
    CLUSTER_EXAMPLES,
    PLAYGROUND_EXAMPLES,
    PROJECTION_EXAMPLES,
    load_builtin_dataset,
)


@pytest.fixture(scope="module")
def mini():
    from instructor_core import load_encoder

    return load_encoder("instructor-mini", device="cpu")


@pytest.mark.parametrize("example", PROJECTION_EXAMPLES, ids=lambda e: e.title)
def test_projection_example_raises_knn_for_its_label(mini, example):
    frame = load_builtin_dataset(example.dataset)
    assert example.label in BUILTIN_DATASETS[example.dataset]["label_columns"]
    texts, labels = frame["text"].tolist(), frame[example.label].tolist()
    before = knn_accuracy(mini.encode(texts, instruction=example.instruction_a or None), labels)
    after = knn_accuracy(mini.encode(texts, instruction=example.instruction_b or None), labels)
    assert after > before + 0.02, f"{example.title}: kNN {before:.3f} -> {after:.3f}"


@pytest.mark.parametrize("example", CLUSTER_EXAMPLES, ids=lambda e: e.title)
def test_cluster_example_follows_its_label(mini, example):
    frame = load_builtin_dataset(example.dataset)
    vectors = mini.encode(frame["text"].tolist(), instruction=example.instruction or None)
    k = "auto" if example.n_clusters == "auto" else int(example.n_clusters)
    labels = cluster(vectors, "kmeans", k, random_state=0).labels  # the Cluster page's defaults
    own, other = (adjusted_rand_score(frame[c], labels) for c in (example.label, example.other_label))
    assert own > other + 0.1, f"{example.title}: ARI {example.label} {own:.3f}, {example.other_label} {other:.3f}"


def test_playground_examples_bring_instructions_for_their_kind_of_text():
    words = {"review": "battery", "question": "?", "news": "stock market"}
    for text, instructions in PLAYGROUND_EXAMPLES.items():
        kinds = {kind for kind in words if any(f" {kind} " in i for i in instructions)}
        assert len(kinds) == 1 and words[kinds.pop()] in text, (text, instructions)
        assert "" in instructions  # the no-instruction baseline


def test_first_examples_are_the_page_defaults():
    """What a first visit shows is the first example, so it carries the same promise."""
    from pages import playground, projection

    assert projection._FIRST == PROJECTION_EXAMPLES[0]
    assert (playground.EXAMPLE_TEXT, playground.EXAMPLE_INSTRUCTIONS) == next(iter(PLAYGROUND_EXAMPLES.items()))
