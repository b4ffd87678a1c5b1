"""Embedding millions of rows on Ray Data: read Parquet/CSV, encode on an actor pool, write Parquet.

Each actor loads the model once through :func:`load_encoder` and calls :meth:`Encoder.encode`, so its
vectors are the single-process ones (INSTRUCTOR pooling included). Clusters and 2-D coordinates, when
asked for, come from models fitted on a seeded sample (k-means centres, PCA or UMAP) and applied to every
batch inside the same actors, so the table is read and encoded once. ``ray.init()`` starts a local Ray
when none is running, or joins the cluster named by ``RAY_ADDRESS`` (as ``ray job submit`` sets it).
Ray is an optional dependency: ``pip install -r requirements-scale.txt``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .clustering import assign_to_centroids, cluster, cluster_centroids, cluster_summary
from .data import guess_text_column
from .errors import InputError, MissingDependencyError, ModelLoadError
from .models import resolve_model
from .projection import FittedProjection, fit_projection

if TYPE_CHECKING:
    import ray.data

log = logging.getLogger(__name__)

ROW = "row"  # position of the row in the input, as Ray reads it: files in sorted order, then their rows
FORMATS = ("parquet", "csv")
DEFAULT_SAMPLE_SIZE = 10_000
_USER_ERROR = re.compile(r"(?:instructor_core\.errors\.)?\b(InputError|ModelLoadError): (.+)")
CALL_BATCHES = 8  # encoder batches per actor call: amortises Ray's per-call overhead, still spreads the work
# Row ids and text preparation run before the encoders start; writing is I/O. Neither reserves a CPU,
# so a pool that holds every CPU (one encoder per core) never waits on them.
_IO_REMOTE_ARGS = {"num_cpus": 0}


def import_ray() -> Any:
    """The ``ray`` module with Ray Data, or a :class:`MissingDependencyError` that says how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise MissingDependencyError(
            "The Ray engine needs Ray Data, which is not installed here. Install it with "
            "`pip install -r requirements-scale.txt` (or `pip install 'ray[data]'`)."
        ) from None
    return ray


@dataclass(frozen=True)
class RayEncodeOptions:
    """How each actor encodes: the model (as :func:`load_encoder` takes it), the instruction, the pool.

    ``workers``: actors in the pool (default: one per GPU of the cluster, else one per CPU);
    ``retries``: how often a batch whose code raised is run again before the job fails (a worker
    process that dies, e.g. killed for memory or a lost node, is restarted and its batch rerun by Ray).
    """

    model: str = "auto"
    device: str = "auto"
    dtype: str = "auto"
    instruction: str = ""
    batch_size: int = 32
    workers: int | None = None
    retries: int = 3


@dataclass
class SampleLayout:
    """Cluster centres and a fitted projection, from a sample, applied to every batch."""

    centroids: np.ndarray | None = None
    projection: FittedProjection | None = None
    sample_rows: int = 0


class EmbedBatches:
    """The Ray Data actor: one model per actor, each batch of rows in, their vectors (and layout) out.

    Input batches hold ``row`` (and an id column) and the text column; the output keeps every column but
    the text and adds ``embedding`` (float32 list; NaN where the text was empty), and with a layout
    ``cluster`` (null where empty) and ``x``, ``y``.
    """

    def __init__(self, options: RayEncodeOptions, text_column: str, layout: SampleLayout | None = None) -> None:
        from .encoder import load_encoder

        self.options, self.text_column, self.layout = options, text_column, layout
        self.encoder = load_encoder(options.model, options.device, options.dtype)

    def __call__(self, batch: pa.Table) -> pa.Table:
        texts = [str(t).strip() if t is not None else "" for t in batch.column(self.text_column).to_pylist()]
        keep = np.flatnonzero([bool(t) for t in texts])
        vectors = self.encoder.encode([texts[i] for i in keep], instruction=self.options.instruction or None,
                                      batch_size=self.options.batch_size)
        dim = self.encoder.dim
        full = np.full((len(texts), dim), np.nan, dtype=np.float32)
        full[keep] = vectors
        out = batch.drop_columns([self.text_column]).append_column(
            "embedding", pa.FixedSizeListArray.from_arrays(pa.array(full.ravel()), dim))
        if self.layout is None:
            return out
        empty = np.ones(len(texts), dtype=bool)
        empty[keep] = False
        if self.layout.centroids is not None:
            labels = np.zeros(len(texts), dtype=np.int32)
            labels[keep] = assign_to_centroids(vectors, self.layout.centroids)
            out = out.append_column("cluster", pa.array(labels, mask=empty))
        if self.layout.projection is not None:
            coords = np.full((len(texts), 2), np.nan, dtype=np.float32)
            coords[keep] = self.layout.projection.transform(vectors)
            out = out.append_column("x", pa.array(coords[:, 0])).append_column("y", pa.array(coords[:, 1]))
        return out


def encode_dataset(ds: ray.data.Dataset, text_column: str, options: RayEncodeOptions,
                   layout: SampleLayout | None = None) -> ray.data.Dataset:
    """``ds`` with the text column replaced by ``embedding`` (and layout columns), on an actor pool.

    One GPU per actor when the cluster has GPUs (and ``options.device`` allows them), else one CPU.
    Call :func:`configure_context` first so row order is kept and failed batches are retried. The pool
    shares work by blocks: give ``ds`` blocks of about ``batch_size * CALL_BATCHES`` rows (one actor call
    each), as :func:`embed_with_ray` does; a single large block would run on one actor.
    """
    ray = import_ray()
    use_gpus = options.device in ("auto", "cuda") and ray.cluster_resources().get("GPU", 0) >= 1
    workers = options.workers or max(1, int(ray.cluster_resources().get("GPU" if use_gpus else "CPU", 1)))
    if options.batch_size < 1 or workers < 1:
        raise InputError("The batch size and the number of workers must be at least 1.")
    return ds.map_batches(
        EmbedBatches,
        fn_constructor_args=(options, text_column, layout),
        compute=ray.data.ActorPoolStrategy(size=workers),
        batch_size=options.batch_size * CALL_BATCHES,
        batch_format="pyarrow",
        num_gpus=1 if use_gpus else 0,
        num_cpus=0 if use_gpus else 1,
    )


def configure_context(retries: int) -> None:
    """Keep rows in input order and rerun a batch whose code raised up to ``retries`` times."""
    from ray.data import DataContext

    ctx = DataContext.get_current()
    ctx.execution_options.preserve_order = True
    ctx.retried_map_errors = retries > 0
    ctx.max_map_retries = max(0, int(retries))


@dataclass
class RayEmbedResult:
    """Where the Parquet files went, how many rows they hold, and notes for the user."""

    output: str
    rows: int
    embedded: int  # rows with a text (the others have NaN vectors)
    column: str
    n_clusters: int | None = None
    clusters: pd.DataFrame | None = None  # per cluster: keywords and representatives from the sample
    notes: list[str] = field(default_factory=list)


def embed_with_ray(
    source: str | Path,
    output: str | Path,
    column: str | None = None,
    *,
    options: RayEncodeOptions = RayEncodeOptions(),
    id_column: str | None = None,
    input_format: str | None = None,
    clusters: int | str | None = None,
    projection: str | None = None,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    random_state: int = 0,
) -> RayEmbedResult:
    """Embed ``column`` of the Parquet/CSV file or folder ``source`` with Ray Data into Parquet files in the
    folder ``output`` (replaced if it exists).

    Output rows keep the input's order, with ``row`` (position in the input), ``id_column`` when given,
    ``embedding``, and with ``clusters`` ("auto" or k: k-means, k chosen by silhouette on the sample) a
    ``cluster``, with ``projection`` ("pca" or "umap") ``x`` and ``y``; both are fitted on a seeded
    sample of ``sample_size`` rows and applied to all. Paths may be local or any filesystem Ray reads
    (``s3://...``); on a cluster they must be reachable from every node.
    """
    ray = import_ray()
    fmt = _input_format(source, input_format)
    _check_layout_args(clusters, projection, sample_size)
    if options.model == "auto":  # every actor must load the same model, whatever its node has cached
        options = replace(options, model=resolve_model("auto").choice)
    else:
        resolve_model(options.model)  # an unknown model fails here, before Ray starts anything
    if not ray.is_initialized():
        ray.init()  # joins RAY_ADDRESS when set (ray job submit sets it), else starts a local Ray
    configure_context(options.retries)

    columns = _columns(ray, source, fmt)
    column = column or _guess_column(ray, source, fmt)
    for name, role in ((column, "text"), (id_column, "id")):
        if name is not None and name not in columns:
            raise InputError(f"There is no {role} column '{name}'. Columns: {', '.join(columns)}.")
    if id_column == column or ROW in (column, id_column):
        raise InputError(f"The output numbers rows in a column named '{ROW}'; the text and id columns need "
                         "other, distinct names.")
    keep = [column] + ([id_column] if id_column else [])
    table, rows, embedded = _numbered(ray, _read(ray, source, fmt, keep, string_columns=keep), column,
                                      options.batch_size * CALL_BATCHES)
    if rows == 0:
        raise InputError("The input has no rows.")
    if embedded == 0:
        raise InputError(f"Column '{column}' has no text: every row is empty. Pick the column that holds the texts.")

    result = RayEmbedResult(str(output), rows, embedded, column)
    if rows > embedded:
        result.notes.append(f"{rows - embedded:,} row(s) have an empty text: their embedding is NaN.")
    layout = None
    if clusters is not None or projection is not None:
        layout, result.clusters = _fit_layout(table, column, options, clusters, projection,
                                              min(sample_size, rows) / rows, sample_size, random_state)
        if result.clusters is not None:
            result.n_clusters = len(result.clusters)
        result.notes.append(f"Clusters and coordinates were fitted on a sample of {layout.sample_rows:,} rows "
                            "and applied to every row.")
    try:
        encode_dataset(table, column, options, layout).write_parquet(str(output), mode="overwrite",
                                                                      ray_remote_args=_IO_REMOTE_ARGS)
    except Exception as err:
        _reraise_user_error(err)
        raise
    return result


def _input_format(source: str | Path, input_format: str | None) -> str:
    """``parquet`` or ``csv``: as given, else from the file's extension (or the extension of a folder's files)."""
    if input_format is not None:
        if input_format not in FORMATS:
            raise InputError(f"Unknown input format '{input_format}'. Use one of: {', '.join(FORMATS)}.")
        return input_format
    text = str(source)
    path = Path(text)
    if "://" not in text:
        if not path.exists():
            raise InputError(f"File not found: {text}.")
        if path.is_dir():
            suffixes = {p.suffix.lower() for p in path.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))}
            found = [f for f in FORMATS if f".{f}" in suffixes]
            if len(found) != 1:
                raise InputError(f"The folder {text} should hold .parquet or .csv files (one kind); found "
                                 f"{', '.join(sorted(suffixes)) or 'none'}. Pass the input format to choose.")
            return found[0]
    suffix = path.suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    raise InputError(f"Cannot tell the format of {path.name}: the Ray engine reads .parquet and .csv files "
                     "(or folders of them). Pass the input format explicitly.")


def _check_layout_args(clusters: int | str | None, projection: str | None, sample_size: int) -> None:
    if clusters is not None and clusters != "auto":
        try:
            k = int(clusters)
        except (TypeError, ValueError):
            raise InputError(f"The number of clusters must be 'auto' or a whole number; got {clusters!r}.") from None
        if k < 2:
            raise InputError(f"The number of clusters must be at least 2; got {k}.")
    if projection is not None and str(projection).lower().replace("-", "") == "tsne":
        raise InputError("t-SNE cannot place new points in a fitted layout; use UMAP or PCA for large tables.")
    if sample_size < 3:
        raise InputError(f"The sample for clusters and coordinates needs at least 3 rows; got {sample_size}.")


def _read(ray: Any, source: str | Path, fmt: str, columns: list[str] | None = None,
          string_columns: list[str] = ()) -> ray.data.Dataset:
    """The input as a Ray dataset; CSV cells of ``string_columns`` are read as text (ids keep leading zeros)."""
    try:
        if fmt == "parquet":
            return ray.data.read_parquet(str(source), columns=columns)
        from pyarrow import csv

        convert = csv.ConvertOptions(column_types={c: pa.string() for c in string_columns},
                                     include_columns=columns or [])
        return ray.data.read_csv(str(source), convert_options=convert)
    except Exception as err:
        raise InputError(f"Ray could not read {source} as {fmt}: {err}") from None


def _columns(ray: Any, source: str | Path, fmt: str) -> list[str]:
    try:
        schema = _read(ray, source, fmt).schema()
    except InputError:
        raise
    except Exception as err:
        raise InputError(f"Ray could not read {source} as {fmt}: {_last_line(err)}") from None
    if schema is None or not schema.names:
        raise InputError(f"{source} has no rows. Add at least one row of data.")
    return list(schema.names)


def _guess_column(ray: Any, source: str | Path, fmt: str) -> str:
    """The text column, guessed as the app guesses it, from the first 2,000 rows."""
    head = _read(ray, source, fmt).limit(2000).to_pandas()
    column = guess_text_column(head.astype("string"))
    if column is None:
        raise InputError(f"Could not guess the text column; name it (one of: {', '.join(map(str, head.columns))}).")
    return str(column)


def _numbered(ray: Any, ds: ray.data.Dataset, column: str, block_rows: int) -> tuple[ray.data.Dataset, int, int]:
    """``ds`` with a ``row`` column (0, 1, ... in read order) in blocks of at most ``block_rows`` rows, its
    row count and how many rows have text.

    Reads the input once into Ray's object store (texts only), counts each block, then numbers and
    splits the blocks from their offsets — all with public Ray APIs, so ids are exact whatever the block
    sizes. Splitting here, before any encoder holds a CPU, spreads even a single large file over the pool
    (a Ray Data repartition would wait for a CPU the encoders hold).
    """

    @ray.remote(**_IO_REMOTE_ARGS)
    def count(block: pa.Table) -> tuple[int, int]:
        texts = block.column(column).to_pylist()
        return block.num_rows, sum(1 for t in texts if t is not None and str(t).strip())

    @ray.remote(**_IO_REMOTE_ARGS)
    def number(block: pa.Table, offset: int) -> pa.Table | tuple[pa.Table, ...]:
        block = block.add_column(0, ROW, pa.array(np.arange(offset, offset + block.num_rows, dtype=np.int64)))
        pieces = tuple(block.slice(start, block_rows) for start in range(0, block.num_rows, block_rows))
        return pieces if len(pieces) > 1 else block

    try:
        blocks = ds.to_arrow_refs()
        counts = ray.get([count.remote(b) for b in blocks])
    except Exception as err:
        raise InputError(f"Ray could not read the input: {_last_line(err)}") from None
    sizes = np.array([c[0] for c in counts], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int) if len(sizes) else []
    numbered = []
    for block, offset, size in zip(blocks, offsets, sizes):
        pieces = max(1, -(-int(size) // block_rows))
        refs = number.options(num_returns=pieces).remote(block, int(offset))
        numbered.extend(refs if pieces > 1 else [refs])
    numbered = ray.data.from_arrow_refs(numbered) if numbered else None
    return numbered, int(sizes.sum()), sum(c[1] for c in counts)


def _fit_layout(table: ray.data.Dataset, column: str, options: RayEncodeOptions, clusters: int | str | None,
                projection: str | None, fraction: float, sample_size: int, random_state: int
                ) -> tuple[SampleLayout, pd.DataFrame | None]:
    """Encode a seeded sample (about ``fraction`` of the rows, at most ``sample_size``, empty texts left
    out) on the pool, and fit k-means (k by silhouette when "auto") and the projection on it."""
    ray = import_ray()
    if fraction < 1:  # a little over the fraction, so the capped sample is rarely short
        table = table.random_sample(min(1.0, fraction * 1.1 + 1e-3), seed=random_state)
    frame = table.limit(sample_size).to_pandas()
    frame[column] = frame[column].astype("string").str.strip()
    frame = frame[frame[column].notna() & (frame[column] != "")]
    texts = frame[column].tolist()
    if len(texts) < 3:
        raise InputError(f"The sample holds {len(texts)} text(s); clusters and coordinates need at least 3. "
                         "Raise the sample size.")
    call = options.batch_size * CALL_BATCHES
    pieces = [frame.iloc[start : start + call] for start in range(0, len(frame), call)]
    try:
        encoded = encode_dataset(ray.data.from_pandas(pieces), column, options).to_pandas()
    except Exception as err:
        _reraise_user_error(err)
        raise
    vectors = np.stack(encoded["embedding"].to_numpy()).astype(np.float32)
    layout, summary = SampleLayout(sample_rows=len(vectors)), None
    if clusters is not None:
        fitted = cluster(vectors, "kmeans", clusters, random_state=random_state)
        layout.centroids = cluster_centroids(vectors, fitted.labels)
        summary = cluster_summary(texts, vectors, fitted.labels).rename(columns={"size": "sample_rows",
                                                                                 "share": "sample_share"})
    if projection is not None:
        layout.projection = fit_projection(vectors, projection, random_state)
    return layout, summary


def _reraise_user_error(err: BaseException) -> None:
    """Raise the :class:`InputError` or :class:`ModelLoadError` an actor raised, without Ray's wrapping,
    so users read the real message (an instruction too long for the model, a model that will not load).

    Ray hands the driver the remote traceback as text, so the error is found by its name in that text."""
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, (InputError, ModelLoadError)) and "\n" not in str(err):
            raise type(err)(str(err)) from None
        found = _USER_ERROR.findall(str(err))
        if found:
            kind, message = found[-1]
            raise (InputError if kind == "InputError" else ModelLoadError)(message.strip()) from None
        err = err.__cause__ or err.__context__


def _last_line(err: BaseException) -> str:
    """An error's own message: Ray puts the remote traceback before it."""
    lines = [line for line in str(err).splitlines() if line.strip()]
    return lines[-1] if lines else type(err).__name__
