"""Clustering embeddings, choosing k, and describing clusters (c-TF-IDF keywords, representative texts).

All methods run on L2-normalised vectors, where squared Euclidean distance is 2 - 2 x cosine: k-means
becomes spherical (cosine) k-means, and HDBSCAN's Euclidean neighbourhoods are cosine neighbourhoods.
Results (and Ward trees) are kept in small in-process LRUs keyed by the vectors' fingerprint and every
parameter, so re-running a table with only another projection does not cluster again.
"""

from __future__ import annotations

import copy
import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.cluster import HDBSCAN, KMeans
from sklearn.feature_extraction.text import CountVectorizer
from threadpoolctl import threadpool_limits

from .cache import ResultCache, array_fingerprint, texts_fingerprint
from .errors import InputError
from .jobs import checkpoint
from .metrics import silhouette_cosine
from .neighbours import BLOCK_BYTES
from .similarity import l2_normalize

METHODS = ("kmeans", "hdbscan", "agglomerative")
NOISE = -1
NOISE_KEYWORDS = "(noise: in no cluster)"
# silhouette costs O(n^2): rows beyond this are sampled (seeded); 2,000 rows take 0.1 s at 384-d against
# 0.6 s for 5,000, which adds up over the 11 values of k an automatic choice tries
SILHOUETTE_SAMPLE = 2000
KMEANS_RESTARTS = 4  # fixed n_init: with the seed, the same input always gives the same clusters
# k-means on one thread: 5k x 384-d, k = 12 took 0.23 s on 1 thread and 4.7 s on 2 when the 2 cores were
# shared with other work (its threads wait on each other every iteration, as t-SNE's do; see projection.py).
KMEANS_THREADS = 1
# HDBSCAN on the full distance matrix rather than a ball tree, which is slow in embedding dimensions:
# 5k x 384-d took 1.1 s brute force, 16 s with a ball tree, 22 s with a k-d tree. Brute force peaks at
# about 2.5 n^2 doubles (2 GB at 10k rows), so larger inputs go back to the tree.
HDBSCAN_BRUTE_FORCE_MAX_ROWS = 10_000
# Past these sizes a method does not finish here: Ward's linkage holds n^2 / 2 distances (40 GB at 100,000 rows),
# and HDBSCAN's tree search on 384-d vectors grows roughly with n^2 (16 s at 5,000 rows: hours at 100,000).
# k-means has no such limit.
MAX_ROWS = {"agglomerative": 20_000, "hdbscan": 20_000}
# Recent clusterings, and Ward trees (10k rows: a 320 kB tree that took 18 s), so another k only cuts the tree again
RESULTS = ResultCache(max_items=16)
TREES = ResultCache(max_items=4)
TERM_COUNTS = ResultCache(max_items=4)  # per-text word counts for the keywords (10k texts: 2 MB + the vocabulary)
# Keywords are counted on cleaned text (the embeddings see the text as given): markup, web addresses and
# the remains of HTML entities whose "&" was lost on the way ("#39;", "lt;", "quot;" in scraped news) go.
_TAG = re.compile(r"<[^<>]{0,300}>|(?<![a-z])lt;[^<>]{0,300}?gt;", re.IGNORECASE)
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_ENTITY_LEFTOVER = re.compile(r"&?#(?:\d+|x[0-9a-f]+);|(?:quot|apos|nbsp);|&?\b(?:lt|gt|amp);", re.IGNORECASE)
# Words of two or more letters: numbers, and tokens with digits in them ("39", "2004", "mp3"), are not keywords.
_KEYWORD_TOKEN = r"(?u)\b[^\W\d_]{2,}\b"


@dataclass
class ClusterResult:
    labels: np.ndarray  # int per row; 0 is the largest cluster, -1 (NOISE) is HDBSCAN's noise
    n_clusters: int
    method: str
    silhouette: float | None  # cosine silhouette of the clustered rows (noise left out)
    k_scores: dict[int, float] = field(default_factory=dict)  # silhouette per k tried when k is automatic
    notes: list[str] = field(default_factory=list)  # for the user, e.g. how many rows HDBSCAN left as noise


def cluster(
    embeddings: np.ndarray,
    method: str = "kmeans",
    n_clusters: int | str = "auto",
    k_range: tuple[int, int] = (2, 12),
    random_state: int = 0,
    min_cluster_size: int | None = None,
) -> ClusterResult:
    """Cluster the rows of ``embeddings``; deterministic for a given ``random_state``.

    ``n_clusters="auto"`` tries every k in ``k_range`` (capped at n - 1) and keeps the best cosine
    silhouette. HDBSCAN ignores ``n_clusters`` and finds its own, marking outliers -1; its
    ``min_cluster_size`` defaults to max(5, n // 50). A clustering computed before for equal vectors and
    parameters comes from ``RESULTS`` (a copy).
    """
    if method not in METHODS:
        raise InputError(f"Unknown clustering method '{method}'. Choose one of: {', '.join(METHODS)}.")
    x = l2_normalize(embeddings)
    n = len(x)
    if n < 2:
        raise InputError(f"Clustering needs at least 2 texts; got {n}.")
    check_size(n, method)
    fingerprint = array_fingerprint(x)
    if method == "hdbscan":
        size = max(5, n // 50) if min_cluster_size is None else int(min_cluster_size)
        if size < 2:
            raise InputError(f"The minimum cluster size must be at least 2; got {size}.")
        key: tuple = ("hdbscan", fingerprint, size, random_state)
        compute = lambda: _hdbscan(x, size, random_state)  # noqa: E731
    else:
        k = None if n_clusters == "auto" else _whole_number(n_clusters)
        if k is not None and not 2 <= k <= n:
            raise InputError(f"The number of clusters must be between 2 and {n} (the number of texts); got {k}.")
        key = (method, fingerprint, k, tuple(k_range), random_state)
        compute = lambda: _partition(x, fingerprint, method, k, k_range, random_state)  # noqa: E731
    return copy.deepcopy(RESULTS.get_or_compute(key, compute))  # the caller's to change


def _hdbscan(x: np.ndarray, size: int, random_state: int) -> ClusterResult:
    algorithm = "brute" if len(x) <= HDBSCAN_BRUTE_FORCE_MAX_ROWS else "auto"
    labels = _by_size(HDBSCAN(min_cluster_size=min(size, len(x)), algorithm=algorithm, copy=True).fit_predict(x))
    return ClusterResult(labels, int(labels.max() + 1), "hdbscan", _silhouette(x, labels, random_state),
                         notes=[noise_note(labels)])


def _partition(x: np.ndarray, fingerprint: str, method: str, k: int | None, k_range: tuple[int, int],
               random_state: int) -> ClusterResult:
    """k-means or agglomerative at ``k``, or at the best k of ``k_range`` when ``k`` is None."""
    partition = _partitioner(x, fingerprint, method, random_state)
    scores: dict[int, float] = {}
    if k is None:
        k, scores = _best_k(x, partition, k_range, random_state)
    labels = _by_size(partition(k))
    return ClusterResult(labels, int(labels.max() + 1), method, scores.get(k, _silhouette(x, labels, random_state)),
                         scores)


def check_size(n_rows: int, method: str) -> None:
    """InputError when ``method`` cannot cluster ``n_rows`` texts here (:data:`MAX_ROWS`); callers check before
    embedding, so a user is not told after minutes of work."""
    if n_rows > MAX_ROWS.get(method, n_rows):
        name = "HDBSCAN" if method == "hdbscan" else "Agglomerative clustering"
        raise InputError(f"{name} handles at most {MAX_ROWS[method]:,} texts here (it would run for hours or run out "
                         f"of memory on {n_rows:,}); use k-means, or a sample of the table.")


def cluster_centroids(embeddings: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(k, d) mean of the L2-normalised rows of each cluster 0..k-1 (noise left out): k-means' centres,
    so :func:`assign_to_centroids` labels rows that were not clustered (a large table fitted on a sample)."""
    x, labels = l2_normalize(embeddings), np.asarray(labels)
    return np.stack([x[labels == c].mean(axis=0) for c in range(int(labels.max()) + 1)]).astype(np.float32)


def assign_to_centroids(embeddings: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """The nearest centroid (squared Euclidean on L2-normalised rows, as k-means assigns) of each row."""
    x, c = l2_normalize(embeddings), np.asarray(centroids, dtype=np.float32)
    return np.argmin((c * c).sum(axis=1)[None, :] - 2 * x @ c.T, axis=1)


def _whole_number(n_clusters: object) -> int:
    try:
        return int(n_clusters)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise InputError(f"The number of clusters must be 'auto' or a whole number; got {n_clusters!r}.") from None


def _partitioner(x: np.ndarray, fingerprint: str, method: str, random_state: int) -> Callable[[int], np.ndarray]:
    """A function k -> cluster ids; agglomerative builds its tree once (kept in ``TREES``) and cuts it at every k."""
    if method == "kmeans":
        def kmeans(k: int) -> np.ndarray:
            with threadpool_limits(limits=KMEANS_THREADS):
                return KMeans(n_clusters=k, n_init=KMEANS_RESTARTS, random_state=random_state).fit_predict(x)

        return kmeans
    # Ward on unit vectors rather than average-linkage cosine: on sentence embeddings average linkage
    # chains into one giant cluster plus stragglers, while Ward keeps clusters compact and comparable.
    tree = TREES.get_or_compute(("ward", fingerprint), lambda: linkage(euclidean_distances(x), method="ward"))
    return lambda k: fcluster(tree, t=k, criterion="maxclust") - 1


def euclidean_distances(x: np.ndarray) -> np.ndarray:
    """``scipy.spatial.distance.pdist(x)`` (condensed, float64) from blocks of matrix products: 10k x 384-d took
    88 s in pdist, which Ward spent before its 18 s of merging (2 shared cores)."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    squares = np.einsum("ij,ij->i", x, x)
    out = np.empty(n * (n - 1) // 2)
    block = max(1, min(n, BLOCK_BYTES // (8 * n)))
    filled = 0
    for start in range(0, n, block):
        stop = min(n, start + block)
        # rows start..stop against columns start..n: the condensed form holds each pair once, row < column
        d = x[start:stop] @ x[start:].T
        d *= -2  # in place: no n-wide temporaries
        d += squares[None, start:]
        d += squares[start:stop, None]
        np.sqrt(np.maximum(d, 0, out=d), out=d)
        for row in range(stop - start):
            pairs = d[row, row + 1 :]
            out[filled : filled + len(pairs)] = pairs
            filled += len(pairs)
    return out


def _best_k(x: np.ndarray, partition: Callable[[int], np.ndarray], k_range: tuple[int, int], random_state: int
            ) -> tuple[int, dict[int, float]]:
    """The k in ``k_range`` (capped at n - 1) with the best cosine silhouette, and every k's score."""
    scores = {}
    for k in range(max(2, k_range[0]), min(k_range[1], len(x) - 1) + 1):
        checkpoint(f"clustering with k={k}")  # each k is a full fit: a cancelled job stops between them
        score = _silhouette(x, partition(k), random_state)
        if score is not None:
            scores[k] = score
    if not scores:
        raise InputError(f"Could not choose a number of clusters between {k_range[0]} and {k_range[1]} for "
                         f"{len(x)} texts; set the number of clusters yourself.")
    return max(scores, key=scores.__getitem__), scores


def _silhouette(x: np.ndarray, labels: np.ndarray, random_state: int) -> float | None:
    """Cosine silhouette of the clustered rows (noise counts as unlabeled), on a sample above SILHOUETTE_SAMPLE."""
    return silhouette_cosine(x, np.where(labels == NOISE, None, labels), SILHOUETTE_SAMPLE, random_state)


def noise_note(labels: np.ndarray) -> str:
    """How many rows HDBSCAN put in no cluster, as a sentence (its share matters when reading the map)."""
    noise = int(np.sum(labels == NOISE))
    return (f"HDBSCAN left {noise:,} of {len(labels):,} texts ({noise / len(labels):.1%}) in no cluster (noise, "
            "grey on the map); a smaller minimum cluster size or k-means puts every text in a cluster.")


def keyword_text(text: object) -> str:
    """``text`` for counting keywords: HTML entities decoded, tags, web addresses and entity leftovers removed."""
    cleaned = html.unescape(html.unescape(str(text)))
    return _ENTITY_LEFTOVER.sub(" ", _URL.sub(" ", _TAG.sub(" ", cleaned)))


def _by_size(labels: np.ndarray) -> np.ndarray:
    """Clusters renumbered 0, 1, ... from the largest (ties: the one that appears first); noise stays -1."""
    ids, first_seen, counts = np.unique(labels[labels != NOISE], return_index=True, return_counts=True)
    renumbered = np.full(len(labels), NOISE)
    for new_id, old_id in enumerate(ids[np.lexsort((first_seen, -counts))]):
        renumbered[labels == old_id] = new_id
    return renumbered


def cluster_keywords(texts: Sequence[str], labels: Sequence[int], top_n: int = 5) -> dict[int, list[str]]:
    """Top ``top_n`` words and bigrams of each cluster by class-based TF-IDF (BERTopic's c-TF-IDF).

    The texts of a cluster (cleaned by :func:`keyword_text`) form one document (their counts summed, so no
    bigram spans two texts); a term scores
    tf(term, cluster) / words(cluster) x log(1 + A / f(term)), with A the average number of words per
    cluster and f the term's count over all clusters. English stop words, numbers, and terms found in
    every cluster (they name none of them) are dropped; a cluster with no words left gets an empty list.
    """
    labels = np.asarray(labels)
    clusters, members = np.unique(labels, return_inverse=True)
    clusters = clusters.tolist()
    counts, vocabulary = _term_counts(texts)
    if counts is None:  # no words at all, or only stop words
        return {c: [] for c in clusters}
    membership = sparse.csr_matrix((np.ones(len(labels)), (members, np.arange(len(labels)))),
                                   shape=(len(clusters), len(labels)))
    tf = (membership @ counts).tocsr().astype(np.float64)  # each cluster's texts as one document
    words_per_cluster = np.asarray(tf.sum(axis=1)).ravel()
    term_counts = np.asarray(tf.sum(axis=0)).ravel()
    idf = np.log(1 + words_per_cluster.mean() / term_counts)
    scores = tf.multiply(1 / np.maximum(words_per_cluster, 1)[:, None]).multiply(idf[None, :]).tocsr()
    real = np.asarray([c != NOISE for c in clusters])
    if real.sum() >= 2:
        in_every_cluster = np.asarray((tf[real] > 0).sum(axis=0)).ravel() == real.sum()
        scores = scores.multiply((~in_every_cluster)[None, :].astype(np.float64)).tocsr()
    out = {}
    for row, cluster_id in enumerate(clusters):
        start, end = scores.indptr[row], scores.indptr[row + 1]
        terms, values = scores.indices[start:end], scores.data[start:end]
        best = np.lexsort((terms, -values))[:top_n]  # ties: alphabetical (the vocabulary is sorted)
        out[cluster_id] = [str(vocabulary[terms[i]]) for i in best if values[i] > 0]
    return out


def _term_counts(texts: Sequence[str]) -> tuple[sparse.csr_matrix | None, np.ndarray]:
    """Each text's counts of words and bigrams (cleaned, stop words dropped) and the vocabulary, or None and an
    empty vocabulary when there are no words; kept in ``TERM_COUNTS`` by the texts, so clustering the same
    texts again only sums rows (counting 10k texts took 8 s)."""
    texts = [str(t) for t in texts]

    def count() -> tuple[sparse.csr_matrix | None, np.ndarray]:
        vectorizer = CountVectorizer(stop_words="english", ngram_range=(1, 2), token_pattern=_KEYWORD_TOKEN,
                                     dtype=np.int32)
        try:
            counts = vectorizer.fit_transform([keyword_text(t) for t in texts]).tocsr()
        except ValueError:  # no words at all, or only stop words
            return None, np.array([], dtype=object)
        return counts, vectorizer.get_feature_names_out()

    return TERM_COUNTS.get_or_compute(("terms", texts_fingerprint(texts)), count)  # type: ignore[return-value]


def representative_texts(texts: Sequence[str], embeddings: np.ndarray, labels: Sequence[int], n: int = 3
                         ) -> dict[int, list[str]]:
    """The ``n`` texts of each cluster nearest (cosine) to the cluster's mean direction, nearest first."""
    texts, x, labels = list(texts), l2_normalize(embeddings), np.asarray(labels)
    out = {}
    for cluster_id in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == cluster_id)
        centroid = x[members].mean(axis=0)
        nearest = members[np.argsort(-(x[members] @ centroid), kind="stable")[:n]]
        out[cluster_id] = [texts[i] for i in nearest]
    return out


def cluster_summary(texts: Sequence[str], embeddings: np.ndarray, labels: Sequence[int], top_n_keywords: int = 5,
                    n_representatives: int = 3) -> pd.DataFrame:
    """One row per cluster: cluster, size, share (of all rows, 3 decimals), keywords (comma-joined),
    representatives (" | "-joined).

    Largest cluster first; noise (-1) comes last, with ``NOISE_KEYWORDS`` in place of keywords.
    """
    labels = np.asarray(labels)
    keywords = cluster_keywords(texts, labels, top_n_keywords)
    representatives = representative_texts(texts, embeddings, labels, n_representatives)
    ids, sizes = np.unique(labels, return_counts=True)
    rows = [{"cluster": int(c), "size": int(s), "share": round(s / len(labels), 3),
             "keywords": NOISE_KEYWORDS if c == NOISE else ", ".join(keywords[c]),
             "representatives": " | ".join(representatives[c])}
            for c, s in zip(ids, sizes)]
    frame = pd.DataFrame(rows, columns=["cluster", "size", "share", "keywords", "representatives"])
    order = np.lexsort((frame["cluster"], -frame["size"], frame["cluster"] == NOISE))
    return frame.iloc[order].reset_index(drop=True)
