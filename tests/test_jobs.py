"""Time limits and cancellation (instructor_core.jobs): work stops between encode batches and stages,
work that clearly cannot finish is refused at the start, and a stop says how many rows would fit."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from instructor_core import JobStopped, explore
from instructor_core.jobs import Job, checkpoint, current
from pages.common import AppContext, main_action


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _texts(n: int, tag: str) -> list[str]:
    """Texts no earlier test embedded (the encoder's cache would make them free)."""
    return [f"{tag} review number {i}: the parcel came {i % 7} days late and the box was dented." for i in range(n)]


def _counting(encoder, monkeypatch) -> list[int]:
    """Record how many texts each model call of ``encoder`` embeds."""
    calls: list[int] = []
    original = encoder._encode_chunk

    def counted(texts, *args, **kwargs):
        calls.append(len(texts))
        return original(texts, *args, **kwargs)

    monkeypatch.setattr(encoder, "_encode_chunk", counted)
    return calls


def test_deadline_cancel_and_prediction_with_a_fake_clock():
    clock = FakeClock()
    job = Job(time_limit=100, rows=7600, clock=clock)
    clock.now += 60
    job.check("the projection", remaining_s=30)  # 90 s in all: fits
    job.check("the projection", remaining_s=60)  # 120 s: over, but not clearly (the deadline will tell)
    with pytest.raises(JobStopped, match=r"Too long for the 100 s time limit: embedding would take about 3 min more"
                                         r".* About 2,500 of the 7,600 rows fit in the limit"):
        job.check("embedding", remaining_s=180)  # 240 s in all: 100/240 x 0.8 of 7,600 rows = 2,533 -> 2,500
    clock.now += 41
    with pytest.raises(JobStopped, match=r"Stopped at the 100 s time limit, before the keywords \(101 s so far\)\."
                                         r" About 6,000 of the 7,600 rows fit"):
        job.check("the keywords")
    unlimited = Job()
    unlimited.check("clustering", remaining_s=1e9)  # no limit: only a cancel stops it
    unlimited.cancel()
    with pytest.raises(JobStopped, match="Cancelled"):
        unlimited.check("clustering")


def test_checkpoint_checks_only_the_current_job():
    job = Job(time_limit=5)
    job.cancel()
    checkpoint("clustering")  # no current job: nothing happens
    with job:
        assert current() is job
        with pytest.raises(JobStopped):
            checkpoint("clustering")
    assert current() is None
    with pytest.raises(ValueError):
        Job(time_limit=0)


def test_encoding_stops_at_the_deadline_within_one_batch(bundled_encoder, monkeypatch):
    calls = _counting(bundled_encoder, monkeypatch)
    clock = FakeClock()
    monkeypatch.setattr(bundled_encoder, "_seconds_per_unit", None)

    def tick(done, total):
        if done >= 64:
            clock.now += 5000  # the clock runs out after the second batch

    with Job(time_limit=1000, rows=500, clock=clock), pytest.raises(JobStopped, match="Stopped at the 1000 s time"):
        bundled_encoder.encode(_texts(500, "deadline"), batch_size=32, progress=tick)
    assert calls == [32, 32]


def test_clearly_too_long_work_is_refused_before_any_model_time(bundled_encoder, monkeypatch):
    bundled_encoder.encode(_texts(64, "measure"))  # measures the speed
    assert bundled_encoder.predict_seconds(1000) > 0
    calls = _counting(bundled_encoder, monkeypatch)
    monkeypatch.setattr(bundled_encoder, "_seconds_per_unit", 1e-3)  # 20k texts ~ 2,400 s at this speed
    with Job(time_limit=60, rows=20_000), pytest.raises(JobStopped) as stopped:
        bundled_encoder.encode(_texts(20_000, "refused"))
    assert calls == []
    assert "Too long for the 60 s time limit: embedding the rest would take about" in str(stopped.value)
    assert "of the 20,000 rows fit in the limit" in str(stopped.value)


def test_clustering_stops_between_stages(bundled_encoder, monkeypatch):
    def not_reached(*args, **kwargs):
        raise AssertionError("clustering ran after the job was cancelled")

    monkeypatch.setattr(explore, "cluster", not_reached)
    texts = _texts(40, "stages")
    job = Job()

    def cancel_when_done(done, total):
        if done == total:
            job.cancel()  # after the last batch: the next check is the one before clustering

    with job, pytest.raises(JobStopped, match="Cancelled"):
        explore.cluster_texts(bundled_encoder, pd.DataFrame({"text": texts}), texts, list(range(len(texts))),
                              progress=cancel_when_done)


def test_cancel_stops_a_running_page_action_and_frees_it(bundled_encoder, monkeypatch):
    """What the Cancel button does: the running handler ends (its thread is free) with a message."""
    calls = _counting(bundled_encoder, monkeypatch)
    ctx = AppContext(pool=None, time_limit=None)
    started = threading.Event()
    texts = _texts(3000, "cancel")

    @main_action(ctx, "cluster", 2)
    def handler():
        return bundled_encoder.encode(texts, batch_size=16, progress=lambda done, total: done and started.set()), "done"

    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("out", handler()))
    worker.start()
    assert started.wait(60)
    assert ctx.jobs.cancel(("", "cluster")) == 1
    worker.join(60)
    assert not worker.is_alive()
    assert result["out"][-1].startswith("⚠️ Cancelled after")
    assert sum(calls) < len(texts)
    assert ctx.jobs.cancel(("", "cluster")) == 0  # nothing left running


def test_every_named_long_action_has_a_cancel_button():
    """Each page's named endpoint that runs as a job (compare accordions included) is cancelled by a button."""
    from app import build_app
    from instructor_core.pool import EncoderPool
    from pages.common import AppContext

    demo = build_app(AppContext(EncoderPool("instructor-mini", device="cpu")))
    jobs_by_name = {f.api_name: i for i, f in demo.fns.items()
                    if getattr(f.fn, "job_action", None) == f.api_name}
    cancelled = {i for f in demo.fns.values() for i in (f.cancels or [])}
    assert set(jobs_by_name) >= {"cluster", "compare_phrasings", "crossed_matrix", "neighbour_movement",
                                 "compare_models_projection", "compare_models_phrasings"}
    # the playground's two actions encode at most MAX_INSTRUCTIONS x MAX_PLAYGROUND_TEXTS short inputs: seconds
    quick = {"instruction_similarity", "text_neighbours"}
    assert {name for name, i in jobs_by_name.items() if i not in cancelled} == quick
