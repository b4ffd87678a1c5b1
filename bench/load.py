"""Many users at once: N gradio_client users call every page concurrently; prints latency percentiles.

Run: ``.venv/bin/python bench/load.py [--users 8] [--rounds 3]`` (starts the app on loopback with the
bundled model) and writes bench/LOAD_RESULTS.md. tests/test_load.py runs the same users as a test.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REVIEWS = "Product reviews (sentiment × category)"
SENTIMENT = "Represent the product review for classifying its sentiment: "
CATEGORY = "Represent the product review for classifying its product category: "


def _plot_data(plot: dict) -> list[dict]:
    return json.loads(plot["plot"])["data"]


def user_session(url: str, user: int, rounds: int = 1) -> list[tuple[str, float]]:
    """One visitor's clicks across the pages; each result is checked. Returns (endpoint, seconds) per call."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    timings = []

    def call(endpoint: str, *args):
        start = time.perf_counter()
        result = client.predict(*args, api_name=endpoint)
        timings.append((endpoint, time.perf_counter() - start))
        assert not str(result[-1]).startswith("⛔"), f"{endpoint}: {result[-1]}"
        return result

    for round_ in range(rounds):
        text = f"User {user} says the battery died after {round_ + 2} days."  # distinct per user: no shared cache
        table = {"headers": ["instruction"], "data": [[SENTIMENT], [CATEGORY], [""]]}
        heatmap, _, _ = call("/instruction_similarity", "bundled", text, table, True)
        assert len(_plot_data(heatmap)[0]["text"]) == 4  # 3 instructions and the placebo row (the page's default)
        call("/text_neighbours", "bundled", f"{text}\nGreat speaker.\nThe pan warped.", table)
        plot_a, _, plot_b, _, effect, _ = call("/project", "bundled", REVIEWS, None, "text", "sentiment", "",
                                               SENTIMENT, "PCA", 15, 0.1, 30, user)
        assert len(effect["data"]) == 2
        _, _, _, _, table_out, _ = call("/compare_phrasings", "bundled", REVIEWS, None, "text", "category",
                                        f"{CATEGORY}\nRepresent the review for identifying the product type: ", False)
        assert len(table_out["data"]) == 3  # the placebo and the two phrasings
    return timings


def run_users(url: str, users: int = 8, rounds: int = 1) -> list[tuple[str, float]]:
    """All users at once; raises if any call failed or returned a wrong result."""
    with ThreadPoolExecutor(max_workers=users) as pool:
        sessions = list(pool.map(lambda u: user_session(url, u, rounds), range(users)))
    return [t for session in sessions for t in session]


def percentiles(timings: list[tuple[str, float]]) -> str:
    lines = ["| endpoint | calls | p50 s | p95 s | max s |", "|---|---|---|---|---|"]
    for endpoint in sorted({e for e, _ in timings}) + ["all"]:
        values = np.array([s for e, s in timings if endpoint in (e, "all")])
        lines.append(f"| {endpoint} | {len(values)} | {np.percentile(values, 50):.2f} | "
                     f"{np.percentile(values, 95):.2f} | {values.max():.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from app import build_app
    from instructor_core.pool import EncoderPool
    from pages.common import AppContext

    demo = build_app(AppContext(EncoderPool("bundled", device="cpu")))
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    start = time.perf_counter()
    timings = run_users(url, args.users, args.rounds)
    wall = time.perf_counter() - start
    demo.close()
    report = (f"# Load test\n\n{args.users} concurrent gradio_client users × {args.rounds} rounds of 4 calls "
              f"(playground, text neighbours, projection, phrasings) on the bundled model; all results checked; "
              f"{len(timings)} calls in {wall:.1f} s.\n\nCommand: `python bench/load.py --users {args.users} "
              f"--rounds {args.rounds}` ({time.strftime('%Y-%m-%d')}).\n\n{percentiles(timings)}\n")
    (ROOT / "bench" / "LOAD_RESULTS.md").write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
