"""Tiny, randomly initialised checkpoints of each model family, saved in the family's real layout.

The real checkpoints (EmbeddingGemma, Qwen3-Embedding, BGE, ...) cannot be downloaded here, so the tests
build models with their architecture and their sentence-transformers files instead:

* ``build_tiny_bert``: a BERT encoder with mean pooling (all-MiniLM's layout; ``prompts`` and ``pooling``
  turn it into a BGE/Nomic-style model with fixed prefixes);
* ``build_tiny_qwen3``: a Qwen3 decoder with last-token pooling, a tokenizer that appends EOS and pads on
  the left, and the ``Instruct: ...\\nQuery:`` prompt in its config, as Qwen3-Embedding ships;
* ``build_tiny_gemma3``: a bidirectional Gemma3 text encoder with mean pooling over the prompt too, two
  Dense layers and Normalize, with EmbeddingGemma's ``task: ... | query: `` prompts.

The T5 INSTRUCTOR layout is in :mod:`tests.tiny_t5`. Tokenizers are trained on a small fixed corpus.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import (
    BertConfig,
    BertModel,
    Gemma3TextConfig,
    Gemma3TextModel,
    PreTrainedTokenizerFast,
    Qwen3Config,
    Qwen3Model,
)

from tests.tiny_t5 import _corpus

HIDDEN = 32
QWEN3_QUERY = "Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:"
GEMMA_PROMPTS = {
    "query": "task: search result | query: ",
    "document": "title: none | text: ",
    "Classification": "task: classification | query: ",
    "Clustering": "task: clustering | query: ",
    "STS": "task: sentence similarity | query: ",
}
MODULES = {
    "transformer": {"path": "", "type": "sentence_transformers.models.Transformer"},
    "pooling": {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
}


def _write_json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2), encoding="utf-8")


def _write_st_files(path: Path, pooling: dict, *, dense: list[tuple[int, int]] = (), max_seq_length: int = 32,
                    prompts: dict[str, str] | None = None) -> None:
    """modules.json, sentence_bert_config.json, the pooling, Dense and Normalize folders, and prompts."""
    modules = [MODULES["transformer"], MODULES["pooling"]]
    generator = torch.Generator().manual_seed(7)
    for i, (n_in, n_out) in enumerate(dense, start=2):
        folder = f"{i}_Dense"
        modules.append({"path": folder, "type": "sentence_transformers.models.Dense"})
        _write_json(path / folder / "config.json", {"in_features": n_in, "out_features": n_out, "bias": False,
                                                    "activation_function": "torch.nn.modules.linear.Identity"})
        weight = torch.randn(n_out, n_in, generator=generator) / n_in**0.5
        torch.save({"linear.weight": weight}, path / folder / "pytorch_model.bin")
    modules.append({"path": f"{len(modules)}_Normalize", "type": "sentence_transformers.models.Normalize"})
    (path / modules[-1]["path"]).mkdir(parents=True, exist_ok=True)
    _write_json(path / "modules.json", [{"idx": i, "name": str(i), **m} for i, m in enumerate(modules)])
    _write_json(path / "1_Pooling" / "config.json", pooling)
    _write_json(path / "sentence_bert_config.json", {"max_seq_length": max_seq_length, "do_lower_case": False})
    _write_json(path / "config_sentence_transformers.json",
                {"prompts": prompts or {}, "default_prompt_name": None, "similarity_fn_name": "cosine"})


def _legacy_pooling(mode: str, dim: int = HIDDEN, **extra: object) -> dict:
    """A pooling config in the legacy boolean format the hub checkpoints use."""
    keys = {"cls": "pooling_mode_cls_token", "mean": "pooling_mode_mean_tokens", "lasttoken": "pooling_mode_lasttoken"}
    config = {"word_embedding_dimension": dim, **{key: False for key in keys.values()}, **extra}
    config[keys[mode]] = True
    return config


def _bpe_tokenizer(path: Path, specials: list[str], template: str, padding_side: str, **tokens: str) -> int:
    """Train a byte-level BPE tokenizer whose post-processor adds ``template``'s special tokens; save it."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(_corpus(), trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single=template, special_tokens=[(t, tokenizer.token_to_id(t)) for t in specials if t in template])
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, padding_side=padding_side, model_max_length=32768,
                                   **tokens)
    fast.save_pretrained(str(path))
    return tokenizer.get_vocab_size()


def build_tiny_bert(path: Path, *, pooling: str = "mean", prompts: dict[str, str] | None = None,
                    max_seq_length: int = 24, seed: int = 0) -> Path:
    """A tiny BERT (all-MiniLM's WordPiece vocabulary) with ``pooling`` and optional named ``prompts``."""
    from instructor_core.models import bundled_model_path

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    source = Path(bundled_model_path())
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(source / name, path / name)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=30522, hidden_size=HIDDEN, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    config.architectures = ["BertModel"]
    BertModel(config).eval().save_pretrained(str(path))
    _write_st_files(path, _legacy_pooling(pooling), max_seq_length=max_seq_length, prompts=prompts)
    return path


def build_tiny_qwen3(path: Path, *, max_seq_length: int = 64, seed: int = 0) -> Path:
    """A tiny Qwen3 decoder in Qwen3-Embedding's layout: last-token pooling over EOS, left padding."""
    path = Path(path)
    eos = "<|endoftext|>"
    vocab = _bpe_tokenizer(path, [eos, "<|im_start|>", "<|im_end|>"], f"$A {eos}", "left", eos_token=eos,
                           pad_token=eos)
    torch.manual_seed(seed)
    config = Qwen3Config(vocab_size=vocab, hidden_size=HIDDEN, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=8, max_position_embeddings=256,
                         tie_word_embeddings=True)
    config.architectures = ["Qwen3ForCausalLM"]
    Qwen3Model(config).eval().save_pretrained(str(path))
    _write_st_files(path, _legacy_pooling("lasttoken", include_prompt=True), max_seq_length=max_seq_length,
                    prompts={"query": QWEN3_QUERY, "document": ""})
    return path


def build_tiny_gemma3(path: Path, *, max_seq_length: int = 64, seed: int = 0) -> Path:
    """A tiny bidirectional Gemma3 text encoder in EmbeddingGemma's layout: mean pooling including the
    prompt, Dense up, Dense down, Normalize."""
    path = Path(path)
    vocab = _bpe_tokenizer(path, ["<pad>", "<eos>", "<bos>", "<unk>"], "<bos> $A <eos>", "right", bos_token="<bos>",
                           eos_token="<eos>", pad_token="<pad>", unk_token="<unk>")
    torch.manual_seed(seed)
    config = Gemma3TextConfig(vocab_size=vocab, hidden_size=HIDDEN, intermediate_size=64, num_hidden_layers=2,
                              num_attention_heads=2, num_key_value_heads=1, head_dim=16, max_position_embeddings=256,
                              sliding_window=8, use_bidirectional_attention=True, pad_token_id=0, eos_token_id=1,
                              bos_token_id=2)
    config.architectures = ["Gemma3TextModel"]
    Gemma3TextModel(config).eval().save_pretrained(str(path))
    _write_st_files(path, {"embedding_dimension": HIDDEN, "pooling_mode": "mean", "include_prompt": True},
                    dense=[(HIDDEN, 4 * HIDDEN), (4 * HIDDEN, HIDDEN)], max_seq_length=max_seq_length,
                    prompts=GEMMA_PROMPTS)
    return path
