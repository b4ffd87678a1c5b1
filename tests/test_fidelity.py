"""Fidelity: our encoder equals the paper's InstructorEmbedding 1.0.1 on the same checkpoint.

The reference runs in its own venv (.venv-ref, built by tests/run.sh from tests/reference/requirements.txt)
because it needs sentence-transformers 2.2.2 and transformers 4.36.2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from instructor_core import load_encoder

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_PYTHON = os.environ.get("INSTRUCTOR_REFERENCE_PYTHON", str(ROOT / ".venv-ref" / "bin" / "python"))

PAIRS = [
    ["Represent the review for classifying sentiment: ", "the food was cold"],
    ["Represent the review for classifying sentiment: ", "  great service and fast delivery  "],
    ["Represent the news article for classifying topic: ", "the stock market fell"],
    ["Represent the Wikipedia question for retrieving supporting documents: ", "who won the match?"],
    ["Represent the Wikipedia document for retrieval: ", "The team won the match in the last minute."],
    ["", "no instruction at all"],
    ["Represent the text: ", "a short instruction"],
    ["review ", "a one-token instruction"],
    ["Represent the review for classifying sentiment:", "no space after the colon"],
    ["Represent the review for classifying sentiment: ", " ".join(["long text about the bank card"] * 120)],
]


def test_matches_instructor_embedding_reference(tiny_instructor_path, tmp_path):
    assert Path(REFERENCE_PYTHON).exists(), (
        f"Reference venv missing ({REFERENCE_PYTHON}); tests/run.sh builds it from tests/reference/requirements.txt"
    )
    pairs_file, out_file = tmp_path / "pairs.json", tmp_path / "reference.npy"
    pairs_file.write_text(json.dumps(PAIRS), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run(
        [REFERENCE_PYTHON, str(ROOT / "tests/reference/encode_reference.py"), tiny_instructor_path,
         str(pairs_file), str(out_file)],
        check=True, env=env, timeout=300, stdout=sys.stdout, stderr=sys.stderr,
    )
    reference = np.load(out_file)

    encoder = load_encoder(tiny_instructor_path, device="cpu", cache_size_mb=0)
    ours = encoder.encode([text for _, text in PAIRS], instruction=[ins for ins, _ in PAIRS], batch_size=4)

    assert ours.shape == reference.shape == (len(PAIRS), 24)
    assert np.abs(ours - reference).max() <= 1e-5
