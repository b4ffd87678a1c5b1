"""Shared fixtures. Everything runs offline: no test may wait on the Hugging Face hub."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import pytest  # noqa: E402

from tests.tiny_t5 import build_tiny_instructor  # noqa: E402


@pytest.fixture(scope="session")
def tiny_instructor_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A randomly initialised T5 encoder saved in the hkunlp/instructor-* layout."""
    path = tmp_path_factory.mktemp("models") / "tiny-instructor"
    build_tiny_instructor(path)
    return str(path)


@pytest.fixture(scope="session")
def tiny_encoder(tiny_instructor_path: str):
    from instructor_core import load_encoder

    return load_encoder(tiny_instructor_path, device="cpu")


@pytest.fixture(scope="session")
def bundled_encoder():
    from instructor_core import load_encoder

    return load_encoder("bundled", device="cpu")


@pytest.fixture(scope="session")
def app_server():
    """The real app (its offline default, instructor-mini, on CPU) served on loopback: (url, context)."""
    from app import build_app
    from instructor_core.pool import EncoderPool
    from pages.common import AppContext

    ctx = AppContext(EncoderPool("instructor-mini", device="cpu"), max_rows=2000)
    demo = build_app(ctx)
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    yield url, ctx
    demo.close()


@pytest.fixture(scope="session")
def client(app_server):
    from gradio_client import Client

    return Client(app_server[0], verbose=False)
