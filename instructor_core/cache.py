"""Embedding cache: an in-memory LRU in front of an optional on-disk SQLite store; and a small in-process LRU
of results computed from the vectors (kNN graphs, layouts, clusterings).

Keys cover everything that changes a vector (model identity, dtype, instruction, text, normalize),
so re-projecting a dataset or re-running a page with the same inputs costs no encoding at all.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import platformdirs


def default_cache_dir() -> Path:
    """Per-user cache folder, e.g. ``~/.cache/instructor-explorer`` on Linux."""
    return Path(platformdirs.user_cache_dir("instructor-explorer"))


def embedding_key(model_identity: str, instruction: str, text: str, normalize: bool) -> bytes:
    """Stable 32-byte key; fields are NUL-separated so no two inputs can collide by concatenation."""
    raw = "\x00".join((model_identity, instruction, text, "1" if normalize else "0"))
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).digest()


class EmbeddingCache:
    """Thread-safe vector cache with hit/miss counters.

    ``max_bytes`` bounds the in-memory LRU; ``disk_dir`` (optional) adds a persistent SQLite store that
    survives restarts and is shared by processes on the same machine.
    """

    def __init__(self, max_bytes: int = 256 * 2**20, disk_dir: str | Path | None = None) -> None:
        self.max_bytes = int(max_bytes)
        self._memory: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._memory_bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self._db: sqlite3.Connection | None = None
        self.disk_path: Path | None = None
        if disk_dir is not None:
            self.disk_path = Path(disk_dir).expanduser() / "embeddings.sqlite"
            self.disk_path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.disk_path, check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vec BLOB NOT NULL)")
            self._db.commit()

    def get_many(self, keys: Sequence[bytes]) -> list[np.ndarray | None]:
        """Vectors for ``keys`` (None where absent), counting hits and misses."""
        found: list[np.ndarray | None] = [None] * len(keys)
        with self._lock:
            missing = []
            for i, key in enumerate(keys):
                vec = self._memory.get(key)
                if vec is None:
                    missing.append(i)
                else:
                    self._memory.move_to_end(key)
                    found[i] = vec
            if missing and self._db is not None:
                for i, vec in self._read_disk([keys[i] for i in missing]).items():
                    found[missing[i]] = vec
                    self._remember(keys[missing[i]], vec)
            hits = sum(v is not None for v in found)
            self.hits += hits
            self.misses += len(keys) - hits
        return found

    def held_in_memory(self, keys: Sequence[bytes]) -> list[bool]:
        """Which ``keys`` the in-memory store holds, without counting or reordering (for time estimates;
        the disk store is not consulted)."""
        with self._lock:
            return [key in self._memory for key in keys]

    def put_many(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Store rows of ``vectors`` (float32) under ``keys``."""
        vectors = np.asarray(vectors, dtype=np.float32)
        with self._lock:
            for key, vec in zip(keys, vectors):
                self._remember(key, vec.copy())
            if self._db is not None:
                self._db.executemany(
                    "INSERT OR REPLACE INTO vectors (key, vec) VALUES (?, ?)",
                    [(key, vec.tobytes()) for key, vec in zip(keys, vectors)],
                )
                self._db.commit()

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"hits": self.hits, "misses": self.misses, "memory_items": len(self._memory)}

    def clear(self) -> None:
        """Forget every vector (memory and disk) and reset the counters."""
        with self._lock:
            self._memory.clear()
            self._memory_bytes = 0
            self.hits = self.misses = 0
            if self._db is not None:
                self._db.execute("DELETE FROM vectors")
                self._db.commit()

    def _remember(self, key: bytes, vec: np.ndarray) -> None:
        old = self._memory.pop(key, None)
        if old is not None:
            self._memory_bytes -= old.nbytes
        self._memory[key] = vec
        self._memory_bytes += vec.nbytes
        while self._memory_bytes > self.max_bytes and self._memory:
            _, evicted = self._memory.popitem(last=False)
            self._memory_bytes -= evicted.nbytes

    def _read_disk(self, keys: Iterable[bytes]) -> dict[int, np.ndarray]:
        assert self._db is not None
        keys = list(keys)
        rows: dict[bytes, bytes] = {}
        for start in range(0, len(keys), 500):  # SQLite caps the number of bound parameters
            chunk = keys[start : start + 500]
            query = f"SELECT key, vec FROM vectors WHERE key IN ({','.join('?' * len(chunk))})"
            rows.update(self._db.execute(query, chunk).fetchall())
        return {i: np.frombuffer(rows[k], dtype=np.float32).copy() for i, k in enumerate(keys) if k in rows}


def array_fingerprint(array: np.ndarray) -> str:
    """A hex digest of an array's dtype, shape and bytes: equal arrays, and only they, share it."""
    array = np.ascontiguousarray(array)
    digest = hashlib.blake2b(f"{array.dtype.str}{array.shape}".encode(), digest_size=20)
    digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()


def texts_fingerprint(texts: Sequence[str]) -> str:
    """A hex digest of a list of texts, in order (each prefixed by its length, so no two lists collide)."""
    digest = hashlib.blake2b(digest_size=20)
    for text in texts:
        raw = text.encode("utf-8", "surrogatepass")
        digest.update(b"%d:" % len(raw) + raw)
    return digest.hexdigest()


class ResultCache:
    """A small thread-safe in-process LRU of computed results (kNN graphs, layouts, clusterings).

    Keys are tuples built from :func:`array_fingerprint` of the input and every parameter, so re-running a
    page with only another k, algorithm or projection reuses whatever did not change. ``hits``/``misses``
    count lookups.
    """

    def __init__(self, max_items: int = 8) -> None:
        self.max_items = int(max_items)
        self._items: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: tuple, compute: Callable[[], object]) -> object:
        """The stored result for ``key``, or ``compute()``'s, stored. Computed outside the lock, so a slow
        computation does not hold up other keys (two callers of one new key may both compute it)."""
        with self._lock:
            if key in self._items:
                self.hits += 1
                self._items.move_to_end(key)
                return self._items[key]
            self.misses += 1
        value = compute()
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget every result and reset the counters."""
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0
