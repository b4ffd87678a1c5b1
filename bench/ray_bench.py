"""Ray Data engine vs one process: throughput on the same texts, and the projected cost of 1M and 10M rows.

Run: ``.venv/bin/python bench/ray_bench.py`` (needs ``requirements-scale.txt``; about 10 minutes on 2 cores).
Both sides embed the same ~50-token texts with the same model in fp32 on CPU, from a Parquet file:
  * one process: ``Encoder.encode`` (torch's threads on every core), the way the local engine runs;
  * Ray: ``embed_with_ray`` on a local Ray with as many CPUs as workers, one single-threaded actor each,
    Parquet in, Parquet out (actor start and model load included).
Each side runs at two sizes; the difference gives the steady rate (texts/s) and the fixed cost (start-up),
so ``time(N) = fixed + N / rate`` projects larger tables on this machine and, for Ray, on more workers
(Ray Data streams blocks through the pool, so the rate grows with the workers while reads and writes keep up).
Writes a section of bench/RESULTS.md with the machine and the command.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.run import corpus, machine  # noqa: E402

SECTION = "## Ray Data engine (bench/ray_bench.py)"
INSTRUCTION = "Represent the product review for clustering by topic: "


def single_process(model: str, texts: list[str]) -> float:
    """Seconds for one process to load the model and encode ``texts`` (no cache hits)."""
    from instructor_core import load_encoder

    start = time.perf_counter()
    encoder = load_encoder(model, device="cpu", dtype="fp32")
    encoder.encode(texts, instruction=INSTRUCTION, batch_size=32)
    return time.perf_counter() - start


def with_ray(model: str, source: Path, workers: int, folder: Path) -> float:
    """Seconds for ``embed_with_ray`` from the Parquet file to the Parquet output."""
    from instructor_core.distributed import RayEncodeOptions, embed_with_ray

    options = RayEncodeOptions(model=model, device="cpu", dtype="fp32", instruction=INSTRUCTION, batch_size=32,
                               workers=workers)
    start = time.perf_counter()
    embed_with_ray(source, folder / "out", "text", options=options)
    return time.perf_counter() - start


def fit(sizes: tuple[int, int], seconds: tuple[float, float]) -> tuple[float, float]:
    """(steady texts/s, fixed seconds) of the line through the two runs."""
    rate = (sizes[1] - sizes[0]) / max(seconds[1] - seconds[0], 1e-9)
    return rate, max(0.0, seconds[0] - sizes[0] / rate)


def hours(n: int, rate: float, fixed: float) -> str:
    return f"{(fixed + n / rate) / 3600:,.1f} h"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bundled")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sizes", type=int, nargs=2, default=(1000, 3000))
    args = parser.parse_args()
    import ray

    folder = Path(tempfile.mkdtemp())
    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
    rows, single, distributed = [], [], []
    for n in args.sizes:
        texts = corpus(n, seed=5)
        source = folder / f"texts-{n}.parquet"
        pd.DataFrame({"text": texts}).to_parquet(source)
        single.append(single_process(args.model, texts))
        distributed.append(with_ray(args.model, source, args.workers, folder))
        rows.append({"texts": n, "one process s": single[-1], f"Ray, {args.workers} workers s": distributed[-1],
                     "Ray / one process (throughput)": single[-1] / distributed[-1]})
        print(rows[-1], flush=True)
    ray.shutdown()

    rate_one, fixed_one = fit(args.sizes, single)
    rate_ray, fixed_ray = fit(args.sizes, distributed)
    per_worker = rate_ray / args.workers
    steady = pd.DataFrame([
        {"engine": "one process", "steady texts/s": rate_one, "fixed s (start, model load)": fixed_one,
         "1M rows": hours(1_000_000, rate_one, fixed_one), "10M rows": hours(10_000_000, rate_one, fixed_one)},
        {"engine": f"Ray, {args.workers} workers (this machine)", "steady texts/s": rate_ray,
         "fixed s (start, model load)": fixed_ray, "1M rows": hours(1_000_000, rate_ray, fixed_ray),
         "10M rows": hours(10_000_000, rate_ray, fixed_ray)},
        *({"engine": f"Ray, {w} such CPU workers (projected)", "steady texts/s": per_worker * w,
           "fixed s (start, model load)": fixed_ray, "1M rows": hours(1_000_000, per_worker * w, fixed_ray),
           "10M rows": hours(10_000_000, per_worker * w, fixed_ray)} for w in (32, 256)),
    ]).round(2)
    runs = pd.DataFrame(rows).round(2)
    print(runs.to_string(index=False), "\n", steady.to_string(index=False))

    load = os.getloadavg()[0]
    text = (f"{SECTION}\n\nMachine: {machine()}; load average {load:.1f} at the end of the run (the 2 cores were "
            f"shared with other sessions' work, so absolute rates are low and noisy). Model `{args.model}` in fp32, "
            f"~50-token texts, batch size 32. Command: `python bench/ray_bench.py --workers {args.workers} --sizes "
            f"{args.sizes[0]} {args.sizes[1]}` ({time.strftime('%Y-%m-%d')}).\n\n"
            f"{runs.to_markdown(index=False)}\n\nSteady rate and fixed cost from the two sizes; projected time for "
            f"1M and 10M rows = fixed + rows / rate (the 32- and 256-worker rows assume this machine's per-worker "
            f"rate, {per_worker:.1f} texts/s, and linear scaling; a GPU actor is far faster, see "
            f"bench/GPU_RESULTS.md):\n\n{steady.to_markdown(index=False)}\n")
    results = ROOT / "bench" / "RESULTS.md"
    current = results.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(SECTION) + r".*?(?=\n## |\Z)", re.S)
    updated = pattern.sub(lambda _: text.rstrip("\n"), current) if pattern.search(current) else (
        current.rstrip("\n") + "\n\n" + text)
    results.write_text(updated, encoding="utf-8")


if __name__ == "__main__":
    main()
