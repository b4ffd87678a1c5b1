"""A tiny stand-in encoder whose instruction effects are known by construction.

Texts "text 0" ... "text n-1" each have a topic (strong in the plain vectors) and a sentiment (weak).
An instruction naming "sentiment" re-weights the vectors so sentiment dominates: neighbours truly
reorder. Any other instruction (a placebo among them) only adds the same small vector to every text,
the way a meaningless prefix shifts all embeddings alike: neighbours stay put.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SENTIMENT_INSTRUCTION = "Represent the review for classifying its sentiment: "
TOPIC_INSTRUCTION = "Represent the review for classifying its topic: "


class FakeEncoder:
    name = "fake"
    max_seq_length = 512

    def __init__(self, n: int = 120, topics: int = 4, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.texts = [f"text {i}" for i in range(n)]
        self.topic = np.arange(n) % topics
        self.sentiment = (np.arange(n) // topics) % 2
        topic_part = 3 * rng.normal(size=(topics, 16))[self.topic] + rng.normal(size=(n, 16))
        sentiment_part = 3 * rng.normal(size=(2, 16))[self.sentiment] + rng.normal(size=(n, 16))
        self._plain = np.hstack([topic_part, 0.3 * sentiment_part]).astype(np.float32)
        self._sentiment = np.hstack([0.3 * topic_part, sentiment_part]).astype(np.float32)
        self._shift = 0.5 * rng.normal(size=32).astype(np.float32)
        self.calls: list[list[str]] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def count_truncated(self, texts: Sequence[str], instruction: str | None = None) -> int:
        return 0

    def encode(self, texts: Sequence[str], instruction=None, progress=None, **_: object) -> np.ndarray:
        instructions = instruction if isinstance(instruction, list) else [instruction] * len(texts)
        self.calls.append(list(instructions))
        rows = []
        for text, ins in zip(texts, instructions):
            i = int(text.split()[1])
            if ins and "sentiment" in ins:
                rows.append(self._sentiment[i])
            elif ins:
                rows.append(self._plain[i] + self._shift)
            else:
                rows.append(self._plain[i])
        vectors = np.asarray(rows, dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
