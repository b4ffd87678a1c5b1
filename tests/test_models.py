"""Model resolution: "auto", "bundled", folders, hub ids and the HF cache, all offline."""

from __future__ import annotations

import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import huggingface_hub.constants
import pytest

from instructor_core import ModelLoadError, load_encoder, resolve_model
from instructor_core import models
from instructor_core.models import AUTO_DOWNLOAD_ID, BUNDLED_BASE, INSTRUCTOR_MINI, bundled_model_path
from instructor_core.profiles import detect_profile


@pytest.fixture
def empty_hf_cache(tmp_path, monkeypatch):
    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    return cache


def _install_in_hf_cache(cache, repo_id: str, model_dir: str) -> None:
    """Lay out ``model_dir`` as the HF cache does after a download of ``repo_id``."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / ("0" * 40)
    shutil.copytree(model_dir, snapshot)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)


def test_auto_offline_falls_back_to_instructor_mini_quickly(empty_hf_cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    source = resolve_model("auto")
    assert time.perf_counter() - start < 3
    assert source.name == source.choice == INSTRUCTOR_MINI and source.offline
    assert detect_profile(source.location).family == "instructor"
    assert source.location == str(models.INSTRUCTOR_MINI_PATH)


def test_auto_offline_without_instructor_mini_falls_back_to_bundled(empty_hf_cache, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(models, "INSTRUCTOR_MINI_PATH", tmp_path / "absent")
    source = resolve_model("auto")
    assert source.choice == BUNDLED_BASE and not detect_profile(source.location).instruction_tuned
    with pytest.raises(ModelLoadError, match="not in this copy"):
        resolve_model(INSTRUCTOR_MINI)


def test_bundled_base_is_the_untuned_minilm():
    assert resolve_model("bundled-base").location == resolve_model("bundled").location == bundled_model_path()


def test_auto_without_offline_flag_does_not_hang(empty_hf_cache, monkeypatch):
    # The sandbox has no network: the hub probe must give up within its 2 s budget.
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "https://10.255.255.1")  # unroutable: connect would hang
    start = time.perf_counter()
    source = resolve_model("auto")
    assert time.perf_counter() - start < 3
    assert source.offline and source.name == INSTRUCTOR_MINI


def test_auto_picks_the_hub_model_when_the_hub_answers(empty_hf_cache, monkeypatch):
    class FakeHub(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server naming
            self.send_response(200 if self.path == f"/api/models/{AUTO_DOWNLOAD_ID}" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), FakeHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
        source = resolve_model("auto")
    finally:
        server.shutdown()
    assert source.location == source.hub_id == AUTO_DOWNLOAD_ID and not source.offline


def test_auto_prefers_an_instructor_in_the_hf_cache(empty_hf_cache, tiny_instructor_path):
    _install_in_hf_cache(empty_hf_cache, "hkunlp/instructor-base", tiny_instructor_path)
    source = resolve_model("auto")
    assert source.name == source.hub_id == "hkunlp/instructor-base" and source.offline
    encoder = load_encoder("auto", device="cpu")
    assert encoder.name == "hkunlp/instructor-base" and encoder.dim == 24


def test_cached_hub_id_loads_by_name(empty_hf_cache, tiny_instructor_path):
    _install_in_hf_cache(empty_hf_cache, "hkunlp/instructor-large", tiny_instructor_path)
    encoder = load_encoder("hkunlp/instructor-large", device="cpu")
    assert encoder.instruction_tuned and encoder.encode(["hello"]).shape == (1, 24)


def test_local_folder(tiny_instructor_path):
    source = resolve_model(tiny_instructor_path)
    assert source.location.endswith("tiny-instructor") and source.choice == source.location


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "No model name"),
        ("not a model!", "Unknown model"),
        ("hkunlp/instructor-xxl", "not in the local Hugging Face cache"),
    ],
)
def test_unknown_models_get_clear_errors(empty_hf_cache, name, message):
    with pytest.raises(ModelLoadError, match=message):
        resolve_model(name)


def test_folder_without_a_model(tmp_path):
    with pytest.raises(ModelLoadError, match="holds no model"):
        resolve_model(str(tmp_path))


def test_bad_device_and_dtype():
    with pytest.raises(ModelLoadError, match="Unknown device"):
        load_encoder("bundled", device="tpu")
    with pytest.raises(ModelLoadError, match="Unknown dtype"):
        load_encoder("bundled", device="cpu", dtype="int3")
