"""How big the Cluster page's map is for the browser: figure JSON size and build time, every point vs the sample.

    python -m bench.scatter_payload [--rows 100000]

Realistic ~50-token texts (``bench.texts``) as hover labels, 10 clusters, random coordinates (the payload does
not depend on the layout). Appends the table to bench/RESULTS.md with the machine and the command.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd

from bench.texts import realistic_texts
from instructor_core.plots import MAX_DRAWN_POINTS, cluster_map


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    n = args.rows
    texts = realistic_texts(n)
    rng = np.random.default_rng(0)
    coords, labels = rng.normal(size=(n, 2)).astype(np.float32), rng.integers(0, 10, size=n)
    keywords = {c: f"word{c}, other{c}, third{c}" for c in range(10)}
    rows = []
    for name, max_points in (("every point", n), (f"sample (max_points {MAX_DRAWN_POINTS:,})", MAX_DRAWN_POINTS)):
        start = time.perf_counter()
        payload = cluster_map(coords, texts, labels, keywords, "10 clusters", max_points=max_points).to_json()
        rows.append({"map": name,
                     "points drawn": min(n, max_points), "JSON MB": round(len(payload) / 2**20, 1),
                     "build + to_json s": round(time.perf_counter() - start, 1)})
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows).to_markdown(index=False)
    print(table)
    if args.no_write:
        return
    from bench.run import append_results, machine

    command = "python -m bench.scatter_payload " + " ".join(sys.argv[1:])
    append_results(f"\n\n## The map's payload at {n:,} points ({time.strftime('%Y-%m-%d')})\n\n`{command}` on "
                   f"{machine()}; hover labels are ~50-token texts, so they are most of the JSON.\n\n{table}\n")


if __name__ == "__main__":
    main()
