"""Encoder behaviour on the tiny INSTRUCTOR-layout T5 and on the bundled MiniLM."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from instructor_core import InputError, load_encoder

SENTIMENT = "Represent the review for classifying sentiment: "
TOPIC = "Represent the news article for classifying topic: "
TEXTS = ["the food was cold", "great service and fast delivery", "the stock market fell", "who won the match"]


def _manual_instructor_embedding(encoder, instruction: str, text: str) -> np.ndarray:
    """INSTRUCTOR by hand: run the T5 on instruction+text, mean-pool only the text tokens, Dense, L2."""
    st = encoder.model
    tokenizer, t5 = st.tokenizer, st[0].auto_model
    n_instruction = len(tokenizer(instruction)["input_ids"]) - 1  # without EOS
    ids = tokenizer(instruction + text, return_tensors="pt")
    with torch.no_grad():
        tokens = t5(**ids).last_hidden_state[0]
        pooled = tokens[n_instruction:].mean(0)
        dense = st[2](({"sentence_embedding": pooled[None]}))["sentence_embedding"][0]
    return torch.nn.functional.normalize(dense, dim=0).numpy()


def test_loads_hkunlp_layout(tiny_encoder):
    assert [type(m).__name__ for m in tiny_encoder.model] == ["Transformer", "Pooling", "Dense", "Normalize"]
    assert tiny_encoder.dim == 24
    assert tiny_encoder.instruction_tuned and tiny_encoder.profile.family == "instructor"  # T5 + Dense, "instructor"
    assert tiny_encoder.device == "cpu"


def test_instruction_tokens_are_attended_but_not_pooled(tiny_encoder):
    got = tiny_encoder.encode([TEXTS[0]], instruction=SENTIMENT)[0]
    np.testing.assert_allclose(got, _manual_instructor_embedding(tiny_encoder, SENTIMENT, TEXTS[0]), atol=1e-5)
    # Pooling the instruction too would give a clearly different vector.
    st = tiny_encoder.model
    st.set_pooling_include_prompt(True)
    try:
        pooled_all = st.encode([SENTIMENT + TEXTS[0]], normalize_embeddings=True)[0]
    finally:
        st.set_pooling_include_prompt(False)
    assert np.abs(got - pooled_all).max() > 1e-3


def test_instruction_changes_the_vector(tiny_encoder):
    plain, sentiment, topic = (tiny_encoder.encode(TEXTS[:1], instruction=i)[0] for i in (None, SENTIMENT, TOPIC))
    assert np.abs(plain - sentiment).max() > 1e-3
    assert np.abs(sentiment - topic).max() > 1e-3


def test_output_shape_dtype_and_norm(tiny_encoder):
    vectors = tiny_encoder.encode(TEXTS, instruction=SENTIMENT)
    assert vectors.shape == (4, 24) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_mixed_instruction_batch_equals_one_by_one(tiny_instructor_path):
    encoder = load_encoder(tiny_instructor_path, device="cpu", cache_size_mb=0)
    instructions = [SENTIMENT, TOPIC, None, SENTIMENT]
    batch = encoder.encode(TEXTS, instruction=instructions, batch_size=3)
    for text, instruction, row in zip(TEXTS, instructions, batch):
        np.testing.assert_allclose(row, encoder.encode([text], instruction=instruction)[0], atol=1e-5)


def test_rows_keep_input_order(tiny_instructor_path):
    encoder = load_encoder(tiny_instructor_path, device="cpu", cache_size_mb=0)
    texts = ["a", "a much longer text about the bank card payment refund", "who", "the review was good"]
    forward = encoder.encode(texts, instruction=SENTIMENT, batch_size=2)
    backward = encoder.encode(texts[::-1], instruction=SENTIMENT, batch_size=2)
    np.testing.assert_allclose(forward, backward[::-1], atol=1e-5)
    assert len({tuple(np.round(r, 4)) for r in forward}) == 4


def test_cache_returns_identical_vectors_and_counts(tiny_instructor_path, tmp_path):
    encoder = load_encoder(tiny_instructor_path, device="cpu", disk_cache=tmp_path)
    first = encoder.encode(TEXTS, instruction=SENTIMENT)
    assert encoder.cache.stats()["misses"] == 4 and encoder.cache.stats()["hits"] == 0
    again = encoder.encode(TEXTS, instruction=SENTIMENT)
    np.testing.assert_array_equal(first, again)
    assert encoder.cache.stats()["hits"] == 4
    # A different instruction or normalize flag is a different key.
    encoder.encode(TEXTS[:1], instruction=TOPIC)
    encoder.encode(TEXTS[:1], instruction=SENTIMENT, normalize=False)
    assert encoder.cache.stats()["misses"] == 6
    # The on-disk store survives a new encoder (a restart).
    reloaded = load_encoder(tiny_instructor_path, device="cpu", disk_cache=tmp_path)
    np.testing.assert_array_equal(reloaded.encode(TEXTS, instruction=SENTIMENT), first)
    assert reloaded.cache.stats() == {"hits": 4, "misses": 0, "memory_items": 4}


def test_progress_reports_every_text(tiny_encoder):
    calls: list[tuple[int, int]] = []
    tiny_encoder.encode([f"text number {i}" for i in range(10)], instruction=TOPIC, batch_size=4,
                        progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 10) and calls[-1] == (10, 10)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls) and len(calls) == 4


def test_single_token_instruction_is_pooled_like_the_reference(tiny_encoder):
    # InstructorEmbedding excludes nothing when the instruction is one token long.
    assert len(tiny_encoder.model.tokenizer("review ")["input_ids"]) == 2  # one word + EOS
    got = tiny_encoder.encode(["the food was cold"], instruction="review ")[0]
    plain = tiny_encoder.encode(["review the food was cold"])[0]
    np.testing.assert_allclose(got, plain, atol=1e-6)


def test_bad_inputs_raise_clear_errors(tiny_encoder):
    with pytest.raises(InputError, match="empty"):
        tiny_encoder.encode(["ok", "   "])
    with pytest.raises(InputError, match="2 instructions for 3 texts"):
        tiny_encoder.encode(["a", "b", "c"], instruction=["x", "y"])
    with pytest.raises(InputError, match="list of texts"):
        tiny_encoder.encode("a bare string")


def test_count_truncated(tiny_encoder):
    long_text = " ".join(["word"] * 2000)
    assert tiny_encoder.count_truncated(["short", long_text], instruction=SENTIMENT) == 1


def test_count_truncated_tokenises_a_text_list_once(tiny_encoder, monkeypatch):
    tokenised = []
    real = tiny_encoder.model_input
    monkeypatch.setattr(tiny_encoder, "model_input", lambda text, ins=None: tokenised.append(text) or real(text, ins))
    long_text = " ".join(["word"] * 2000)
    texts = ["short once", long_text, "again"]
    assert tiny_encoder.count_truncated(texts, instruction=SENTIMENT) == 1
    assert tiny_encoder.count_truncated(list(texts), instruction=SENTIMENT) == 1  # remembered
    assert len(tokenised) == 3
    assert tiny_encoder.count_truncated(texts, instruction=None) == 1  # another instruction: counted again
    assert tiny_encoder.count_truncated(["short once", "again"], instruction=SENTIMENT) == 0  # other texts too
    assert len(tokenised) == 8


def test_concurrent_callers_get_correct_vectors(tiny_instructor_path):
    encoder = load_encoder(tiny_instructor_path, device="cpu", cache_size_mb=0)
    expected = {i: encoder.encode([f"text {i} about the bank"], instruction=SENTIMENT)[0] for i in range(8)}
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        results[i] = encoder.encode([f"text {i} about the bank"] * 3, instruction=SENTIMENT, batch_size=1)[0]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == list(range(8))
    for i, vec in results.items():
        np.testing.assert_allclose(vec, expected[i], atol=1e-5)


def test_cuda_oom_halves_the_batch(tiny_instructor_path, monkeypatch):
    encoder = load_encoder(tiny_instructor_path, device="cpu", cache_size_mb=0)
    real_encode, sizes = encoder.model.encode, []

    def flaky_encode(texts, **kwargs):
        sizes.append(kwargs["batch_size"])
        if kwargs["batch_size"] > 2:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return real_encode(texts, **kwargs)

    monkeypatch.setattr(encoder.model, "encode", flaky_encode)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: None)
    vectors = encoder.encode(TEXTS * 2, instruction=SENTIMENT, batch_size=8)
    assert sizes[:3] == [8, 4, 2]
    monkeypatch.undo()
    np.testing.assert_allclose(vectors, encoder.encode(TEXTS * 2, instruction=SENTIMENT), atol=1e-5)


def test_bundled_model_equals_sentence_transformers(bundled_encoder):
    from sentence_transformers import SentenceTransformer

    from instructor_core.models import bundled_model_path

    texts = ["The food was cold.", "  A second sentence, with spaces around it.  ", "Stocks rallied on Friday."]
    reference = SentenceTransformer(bundled_model_path(), device="cpu").encode(
        [t.strip() for t in texts], normalize_embeddings=True
    )
    got = bundled_encoder.encode(texts)
    np.testing.assert_allclose(got, reference, atol=1e-6)
    assert bundled_encoder.dim == 384 and not bundled_encoder.instruction_tuned
