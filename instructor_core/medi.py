"""The training tasks and mixture, now in :mod:`instructor_core.training` (``.tasks`` and ``.mixture``);
this name keeps ``from instructor_core import medi`` working."""

from .training.mixture import *  # noqa: F401,F403
from .training.tasks import *  # noqa: F401,F403
