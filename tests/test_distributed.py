"""The Ray engine on a local 2-CPU Ray: same vectors as the single-process encoder, order, ids, retries."""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pytest

from instructor_core import distributed
from instructor_core.cli import main
from instructor_core.clustering import assign_to_centroids
from instructor_core.distributed import RayEncodeOptions, embed_with_ray
from instructor_core.errors import InputError, MissingDependencyError, ModelLoadError

INSTRUCTION = "Represent the review for classifying sentiment: "


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for the module (2 CPUs, as CI gives it); its start costs several seconds."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False)
    yield ray
    ray.shutdown()


def _texts(n: int) -> list[str]:
    words = ["food was cold", "service was great", "the movie plot was bad", "stock fell on friday",
             "team won the match", "card payment refund late"]
    return [f"{words[i % len(words)]} and {words[(i * 7) % len(words)]} number {i}" for i in range(n)]


def test_vectors_order_ids_clusters_and_coordinates_match_single_process(local_ray, tmp_path, tiny_instructor_path,
                                                                           tiny_encoder):
    texts = _texts(60)
    texts[7] = "   "  # an empty text keeps its row, with a NaN vector and no cluster
    ids = [f"{i:05d}" for i in range(60)]  # leading zeros survive: CSV ids are read as text
    source = tmp_path / "reviews.csv"
    pd.DataFrame({"id": ids, "body": texts, "stars": range(60)}).to_csv(source, index=False)
    options = RayEncodeOptions(model=tiny_instructor_path, device="cpu", instruction=INSTRUCTION, batch_size=4,
                               workers=2)  # 32-row calls: several batches on both actors

    result = embed_with_ray(source, tmp_path / "out", "body", options=options, id_column="id", clusters=3,
                            projection="pca", sample_size=30)

    out = pd.read_parquet(tmp_path / "out")
    assert list(out.columns) == ["row", "id", "embedding", "cluster", "x", "y"]
    assert out["row"].tolist() == list(range(60)) and out["id"].tolist() == ids
    vectors = np.stack(out["embedding"].to_numpy())
    keep = [i for i in range(60) if i != 7]
    expected = tiny_encoder.encode([texts[i] for i in keep], instruction=INSTRUCTION)
    assert np.abs(vectors[keep] - expected).max() <= 1e-6
    assert np.isnan(vectors[7]).all() and pd.isna(out["cluster"][7]) and np.isnan(out["x"][7])
    assert (result.rows, result.embedded, result.n_clusters) == (60, 59, 3)
    assert set(out["cluster"].dropna().astype(int)) == {0, 1, 2} and np.isfinite(out.loc[keep, ["x", "y"]]).all().all()
    assert list(result.clusters["cluster"]) == [0, 1, 2] and any("sample of 30" in n for n in result.notes)
    # every row sits in the cluster of its nearest sample centroid: recompute the centres from the output
    labels = out.loc[keep, "cluster"].astype(int).to_numpy()
    centres = np.stack([expected[labels == c].mean(axis=0) for c in range(3)])
    assert (assign_to_centroids(expected, centres) == labels).mean() > 0.9


def test_parquet_through_the_cli_with_a_batch_that_fails_once(local_ray, tmp_path, tiny_instructor_path,
                                                               tiny_encoder, monkeypatch, capsys):
    marker = tmp_path / "failed-once"

    class FailsOnce(distributed.EmbedBatches):  # defined here, so Ray ships it to the actor by value
        def __call__(self, batch):
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                return super().__call__(batch)
            raise RuntimeError("simulated transient failure (first batch only)")

    monkeypatch.setattr(distributed, "EmbedBatches", FailsOnce)
    texts = _texts(40)
    source = tmp_path / "in.parquet"
    pd.DataFrame({"key": np.arange(100, 140), "text": texts}).to_parquet(source)

    code = main(["embed", str(source), "--engine", "ray", "--model", tiny_instructor_path, "--device", "cpu",
                 "--id-column", "key", "--batch-size", "4", "--workers", "2", "--out-dir", str(tmp_path / "o")])

    assert code == 0 and marker.exists()  # one batch failed, and the job still finished
    out = pd.read_parquet(tmp_path / "o" / "embeddings")
    assert out["row"].tolist() == list(range(40)) and out["key"].tolist() == list(range(100, 140))
    assert np.abs(np.stack(out["embedding"].to_numpy()) - tiny_encoder.encode(texts)).max() <= 1e-6
    assert "Embedded 40 of 40 rows (column 'text')" in capsys.readouterr().err


def test_bad_input_is_refused_before_any_model_work(local_ray, tmp_path, capsys):
    good = tmp_path / "t.csv"
    pd.DataFrame({"text": ["one", "two", "three"], "blank": ["", " ", ""]}).to_csv(good, index=False)
    header_only = tmp_path / "h.csv"
    header_only.write_text("text,label\n")
    (tmp_path / "notes.txt").write_text("hello")
    options = RayEncodeOptions(model="bundled", device="cpu")
    cases = [
        (dict(source=tmp_path / "missing.parquet"), "File not found"),
        (dict(source=tmp_path / "notes.txt"), "reads .parquet and .csv"),
        (dict(source=good, column="body"), "There is no text column 'body'"),
        (dict(source=good, column="text", id_column="key"), "There is no id column 'key'"),
        (dict(source=good, column="blank"), "every row is empty"),
        (dict(source=header_only, column="text"), "has no rows"),
        (dict(source=good, column="text", projection="tsne"), "t-SNE cannot place new points"),
        (dict(source=good, column="text", clusters=1), "at least 2"),
        (dict(source=good, column="text", input_format="xlsx"), "Unknown input format"),
    ]
    for kwargs, message in cases:
        source = kwargs.pop("source")
        with pytest.raises(InputError, match=message):
            embed_with_ray(source, tmp_path / "out", options=options, **kwargs)
    assert main(["embed", str(good), "--engine", "ray", "--clusters", "2", "--algorithm", "hdbscan"]) == 2
    assert "cannot place new rows" in capsys.readouterr().err
    with pytest.raises(ModelLoadError, match="Unknown model"):
        embed_with_ray(good, tmp_path / "out", "text", options=RayEncodeOptions(model="no such model"))


def test_an_error_inside_the_actors_reaches_the_user_unwrapped(local_ray, tmp_path):
    source = tmp_path / "t.csv"
    pd.DataFrame({"text": ["one text", "another"]}).to_csv(source, index=False)
    options = RayEncodeOptions(model="bundled", device="cpu", instruction="Represent " * 300, retries=0, workers=1)
    with pytest.raises(InputError, match=r"^The instruction is \d+ tokens long"):
        embed_with_ray(source, tmp_path / "out", "text", options=options)


def test_missing_ray_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail as if it were not installed
    with pytest.raises(MissingDependencyError, match="requirements-scale.txt"):
        distributed.import_ray()
    source = tmp_path / "t.csv"
    pd.DataFrame({"text": ["one", "two"]}).to_csv(source, index=False)
    assert main(["embed", str(source), "--engine", "ray"]) == 2
    assert "pip install -r requirements-scale.txt" in capsys.readouterr().err
