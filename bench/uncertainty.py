"""Time the per-text scores and paired bootstrap of the phrasings report: 5,000 texts x 12 phrasings, 384-d.

``.venv/bin/python bench/uncertainty.py`` prints wall and CPU seconds (all threads) for the whole report (scores, 1,000 resamples, agreement
matrices) and for the neighbour movement of two spaces, on seeded synthetic blobs.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from instructor_core.neighbours import neighbour_movement  # noqa: E402
from instructor_core.phrasings import phrasing_report  # noqa: E402


def main(n: int = 5000, spaces: int = 12, dim: int = 384, labels: int = 6) -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(labels, size=n)
    centers = rng.normal(size=(labels, dim))
    embeddings = {f"phrasing {i}": (centers[y] + (1 + 0.1 * i) * rng.normal(size=(n, dim))).astype(np.float32)
                  for i in range(spaces)}
    start, cpu = time.perf_counter(), time.process_time()
    report = phrasing_report(embeddings, y)
    print(f"phrasing report, {n:,} texts x {spaces} phrasings: {time.perf_counter() - start:.1f} s wall, "
          f"{time.process_time() - cpu:.1f} s CPU ({report.verdict[:40]}...)")
    a, b = list(embeddings.values())[:2]
    start, cpu = time.perf_counter(), time.process_time()
    neighbour_movement(a, b, k=10, reference=list(embeddings.values())[2])
    print(f"neighbour movement, {n:,} texts, k=10, with reference: {time.perf_counter() - start:.1f} s wall, "
          f"{time.process_time() - cpu:.1f} s CPU")


if __name__ == "__main__":
    main()
