"""Headless use for scripts: ``python -m instructor_core embed data.csv --column text --instruction ...``,
and ``python -m instructor_core models`` to list the model catalogue.

Writes the embeddings (.npy or .parquet) and, with ``--clusters``, the table with ``cluster``,
``cluster_keywords``, ``x``, ``y`` added plus a per-cluster summary — the same results as the app's
"Cluster a CSV" page, computed by the same functions. ``--engine ray`` runs the same encoder on Ray Data
for tables of millions of rows (Parquet or CSV, files or folders): see :mod:`instructor_core.distributed`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .cache import default_cache_dir
from .data import DEFAULT_MAX_ROWS, guess_text_column, prepare_texts, read_table
from .distributed import DEFAULT_SAMPLE_SIZE, RayEncodeOptions, embed_with_ray
from .encoder import load_encoder
from .errors import InputError, MissingDependencyError, ModelLoadError
from .explore import cluster_texts, table_embeddings, truncation_note
from .export import spreadsheet_safe, write_embeddings
from .fast import BACKENDS
from .models import CATALOGUE, availability
from .profiles import FAMILY_SUMMARIES, LABELS


def _cluster_count(value: str) -> int | str:
    """``--clusters``: 'auto' or a whole number of at least 2, checked while parsing (before the model loads)."""
    value = value.strip().lower()
    if value == "auto":
        return value
    if not value.isdigit() or int(value) < 2:
        raise argparse.ArgumentTypeError(f"use 'auto' or a whole number of at least 2, not '{value}'")
    return int(value)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m instructor_core", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    embed = commands.add_parser("embed", help="embed a CSV column under an instruction (and cluster it)")
    embed.add_argument("input", help="CSV/TSV file (with --engine ray: Parquet or CSV, file or folder, local or s3://)")
    embed.add_argument("--column", help="text column (default: guessed)")
    embed.add_argument("--instruction", default="", help="e.g. 'Represent the review for clustering by topic: '")
    embed.add_argument("--model", default="auto")
    embed.add_argument("--device", default="auto")
    embed.add_argument("--dtype", default="auto")
    embed.add_argument("--backend", default=os.environ.get("INSTRUCTOR_EXPLORER_BACKEND", "auto"), choices=BACKENDS,
                       help="auto (int8 on CPU when onnxruntime is installed), torch (exact) or int8 (CPU, ~2.5x "
                            "faster); env INSTRUCTOR_EXPLORER_BACKEND. The Ray engine uses torch")
    embed.add_argument("--batch-size", type=int, default=32)
    embed.add_argument("--out-dir", default="instructor-output", help="folder for the output files")
    embed.add_argument("--format", choices=["npy", "parquet"], help="embeddings file format (default npy; "
                       "--engine ray writes parquet)")
    embed.add_argument("--clusters", type=_cluster_count, help="'auto' or a number: also cluster and write the labelled table")
    embed.add_argument("--algorithm", choices=["kmeans", "hdbscan", "agglomerative"], default="kmeans")
    embed.add_argument("--projection", choices=["umap", "tsne", "pca"], default="umap")
    embed.add_argument("--max-rows", type=int, default=DEFAULT_MAX_ROWS, help="row cap of the local engine")
    embed.add_argument("--trust-remote-code", action="store_true",
                       help="let models that ship their own code (gte-Qwen2, Nomic) run it")
    scale = embed.add_argument_group("--engine ray (millions of rows; pip install -r requirements-scale.txt)")
    scale.add_argument("--engine", choices=["local", "ray"], default="local",
                       help="ray: read, encode and write with Ray Data on a local Ray or the cluster in RAY_ADDRESS")
    scale.add_argument("--workers", type=int, help="encoder actors (default: one per GPU, else one per CPU)")
    scale.add_argument("--id-column", help="a column to carry into the output beside the row number")
    scale.add_argument("--input-format", choices=["parquet", "csv"], help="default: from the file extension")
    scale.add_argument("--sample-size", type=int, default=DEFAULT_SAMPLE_SIZE,
                       help="rows the clusters and the projection are fitted on (then applied to every row)")
    commands.add_parser("models", help="list the model catalogue: family, template and pooling, offline or not")
    return parser


def models_command() -> str:
    """The catalogue as a Markdown table, with whether each model loads offline here now."""
    lines = ["| model | family | params | how an instruction reaches it | offline here | note |",
             "|---|---|---|---|---|---|"]
    for entry in CATALOGUE:
        missing = availability(entry)
        aliases = f" (or {', '.join(entry.aliases)})" if entry.aliases else ""
        cells = [f"{entry.name}{aliases}", LABELS[entry.family], entry.params, FAMILY_SUMMARIES[entry.family],
                 "yes" if missing is None else f"no: {missing}",
                 entry.note + ("; needs --trust-remote-code" if entry.remote_code else "")]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)


def embed_command(args: argparse.Namespace) -> list[Path | str]:
    """Run ``embed``; returns the files written."""
    if args.engine == "ray":
        return ray_embed_command(args)
    table = read_table(args.input, max_rows=args.max_rows)
    column = args.column or guess_text_column(table.frame)
    if column is None:
        raise InputError(f"Could not guess the text column; pass --column (one of: {', '.join(table.frame.columns)}).")
    prepared = prepare_texts(table.frame, column)
    for note in [*table.notes, *prepared.notes]:
        print(note, file=sys.stderr)
    encoder = load_encoder(args.model, args.device, args.dtype, trust_remote_code=args.trust_remote_code,
                           backend=args.backend)
    tuned = "instruction-tuned" if encoder.instruction_tuned else "not instruction-tuned"
    print(f"Model: {encoder.name} ({tuned}; {encoder.profile.describe()})",
          file=sys.stderr)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    def progress(done: int, total: int) -> None:
        print(f"\rEmbedding {done:,}/{total:,}", end="" if done < total else "\n", file=sys.stderr, flush=True)

    written = []
    if args.clusters:
        result = cluster_texts(encoder, table.frame, prepared.texts, prepared.row_index, args.instruction,
                               method=args.algorithm, n_clusters=args.clusters, projection=args.projection, progress=progress)
        for note in result.notes:  # truncation, HDBSCAN's noise share
            print(note, file=sys.stderr)
        embeddings = result.embeddings
        written.append(out_dir / "clustered.csv")
        spreadsheet_safe(result.frame).to_csv(written[-1], index=False)
        written.append(out_dir / "clusters.csv")
        spreadsheet_safe(result.summary).to_csv(written[-1], index=False)
    else:
        note = truncation_note(encoder, prepared.texts, [args.instruction])
        if note:
            print(note, file=sys.stderr)
        vectors = encoder.encode(prepared.texts, instruction=args.instruction or None,
                                 batch_size=args.batch_size, progress=progress)
        embeddings = table_embeddings(vectors, prepared.row_index, len(table.frame))
    written.append(write_embeddings(embeddings, out_dir / f"embeddings.{args.format or 'npy'}"))
    return written


def ray_embed_command(args: argparse.Namespace) -> list[str]:
    """``embed --engine ray``: Parquet under ``out-dir/embeddings/`` (and ``clusters.csv``); returns them."""
    if args.backend == "int8":
        raise InputError("--engine ray encodes with the torch backend (its vectors equal the local engine's); "
                         "drop --backend int8.")
    if args.format == "npy":
        raise InputError("--engine ray writes Parquet (one file per block, rows in input order); drop --format npy.")
    if args.algorithm != "kmeans" or args.projection == "tsne":
        raise InputError("--engine ray fits k-means and UMAP or PCA on a sample and applies them to every row; "
                         "HDBSCAN, agglomerative clustering and t-SNE cannot place new rows. Use --algorithm "
                         "kmeans and --projection umap or pca.")
    options = RayEncodeOptions(args.model, args.device, args.dtype, args.instruction, args.batch_size, args.workers)
    out_dir = args.out_dir.rstrip("/")  # a local folder or a URI Ray writes to (s3://bucket/run)
    result = embed_with_ray(args.input, f"{out_dir}/embeddings", args.column, options=options,
                            id_column=args.id_column, input_format=args.input_format, clusters=args.clusters,
                            projection=args.projection if args.clusters else None, sample_size=args.sample_size)
    for note in result.notes:
        print(note, file=sys.stderr)
    print(f"Embedded {result.embedded:,} of {result.rows:,} rows (column '{result.column}').", file=sys.stderr)
    written = [f"{out_dir}/embeddings"]
    if result.clusters is not None:
        written.append(f"{out_dir}/clusters.csv")
        spreadsheet_safe(result.clusters).to_csv(written[-1], index=False)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    # UMAP's numba JIT costs minutes on a small machine: keep it compiled across runs, as the app does
    os.environ.setdefault("NUMBA_CACHE_DIR", str(default_cache_dir() / "numba"))
    args = _parser().parse_args(argv)
    if args.command == "models":
        print(models_command())
        return 0
    try:
        for path in embed_command(args):
            print(path)
    except (InputError, ModelLoadError, MissingDependencyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0
