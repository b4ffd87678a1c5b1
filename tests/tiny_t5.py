"""Build a tiny, randomly initialised INSTRUCTOR-shaped T5 checkpoint for tests.

The real ``hkunlp/instructor-*`` weights cannot be downloaded here, so the tests build a model with
the same layout instead: a T5 encoder at the root, ``1_Pooling`` (mean), ``2_Dense`` (no bias,
identity activation) and ``3_Normalize``, with the config files written in the exact legacy format of
the hkunlp repositories, so that both the reference ``InstructorEmbedding`` package (with
sentence-transformers 2.2.2) and our loader read the same files.
"""

from __future__ import annotations

import json
from pathlib import Path

import sentencepiece as spm
import torch
from transformers import T5Config, T5EncoderModel

D_MODEL = 32
OUT_DIM = 24

_WORDS = (
    "represent the review sentence document question query text for classifying sentiment topic "
    "retrieval clustering retrieving supporting documents wikipedia news article science medicine "
    "finance tweet food was cold hot great terrible service movie plot actor team won match market "
    "stock fell rose rate bank card payment refund where who what when how why is are a an of to in "
    "on and or not very good bad price quality delivery late early fast slow happy sad angry love"
).split()


def _corpus() -> list[str]:
    """Deterministic pseudo-sentences covering the vocabulary and punctuation."""
    gen = torch.Generator().manual_seed(0)
    lines = []
    for _ in range(400):
        n = int(torch.randint(3, 14, (1,), generator=gen))
        idx = torch.randint(0, len(_WORDS), (n,), generator=gen).tolist()
        words = [_WORDS[i] for i in idx]
        lines.append(" ".join(words).capitalize() + (": " if n % 3 == 0 else ". "))
    return lines


def build_tiny_instructor(path: Path, seed: int = 0, d_model: int = D_MODEL, out_dim: int = OUT_DIM,
                          **t5_shape: int | str) -> Path:
    """Write a tiny INSTRUCTOR-layout checkpoint to ``path`` and return it.

    ``d_model``, ``out_dim`` and ``t5_shape`` (``num_layers``, ``num_heads``, ``d_kv``, ``d_ff``, ...) give it
    another size, e.g. instructor-large's for GPU timings (bench/gpu.py); the weights stay random."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)

    corpus_file = path / "_corpus.txt"
    corpus_file.write_text("\n".join(_corpus()), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus_file),
        model_prefix=str(path / "spiece"),
        vocab_size=200,
        model_type="unigram",
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        num_threads=1,
        minloglevel=2,
    )
    corpus_file.unlink()
    (path / "spiece.vocab").unlink()
    # Only the sentencepiece model ships: each transformers version converts it to its own fast
    # tokenizer (a tokenizer.json written by today's `tokenizers` cannot be read by the old one).
    _write_json(
        path / "tokenizer_config.json",
        {
            "tokenizer_class": "T5Tokenizer",
            "eos_token": "</s>",
            "pad_token": "<pad>",
            "unk_token": "<unk>",
            "extra_ids": 0,
            "model_max_length": 512,
        },
    )
    vocab_size = spm.SentencePieceProcessor(model_file=str(path / "spiece.model")).get_piece_size()

    torch.manual_seed(seed)
    shape = {"d_kv": 8, "d_ff": 64, "num_layers": 2, "num_heads": 4, "relative_attention_num_buckets": 8,
             "feed_forward_proj": "gated-gelu"} | t5_shape
    config = T5Config(
        vocab_size=vocab_size,
        d_model=d_model,
        dropout_rate=0.0,
        is_encoder_decoder=False,
        pad_token_id=0,
        eos_token_id=1,
        **shape,
    )
    config.architectures = ["T5EncoderModel"]
    model = T5EncoderModel(config).eval()
    model.save_pretrained(str(path))

    _write_json(path / "sentence_bert_config.json", {"max_seq_length": 512, "do_lower_case": False})
    _write_json(
        path / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"},
            {"idx": 3, "name": "3", "path": "3_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    (path / "1_Pooling").mkdir(exist_ok=True)
    _write_json(
        path / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": d_model,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
        },
    )
    (path / "2_Dense").mkdir(exist_ok=True)
    _write_json(
        path / "2_Dense" / "config.json",
        {
            "in_features": d_model,
            "out_features": out_dim,
            "bias": False,
            "activation_function": "torch.nn.modules.linear.Identity",
        },
    )
    dense_weight = torch.randn(out_dim, d_model, generator=torch.Generator().manual_seed(seed + 1)) / d_model**0.5
    torch.save({"linear.weight": dense_weight}, path / "2_Dense" / "pytorch_model.bin")
    (path / "3_Normalize").mkdir(exist_ok=True)
    return path


def _write_json(path: Path, obj: object) -> None:
    path.write_text(json.dumps(obj, indent=2), encoding="utf-8")


if __name__ == "__main__":
    import sys

    print(build_tiny_instructor(Path(sys.argv[1])))
