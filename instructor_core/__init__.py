"""Instructor Explorer's library: instruction-conditioned embeddings and the analyses built on them.

Usable from a notebook::

    from instructor_core import load_encoder
    enc = load_encoder("auto")
    vectors = enc.encode(["The food was cold."], instruction="Represent the review for classifying sentiment: ")
"""

from .cache import EmbeddingCache
from .encoder import Encoder, load_encoder
from .errors import InputError, JobStopped, ModelLoadError
from .models import ModelSource, resolve_model

__all__ = [
    "EmbeddingCache",
    "Encoder",
    "InputError",
    "JobStopped",
    "ModelLoadError",
    "ModelSource",
    "load_encoder",
    "resolve_model",
]
