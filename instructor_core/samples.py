"""Built-in labeled datasets (written by the team, in ``assets/datasets``) for one-click examples."""

from __future__ import annotations

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


@lru_cache(maxsize=None)
def _read(file: str) -> pd.DataFrame:
    return pd.read_csv(DATASET_DIR / file, dtype=str, keep_default_na=False)


def load_builtin_dataset(name: str) -> pd.DataFrame:
    """A fresh copy of the built-in dataset ``name`` (a key of ``BUILTIN_DATASETS``)."""
    return _read(BUILTIN_DATASETS[name]["file"]).copy()
