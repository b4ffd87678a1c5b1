"""Run inside the reference venv (.venv-ref): embed with InstructorEmbedding 1.0.1, the paper's package.

Usage: python encode_reference.py MODEL_DIR PAIRS.json OUT.npy, where PAIRS.json is [[instruction, text], ...].
"""

import json
import sys

import numpy as np
from InstructorEmbedding import INSTRUCTOR

model_dir, pairs_path, out_path = sys.argv[1:4]
with open(pairs_path, encoding="utf-8") as f:
    pairs = json.load(f)
model = INSTRUCTOR(model_dir, device="cpu")
np.save(out_path, model.encode(pairs, normalize_embeddings=True, batch_size=4))
