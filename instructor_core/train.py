"""``python -m instructor_core.train --config ...``: runs :func:`instructor_core.training.trainer.main`."""

import sys

from .training.trainer import main

if __name__ == "__main__":
    sys.exit(main())
