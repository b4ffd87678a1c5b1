"""Training configuration: a JSON file (``configs/*.json``) read into :class:`TrainConfig`."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .tasks import HELDOUT_PERMILLE, REPO_ROOT


@dataclass
class DataConfig:
    """What :func:`.mixture.build_mixture` is called with."""

    datasets: dict[str, dict[str, Any]] | list[str] | None = None  # None: tasks.DEFAULT_DATASETS (v1)
    data_dir: str | None = None  # None: $INSTRUCTOR_TRAIN_DATA or ../shared/data/train
    no_instruction_share: float = 0.2
    no_instruction_kinds: list[str] = field(default_factory=lambda: ["symmetric", "asymmetric"])
    heldout_permille: int = HELDOUT_PERMILLE
    max_examples_scale: float = 1.0
    classification_hard_negatives: bool = True
    heldout_phrasings: dict[str, list[int]] = field(default_factory=dict)  # never trained; scored as unseen
    dev_seed: int = 0  # which texts of the two-label sets are held out as their dev part
    seed: int = 0


@dataclass
class TrainConfig:
    base_model: str = "bundled"  # anything load_encoder accepts: "bundled", a folder, a hub id
    output_dir: str = "runs/instructor-mini"
    data: DataConfig = field(default_factory=DataConfig)
    temperature: float = 0.01  # the paper's; the loss scale is 1 / temperature
    mask_same_label_negatives: bool = True
    loss: str = "mnrl"  # "mnrl" or "cached_mnrl" (GradCache: big batches in bounded memory; no label masking)
    mini_batch_size: int = 32  # cached_mnrl only
    batch_size: int = 32
    learning_rate: float = 2e-5
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    max_steps: int = 1000  # <= 0: train for `epochs` instead
    epochs: float = 1.0
    max_seq_length: int = 128
    batch_sampler: str = "no_duplicates"
    multi_dataset_batch_sampler: str = "proportional"
    logging_steps: int = 10
    save_steps: int = 200
    save_total_limit: int = 3
    eval_steps: int = 0  # > 0: STS-B dev Spearman (no instruction) every eval_steps
    seed: int = 42
    seeds: list[int] = field(default_factory=list)  # the recipe's seed sweep; `--seed N` runs one of them
    precision: str = "auto"  # mixed precision as encoder.pick_dtype reads it: "auto" (bf16/fp16 on GPU, fp32
    # on CPU), "fp32", "fp16", "bf16"
    torch_threads: int | None = None
    dataloader_num_workers: int = 0
    export_dir: str | None = None  # also write an fp16 copy here at the end (see export_fp16)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainConfig:
        raw = {k: v for k, v in raw.items() if not k.startswith("_")}  # "_comment" keys are documentation
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"Unknown config key(s) {sorted(unknown)}; known: {sorted(known)}")
        data_raw = {k: v for k, v in dict(raw.pop("data", {}) or {}).items() if not k.startswith("_")}
        data_known = {f.name for f in dataclasses.fields(DataConfig)}
        if set(data_raw) - data_known:
            raise ValueError(f"Unknown data key(s) {sorted(set(data_raw) - data_known)}; known: {sorted(data_known)}")
        config = cls(**raw, data=DataConfig(**data_raw))
        config.validate()
        return config

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def validate(self) -> None:
        if not self.temperature > 0:
            raise ValueError("temperature must be > 0")
        if self.loss not in ("mnrl", "cached_mnrl"):
            raise ValueError("loss must be 'mnrl' or 'cached_mnrl'")
        if self.batch_size < 2:
            raise ValueError("batch_size must be at least 2 (in-batch negatives)")
        if self.precision not in ("auto", "fp32", "fp16", "bf16"):
            raise ValueError("precision must be auto, fp32, fp16 or bf16")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def resolved_output_dir(self) -> Path:
        path = Path(self.output_dir)
        return path if path.is_absolute() else REPO_ROOT / path
