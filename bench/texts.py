"""Realistic benchmark texts: AG News articles and Amazon reviews from the shared training data, ~50 tokens each.

Read from ``$INSTRUCTOR_TRAIN_DATA`` (default ``../shared/data/train``); nothing is copied into the repository.
"""

from __future__ import annotations

import json

import numpy as np

from instructor_core.training.tasks import default_data_dir

WORDS = 38  # ~50 word-piece tokens for MiniLM's tokenizer


def realistic_texts(n: int, seed: int = 0) -> list[str]:
    """``n`` distinct texts of at most ~50 tokens, news and reviews mixed, in a seeded random order."""
    root = default_data_dir()
    news = [line.split("\t")[0] for line in (root / "ag_news" / "train_subset_alps.tsv").read_text("utf-8").splitlines()]
    reviews = [json.loads(line)["text"] for line in
               (root / "reviews_by_category" / "fdumtl_amazon10_train.jsonl").read_text("utf-8").splitlines()]
    pool = [" ".join(t.split()[:WORDS]) for t in news + reviews if len(t.split()) >= 12]
    order = np.random.default_rng(seed).permutation(len(pool))
    # past the pool's size, texts repeat with a number so each row stays a distinct text (no cache hits)
    return [pool[order[i % len(pool)]] + (f" ({i // len(pool)})" if i >= len(pool) else "") for i in range(n)]
