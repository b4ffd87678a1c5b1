"""``python -m instructor_core ...``: see :mod:`instructor_core.cli`."""

import sys

from .cli import main

sys.exit(main())
