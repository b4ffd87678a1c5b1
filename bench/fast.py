"""The int8 CPU backend against fp32: throughput (interleaved in one process) and STS-B dev Spearman.

Run: ``.venv/bin/python bench/fast.py [--model instructor-mini] [--texts 512] [--rounds 3]``. fp32 and int8 encode
the same ~50-token texts (AG News / reviews from the shared training data) in alternating rounds, so a machine
shared with other work slows both alike; then both score STS-B dev (no instruction and the STS instruction).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.texts import realistic_texts  # noqa: E402
from instructor_core import load_encoder  # noqa: E402
from instructor_core.training.evaluate import STS_INSTRUCTION, evaluate_stsb  # noqa: E402

INSTRUCTION = "Represent the news article for clustering by topic: "


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="instructor-mini")
    parser.add_argument("--texts", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--skip-sts", action="store_true")
    args = parser.parse_args()
    encoders = {name: load_encoder(args.model, "cpu", "fp32", backend=name, cache_size_mb=0)
                for name in ("torch", "int8")}
    texts = realistic_texts(args.texts)
    seconds = dict.fromkeys(encoders, 0.0)
    for name, encoder in encoders.items():
        encoder.encode(texts[:64], instruction=INSTRUCTION, batch_size=args.batch_size)  # warm
    for r in range(args.rounds):
        for name, encoder in encoders.items():
            start = time.perf_counter()
            encoder.encode(texts, instruction=INSTRUCTION, batch_size=args.batch_size)
            seconds[name] += time.perf_counter() - start
        print(f"round {r + 1}: " + ", ".join(f"{n} {args.texts * (r + 1) / s:.1f} texts/s" for n, s in seconds.items())
              + f", speed-up {seconds['torch'] / seconds['int8']:.2f}x", flush=True)
    if args.skip_sts:
        return
    for name, encoder in encoders.items():
        none = evaluate_stsb(encoder, None, batch_size=args.batch_size)
        instructed = evaluate_stsb(encoder, STS_INSTRUCTION, batch_size=args.batch_size)
        print(f"STS-B dev Spearman {name}: {none:.2f} (no instruction), {instructed:.2f} (STS instruction)", flush=True)


if __name__ == "__main__":
    main()
