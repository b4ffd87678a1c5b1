"""Headless use for scripts: ``python -m instructor_core embed data.csv --column text --instruction ...``,
and ``python -m instructor_core models`` to list the model catalogue.

Writes the embeddings (.npy or .parquet) and, with ``--clusters``, the table with ``cluster``,
``cluster_keywords``, ``x``, ``y`` added plus a per-cluster summary — the same results as the app's
"Cluster a CSV" page, computed by the same functions.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .data import DEFAULT_MAX_ROWS, guess_text_column, prepare_texts, read_table
from .encoder import load_encoder
from .errors import InputError, ModelLoadError
from .explore import cluster_texts, table_embeddings, truncation_note
from .export import spreadsheet_safe, write_embeddings
from .models import CATALOGUE, availability
from .profiles import FAMILY_SUMMARIES, LABELS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m instructor_core", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    embed = commands.add_parser("embed", help="embed a CSV column under an instruction (and cluster it)")
    embed.add_argument("input", help="CSV/TSV file")
    embed.add_argument("--column", help="text column (default: guessed)")
    embed.add_argument("--instruction", default="", help="e.g. 'Represent the review for clustering by topic: '")
    embed.add_argument("--model", default="auto")
    embed.add_argument("--device", default="auto")
    embed.add_argument("--dtype", default="auto")
    embed.add_argument("--batch-size", type=int, default=32)
    embed.add_argument("--out-dir", default="instructor-output", help="folder for the output files")
    embed.add_argument("--format", choices=["npy", "parquet"], default="npy", help="embeddings file format")
    embed.add_argument("--clusters", help="'auto' or a number: also cluster and write the labelled table")
    embed.add_argument("--algorithm", choices=["kmeans", "hdbscan", "agglomerative"], default="kmeans")
    embed.add_argument("--projection", choices=["umap", "tsne", "pca"], default="umap")
    embed.add_argument("--max-rows", type=int, default=DEFAULT_MAX_ROWS)
    embed.add_argument("--trust-remote-code", action="store_true",
                       help="let models that ship their own code (gte-Qwen2, Nomic) run it")
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


def embed_command(args: argparse.Namespace) -> list[Path]:
    """Run ``embed``; returns the files written."""
    table = read_table(args.input, max_rows=args.max_rows)
    column = args.column or guess_text_column(table.frame)
    if column is None:
        raise InputError(f"Could not guess the text column; pass --column (one of: {', '.join(table.frame.columns)}).")
    prepared = prepare_texts(table.frame, column)
    for note in [*table.notes, *prepared.notes]:
        print(note, file=sys.stderr)
    encoder = load_encoder(args.model, args.device, args.dtype, trust_remote_code=args.trust_remote_code)
    print(f"Model: {encoder.name} ({'instruction-tuned' if encoder.instruction_tuned else 'not instruction-tuned'})",
          file=sys.stderr)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    def progress(done: int, total: int) -> None:
        print(f"\rEmbedding {done:,}/{total:,}", end="" if done < total else "\n", file=sys.stderr, flush=True)

    written = []
    if args.clusters:
        k = args.clusters if args.clusters == "auto" else int(args.clusters)
        result = cluster_texts(encoder, table.frame, prepared.texts, prepared.row_index, args.instruction,
                               method=args.algorithm, n_clusters=k, projection=args.projection, progress=progress)
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
    written.append(write_embeddings(embeddings, out_dir / f"embeddings.{args.format}"))
    return written


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "models":
        print(models_command())
        return 0
    try:
        for path in embed_command(args):
            print(path)
    except (InputError, ModelLoadError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0
