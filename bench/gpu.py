"""GPU benchmark: Encoder.encode on CUDA in fp32, fp16 and bf16; writes bench/GPU_RESULTS.md.

Run on a machine with a CUDA GPU: ``python bench/gpu.py [--model bundled]`` (a few minutes).
Measures, for ``--model`` (the bundled MiniLM by default) and for a randomly initialised model of
instructor-large's shape (T5-large encoder: 24 layers, d_model 1024, d_ff 4096, 16 heads; Dense 1024 -> 768;
its vocabulary has 200 pieces instead of 32k, which changes only the embedding lookup):

* texts/s by dtype and batch size, short and long texts, through ``Encoder.encode`` (cache cleared) and
  through sentence-transformers' own ``encode`` on the same texts;
* peak GPU memory per case;
* how far fp16 and bf16 embeddings are from fp32 (smallest cosine over the texts);
* the out-of-memory fallback: with the process capped at a sliver of GPU memory, a large batch of long
  texts still completes because ``Encoder.encode`` halves the batch and retries.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.run import INSTRUCTION, corpus, machine, timed  # noqa: E402
from instructor_core import load_encoder  # noqa: E402

DTYPES = ("fp32", "fp16", "bf16")
BATCH_SIZES = (32, 128, 512)
LARGE_SHAPE = {"d_model": 1024, "out_dim": 768, "num_layers": 24, "num_heads": 16, "d_kv": 64, "d_ff": 4096,
               "relative_attention_num_buckets": 32, "feed_forward_proj": "relu"}


def build_large_shaped(folder: Path) -> str:
    """instructor-large's architecture with random weights, in the hkunlp layout."""
    from tests.tiny_t5 import build_tiny_instructor

    return str(build_tiny_instructor(folder, **LARGE_SHAPE))


def mean_tokens(encoder, texts: list[str]) -> float:
    ids = encoder.model.tokenizer([INSTRUCTION + t for t in texts[:256]], truncation=True,
                                  max_length=encoder.max_seq_length)["input_ids"]
    return float(np.mean([len(x) for x in ids]))


def bench_model(label: str, model: str, sizes: dict[str, int]) -> tuple[list[dict], list[dict]]:
    """Throughput rows and fp16/bf16-vs-fp32 agreement rows for one model."""
    rows, agreement = [], []
    reference: dict[str, np.ndarray] = {}
    for dtype in DTYPES:
        encoder = load_encoder(model, device="cuda", dtype=dtype, cache_size_mb=0)
        for kind, n in sizes.items():
            texts = corpus(n, long=kind == "long", seed=1 if kind == "short" else 2)
            tokens = mean_tokens(encoder, texts)
            for batch_size in BATCH_SIZES:
                # warm-up over every text: each padded length is a new shape, and whichever encode ran first
                # would otherwise pay for the kernels and allocator blocks of both
                encoder.model.encode(texts, prompt=INSTRUCTION, batch_size=batch_size)
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
                t_ours, vectors = timed(encoder.encode, texts, instruction=INSTRUCTION, batch_size=batch_size)
                peak = torch.cuda.max_memory_allocated() / 2**30
                t_st, _ = timed(encoder.model.encode, texts, prompt=INSTRUCTION, batch_size=batch_size,
                                normalize_embeddings=True)
                rows.append({"model": label, "dtype": dtype, "texts": f"{n} {kind} (~{tokens:.0f} tokens)",
                             "batch": batch_size, "Encoder.encode texts/s": n / t_ours,
                             "ST encode texts/s": n / t_st, "ratio (ours / ST)": t_st / t_ours,
                             "peak GPU GiB": peak})
                print(rows[-1], flush=True)
            if dtype == "fp32":
                reference[kind] = vectors
            else:
                cos = (vectors * reference[kind]).sum(1)
                agreement.append({"model": label, "dtype": dtype, "texts": kind, "min cosine to fp32": cos.min(),
                                  "mean cosine to fp32": cos.mean()})
                print(agreement[-1], flush=True)
        del encoder
        torch.cuda.empty_cache()
    return rows, agreement


def oom_fallback(model: str, fraction: float = 0.03) -> dict:
    """Cap the process's GPU memory, then ask for a batch that cannot fit; count the halvings."""
    encoder = load_encoder(model, device="cuda", dtype="auto", cache_size_mb=0)
    texts = corpus(1024, long=True, seed=3)
    halvings: list[str] = []

    class Count(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "out of memory" in record.getMessage():
                halvings.append(record.getMessage())

    logger = logging.getLogger("instructor_core.encoder")
    handler = Count()
    logger.addHandler(handler)
    torch.cuda.empty_cache()
    torch.cuda.set_per_process_memory_fraction(fraction)
    try:
        seconds, vectors = timed(encoder.encode, texts, instruction=INSTRUCTION, batch_size=1024)
        ok = bool(np.isfinite(vectors).all() and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-2))
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
        logger.removeHandler(handler)
    total = torch.cuda.get_device_properties(0).total_memory / 2**30
    return {"memory cap GiB": round(total * fraction, 2), "asked batch": 1024, "halvings": len(halvings),
            "last message": halvings[-1] if halvings else "", "completed": ok, "seconds": round(seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bundled", help="the small model to time (default: bundled MiniLM)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "GPU_RESULTS.md"))
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("bench/gpu.py needs a CUDA GPU; bench/run.py measures the CPU.")
    started = time.time()
    rows, agreement = bench_model("MiniLM-L6 (bundled)", args.model, {"short": 4096, "long": 1024})
    with tempfile.TemporaryDirectory() as tmp:
        large = build_large_shaped(Path(tmp) / "large")
        more_rows, more_agreement = bench_model("instructor-large shape (random)", large, {"short": 2048, "long": 512})
        oom = oom_fallback(large)
    print(oom, flush=True)
    throughput = pd.DataFrame(rows + more_rows).round(2)
    close = pd.DataFrame(agreement + more_agreement).round(5)
    text = (f"# GPU benchmark\n\nMachine: {machine()}\n\nCommand: `python bench/gpu.py` ({time.strftime('%Y-%m-%d')}, "
            f"{(time.time() - started) / 60:.1f} min). Instruction on every text; cache cleared per run; each case "
            f"after a warm-up pass over the same texts. `auto` picks bf16 on this GPU.\n\n"
            f"## Throughput\n\n{throughput.to_markdown(index=False)}\n\n"
            f"## Half precision against fp32 (same texts)\n\n{close.to_markdown(index=False)}\n\n"
            f"## Out-of-memory fallback (instructor-large shape, long texts)\n\n"
            f"{pd.DataFrame([oom]).to_markdown(index=False)}\n")
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
