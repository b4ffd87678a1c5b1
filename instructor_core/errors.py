"""Errors whose message is meant for the person using the app or notebook."""


class InputError(ValueError):
    """Bad user input (file, column, instruction, model name...).

    The message is complete, polite and actionable, so a UI can show ``str(err)`` as is.
    """


class ModelLoadError(RuntimeError):
    """A model could not be found or loaded; the message says which and what to try."""


class JobStopped(RuntimeError):
    """Work stopped before it finished: cancelled, or over its time limit (see :mod:`instructor_core.jobs`).

    The message says why and, for a time limit, how much would fit.
    """


class MissingDependencyError(ImportError):
    """An optional package a feature needs is not installed; the message says how to install it."""
