"""Instruction fine-tuning, the INSTRUCTOR recipe on sentence-transformers' trainer.

    python -m instructor_core.train --config configs/instructor-mini.json [--resume] [--max-steps N]

The recipe (Su et al., "One Embedder, Any Task", section 2.3):

* examples ``(query, positive[, hard negative])``, each side read as ``instruction + text``; the
  instruction is an ST *prompt* and the Pooling module has ``include_prompt=False``, so instruction tokens
  are attended to but left out of the mean pool -- exactly what inference does (``Encoder.encode``). The
  data collator tokenises ``prompt + text`` and hands the prompt's token count to Pooling as
  ``prompt_length`` (``Transformer.preprocess`` -> ``{column}_prompt_length`` -> Pooling), which a test
  checks against ``model.encode(prompt=...)``;
* loss: cross-entropy over cosine similarities / temperature against the positive, every other positive
  in the batch and the hard negatives (:class:`InstructorLoss`, a MultipleNegativesRankingLoss with
  ``scale = 1 / temperature``; the paper uses 0.01). For classification sets, in-batch candidates that
  carry the anchor's own label are masked out (``mask_same_label_negatives``): with 2-6 labels most
  in-batch "negatives" would otherwise be texts of the same class;
* AdamW, lr 2e-5, linear schedule with 10 % warm-up;
* every batch from one sub-dataset (one task and one instruction phrasing) via the multi-dataset batch
  sampler, ``NO_DUPLICATES`` inside a batch.

A run directory holds ``checkpoint-*`` folders (resumable), ``final/`` (the trained model), ``run_log.jsonl``
(config, mixture, every logged step, evaluations, timings) and ``train.log``. A GPU is used when present
(bf16 where supported, else fp16); on CPU everything runs in fp32.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch

from ..encoder import load_encoder, pick_device, pick_dtype
from .config import REPO_ROOT, TrainConfig
from .loss import build_loss
from .mixture import Mixture, build_mixture
from .tasks import stsb_split

log = logging.getLogger("instructor_core.train")


# ---------------------------------------------------------------------------------------------------
# Model and data


def load_base_model(config: TrainConfig):
    """The base model as a SentenceTransformer in fp32 on the training device, loaded by the encoder's own
    :func:`~instructor_core.encoder.load_encoder` as an INSTRUCTOR model (``include_prompt=False``): what is
    trained is read exactly as inference reads it."""
    encoder = load_encoder(config.base_model, device=pick_training_device(), dtype="fp32", cache_size_mb=0,
                           as_instructor=True)
    model = encoder.model
    model.inference_max_seq_length = model.max_seq_length  # restored before saving
    model.max_seq_length = config.max_seq_length
    return model


def pick_training_device() -> str:
    """The encoder's ``auto`` device, except Apple MPS, which the trainer's mixed precision does not cover."""
    device = pick_device("auto")
    return "cpu" if device == "mps" else device


def build_training_data(config: TrainConfig, mixture: Mixture | None = None):
    """(DatasetDict, prompts, mixture) for the trainer, from ``mixture`` or else from ``config.data``.
    Classification sub-datasets get a ``label`` column ``[anchor class, negative class]`` when same-label
    masking is on."""
    if mixture is not None:
        return _with_labels(config, mixture)
    data = config.data
    mixture = build_mixture(
        data.datasets, data_dir=data.data_dir, no_instruction_share=data.no_instruction_share,
        no_instruction_kinds=data.no_instruction_kinds, heldout_permille=data.heldout_permille,
        max_examples_scale=data.max_examples_scale,
        classification_hard_negatives=data.classification_hard_negatives,
        heldout_phrasings=data.heldout_phrasings, dev_seed=data.dev_seed, seed=data.seed,
    )
    return _with_labels(config, mixture)


def _with_labels(config: TrainConfig, mixture: Mixture):
    columns = {key: dict(cols) for key, cols in mixture.columns.items()}
    if config.mask_same_label_negatives and config.loss == "mnrl":
        for key, labels in mixture.labels.items():
            columns[key]["label"] = labels
    return Mixture(columns, mixture.prompts, mixture.stats).to_dataset_dict(), mixture.prompts, mixture


def _precision_flags(config: TrainConfig) -> dict[str, bool]:
    """Mixed-precision flags of the trainer: the dtype ``encoder.pick_dtype`` picks for the training device
    (the weights stay fp32; only the forward pass runs in half precision)."""
    dtype = pick_dtype(config.precision, pick_training_device())
    return {torch.bfloat16: {"bf16": True}, torch.float16: {"fp16": True}}.get(dtype, {})


def training_arguments(config: TrainConfig, prompts: dict[str, dict[str, str]], has_eval: bool):
    from sentence_transformers import SentenceTransformerTrainingArguments
    from sentence_transformers.base.sampler import BatchSamplers, MultiDatasetBatchSamplers

    out = config.resolved_output_dir()
    return SentenceTransformerTrainingArguments(
        output_dir=str(out),
        prompts=prompts,
        batch_sampler=BatchSamplers(config.batch_sampler),
        multi_dataset_batch_sampler=MultiDatasetBatchSamplers(config.multi_dataset_batch_sampler),
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        lr_scheduler_type="linear",
        warmup_steps=config.warmup_ratio,  # a float < 1 is a ratio of the total steps (transformers 5)
        weight_decay=config.weight_decay,
        max_grad_norm=config.max_grad_norm,
        optim="adamw_torch",
        max_steps=config.max_steps if config.max_steps > 0 else -1,
        num_train_epochs=config.epochs,
        logging_steps=config.logging_steps,
        logging_first_step=True,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        eval_strategy="steps" if has_eval else "no",
        eval_steps=config.eval_steps if has_eval else None,
        seed=config.seed,
        data_seed=config.seed,
        dataloader_num_workers=config.dataloader_num_workers,
        dataloader_drop_last=True,
        report_to="none",
        disable_tqdm=not sys.stderr.isatty(),
        use_cpu=pick_training_device() == "cpu",
        **_precision_flags(config),
    )


def stsb_dev_evaluator(config: TrainConfig, max_pairs: int | None = None):
    from sentence_transformers.sentence_transformer.evaluation import EmbeddingSimilarityEvaluator

    frame = stsb_split("dev", config.data.data_dir)
    if max_pairs:
        frame = frame.head(max_pairs)
    return EmbeddingSimilarityEvaluator(frame["sentence1"].tolist(), frame["sentence2"].tolist(),
                                        (frame["score"] / 5.0).tolist(), name="stsb-dev", batch_size=64)


# ---------------------------------------------------------------------------------------------------
# Run log and progress


class RunLog:
    """Append-only JSON lines: one object per event, each with wall time and elapsed seconds."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.start = time.time()
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, event: str, **data: Any) -> None:
        record = {"event": event, "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
                  "elapsed_s": round(time.time() - self.start, 1), **data}
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, default=str) + "\n")


def _progress_callback(run_log: RunLog):
    from transformers import TrainerCallback

    class Progress(TrainerCallback):
        """Readable progress lines (step, loss, lr, speed, ETA) in train.log/stderr and the JSON run log."""

        def __init__(self) -> None:
            self.t0 = None
            self.step0 = 0

        def on_train_begin(self, args, state, control, **kwargs):
            self.t0, self.step0 = time.time(), state.global_step
            run_log.write("train_begin", global_step=state.global_step, max_steps=state.max_steps)

        def on_log(self, args, state, control, logs=None, **kwargs):
            logs = dict(logs or {})
            done = state.global_step - self.step0
            rate = done / max(time.time() - self.t0, 1e-9) if self.t0 else 0.0
            eta = (state.max_steps - state.global_step) / rate if rate else float("nan")
            run_log.write("log", step=state.global_step, max_steps=state.max_steps,
                          steps_per_s=round(rate, 4), eta_s=None if math.isnan(eta) else round(eta), **logs)
            parts = [f"step {state.global_step}/{state.max_steps}"]
            for key in ("loss", "learning_rate", "grad_norm", "eval_stsb-dev_spearman_cosine"):
                if key in logs:
                    parts.append(f"{key}={logs[key]:.4g}")
            parts.append(f"{rate:.3f} steps/s")
            if not math.isnan(eta):
                parts.append(f"ETA {eta / 60:.1f} min")
            log.info(" | ".join(parts))

        def on_save(self, args, state, control, **kwargs):
            run_log.write("checkpoint", step=state.global_step,
                          path=str(Path(args.output_dir) / f"checkpoint-{state.global_step}"))
            log.info("saved checkpoint-%d", state.global_step)

    return Progress()


def _setup_logging(run_dir: Path) -> logging.Handler:
    run_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(run_dir / "train.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    if not any(isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler) for h in log.handlers):
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        log.addHandler(stream)
    log.setLevel(logging.INFO)
    return handler


# ---------------------------------------------------------------------------------------------------
# Training


def last_checkpoint(run_dir: Path) -> Path | None:
    checkpoints = [p for p in run_dir.glob("checkpoint-*") if p.is_dir() and p.name.split("-")[-1].isdigit()]
    return max(checkpoints, key=lambda p: int(p.name.split("-")[-1])) if checkpoints else None


def train(config: TrainConfig, resume: bool | str = False, overwrite: bool = False,
          mixture: Mixture | None = None) -> Path:
    """Train, save ``<output_dir>/final`` and return its path.

    ``mixture``: train on this instead of building one from ``config.data`` (custom tasks).

    ``resume``: True continues from the newest ``checkpoint-*`` in ``output_dir`` (a path: from that
    checkpoint). A run directory that already has checkpoints is refused unless resuming or ``overwrite``.
    """
    from sentence_transformers import SentenceTransformerTrainer

    run_dir = config.resolved_output_dir()
    checkpoint = None
    if resume:
        checkpoint = Path(resume) if isinstance(resume, str) else last_checkpoint(run_dir)
        if checkpoint is None or not checkpoint.is_dir():
            raise FileNotFoundError(f"Nothing to resume: no checkpoint-* in {run_dir}")
    elif last_checkpoint(run_dir) is not None and not overwrite:
        raise FileExistsError(f"{run_dir} already has checkpoints; pass --resume to continue or --overwrite.")
    handler = _setup_logging(run_dir)
    run_log = RunLog(run_dir / "run_log.jsonl")
    try:
        if config.torch_threads:
            torch.set_num_threads(config.torch_threads)
        started = time.time()
        train_data, prompts, mixture = build_training_data(config, mixture)
        log.info("mixture: %d examples in %d sub-datasets (%.1fs)", len(mixture), len(train_data),
                 time.time() - started)
        run_log.write("start", config=config.to_dict(), resume_from=str(checkpoint) if checkpoint else None,
                      mixture=mixture.stats, prompts=prompts, env=_environment())
        model = load_base_model(config)
        evaluator = stsb_dev_evaluator(config) if config.eval_steps > 0 else None
        args = training_arguments(config, prompts, evaluator is not None)
        trainer = SentenceTransformerTrainer(
            model=model, args=args, train_dataset=train_data, loss=build_loss(model, config),
            evaluator=evaluator, callbacks=[_progress_callback(run_log)],
        )
        result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
        final = run_dir / "final"
        model.max_seq_length = getattr(model, "inference_max_seq_length", model.max_seq_length)
        model.save(str(final))
        run_log.write("end", final=str(final), global_step=trainer.state.global_step,
                      train_runtime_s=result.metrics.get("train_runtime"), metrics=result.metrics)
        log.info("done: %d steps, model saved to %s", trainer.state.global_step, final)
        if config.export_dir:
            export_dir = Path(config.export_dir)
            export_dir = export_dir if export_dir.is_absolute() else REPO_ROOT / export_dir
            report = export_fp16(final, export_dir)
            run_log.write("export", **report)
        return final
    except BaseException as err:
        run_log.write("error", error=repr(err))
        raise
    finally:
        log.removeHandler(handler)
        handler.close()


def _environment() -> dict[str, Any]:
    import sentence_transformers
    import transformers

    return {"python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "sentence_transformers": sentence_transformers.__version__,
            "device": pick_training_device(), "threads": torch.get_num_threads(), "cpus": os.cpu_count()}


# ---------------------------------------------------------------------------------------------------
# Export


def export_fp16(source: str | Path, target: str | Path, check_texts: Sequence[str] | None = None,
                check_instruction: str = "Represent the review for classifying sentiment: ") -> dict[str, Any]:
    """Save ``source`` (a SentenceTransformer folder) to ``target`` with fp16 safetensors weights and
    ``include_prompt=False`` pooling; reload it in fp32 and compare embeddings with the original.

    Returns sizes and the largest absolute embedding difference (and the cosine between original and
    fp16 embeddings), with and without an instruction.
    """
    import numpy as np

    source, target = Path(source), Path(target)
    texts = list(check_texts or ["The food was cold and the waiter rude.", "Stocks fell sharply on Friday.",
                                 "how are glacier caves formed?", "I love this phone, the battery lasts days."])
    original = load_encoder(str(source), device="cpu", dtype="fp32", cache_size_mb=0, as_instructor=True).model
    reference = {p: original.encode(texts, prompt=p, convert_to_numpy=True) for p in ("", check_instruction)}
    target.mkdir(parents=True, exist_ok=True)
    original.half()
    original.save(str(target), safe_serialization=True)
    del original
    _force_fp32_load(target)
    reloaded = load_encoder(str(target), device="cpu", dtype="fp32", cache_size_mb=0).model  # reads its own files
    dtypes = sorted({str(p.dtype) for p in reloaded.parameters()})
    diffs, cosines = {}, {}
    for prompt, ref in reference.items():
        got = reloaded.encode(texts, prompt=prompt, convert_to_numpy=True)
        diffs[prompt or "(none)"] = float(np.abs(got - ref).max())
        cosines[prompt or "(none)"] = float(np.min((got * ref).sum(1) / np.linalg.norm(got, axis=1)
                                                   / np.linalg.norm(ref, axis=1)))
    weights = target / "model.safetensors"
    return {"target": str(target), "weights_bytes": weights.stat().st_size if weights.exists() else None,
            "folder_bytes": sum(p.stat().st_size for p in target.rglob("*") if p.is_file()),
            "max_abs_diff": diffs, "min_cosine": cosines, "reloaded_dtypes": dtypes}


def _force_fp32_load(folder: Path) -> None:
    """fp16 weights on disk, fp32 in memory: transformers 5 loads in the dtype recorded in config.json
    (fp16 matmuls on CPU are slow and lossy), so the config records float32."""
    config_path = folder / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    for key in ("dtype", "torch_dtype"):
        if key in config:
            config[key] = "float32"
    config.setdefault("dtype", "float32")
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------------------
# CLI


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m instructor_core.train", description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="JSON config, e.g. configs/instructor-mini.json")
    parser.add_argument("--resume", nargs="?", const=True, default=False,
                        help="continue from the newest checkpoint in output_dir (or from the given checkpoint)")
    parser.add_argument("--overwrite", action="store_true", help="start over in an output_dir with checkpoints")
    parser.add_argument("--max-steps", type=int, help="override max_steps")
    parser.add_argument("--output-dir", help="override output_dir")
    parser.add_argument("--export-dir", help="override export_dir (fp16 copy written after training)")
    parser.add_argument("--seed", type=int, help="train with this seed (one of the config's `seeds`) into "
                                                     "<output_dir>-seed<N> (and <export_dir>-seed<N>)")
    parser.add_argument("--dry-run", action="store_true", help="build the mixture, print its summary, and stop")
    args = parser.parse_args(list(argv) if argv is not None else None)
    config = TrainConfig.load(args.config)
    if args.seed is not None:
        config.seed = args.seed
        config.output_dir = f"{config.output_dir}-seed{args.seed}"
        config.export_dir = f"{config.export_dir}-seed{args.seed}" if config.export_dir else None
    if args.max_steps is not None:
        config.max_steps = args.max_steps
    if args.output_dir:
        config.output_dir = args.output_dir
    if args.export_dir:
        config.export_dir = args.export_dir
    if args.dry_run:
        data, prompts, mixture = build_training_data(config)
        print(mixture.summary().to_string(index=False))
        print(f"{len(mixture)} examples in {len(data)} sub-datasets")
        return 0
    final = train(config, resume=args.resume, overwrite=args.overwrite)
    print(final)
    return 0


if __name__ == "__main__":
    sys.exit(main())
