"""``python -m instructor_core.evaluate MODEL ...``: :mod:`instructor_core.training.evaluate` under its
original name (its public names are re-exported)."""

import sys

from .training.evaluate import *  # noqa: F401,F403
from .training.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
