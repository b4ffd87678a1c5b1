"""Many users at once against the real app on loopback: all succeed, and a long job blocks nobody."""

from __future__ import annotations

import threading
import time

import pandas as pd
from gradio_client import Client, handle_file

from bench.load import run_users


def test_eight_concurrent_users_all_get_correct_results(app_server):
    timings = run_users(app_server[0], users=8, rounds=1)
    assert len(timings) == 8 * 4  # every call returned, every result was checked inside run_users


def test_long_clustering_job_does_not_block_a_playground_call(app_server, tmp_path):
    url = app_server[0]
    # 2,000 rows (the fixture's cap): long enough that it is still running on an idle machine
    rows = pd.DataFrame({"text": [f"long job text {i} about topic {i % 9} and more words" for i in range(2000)]})
    path = tmp_path / "long.csv"
    rows.to_csv(path, index=False)
    finished: dict[str, float] = {}

    def long_job():
        Client(url, verbose=False).predict("bundled", "Upload a CSV…", handle_file(str(path)), "text",
                                           "Represent the text for clustering: ", "k-means", "auto", "UMAP", ".npy",
                                           api_name="/cluster")
        finished["cluster"] = time.perf_counter()

    worker = threading.Thread(target=long_job)
    worker.start()
    time.sleep(3)  # the clustering job is encoding by now
    table = {"headers": ["instruction"], "data": [["Represent the text for retrieval: "], [""]]}
    _, _, message = Client(url, verbose=False).predict("bundled", "A quick question while the job runs.", table,
                                                       api_name="/instruction_similarity")
    finished["playground"] = time.perf_counter()
    worker.join(timeout=600)
    assert message == ""
    assert finished["playground"] < finished["cluster"]
