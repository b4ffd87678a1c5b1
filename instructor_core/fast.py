"""The int8 CPU backend: the model's transformer exported to ONNX, weights quantized to int8, run by ONNX Runtime.

Only the transformer (token vectors) changes; tokenisation, pooling (with the INSTRUCTOR rule: instruction
attended, left out of the mean), Dense and Normalize stay sentence-transformers' own modules, so every
profile keeps its pooling. Why not ``SentenceTransformer(..., backend="onnx")``: that path needs optimum-onnx,
which pins transformers < 4.58 and cannot install beside the transformers 5 this project uses; so the
export (``torch.onnx.export``) and the dynamic quantization (ONNX Runtime's ``quantize_dynamic``, per-channel
int8 weights, the same recipe as sentence-transformers' ``export_dynamic_quantized_onnx_model``) are done
here, once per model folder, and cached on disk. Activations are quantized per batch (dynamic quantization),
so a text's int8 vector varies by ~1e-3 with the batch it shares; the embedding cache keeps the first one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from .cache import default_cache_dir
from .errors import MissingDependencyError, ModelLoadError

log = logging.getLogger(__name__)

BACKENDS = ("auto", "torch", "int8")
FORMAT_VERSION = "1"  # bump when the export or quantization recipe changes: old files are then not reused
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
INSTALL_HINT = "pip install -r requirements-fast.txt"


def int8_available() -> bool:
    """True when ONNX Runtime and onnx (the int8 backend's packages) are installed."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def pick_backend(backend: str, device: str) -> str:
    """``"auto"`` -> int8 on CPU when its packages are installed, else torch; explicit choices are checked."""
    backend = (backend or "auto").strip().lower()
    if backend not in BACKENDS:
        raise ModelLoadError(f"Unknown backend '{backend}'. Use 'auto', 'torch' or 'int8'.")
    if backend == "auto":
        return "int8" if device == "cpu" and int8_available() else "torch"
    if backend == "int8":
        if device != "cpu":
            raise ModelLoadError(f"The int8 backend runs on the CPU only, not on '{device}'. Use --backend torch "
                                 "(the GPU is faster in fp16/bf16) or --device cpu.")
        if not int8_available():
            raise MissingDependencyError(f"The int8 backend needs onnxruntime and onnx: {INSTALL_HINT}")
    return backend


def quantized_model_path(st_model: object, key: str, cache_dir: Path | None = None) -> Path:
    """The int8 ONNX file of ``st_model``'s transformer, exported and quantized on first use and kept under the
    user's cache dir, keyed by ``key`` (the model folder's fingerprint), so later loads take a second."""
    folder = (cache_dir or default_cache_dir() / "int8") / hashlib.sha256(f"{key}|{FORMAT_VERSION}".encode()).hexdigest()[:24]
    path = folder / "model_int8.onnx"
    if path.exists():
        return path
    from onnxruntime.quantization import QuantType, quantize_dynamic

    folder.mkdir(parents=True, exist_ok=True)
    transformer = _transformer(st_model)
    names = _input_names(st_model)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        fp32 = Path(tmp) / "model.onnx"
        log.info("exporting %s to int8 ONNX (once; cached in %s)", key, folder)
        sample = torch.ones((2, 8), dtype=torch.long)
        try:
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    _HiddenStates(transformer, names).eval(), tuple(sample for _ in names), str(fp32),
                    input_names=list(names), output_names=["last_hidden_state"],
                    dynamic_axes={n: {0: "batch", 1: "tokens"} for n in (*names, "last_hidden_state")},
                    opset_version=17, dynamo=False,
                )
                quantized = Path(tmp) / path.name
                quantize_dynamic(str(fp32), str(quantized), weight_type=QuantType.QInt8, per_channel=True)
        except Exception as err:  # an architecture the exporter cannot trace
            raise ModelLoadError(f"This model could not be converted for the int8 backend ({err}). "
                                 "Use --backend torch.") from err
        os.replace(quantized, path)  # atomic: a concurrent loader sees the whole file or none
    return path


def use_int8(st_model: object, path: Path, threads: int | None = None) -> None:
    """Make ``st_model`` compute its token vectors with the int8 ONNX file at ``path`` (in place)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    module = st_model[0]
    module.model = OrtTransformer(session, _transformer(st_model).config)


class OrtTransformer(torch.nn.Module):
    """Stands in for the Hugging Face model inside sentence-transformers' Transformer module: same inputs,
    ``last_hidden_state`` out, computed by an ONNX Runtime session."""

    def __init__(self, session: object, config: object) -> None:
        super().__init__()
        self.session = session
        self.config = config
        self.input_names = [i.name for i in session.get_inputs()]

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **kwargs: object) -> dict[str, torch.Tensor]:
        given = {"input_ids": input_ids, "attention_mask": attention_mask, **kwargs}
        feed = {}
        for name in self.input_names:
            value = given.get(name)
            feed[name] = (torch.zeros_like(input_ids) if value is None else value).cpu().numpy().astype(np.int64)
        return {"last_hidden_state": torch.from_numpy(self.session.run(None, feed)[0])}


class _HiddenStates(torch.nn.Module):
    """The Hugging Face model with positional inputs and its token vectors as the one output (for export)."""

    def __init__(self, model: torch.nn.Module, names: tuple[str, ...]) -> None:
        super().__init__()
        self.model, self.names = model, names

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.model(**dict(zip(self.names, inputs)), return_dict=True).last_hidden_state


def _transformer(st_model: object) -> torch.nn.Module:
    first = st_model[0]
    model = getattr(first, "model", None)
    if type(first).__name__ != "Transformer" or not isinstance(model, torch.nn.Module):
        raise ModelLoadError("The int8 backend supports text models whose first module is a Transformer; "
                             "this one is not. Use --backend torch.")
    return model


def _input_names(st_model: object) -> tuple[str, ...]:
    """The inputs the model's tokenizer produces (T5: ids and mask; BERT: also token types)."""
    produced = st_model.tokenizer("a")
    return tuple(name for name in _INPUTS if name in produced)
