"""``python -m instructor_core.train --config ...``: the trainer of :mod:`instructor_core.training.trainer`,
under its original name (its public names are re-exported)."""

import sys

from .training.config import DataConfig, TrainConfig  # noqa: F401
from .training.loss import build_loss  # noqa: F401
from .training.trainer import (build_training_data, export_fp16, load_base_model, main,  # noqa: F401
                               stsb_dev_evaluator, train, training_arguments)

if __name__ == "__main__":
    sys.exit(main())
