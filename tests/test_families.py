"""Fidelity per model family: ``Encoder.encode(texts, instruction=...)`` equals sentence-transformers
encoding the same folder with the prompt the family's template gives, with the model's own configuration.

Tiny random models in each family's real layout (tests/tiny_models.py); the expected prompts are written
out literally here, so a wrong template fails. INSTRUCTOR is checked against its reference package in
tests/test_fidelity.py and against sentence-transformers here.
"""

from __future__ import annotations

import shutil

import huggingface_hub.constants
import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from instructor_core import ModelLoadError, load_encoder
from instructor_core.models import INSTRUCTOR_MINI_PATH, bundled_model_path
from instructor_core.profiles import detect_profile
from tests.tiny_models import GEMMA_PROMPTS, QWEN3_QUERY, build_tiny_bert, build_tiny_gemma3, build_tiny_qwen3

LONG = " ".join(["the market fell and the bank card payment was late"] * 30)  # far past max_seq_length
TEXTS = ["the food was cold", "great service and fast delivery", "who won the match?", LONG, "stock rose"]
SENTIMENT_TASK = "Given a product review, classify its sentiment"
TOPIC_TASK = "Given a news article, classify its topic"


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("families")
    return {
        "qwen3": str(build_tiny_qwen3(root / "tiny-qwen3")),
        "gemma3": str(build_tiny_gemma3(root / "tiny-gemma3")),
        "bert": str(build_tiny_bert(root / "tiny-bert")),
        "prefix": str(build_tiny_bert(root / "tiny-prefix", pooling="cls",
                                      prompts={"query": "search_query: ", "document": "search_document: "})),
    }


def _reference(folder: str, texts: list[str], prompts: list[str], include_prompt: bool | None = None) -> np.ndarray:
    """sentence-transformers on ``folder``, one ``encode(..., prompt=...)`` per distinct prompt."""
    model = SentenceTransformer(folder, device="cpu")
    if include_prompt is not None:
        model.set_pooling_include_prompt(include_prompt)
    out = np.zeros((len(texts), model.get_embedding_dimension()), dtype=np.float32)
    for prompt in dict.fromkeys(prompts):
        rows = [i for i, p in enumerate(prompts) if p == prompt]
        out[rows] = model.encode([texts[i] for i in rows], prompt=prompt, normalize_embeddings=True)
    return out


def _check(folder: str, instructions: list[str | None], expected_prompts: list[str], **kwargs) -> None:
    encoder = load_encoder(folder, device="cpu", cache_size_mb=0)
    assert encoder.count_truncated(TEXTS, instructions[3]) >= 1  # the long text really is cut
    for text, instruction, prompt in zip(TEXTS, instructions, expected_prompts):
        assert encoder.model_input(text, instruction) == prompt + text
    ours = encoder.encode(TEXTS, instruction=instructions, batch_size=2)
    reference = _reference(folder, TEXTS, expected_prompts, **kwargs)
    assert np.abs(ours - reference).max() <= 1e-6
    # the instruction matters: without it the vectors differ
    assert np.abs(ours[0] - encoder.encode(TEXTS[:1])[0]).max() > 1e-4


def test_qwen3_layout_last_token_pooling_and_its_template(folders):
    profile = detect_profile(folders["qwen3"])
    assert (profile.family, profile.pooling, profile.include_prompt) == ("instruct-query", "lasttoken", True)
    assert profile.template == "Instruct: {task}\nQuery:" and ("query", QWEN3_QUERY) in profile.presets
    _check(folders["qwen3"], [SENTIMENT_TASK, TOPIC_TASK, None, SENTIMENT_TASK, QWEN3_QUERY],
           [f"Instruct: {SENTIMENT_TASK}\nQuery:", f"Instruct: {TOPIC_TASK}\nQuery:", "",
            f"Instruct: {SENTIMENT_TASK}\nQuery:", QWEN3_QUERY])


def test_gemma3_layout_mean_pooling_over_the_prompt_and_dense_layers(folders):
    profile = detect_profile(folders["gemma3"])
    assert (profile.family, profile.pooling, profile.include_prompt) == ("embeddinggemma", "mean", True)
    assert profile.template == "task: {task} | query: "
    _check(folders["gemma3"], ["classification", "clustering", "", "classification", GEMMA_PROMPTS["document"]],
           ["task: classification | query: ", "task: clustering | query: ", "",
            "task: classification | query: ", "title: none | text: "])


def test_plain_bert_pools_the_instruction_with_the_text(folders):
    profile = detect_profile(folders["bert"])
    assert (profile.family, profile.instructions, profile.include_prompt) == ("plain", "none", True)
    ins = "Represent the review for classifying sentiment: "
    _check(folders["bert"], [ins, "Represent the news: ", None, ins, ins], [ins, "Represent the news: ", "", ins, ins])


def test_fixed_prefix_model_offers_its_named_prompts(folders):
    profile = detect_profile(folders["prefix"])
    assert (profile.family, profile.instructions, profile.pooling) == ("prefix", "fixed", "cls")
    assert dict(profile.presets) == {"query": "search_query: ", "document": "search_document: "}
    _check(folders["prefix"], ["search_query: ", "search_document: ", None, "search_query: ", "search_query: "],
           ["search_query: ", "search_document: ", "", "search_query: ", "search_query: "])


def test_instructor_mini_leaves_the_instruction_out_of_the_pool_as_its_config_says():
    encoder = load_encoder("instructor-mini", device="cpu", cache_size_mb=0)
    assert encoder.profile.family == "instructor" and not encoder.profile.include_prompt
    ins = "Represent the product review for classifying its sentiment: "
    texts = ["The battery died after two days.", "Great headphones.", LONG]
    ours = encoder.encode(texts, instruction=[ins, None, ins])
    reference = _reference(str(INSTRUCTOR_MINI_PATH), texts, [ins, "", ins], include_prompt=False)
    assert np.abs(ours - reference).max() <= 1e-6


def test_bundled_base_keeps_its_own_pooling(bundled_encoder):
    ins = "Represent the product review for classifying its sentiment: "
    assert bundled_encoder.profile.family == "plain" and bundled_encoder.profile.include_prompt
    ours = bundled_encoder.encode(TEXTS[:3], instruction=ins)
    assert np.abs(ours - _reference(bundled_model_path(), TEXTS[:3], [ins] * 3)).max() <= 1e-6


def _install_in_hf_cache(cache, repo_id: str, model_dir: str) -> str:
    snapshot = cache / f"models--{repo_id.replace('/', '--')}" / "snapshots" / ("0" * 40)
    shutil.copytree(model_dir, snapshot)
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("0" * 40)
    return str(snapshot)


def test_known_hub_ids_decide_what_files_cannot(folders, tiny_instructor_path, tmp_path, monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    bge = detect_profile(_install_in_hf_cache(tmp_path, "BAAI/bge-small-en-v1.5", folders["bert"]))
    assert bge.family == "bge" and bge.instructions == "fixed"
    assert dict(bge.presets)["query"] == "Represent this sentence for searching relevant passages: "
    me5 = detect_profile(_install_in_hf_cache(tmp_path, "intfloat/multilingual-e5-large-instruct", folders["bert"]))
    assert (me5.family, me5.pooling, me5.template) == ("e5-instruct", "mean", "Instruct: {task}\nQuery: ")
    assert me5.prompt("Retrieve semantically similar text") == "Instruct: Retrieve semantically similar text\nQuery: "
    # hkunlp's INSTRUCTOR and sentence-t5 share a layout: only the id or name says which one it is
    t5_copy = tmp_path / "some-t5"
    shutil.copytree(tiny_instructor_path, t5_copy)
    assert detect_profile(t5_copy).family == "plain"
    snapshot = _install_in_hf_cache(tmp_path, "hkunlp/instructor-large", str(t5_copy))
    assert detect_profile(snapshot).family == "instructor"
    # a user's spelling alone decides nothing: a BERT in a folder called "instructor" stays plain
    bert_copy = tmp_path / "my-instructor"
    shutil.copytree(folders["bert"], bert_copy)
    assert detect_profile(bert_copy).family == "plain"


def test_models_that_run_their_own_code_are_refused_unless_allowed(folders, tmp_path):
    import json

    custom = tmp_path / "custom"
    shutil.copytree(folders["bert"], custom)
    config = json.loads((custom / "config.json").read_text())
    (custom / "config.json").write_text(json.dumps({**config, "auto_map": {"AutoModel": "modeling.Custom"}}))
    with pytest.raises(ModelLoadError, match="runs code from its own repository"):
        load_encoder(str(custom), device="cpu")
    with pytest.raises(ModelLoadError, match="trust-remote-code"):
        load_encoder("Alibaba-NLP/gte-Qwen2-1.5B-instruct", device="cpu")


def test_evaluate_runs_any_family_through_its_profile(folders, tmp_path, capsys):
    import json

    from instructor_core import evaluate

    (tmp_path / "stsb").mkdir()
    pairs = [("a man plays a guitar", "a man is playing guitar", 4.8), ("the cat sleeps", "stocks fell today", 0.2),
             ("a woman cuts an onion", "someone slices an onion", 4.0), ("kids play football", "a dog runs", 1.0)]
    (tmp_path / "stsb" / "sts-dev.csv").write_text(
        "".join(f"main-captions\tMSRvid\t2012test\t{i}\t{s}\t{a}\t{b}\n" for i, (a, b, s) in enumerate(pairs)))
    out = tmp_path / "eval.json"
    code = evaluate.main([folders["qwen3"], folders["bert"], "--tasks", "product reviews: sentiment", "--max-rows",
                          "40", "--device", "cpu", "--data-dir", str(tmp_path), "--json", str(out), "--quiet"])
    assert code == 0
    report = capsys.readouterr().out
    assert "(Instruct/Query template)" in report and "(no instruction training)" in report
    results = json.loads(out.read_text())["results"]
    used = [{row["condition"]: row["instruction"] for row in r["labeled"]} for r in results]
    assert used[0] == {"none": "", "match": "Classify the sentiment of a given product review",
                       "mismatch": "Classify the product category of a given product review"}
    assert used[1]["match"] == "Represent the product review for classifying its sentiment: "
    assert all(-100 <= r["stsb_spearman_instructed"] <= 100 for r in results)
    assert evaluate.main(["no/such-model", "--quiet"]) == 2 and "error:" in capsys.readouterr().err


def test_embeddinggemma_never_runs_in_fp16(folders, monkeypatch):
    import torch

    from instructor_core import encoder as encoder_module

    with pytest.raises(ModelLoadError, match="does not run in fp16"):
        load_encoder(folders["gemma3"], device="cpu", dtype="fp16")
    monkeypatch.setattr(encoder_module, "pick_dtype", lambda dtype, device: torch.float16)  # "auto" on an old GPU
    assert load_encoder(folders["gemma3"], device="cpu").dtype == torch.float32
    assert load_encoder(folders["qwen3"], device="cpu").dtype == torch.float16


def test_no_instruction_means_what_sentence_transformers_does_by_default(folders, tmp_path):
    import json

    folder = tmp_path / "default-prompt"
    shutil.copytree(folders["prefix"], folder)
    config = json.loads((folder / "config_sentence_transformers.json").read_text())
    (folder / "config_sentence_transformers.json").write_text(json.dumps({**config, "default_prompt_name": "query"}))
    encoder = load_encoder(str(folder), device="cpu", cache_size_mb=0)
    assert encoder.model_input("a text") == "search_query: a text"
    reference = SentenceTransformer(str(folder), device="cpu").encode(TEXTS[:2], normalize_embeddings=True)
    assert np.abs(encoder.encode(TEXTS[:2]) - reference).max() <= 1e-6
