"""The headless command: embed (and cluster) a CSV column from a script."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from instructor_core.cli import main


def test_embed_and_cluster_a_csv(tmp_path, capsys):
    source = pd.DataFrame({"id": ["007", "008", "009", "010", "011", "012"],
                           "body": ["pasta with garlic", "tomato sauce recipe", "", "phone charger broke",
                                    "battery lasts long", "=cmd|' /C calc'!A0"]})
    path = tmp_path / "in.csv"
    source.to_csv(path, index=False)
    out = tmp_path / "out"
    code = main(["embed", str(path), "--model", "bundled", "--device", "cpu", "--column", "body",
                 "--instruction", "Represent the text for clustering by topic: ", "--clusters", "2",
                 "--projection", "pca", "--out-dir", str(out), "--format", "parquet"])
    assert code == 0
    table = pd.read_csv(out / "clustered.csv", dtype=str)
    assert list(table["id"]) == list(source["id"]) and table["cluster"].isna().tolist() == [False, False, True,
                                                                                             False, False, False]
    assert table["body"].iloc[5].startswith("'=")  # formula neutralised
    embeddings = np.stack(pd.read_parquet(out / "embeddings.parquet")["embedding"])
    assert embeddings.shape == (6, 384) and np.isnan(embeddings[2]).all()
    assert str(out / "clusters.csv") in capsys.readouterr().out


def test_embed_only_and_clear_errors(tmp_path, capsys):
    path = tmp_path / "in.csv"
    pd.DataFrame({"text": ["one text here", "another one"]}).to_csv(path, index=False)
    assert main(["embed", str(path), "--model", "bundled", "--device", "cpu", "--out-dir", str(tmp_path / "o")]) == 0
    assert np.load(tmp_path / "o" / "embeddings.npy").shape == (2, 384)
    assert main(["embed", str(path), "--model", "no/such-model", "--out-dir", str(tmp_path / "o")]) == 2
    assert "error:" in capsys.readouterr().err
    assert main(["embed", str(path), "--column", "missing", "--model", "bundled"]) == 2


def test_embed_warns_about_truncated_texts_and_hdbscan_noise(tmp_path, capsys):
    texts = ["word " * 400] + [f"{'phone battery charger' if i % 2 else 'pasta garlic sauce'} {i}" for i in range(29)]
    path = tmp_path / "long.csv"
    pd.DataFrame({"text": texts}).to_csv(path, index=False)
    assert main(["embed", str(path), "--model", "bundled", "--device", "cpu", "--out-dir", str(tmp_path / "o")]) == 0
    assert "1 text(s) are longer than the 256 tokens" in capsys.readouterr().err
    assert main(["embed", str(path), "--model", "bundled", "--device", "cpu", "--out-dir", str(tmp_path / "c"),
                 "--clusters", "auto", "--algorithm", "hdbscan", "--projection", "pca"]) == 0
    err = capsys.readouterr().err
    assert "1 text(s) are longer" in err and "HDBSCAN left" in err and "in no cluster" in err


def test_bad_cluster_count_is_refused_before_the_model_loads(tmp_path, capsys, monkeypatch):
    path = tmp_path / "in.csv"
    pd.DataFrame({"text": ["one text here", "another one"]}).to_csv(path, index=False)

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded before the arguments were checked")

    monkeypatch.setattr("instructor_core.cli.load_encoder", no_model)
    for bad in ("five", "1", "-3"):
        with pytest.raises(SystemExit) as exit_info:
            main(["embed", str(path), "--clusters", bad, "--out-dir", str(tmp_path / "o")])
        assert exit_info.value.code == 2
        assert f"--clusters: use 'auto' or a whole number of at least 2, not '{bad}'" in capsys.readouterr().err


def test_models_lists_the_catalogue_and_what_loads_offline(capsys, monkeypatch, tmp_path):
    import huggingface_hub.constants

    from instructor_core.models import CATALOGUE

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    assert main(["models"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == len(CATALOGUE)
    by_name = {row.split(" | ")[0].lstrip("| "): row for row in rows}
    assert "| yes |" in by_name["instructor-mini"] and "| yes |" in by_name["bundled-base (or bundled)"]
    assert "no: not downloaded yet" in by_name["Qwen/Qwen3-Embedding-0.6B"]
    assert "`Instruct: {task}\\nQuery:`, last-token pooling" in by_name["Qwen/Qwen3-Embedding-0.6B"]
    assert "--trust-remote-code" in by_name["nomic-ai/nomic-embed-text-v1.5"]
