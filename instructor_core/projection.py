"""2-D projections of embeddings (UMAP, t-SNE, PCA) and alignment of two layouts for side-by-side views.

UMAP runs on an exact kNN graph from :func:`~instructor_core.neighbours.knn_graph` rather than pynndescent's
NNDescent (38 s for 500 points in bench/RESULTS.md, most of it compiling). Layouts and graphs are kept in small
in-process LRUs keyed by the vectors' fingerprint and every parameter, so re-clustering the same table with another
k or algorithm does not project again, and another UMAP setting reuses the graph. UMAP's first call in a process
compiles numba code that is not cached on disk (9 s on 2 quiet cores, 35-45 s on busy ones); ``warm_up`` pays it
up front.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.linalg import orthogonal_procrustes
from threadpoolctl import threadpool_limits

from .cache import ResultCache, array_fingerprint
from .errors import InputError
from .jobs import checkpoint
from .neighbours import knn_graph

METHODS = ("umap", "tsne", "pca")
METRICS = ("cosine", "euclidean")
DEFAULTS: dict[str, dict[str, object]] = {
    "umap": {"n_neighbors": 15, "min_dist": 0.1, "metric": "cosine"},
    "tsne": {"perplexity": 30.0, "metric": "cosine"},
    "pca": {},
}
_NUMBER_RULES: dict[str, tuple[Callable[[float], bool], str]] = {  # name: (valid?, what is valid)
    "n_neighbors": (lambda v: v >= 2, "of at least 2"),
    "min_dist": (lambda v: 0 <= v <= 1, "between 0 and 1"),
    "perplexity": (lambda v: v > 0, "above 0"),
}
# UMAP and t-SNE place a point by its neighbours; below this many texts there is no neighbourhood to
# speak of, so ``project`` draws PCA instead (the layout of 3-5 points says no more than PCA's).
MIN_NEIGHBOURHOOD_POINTS = 6
# bench/tsne_backends.py on 2 cores shared with other work (load about 3), 384-d, cosine, perplexity 30, seconds:
#   points   openTSNE 1 thread / 2 threads   scikit-learn 1 thread / 2 threads   (2-D kNN accuracy 1.000 in all)
#    1,000            2.6 / 24.1                       3.4 / 44.7
#    5,000           21.7 / 40.0                      30.4 / 71.3
# (a second run, at load 3-4, ranked them the same.) One thread wins: t-SNE's threads wait on each other
# every iteration, which is ruinous when the cores are shared, as they are with the encoder and other
# requests; and openTSNE is the faster single thread.
TSNE_BACKEND = "opentsne"
TSNE_THREADS = 1
PCA_THREADS = 1
# Recent layouts and UMAP kNN graphs (a 10k-row graph is 1.2 MB; a layout 80 kB), newest kept.
LAYOUTS = ResultCache(max_items=8)
GRAPHS = ResultCache(max_items=4)
# Above SAMPLE_ABOVE rows UMAP is fitted on a seeded sample of FIT_ROWS rows and ``transform`` places the rest
# (t-SNE, which has no transform, is drawn that way too). bench/RESULTS.md: a full fit on the exact kNN graph took
# 12-17 CPU s at 20,000 rows and 169 CPU s (1.5 GB) at 100,000, where the fit on 20,000 + transform took 71 CPU s
# (1.1 GB); the sampled fit pays ~35 s for the search index transform needs, so the two cost about the same
# near 50,000 rows. A sample also loses fine neighbourhoods (10-NN kept 0.18 -> 0.13 with half of 20,000 sampled).
SAMPLE_ABOVE = 50_000
FIT_ROWS = 20_000
TRANSFORM_BATCH = 10_000  # rows placed between two checks of the job (cancel, time limit)


def project(embeddings: np.ndarray, method: str = "umap", random_state: int = 0, *,
            sample_above: int = SAMPLE_ABOVE, fit_rows: int = FIT_ROWS, **params: object) -> np.ndarray:
    """(n, 2) float32 layout of ``embeddings`` (n, d); the same input and seed give the same layout.

    ``params``: UMAP ``n_neighbors`` (15, capped at n - 1), ``min_dist`` (0.1), ``metric`` ("cosine");
    t-SNE ``perplexity`` (30, capped at (n - 1) / 3 so each point has 3 x perplexity neighbours),
    ``metric`` ("cosine"); PCA none. With fewer than ``MIN_NEIGHBOURHOOD_POINTS`` texts every method
    draws PCA. Above ``sample_above`` rows UMAP and t-SNE are drawn as UMAP fitted on a seeded sample of
    ``fit_rows`` rows, the rest placed by ``transform`` (:func:`sampled_fit_note` says so). Raises
    InputError for fewer than 3 texts, an unknown method or unknown/invalid params.
    A layout computed before for equal vectors, method, seed and params comes from ``LAYOUTS`` (a copy).
    """
    method = str(method).lower().replace("-", "")
    if method not in METHODS:
        raise InputError(f"Unknown projection '{method}'. Choose one of: UMAP, t-SNE, PCA.")
    options = _checked_params(method, params)
    x = np.asarray(embeddings, dtype=np.float32)
    if x.ndim != 2:
        raise InputError(f"Expected one embedding per row (a 2-D array); got an array of shape {x.shape}.")
    if len(x) < 3:
        raise InputError(f"Need at least 3 texts to project; got {len(x)}.")
    if not MIN_NEIGHBOURHOOD_POINTS <= fit_rows <= sample_above:
        raise InputError(f"fit_rows must be at least {MIN_NEIGHBOURHOOD_POINTS} and at most sample_above "
                         f"({sample_above}); got {fit_rows}.")
    if method == "pca" or len(x) < MIN_NEIGHBOURHOOD_POINTS:
        method, options = "pca", {}
    if fitted_on_sample(len(x), method, sample_above):  # t-SNE too: it cannot place the rows outside its fit
        method, options = "sampled umap", {k: v for k, v in options.items() if k in DEFAULTS["umap"]}
    fingerprint = array_fingerprint(x)

    def compute() -> np.ndarray:
        if method == "pca":
            return _pca(x)
        if method == "sampled umap":
            return _sampled_umap(x, random_state, fit_rows, options)
        if method == "umap":
            return _umap(x, random_state, fingerprint=fingerprint, **options)
        return _tsne(x, random_state, **options)

    backend = {"tsne": TSNE_BACKEND, "sampled umap": fit_rows}.get(method)
    key = ("layout", fingerprint, method, backend, random_state, tuple(sorted(options.items())))
    return LAYOUTS.get_or_compute(key, compute).copy()  # type: ignore[union-attr]


def fitted_on_sample(n_rows: int, method: str, sample_above: int = SAMPLE_ABOVE) -> bool:
    """Whether :func:`project` draws ``n_rows`` rows with ``method`` as UMAP fitted on a sample."""
    return str(method).lower().replace("-", "") in ("umap", "tsne") and n_rows > sample_above


def sampled_fit_note(n_rows: int, method: str, sample_above: int = SAMPLE_ABOVE, fit_rows: int = FIT_ROWS) -> str:
    """The sentence a result carries when :func:`project` fitted its layout on a sample ("" when it did not)."""
    if not fitted_on_sample(n_rows, method, sample_above):
        return ""
    instead = " (t-SNE cannot place rows outside its fit, so this layout is UMAP)" if "sne" in method.lower() else ""
    return (f"The layout was fitted on {fit_rows:,} sampled rows of {n_rows:,}{instead}; UMAP's transform placed "
            f"the other {n_rows - fit_rows:,} among them.")


def _sampled_umap(x: np.ndarray, random_state: int, fit_rows: int, options: dict[str, object]) -> np.ndarray:
    """UMAP fitted on ``fit_rows`` rows drawn with ``random_state``; those rows keep the fit's own layout,
    the others are placed by ``transform``. Rows come back in input order."""
    sample = np.sort(np.random.default_rng(random_state).choice(len(x), size=fit_rows, replace=False))
    rest = np.setdiff1d(np.arange(len(x)), sample)
    fitted = fit_projection(x[sample], "umap", random_state, **options)
    coords = np.empty((len(x), 2), dtype=np.float32)
    coords[sample] = fitted.sample_layout
    for start in range(0, len(rest), TRANSFORM_BATCH):  # a cancelled or timed-out job stops between batches
        checkpoint("placing the rest of the rows")
        batch = rest[start : start + TRANSFORM_BATCH]
        coords[batch] = fitted.transform(x[batch])
    return coords


def neighbour_graph(embeddings: np.ndarray, n_neighbors: int, metric: str = "cosine",
                    fingerprint: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~instructor_core.neighbours.knn_graph` of ``embeddings``, from ``GRAPHS`` when these vectors'
    graph was built before (``fingerprint``: :func:`array_fingerprint` of the float32 vectors, if known)."""
    x = np.asarray(embeddings, dtype=np.float32)
    key = ("knn", fingerprint or array_fingerprint(x), int(n_neighbors), metric)
    return GRAPHS.get_or_compute(key, lambda: knn_graph(x, int(n_neighbors), metric))  # type: ignore[return-value]


def _checked_params(method: str, params: dict[str, object]) -> dict[str, object]:
    """``params`` over the method's defaults; InputError naming any unknown or out-of-range one."""
    unknown = sorted(set(params) - set(DEFAULTS[method]))
    if unknown:
        accepted = ", ".join(DEFAULTS[method]) or "no parameters"
        raise InputError(f"{method} does not take: {', '.join(unknown)} (it takes {accepted}).")
    options = {**DEFAULTS[method], **params}
    if "metric" in options and options["metric"] not in METRICS:
        raise InputError(f"Unknown metric '{options['metric']}'. Choose one of: {', '.join(METRICS)}.")
    for name, (valid, wanted) in _NUMBER_RULES.items():
        if name in options and not _is_valid_number(options[name], valid):
            raise InputError(f"{name} must be a number {wanted}; got {options[name]!r}.")
    return options


def _is_valid_number(value: object, valid: Callable[[float], bool]) -> bool:
    try:
        return valid(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _pca(x: np.ndarray) -> np.ndarray:
    from sklearn.decomposition import PCA

    # LAPACK's SVD on one thread: 10k x 384-d took 17 s on 2 threads and 1.7 s on 1 with the cores shared (load 7)
    with threadpool_limits(limits=PCA_THREADS):
        coords = PCA(n_components=2, svd_solver="full").fit_transform(x)
    return (coords * _axis_signs(coords)).astype(np.float32)


def _axis_signs(coords: np.ndarray) -> np.ndarray:
    """+1 or -1 per axis so each axis' largest coordinate is positive: PCA's sign is arbitrary."""
    signs = np.sign(coords[np.abs(coords).argmax(axis=0), [0, 1]])
    return np.where(signs == 0, 1, signs)


def _umap(x: np.ndarray, random_state: int, n_neighbors: int, min_dist: float, metric: str,
          fingerprint: str | None = None) -> np.ndarray:
    """UMAP of ``x`` on its exact kNN graph (no search index is kept, so this model cannot ``transform``)."""
    n_neighbors = min(int(n_neighbors), len(x) - 1)
    indices, distances = neighbour_graph(x, n_neighbors, metric, fingerprint)
    # UMAP marks far edges in the arrays it is given; the cached graph stays as built
    model = _umap_model(len(x), random_state, n_neighbors, min_dist, metric,
                        precomputed_knn=(indices.copy(), distances.copy(), None))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")  # no transform needed here
        return model.fit_transform(x).astype(np.float32)


def _umap_model(n: int, random_state: int, n_neighbors: int, min_dist: float, metric: str,
                precomputed_knn: tuple = (None, None, None)) -> object:
    """An unfitted 2-D UMAP for ``n`` points (n_neighbors capped at n - 1)."""
    import umap

    n_neighbors = min(int(n_neighbors), n - 1)
    # spectral init needs a graph larger than the neighbourhood; random init is what UMAP falls back to anyway
    init = "spectral" if n > n_neighbors + 2 else "random"
    return umap.UMAP(n_components=2, n_neighbors=n_neighbors, min_dist=float(min_dist), metric=metric,
                     init=init, random_state=random_state, n_jobs=1,  # a seed makes UMAP single-threaded
                     precomputed_knn=precomputed_knn)


def _tsne(x: np.ndarray, random_state: int, perplexity: float, metric: str) -> np.ndarray:
    perplexity = max(1.0, min(float(perplexity), (len(x) - 1) / 3))
    with threadpool_limits(limits=TSNE_THREADS):  # BLAS and OpenMP too, not only the backend's own threads
        if TSNE_BACKEND == "opentsne":
            from openTSNE import TSNE

            layout = TSNE(perplexity=perplexity, metric=metric, initialization="pca", random_state=random_state,
                          n_jobs=TSNE_THREADS, verbose=False).fit(x)
            return np.asarray(layout, dtype=np.float32)
        from sklearn.manifold import TSNE as SklearnTSNE

        layout = SklearnTSNE(perplexity=perplexity, metric=metric, init="pca", random_state=random_state,
                             n_jobs=TSNE_THREADS).fit_transform(x)
        return layout.astype(np.float32)


@dataclass
class FittedProjection:
    """A PCA or UMAP fitted on a sample; ``transform`` places any other rows in the sample's layout.

    This is how a table too large to project at once gets coordinates: fit on a seeded sample, then
    transform the rest in parallel batches (UMAP's ``transform`` places a new point among its nearest
    sample points, so batches need not see each other).
    """

    method: str
    model: object
    signs: np.ndarray
    sample_layout: np.ndarray  # the sample's own coordinates from the fit, float32 (n_sample, 2)

    def transform(self, embeddings: np.ndarray) -> np.ndarray:
        x = np.asarray(embeddings, dtype=np.float32)
        if len(x) == 0:
            return np.zeros((0, 2), dtype=np.float32)
        return (self.model.transform(x) * self.signs).astype(np.float32)


def fit_projection(sample: np.ndarray, method: str = "umap", random_state: int = 0,
                   **params: object) -> FittedProjection:
    """Fit PCA or UMAP (same defaults and checks as :func:`project`) on ``sample`` for later ``transform``.

    t-SNE has no transform for new points and is refused; a sample under ``MIN_NEIGHBOURHOOD_POINTS``
    rows gets PCA, as :func:`project` draws it.
    """
    method = str(method).lower().replace("-", "")
    if method == "tsne":
        raise InputError("t-SNE cannot place new points in a fitted layout; use UMAP or PCA for large tables.")
    if method not in METHODS:
        raise InputError(f"Unknown projection '{method}'. Choose UMAP or PCA.")
    options = _checked_params(method, params)
    x = np.asarray(sample, dtype=np.float32)
    if x.ndim != 2 or len(x) < 3:
        raise InputError(f"Need a sample of at least 3 embeddings to fit a projection; got shape {x.shape}.")
    if method == "pca" or len(x) < MIN_NEIGHBOURHOOD_POINTS:
        from sklearn.decomposition import PCA

        model = PCA(n_components=2, svd_solver="full").fit(x)
        coords = model.transform(x)
        signs = _axis_signs(coords)
        return FittedProjection("pca", model, signs, (coords * signs).astype(np.float32))
    # UMAP finds the sample's neighbours itself (NNDescent): its search index is what ``transform`` queries
    model = _umap_model(len(x), random_state, **options).fit(x)
    return FittedProjection("umap", model, np.ones(2), np.asarray(model.embedding_, dtype=np.float32))


def warm_up() -> None:
    """Compile UMAP's numba code now so the first user request does not wait for it."""
    x = np.random.default_rng(0).normal(size=(64, 8)).astype(np.float32)
    project(x, "umap", n_neighbors=5)


def align_to(reference: np.ndarray, layout: np.ndarray) -> np.ndarray:
    """``layout`` rotated/reflected, uniformly scaled and shifted onto ``reference``'s frame (float32).

    Orthogonal Procrustes on the centred, unit-spread point sets; the result has the reference's
    centre and overall spread, so two plots of the same texts can be compared point by point.
    """
    ref, lay = np.asarray(reference, dtype=np.float64), np.asarray(layout, dtype=np.float64)
    if ref.shape != lay.shape:
        raise ValueError(f"layouts differ in shape: {ref.shape} vs {lay.shape}")
    ref_center, lay_center = ref.mean(axis=0), lay.mean(axis=0)
    ref_c, lay_c = ref - ref_center, lay - lay_center
    ref_scale, lay_scale = np.linalg.norm(ref_c), np.linalg.norm(lay_c)
    if ref_scale == 0 or lay_scale == 0:  # a collapsed layout has no orientation: only shift it
        return (lay_c + ref_center).astype(np.float32)
    rotation, _ = orthogonal_procrustes(lay_c / lay_scale, ref_c / ref_scale)
    return ((lay_c / lay_scale) @ rotation * ref_scale + ref_center).astype(np.float32)


def project_pair(embeddings_a: np.ndarray, embeddings_b: np.ndarray, method: str = "umap", random_state: int = 0,
                 **params: object) -> tuple[np.ndarray, np.ndarray]:
    """Two embeddings of the same texts projected with the same method, params and seed; B aligned onto A."""
    if len(embeddings_a) != len(embeddings_b):
        raise InputError(f"Both sets must hold the same texts to be compared side by side; got "
                         f"{len(embeddings_a)} and {len(embeddings_b)} rows.")
    coords_a = project(embeddings_a, method, random_state, **params)
    coords_b = project(embeddings_b, method, random_state, **params)
    return coords_a, align_to(coords_a, coords_b)
