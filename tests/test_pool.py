"""The encoder pool: keyed by the resolved model, so two names for one model load its weights once."""

from __future__ import annotations

import huggingface_hub.constants
import pytest

from instructor_core import ModelLoadError, pool as pool_module
from instructor_core.pool import EncoderPool


@pytest.fixture
def load_calls(monkeypatch, tmp_path):
    """Every load_encoder call the pool makes, by resolved model name (offline, empty HF cache)."""
    calls: list[str] = []
    real = pool_module.load_encoder

    def counting(source, *args, **kwargs):
        calls.append(source.name)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(pool_module, "load_encoder", counting)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    return calls


def test_auto_then_instructor_mini_loads_once(load_calls):
    pool = EncoderPool("auto", device="cpu")
    first = pool.get()  # offline, nothing cached: auto is instructor-mini
    assert pool.get("instructor-mini") is first and pool.get("auto") is first
    assert load_calls == ["instructor-mini"]
    assert first.source.choice == "instructor-mini"  # what a picker shows instead of "auto"


def test_bundled_aliases_share_one_encoder_and_cache(load_calls):
    pool = EncoderPool("bundled", device="cpu")
    vectors = pool.get("bundled").encode(["one text"])
    again = pool.get("bundled-base")
    assert again is pool.get() and load_calls == ["bundled-base"]
    assert (again.encode(["one text"]) == vectors).all() and again.cache.stats()["hits"] == 1


def test_keeps_three_models_warm_by_default(load_calls, tiny_instructor_path):
    pool = EncoderPool("bundled", device="cpu")
    assert pool.max_loaded == 3
    for name in ("bundled", "instructor-mini", tiny_instructor_path, "bundled-base", "instructor-mini"):
        pool.get(name)
    assert load_calls == ["bundled-base", "instructor-mini", "tiny-instructor"]
    pool.get("auto")  # the fourth name is instructor-mini again: still nothing new
    assert len(load_calls) == 3


def test_hosted_allow_list_accepts_aliases_only_of_allowed_models(load_calls):
    pool = EncoderPool("instructor-mini", device="cpu", allowed=["instructor-mini", "bundled-base"])
    assert pool.get("bundled").name == "bundled-base"
    with pytest.raises(ModelLoadError, match="not available on this server"):
        pool.get("hkunlp/instructor-large")


def test_catalogue_families_agree_with_known_ids_and_hosted_mode_offers_what_loads_offline(tmp_path, monkeypatch):
    from instructor_core.models import CATALOGUE, offline_choices
    from instructor_core.profiles import FAMILY_SUMMARIES, known_family

    for entry in CATALOGUE:
        assert entry.family in FAMILY_SUMMARIES
        if entry.hub_id:
            assert known_family(entry.hub_id) == (None if entry.family == "plain" else entry.family), entry.name
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    assert offline_choices() == ["auto", "instructor-mini", "bundled-base"]
