"""The embedding cache: LRU bound, disk persistence, distinct keys."""

from __future__ import annotations

import numpy as np

from instructor_core.cache import EmbeddingCache, ResultCache, array_fingerprint, embedding_key, texts_fingerprint


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


def test_result_cache_keeps_the_newest_results_and_fingerprints_tell_arrays_apart():
    cache, computed = ResultCache(max_items=2), []
    for key in ("a", "b", "a", "c", "b"):  # "a" is used again before "c" arrives, so "b" is the one dropped
        cache.get_or_compute((key,), lambda key=key: computed.append(key) or key.upper())
    assert computed == ["a", "b", "c", "b"] and (cache.hits, cache.misses) == (1, 4)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert array_fingerprint(x) == array_fingerprint(x.copy())
    assert array_fingerprint(x) != array_fingerprint(x.reshape(3, 2))  # same bytes, another shape
    assert array_fingerprint(x) != array_fingerprint(x.astype(np.float64))
    assert texts_fingerprint(["ab", "c"]) != texts_fingerprint(["a", "bc"]) != texts_fingerprint(["abc"])
