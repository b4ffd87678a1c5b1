"""Hosted mode as the command line builds it: allow-list, request time limit, upload cap, temp cleanup."""

from __future__ import annotations

import os
import re
import time

import pytest
from gradio_client import Client, handle_file

from app import create_app, launch_options, parse_args
from pages.common import OUTPUT_MAX_AGE_S, AppContext, output_path

MAIN_ENDPOINTS = {"instruction_similarity", "text_neighbours", "compare_phrasings", "project", "cluster"}


@pytest.fixture(scope="module")
def hosted():
    args = parse_args(["--hosted", "--model", "bundled", "--device", "cpu", "--max-upload-mb", "1",
                       "--time-limit", "42", "--host", "127.0.0.1"])
    demo = create_app(args)
    options = {**launch_options(args), "server_port": None}
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, **options)
    yield demo, url
    demo.close()


def test_main_actions_have_the_time_limit(hosted):
    demo, _ = hosted
    limits = {fn.api_name: fn.time_limit for fn in demo.fns.values() if fn.api_name in MAIN_ENDPOINTS}
    assert limits == {name: 42 for name in MAIN_ENDPOINTS}


def test_model_picker_is_an_allow_list(hosted):
    _, url = hosted
    client = Client(url, verbose=False)
    with pytest.raises(Exception, match="not in the list of choices"):  # the picker takes no custom values
        client.predict("/etc/passwd", api_name="/load_model")
    table = {"headers": ["instruction"], "data": [["Represent the text: "], [""]]}
    with pytest.raises(Exception, match="not in the list of choices"):  # nor does any page's model input
        client.predict("some/remote-code-model", "a text", table, api_name="/instruction_similarity")
    *_, message = client.predict("bundled", "a text", table, api_name="/instruction_similarity")
    assert message == ""


def test_uploads_over_the_cap_are_refused(hosted, tmp_path):
    _, url = hosted
    big = tmp_path / "big.csv"
    big.write_text("text\n" + "some words here\n" * 150_000)  # ~2.4 MB, cap is 1 MB
    with pytest.raises(Exception):
        Client(url, verbose=False).predict("bundled", "Upload a CSV…", handle_file(str(big)), "text", "", "k-means",
                                           "auto", "PCA", ".npy", api_name="/cluster")


def test_old_download_folders_are_removed(tmp_path):
    ctx = AppContext(pool=None, output_dir=tmp_path)
    old = output_path(ctx, "a.csv").parent
    stale = time.time() - OUTPUT_MAX_AGE_S - 10
    os.utime(old, (stale, stale))
    fresh = output_path(ctx, "b.csv").parent
    assert not old.exists() and fresh.exists()


def test_a_run_over_the_time_limit_stops_and_says_what_fits(tmp_path):
    """Embedding 20,000 rows takes minutes on a CPU: with a 2 s limit the run stops early, frees its
    worker and says how many rows would fit, instead of running on and returning late."""
    args = parse_args(["--hosted", "--model", "bundled", "--device", "cpu", "--time-limit", "2",
                       "--host", "127.0.0.1"])
    demo = create_app(args)
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, **{**launch_options(args), "server_port": None})
    try:
        big = tmp_path / "big.csv"
        big.write_text("text\n" + "".join(f"Review {i}: the delivery took {i % 9} days, the box was fine.\n"
                                          for i in range(20_000)))
        client = Client(url, verbose=False)
        figure, table, csv_file, embeddings_file, message = client.predict(
            "bundled", "Upload a CSV…", handle_file(str(big)), "text", "", "k-means", "auto", "PCA", ".npy",
            api_name="/cluster")
        assert not isinstance(csv_file, str) and not isinstance(embeddings_file, str)  # no result files
        assert re.search(r"2 s time limit.* About [\d,]+ of the 20,000 rows fit in the limit", message), message
    finally:
        demo.close()
