"""Time limits and cancellation for long work: a :class:`Job` is a deadline plus a cancel flag.

The library checks the current job between encode batches and between stages (projection, clustering,
keywords), so a request over its time limit, or cancelled by its user, stops within one batch or stage
and frees its worker. The encoder also predicts its own remaining time from its measured speed, so work
that clearly cannot finish is refused at the start, with how many rows would fit, instead of running
out the clock. ``with job:`` makes a job current for the calling thread (a context variable); without
one, :func:`checkpoint` does nothing, so notebooks and scripts run unlimited.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar, Token
from dataclasses import dataclass, field

from .errors import JobStopped

# Work whose predicted time exceeds the limit by this factor is refused at once; below it, it runs and
# stops at the deadline if the prediction was pessimistic.
CLEARLY_TOO_LONG = 1.25
# "About N rows fit" is rounded down and shaved by this share: the stages after encoding need time too.
FIT_MARGIN = 0.8

_current: ContextVar[Job | None] = ContextVar("instructor_core_job", default=None)


@dataclass(eq=False)  # a job is itself, not its values
class Job:
    """One request's budget: ``time_limit`` seconds from creation (None: no limit) and a cancel flag.

    ``rows`` (the number of table rows the request processes) lets a stop say how many rows would fit.
    """

    time_limit: float | None = None
    rows: int | None = None
    clock: Callable[[], float] = time.monotonic  # tests pass a fake one
    started: float = field(init=False)
    _cancelled: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _tokens: list[Token] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.time_limit is not None and self.time_limit <= 0:
            raise ValueError(f"time_limit must be positive, got {self.time_limit}")
        self.started = self.clock()

    def __enter__(self) -> Job:
        self._tokens.append(_current.set(self))
        return self

    def __exit__(self, *exc: object) -> None:
        _current.reset(self._tokens.pop())

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        """Ask the work to stop; it does at its next check (within one encode batch or stage)."""
        self._cancelled.set()

    def check(self, stage: str, remaining_s: float | None = None) -> None:
        """Raise :class:`JobStopped` if cancelled, past the deadline, or (``remaining_s``: predicted
        seconds still needed) clearly unable to finish in time. ``stage`` names what would run next."""
        elapsed = self.elapsed
        if self.cancelled:
            raise JobStopped(f"Cancelled after {elapsed:.0f} s.")
        if self.time_limit is None:
            return
        if elapsed > self.time_limit:
            raise JobStopped(self._over_limit(f"Stopped at the {self.time_limit:g} s time limit, before {stage}",
                                              needed_s=elapsed + (remaining_s or 0.0)))
        if remaining_s is not None and elapsed + remaining_s > CLEARLY_TOO_LONG * self.time_limit:
            raise JobStopped(self._over_limit(
                f"Too long for the {self.time_limit:g} s time limit: {stage} would take about "
                f"{duration(remaining_s)} more at this server's measured speed", needed_s=elapsed + remaining_s))

    def rows_that_fit(self, needed_s: float) -> int | None:
        """About how many of ``rows`` would finish in the limit, if this job needs ``needed_s`` in all."""
        if self.rows is None or self.time_limit is None or needed_s <= 0:
            return None
        share = min(1.0, self.time_limit / needed_s) * FIT_MARGIN
        return _round_down(self.rows * share)

    def _over_limit(self, what: str, needed_s: float) -> str:
        fit = self.rows_that_fit(needed_s)
        advice = (f" About {fit:,} of the {self.rows:,} rows fit in the limit: use a smaller table." if fit
                  else " Use a smaller table or fewer instructions.")
        return f"{what} ({self.elapsed:.0f} s so far).{advice}"


def current() -> Job | None:
    """The job of the calling thread's context, if any."""
    return _current.get()


def checkpoint(stage: str, remaining_s: float | None = None) -> None:
    """Stop here if the current job is cancelled or over its time (a no-op without a current job)."""
    job = _current.get()
    if job is not None:
        job.check(stage, remaining_s)


def _round_down(n: float) -> int:
    """Down to two significant digits (1,234 -> 1,200), so the number reads as the estimate it is."""
    if n < 10:
        return int(n)
    step = 10 ** (int(math.log10(n)) - 1)
    return int(n // step * step)


def duration(seconds: float) -> str:
    """``seconds`` as a person reads an estimate: "45 s", "6 min", "1.5 h"."""
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"


class TimeLeft:
    """Seconds a run of ``total`` items still needs, from its progress reports ``(done, total)``.

    Before the run has measured anything (no item finished since the first report) it counts down
    ``expected_s``, an estimate made before starting (None: unknown); after, it extrapolates the rate
    since the first report, so items already done at the start (cached) do not inflate the rate.
    """

    def __init__(self, expected_s: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.expected_s = expected_s
        self.clock = clock
        self._first: tuple[float, int] | None = None

    def __call__(self, done: int, total: int) -> float | None:
        now = self.clock()
        if self._first is None:
            self._first = (now, done)
        started, done_at_start = self._first
        elapsed = now - started
        if done >= total:
            return 0.0
        if done > done_at_start and elapsed > 0:
            return (total - done) * elapsed / (done - done_at_start)
        return None if self.expected_s is None else max(0.0, self.expected_s - elapsed)
