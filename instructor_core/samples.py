"""Built-in labeled datasets (written by the team, in ``assets/datasets``) for one-click examples."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

DATASET_DIR = Path(__file__).resolve().parents[1] / "assets" / "datasets"

# Each set carries two label columns, so a different instruction has something to reorganise.
BUILTIN_DATASETS: dict[str, dict] = {
    "Product reviews (sentiment × category)": {
        "file": "product_reviews.csv",
        "text_column": "text",
        "label_columns": ["sentiment", "category"],
        "instructions": {
            "sentiment": "Represent the product review for classifying its sentiment: ",
            "category": "Represent the product review for classifying its product category: ",
        },
    },
    "Questions (topic × answer type)": {
        "file": "questions.csv",
        "text_column": "text",
        "label_columns": ["topic", "answer_type"],
        "instructions": {
            "topic": "Represent the question for classifying its topic: ",
            "answer_type": "Represent the question for classifying the type of its expected answer: ",
        },
    },
}


REVIEWS = "Product reviews (sentiment × category)"
QUESTIONS = "Questions (topic × answer type)"
_REVIEW = BUILTIN_DATASETS[REVIEWS]["instructions"]
_QUESTION = BUILTIN_DATASETS[QUESTIONS]["instructions"]


@dataclass(frozen=True)
class ProjectionExample:
    """Instruction B should separate ``label`` better than instruction A does (tests check it on the
    default model, instructor-mini, so no example contradicts what its title promises)."""

    title: str
    dataset: str
    label: str
    instruction_a: str
    instruction_b: str


@dataclass(frozen=True)
class ClusterExample:
    """Clustering ``dataset`` under ``instruction`` into ``n_clusters`` (k-means) should follow ``label``
    more than ``other_label`` (higher adjusted Rand index; checked in the tests on the default model)."""

    title: str
    dataset: str
    instruction: str
    n_clusters: str
    label: str
    other_label: str


# Only what instructor-mini (v2) shows: it follows sentiment, product-category and answer-type instructions,
# while its question-topic instruction does not beat no instruction (on these questions k-means under it
# follows answer type; see its model card). The crossed pairs still show the point: against the other
# task's instruction, the label's own instruction wins.
PROJECTION_EXAMPLES: tuple[ProjectionExample, ...] = (
    ProjectionExample("Reviews · no instruction vs sentiment, coloured by sentiment", REVIEWS, "sentiment",
                      "", _REVIEW["sentiment"]),
    ProjectionExample("Reviews · no instruction vs category, coloured by category", REVIEWS, "category",
                      "", _REVIEW["category"]),
    ProjectionExample("Questions · no instruction vs answer type, coloured by answer type", QUESTIONS, "answer_type",
                      "", _QUESTION["answer_type"]),
    ProjectionExample("Reviews · sentiment vs category instruction, coloured by category", REVIEWS, "category",
                      _REVIEW["sentiment"], _REVIEW["category"]),
    ProjectionExample("Questions · answer type vs topic instruction, coloured by topic", QUESTIONS, "topic",
                      _QUESTION["answer_type"], _QUESTION["topic"]),
)
CLUSTER_EXAMPLES: tuple[ClusterExample, ...] = (
    ClusterExample("Reviews · by sentiment", REVIEWS, "Represent the product review for clustering by sentiment: ",
                   "auto", "sentiment", "category"),
    ClusterExample("Reviews · by product category, 6 clusters", REVIEWS,
                   "Represent the product review for clustering by product category: ", "6", "category", "sentiment"),
    ClusterExample("Questions · by answer type", QUESTIONS,
                   "Represent the question for clustering by the type of its expected answer: ", "auto",
                   "answer_type", "topic"),
    ClusterExample("Reviews · no instruction, 6 clusters: mostly by product category", REVIEWS, "", "6",
                   "category", "sentiment"),
)
# Texts for the playground, each with instructions that fit it (and a blank one: no instruction).
PLAYGROUND_EXAMPLES: dict[str, list[str]] = {
    "The battery died after two days, but the seller refunded me within an hour.": [
        _REVIEW["sentiment"], _REVIEW["category"], "Represent the customer support message for retrieving the answer: ",
        ""],
    "Who discovered penicillin?": [
        _QUESTION["topic"], _QUESTION["answer_type"],
        "Represent the Wikipedia question for retrieving supporting documents: ", ""],
    "The stock market fell sharply after the rate decision.": [
        "Represent the news headline for clustering by topic: ",
        "Represent the financial news sentence for classifying its sentiment: ",
        "Represent the news sentence for retrieving related articles: ", ""],
}


@lru_cache(maxsize=None)
def _read(file: str) -> pd.DataFrame:
    return pd.read_csv(DATASET_DIR / file, dtype=str, keep_default_na=False)


def load_builtin_dataset(name: str) -> pd.DataFrame:
    """A fresh copy of the built-in dataset ``name`` (a key of ``BUILTIN_DATASETS``)."""
    return _read(BUILTIN_DATASETS[name]["file"]).copy()
