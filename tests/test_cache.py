"""The embedding cache: LRU bound, disk persistence, distinct keys."""

from __future__ import annotations

import numpy as np

from instructor_core.cache import EmbeddingCache, embedding_key


def test_keys_differ_on_every_field():
    base = ("model", "instr", "text", True)
    variants = [("model2", "instr", "text", True), ("model", "instr2", "text", True),
                ("model", "instr", "text2", True), ("model", "instr", "text", False),
                ("model", "instrt", "ext", True)]
    keys = {embedding_key(*base)} | {embedding_key(*v) for v in variants}
    assert len(keys) == 6


def test_lru_evicts_oldest_within_byte_budget():
    cache = EmbeddingCache(max_bytes=3 * 16)  # three 4-float vectors
    keys = [bytes([i]) * 32 for i in range(4)]
    cache.put_many(keys[:3], np.eye(3, 4, dtype=np.float32))
    cache.get_many([keys[0]])  # touch: keys[1] is now the oldest
    cache.put_many([keys[3]], np.ones((1, 4), dtype=np.float32))
    found = cache.get_many(keys)
    assert [v is not None for v in found] == [True, False, True, True]
    assert cache.stats()["memory_items"] == 3


def test_disk_store_persists_and_clear_forgets(tmp_path):
    key = embedding_key("m", "i", "t", True)
    EmbeddingCache(disk_dir=tmp_path).put_many([key], np.arange(4, dtype=np.float32)[None])
    reopened = EmbeddingCache(disk_dir=tmp_path)
    np.testing.assert_array_equal(reopened.get_many([key])[0], np.arange(4, dtype=np.float32))
    assert reopened.stats()["hits"] == 1
    reopened.clear()
    assert reopened.get_many([key]) == [None] and reopened.stats()["misses"] == 1
