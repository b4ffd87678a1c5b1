"""The int8 CPU backend (instructor_core.fast): close to fp32, the INSTRUCTOR rule intact, cached, keyed apart."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from app import parse_args
from instructor_core import ModelLoadError, load_encoder
from instructor_core.cli import main as cli_main
from instructor_core.fast import OrtTransformer, pick_backend, quantized_model_path
from instructor_core.pool import EncoderPool

SENTIMENT = "Represent the review for classifying sentiment: "
TEXTS = ["the food was cold", "great service and fast delivery", "the stock market fell", "who won the match",
         "The first shuttle flight since the Columbia tragedy has been pushed back by NASA."]


@pytest.fixture(scope="module")
def tiny_int8(tiny_instructor_path):
    return load_encoder(tiny_instructor_path, device="cpu", backend="int8")


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_int8_tiny_t5_is_close_to_fp32(tiny_encoder, tiny_int8):
    assert isinstance(tiny_int8.model[0].model, OrtTransformer) and tiny_int8.backend == "int8"
    for instruction in (None, SENTIMENT):
        fp32 = tiny_encoder.encode(TEXTS, instruction=instruction)
        int8 = tiny_int8.encode(TEXTS, instruction=instruction)
        assert _cosines(fp32, int8).min() >= 0.99
        assert np.abs(fp32 - int8).max() > 0  # it really is another backend


def test_int8_pools_only_the_text_tokens(tiny_int8):
    """INSTRUCTOR by hand on the int8 transformer: attend instruction+text, mean over the text tokens only."""
    st = tiny_int8.model
    n_instruction = len(st.tokenizer(SENTIMENT)["input_ids"]) - 1  # without EOS
    ids = st.tokenizer(SENTIMENT + TEXTS[0], return_tensors="pt")
    with torch.no_grad():
        tokens = st[0].model(input_ids=ids["input_ids"], attention_mask=ids["attention_mask"])["last_hidden_state"][0]
        dense = st[2]({"sentence_embedding": tokens[n_instruction:].mean(0)[None]})["sentence_embedding"][0]
        pooled_all = st[2]({"sentence_embedding": tokens.mean(0)[None]})["sentence_embedding"][0]
    manual = torch.nn.functional.normalize(dense, dim=0).numpy()
    tiny_int8.cache.clear()  # activations are quantized per batch: compare a batch of this one text
    got = tiny_int8.encode([TEXTS[0]], instruction=SENTIMENT)[0]
    np.testing.assert_allclose(got, manual, atol=1e-5)
    everything = torch.nn.functional.normalize(pooled_all, dim=0).numpy()
    assert np.abs(got - everything).max() > 1e-3  # pooling the instruction too would be visibly different


def test_int8_instructor_mini_is_close_to_fp32():
    fp32 = load_encoder("instructor-mini", device="cpu", cache_size_mb=0)
    int8 = load_encoder("instructor-mini", device="cpu", backend="int8", cache_size_mb=0)
    for instruction in (None, SENTIMENT):
        cosines = _cosines(fp32.encode(TEXTS, instruction=instruction), int8.encode(TEXTS, instruction=instruction))
        # activations are quantized per (padded) batch: a 6-token text beside a 20-token one measured 0.989
        assert cosines.mean() >= 0.99 and cosines.min() >= 0.985
    assert int8.identity != fp32.identity and int8.identity.endswith("|int8")  # vectors are cached apart


def test_export_is_cached_by_key(tiny_encoder, tmp_path):
    first = quantized_model_path(tiny_encoder.model, "folder-a", cache_dir=tmp_path)
    stamp = first.stat().st_mtime_ns
    assert quantized_model_path(tiny_encoder.model, "folder-a", cache_dir=tmp_path) == first
    assert first.stat().st_mtime_ns == stamp  # reused, not exported again
    assert quantized_model_path(tiny_encoder.model, "folder-b", cache_dir=tmp_path) != first  # another fingerprint


def test_pool_keeps_backends_apart(tiny_instructor_path, tiny_int8):
    int8 = EncoderPool(tiny_instructor_path, device="cpu", backend="int8").get()
    torch_pool = EncoderPool(tiny_instructor_path, device="cpu", backend="torch")
    assert int8.backend == "int8" and torch_pool.get().backend == "torch"
    assert next(iter(torch_pool._loaded))[-1] == "torch"


def test_backend_choice_and_errors():
    assert pick_backend("auto", "cpu") == "int8"  # onnxruntime is installed here (requirements-fast.txt)
    assert pick_backend("auto", "cuda") == "torch"
    with pytest.raises(ModelLoadError, match="CPU only"):
        pick_backend("int8", "cuda")
    with pytest.raises(ModelLoadError, match="Unknown backend"):
        pick_backend("onnx", "cpu")
    with pytest.raises(ModelLoadError, match="dtype"):
        load_encoder("bundled", device="cpu", dtype="bf16", backend="int8")


def test_flags_and_env(monkeypatch, capsys, tmp_path):
    assert parse_args(["--backend", "int8"]).backend == "int8"
    monkeypatch.setenv("INSTRUCTOR_EXPLORER_BACKEND", "torch")
    assert parse_args([]).backend == "torch"
    csv = tmp_path / "t.csv"
    csv.write_text("text\nhello\n")
    assert cli_main(["embed", str(csv), "--engine", "ray", "--backend", "int8"]) == 2
    assert "torch backend" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args(["--backend", "fp8"])
