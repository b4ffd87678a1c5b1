"""Instructor Explorer benchmarks: prints a table and writes bench/RESULTS.md with the machine it ran on.

Run: ``.venv/bin/python bench/run.py`` (about 10 minutes on 2 CPU cores; ``--quick`` for a smaller run).
Measures, on the bundled model (or ``--model``):
  * Encoder.encode vs sentence-transformers' own encode (same model, texts, batch size), short and long texts;
  * cached re-encode speed-up;
  * UMAP / t-SNE / PCA time at 1k, 5k, 20k points, first call (JIT included, fresh process) and warm;
  * end-to-end "cluster a CSV" (read, embed, cluster, project, write) at 2k and 20k rows, with peak memory;
  * ``--stages``: the same work stage by stage (read, tokenise, encode, kNN graph, projection, auto-k, clustering,
    keywords, plot payload, write) on ~50-token news/review texts (bench/texts.py), fp32 and int8, each against
    plain ``SentenceTransformer.encode`` fp32 on the same texts in the same process (the issue's <= 0.8x target);
    then the page's re-run on the same table with another k, another algorithm and another projection (the
    issue's <= 10 s to re-cluster: vectors, kNN graph and layout come from the caches).
    Sizes: ``--stage-sizes 2000 10000`` (add 20000 100000 for the large runs).
Each timed case that needs a fresh process (JIT, peak memory) runs in a subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from instructor_core.samples import BUILTIN_DATASETS, load_builtin_dataset  # noqa: E402

INSTRUCTION = "Represent the product review for classifying its sentiment: "


def corpus(n: int, long: bool = False, seed: int = 0) -> list[str]:
    """``n`` distinct texts built from the built-in datasets (long: ~8 sentences, past MiniLM's 256 tokens)."""
    base = pd.concat([load_builtin_dataset(name)["text"] for name in BUILTIN_DATASETS]).tolist()
    rng = np.random.default_rng(seed)
    size = 8 if long else 1
    return [" ".join(rng.choice(base, size)) + f" (#{i})" for i in range(n)]


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def bench_encode(model: str, n: int, batch_size: int) -> list[dict]:
    from instructor_core import load_encoder

    encoder = load_encoder(model, cache_size_mb=1024)
    st = encoder.model
    rows = []
    for kind in ("short", "long"):
        texts = corpus(n, long=kind == "long", seed=1 if kind == "short" else 2)
        st.encode(texts[:64], batch_size=batch_size)  # warm both paths once
        t_st = t_ours = float("inf")
        for _ in range(2):  # alternate and keep each side's best, so drift in machine load hits both
            t_st = min(t_st, timed(st.encode, texts, prompt=INSTRUCTION, batch_size=batch_size,
                                   normalize_embeddings=True)[0])
            encoder.cache.clear()
            t_ours = min(t_ours, timed(encoder.encode, texts, instruction=INSTRUCTION, batch_size=batch_size)[0])
        t_cached, _ = timed(encoder.encode, texts, instruction=INSTRUCTION, batch_size=batch_size)
        rows.append({"texts": f"{n} {kind}", "sentence-transformers texts/s": n / t_st,
                     "Encoder.encode texts/s": n / t_ours, "ratio (ours / ST)": t_st / t_ours,
                     "cached re-encode texts/s": n / t_cached, "cache speed-up": t_ours / t_cached})
    return rows


def projection_case(method: str, n: int) -> dict:
    """Runs in a fresh process: first call pays imports + JIT, the second is warm."""
    from instructor_core.projection import project

    x = np.random.default_rng(0).normal(size=(n, 384)).astype(np.float32)
    x += np.repeat(np.random.default_rng(1).normal(size=(20, 384)) * 3, n // 20 + 1, axis=0)[:n]
    first, _ = timed(project, x, method)
    warm, _ = timed(project, x, method)
    return {"first": first, "warm": warm}


def cluster_case(model: str, n: int) -> dict:
    """Runs in a fresh process: the app's 'Cluster a CSV' work from file to files, and peak memory."""
    from instructor_core import load_encoder
    from instructor_core.data import prepare_texts, read_table
    from instructor_core.explore import cluster_texts
    from instructor_core.export import spreadsheet_safe, write_embeddings

    folder = Path(tempfile.mkdtemp())
    source = folder / "input.csv"
    pd.DataFrame({"id": range(n), "text": corpus(n, seed=3), "extra": "x"}).to_csv(source, index=False)
    encoder = load_encoder(model)
    start = time.perf_counter()
    table = read_table(source, max_rows=n)
    prepared = prepare_texts(table.frame, "text")
    result = cluster_texts(encoder, table.frame, prepared.texts, prepared.row_index,
                           "Represent the product review for clustering by product category: ")
    spreadsheet_safe(result.frame).to_csv(folder / "clustered.csv", index=False)
    write_embeddings(result.embeddings, folder / "embeddings.npy")
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mb": peak_mb, "clusters": result.n_clusters}


STAGE_INSTRUCTION = "Represent the news article or review for clustering by topic: "


def stages_case(model: str, n: int, backend: str) -> dict:
    """Runs in a fresh process (cold caches): seconds per stage of 'cluster a CSV', and the plain-encode baseline."""
    from sentence_transformers import SentenceTransformer

    from bench.texts import realistic_texts
    from instructor_core import load_encoder
    from instructor_core.clustering import cluster, cluster_summary
    from instructor_core.data import prepare_texts, read_table
    from instructor_core.explore import cluster_texts
    from instructor_core.export import spreadsheet_safe, write_embeddings
    from instructor_core.plots import cluster_map
    from instructor_core.projection import DEFAULTS, neighbour_graph, project, warm_up

    folder = Path(tempfile.mkdtemp())
    source = folder / "input.csv"
    texts = realistic_texts(n)
    pd.DataFrame({"id": range(n), "text": texts}).to_csv(source, index=False)
    # the app's in-memory cache (empty in a fresh process): the first run is cold, the re-runs read from it
    encoder = load_encoder(model, "cpu", "fp32", backend=backend)
    plain = SentenceTransformer(encoder.source.location, device="cpu")
    if not encoder.profile.include_prompt:
        plain.set_pooling_include_prompt(False)
    seconds: dict[str, float] = {}

    def stage(name: str, fn, *args, **kwargs):
        took, out = timed(fn, *args, **kwargs)
        seconds[name] = took
        return out

    table = stage("read", lambda: (t := read_table(source, max_rows=n), prepare_texts(t.frame, "text")))
    frame, prepared = table[0].frame, table[1]
    stage("tokenise (inside encode)", encoder.model.tokenizer, [encoder.model_input(t, STAGE_INSTRUCTION)
                                                                for t in prepared.texts])
    vectors = stage("encode", encoder.encode, prepared.texts, instruction=STAGE_INSTRUCTION)
    params = DEFAULTS["umap"]
    # UMAP's own numba functions are not cached on disk, so each process compiles them on its first layout; the app
    # does it at start-up (projection.warm_up), a one-off command pays it here
    stage("UMAP compile (once per process; the app does it at start-up)", warm_up)
    stage("kNN graph (exact, blocked matrix products)", neighbour_graph, vectors, min(params["n_neighbors"], n - 1),
          params["metric"])
    coords = stage("projection (UMAP on the kNN graph)", project, vectors, "umap")  # the graph from the cache
    auto = stage("auto-k (k-means k=2..12, silhouette)", cluster, vectors, n_clusters="auto")
    result = stage("clustering (final k-means)", cluster, vectors, n_clusters=auto.n_clusters)
    summary = stage("keywords", cluster_summary, prepared.texts, vectors, result.labels)
    keywords = dict(zip(summary["cluster"], summary["keywords"]))
    stage("plot payload", lambda: cluster_map(coords, prepared.texts, result.labels, keywords).to_json())

    def write() -> None:
        out = frame.assign(cluster=result.labels, x=coords[:, 0], y=coords[:, 1])
        spreadsheet_safe(out).to_csv(folder / "clustered.csv", index=False)
        write_embeddings(vectors, folder / "embeddings.npy")

    stage("write", write)

    def rerun(method: str, k: int | str, projection: str) -> None:
        """The Cluster page's second run on the same table: cluster_texts, then its plot and files."""
        again = cluster_texts(encoder, frame, prepared.texts, prepared.row_index, STAGE_INSTRUCTION, method=method,
                              n_clusters=k, projection=projection)
        kept = again.frame.iloc[prepared.row_index]
        cluster_map(kept[["x", "y"]].to_numpy(), prepared.texts, kept["cluster"].tolist(),
                    dict(zip(again.summary["cluster"], again.summary["keywords"]))).to_json()
        spreadsheet_safe(again.frame).to_csv(folder / "clustered.csv", index=False)
        write_embeddings(again.embeddings, folder / "embeddings.npy")

    # the page's first run on this table fills the caches (not timed: the stages above are its parts)
    rerun("kmeans", "auto", "umap")
    other_k = auto.n_clusters + 1 if auto.n_clusters < 12 else auto.n_clusters - 1
    reruns = {f"re-cluster: another k (k-means, k={other_k})": ("kmeans", other_k, "umap"),
              "re-cluster: another projection (PCA)": ("kmeans", "auto", "pca")}
    # Ward holds n^2 / 2 distances (800 MB at 10k rows, 40 GB at 100k)
    if n <= 20_000:
        reruns[f"re-cluster: another algorithm (agglomerative, k={auto.n_clusters})"] = (
            "agglomerative", auto.n_clusters, "umap")
    recluster = {name: timed(rerun, *args)[0] for name, args in reruns.items()}
    plain.encode(texts[:32], prompt=STAGE_INSTRUCTION)  # warm, like load_encoder's warm-up
    baseline, _ = timed(plain.encode, prepared.texts, prompt=STAGE_INSTRUCTION, batch_size=32, normalize_embeddings=True)
    total = sum(v for k, v in seconds.items() if not k.startswith("tokenise"))
    return {"seconds": seconds, "total": total, "plain_fp32_encode": baseline, "clusters": result.n_clusters,
            "recluster": recluster}


def in_subprocess(case: str, *args: object, numba_cache: str | None = None) -> dict:
    """``case`` in a fresh process; numba compiles from scratch unless ``numba_cache`` (a kept folder) is given."""
    out = subprocess.run([sys.executable, __file__, "--case", case, *map(str, args)], capture_output=True, text=True,
                         check=True, env={**os.environ, "NUMBA_CACHE_DIR": numba_cache or tempfile.mkdtemp()})
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return (f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, GPU: {gpu}; Python {platform.python_version()}, "
            f"torch {torch.__version__}")


def append_results(section: str) -> None:
    """Append a finished section (heading, machine, command, table) to bench/RESULTS.md."""
    with (ROOT / "bench" / "RESULTS.md").open("a", encoding="utf-8") as out:
        out.write(section)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bundled")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--stages", action="store_true", help="only the per-stage table (fp32 and int8)")
    parser.add_argument("--stage-sizes", type=int, nargs="+", default=[2000, 10_000],
                        help="rows for --stages (20000 100000 for the large runs)")
    parser.add_argument("--stage-backends", nargs="+", choices=["torch", "int8"], default=["torch", "int8"],
                        help="encoder backends for --stages (int8 alone halves a large run: the plain fp32 "
                             "baseline is measured in each backend's process)")
    parser.add_argument("--case", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:  # child process
        name, *rest = args.case
        if name == "stages":
            result = stages_case(rest[0], int(rest[1]), rest[2])
        elif name == "projection":
            result = projection_case(rest[0], int(rest[1]))
        else:
            result = cluster_case(rest[0], int(rest[1]))
        print(json.dumps(result))
        return
    if args.stages:
        stages_table(args)
        return

    sizes = (1000, 2000) if args.quick else (1000, 5000, 20_000)
    e2e_sizes = (500, 2000) if args.quick else (2000, 20_000)
    sections = []

    encode = pd.DataFrame(bench_encode(args.model, 300 if args.quick else 1000, batch_size=32)).round(2)
    sections.append(("Encoding (batch size 32, one instruction; best of 2 alternating runs)", encode))
    print(encode.to_string(index=False), flush=True)

    rows = []
    for method in ("pca", "umap", "tsne"):
        for n in sizes:
            r = in_subprocess("projection", method, n)
            rows.append({"method": method, "points": n, "first call s (JIT incl.)": r["first"], "warm s": r["warm"]})
            print(rows[-1], flush=True)
    projection = pd.DataFrame(rows).round(2)
    sections.append(("Projection (384-d, fresh process per row)", projection))

    rows = []
    for n in e2e_sizes:
        r = in_subprocess("cluster", args.model, n)
        rows.append({"rows": n, "seconds": r["seconds"], "peak memory MB": r["peak_mb"], "clusters (auto k)": r["clusters"]})
        print(rows[-1], flush=True)
    e2e = pd.DataFrame(rows).round(1)
    sections.append(("Cluster a CSV end to end (read, embed, k-means auto-k, UMAP, write)", e2e))

    text = [f"# Benchmark results\n\nMachine: {machine()}\n\nModel: `{args.model}`. Command: "
            f"`python bench/run.py{' --quick' if args.quick else ''}` ({time.strftime('%Y-%m-%d')}).\n"]
    for title, frame in sections:
        text.append(f"\n## {title}\n\n{frame.to_markdown(index=False)}\n")
    text.append("\n## GPU\n\nNot measured in this run: no GPU was available (see README for the CUDA flags).\n")
    (ROOT / "bench" / "RESULTS.md").write_text("".join(text), encoding="utf-8")
    print("".join(text))


def stages_table(args: argparse.Namespace) -> None:
    """Per-stage seconds for each size and backend; printed and appended to bench/RESULTS.md."""
    model = "instructor-mini" if args.model == "bundled" else args.model
    columns = {}
    # UMAP's numba JIT (minutes on a contended 2-core machine) is cached on disk, as the app and the CLI do: one
    # small untimed run fills the cache, so the table shows the steady state of every later run.
    numba_cache = tempfile.mkdtemp()
    in_subprocess("stages", model, 100, "int8", numba_cache=numba_cache)
    for n in args.stage_sizes:
        for backend in args.stage_backends:
            r = in_subprocess("stages", model, n, backend, numba_cache=numba_cache)
            name = f"{n:,} rows {'fp32' if backend == 'torch' else 'int8'}"
            columns[name] = {**r["seconds"], "**total (tokenise is inside encode)**": r["total"],
                             "plain SentenceTransformer.encode fp32": r["plain_fp32_encode"],
                             "**total / plain fp32 encode**": r["total"] / r["plain_fp32_encode"], **r["recluster"]}
            print(name, json.dumps(columns[name]), flush=True)
    table = pd.DataFrame(columns).round(2)
    text = (f"\n## Cluster a CSV stage by stage ({time.strftime('%Y-%m-%d')})\n\nMachine: {machine()}; load "
            f"average {os.getloadavg()[0]:.1f} at the end of the run (when it is above the core count, the ratios, measured in the "
            "same process, mean more than the seconds). numba's disk cache is filled by an untimed "
            "run first; UMAP's own functions are not disk-cached and compile once per process (their own row, in the "
            "total; the app pays it at start-up). Model `" + model + "`, "
            f"~50-token AG News / review texts, cold cache. The kNN graph is exact (blocked matrix products) and UMAP "
            "lays out on it. The re-cluster rows are the Cluster page's whole second run on the same table (vectors, "
            "kNN graph, layout and keyword counts from the in-process caches; not in the total). Command: `python "
            f"bench/run.py --stages --stage-sizes {' '.join(map(str, args.stage_sizes))} --stage-backends "
            f"{' '.join(args.stage_backends)}`.\n\n{table.to_markdown()}\n")
    append_results(text)
    print(text)


if __name__ == "__main__":
    main()
