"""``python -m instructor_core.evaluate MODEL ...``: runs :func:`instructor_core.training.evaluate.main`."""

import sys

from .training.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
