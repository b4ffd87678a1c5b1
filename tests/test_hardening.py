"""Bad input through the same endpoints the UI calls: every case gets a clear message or a correct
result, the app stays up, and nothing the user uploaded is lost from the outputs."""

from __future__ import annotations

import pandas as pd
import pytest
from gradio_client import handle_file

from instructor_core import ModelLoadError
from instructor_core.pool import EncoderPool

UPLOAD = "Upload a CSV…"
FRAME = pd.DataFrame({
    "name": ["Zoë", "José", "Łukasz", "Ann"] * 5,
    "text": [f"{w} number {i}" for i, w in enumerate(["café crème brûlée", "naïve façade", "battery charger",
                                                       "garden hose"] * 5)],
})


def cluster_call(client, path, column="text", instruction="", k="2"):
    return client.predict("bundled", UPLOAD, handle_file(str(path)), column, instruction, "k-means", k, "PCA", ".npy",
                          api_name="/cluster")


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "encode"),
    [
        ("utf16.csv", lambda f: f.to_csv(index=False).encode("utf-16")),
        ("latin1.csv", lambda f: f.to_csv(index=False).encode("cp1252", errors="replace")),
        ("bom.csv", lambda f: f.to_csv(index=False).encode("utf-8-sig")),
        ("semicolon.csv", lambda f: f.to_csv(index=False, sep=";").encode()),
        ("tabs.tsv", lambda f: f.to_csv(index=False, sep="\t").encode()),
    ],
)
def test_encodings_and_delimiters_round_trip(client, tmp_path, name, encode):
    frame = FRAME if name != "latin1.csv" else FRAME.assign(name=["Zoë", "José", "Luc", "Ann"] * 5)
    *_, csv_path, _, message = cluster_call(client, write(tmp_path, name, encode(frame)))
    assert not message.startswith("⛔"), message
    out = pd.read_csv(csv_path, dtype=str)
    assert list(out["name"]) == list(frame["name"]) and list(out["text"]) == list(frame["text"])


@pytest.mark.parametrize(
    ("content", "column", "expected"),
    [
        (b"text,other\n,1\n,2\n,3\n", "text", "has no text"),
        (b"text\nonly one row\n", "text", "at least 2 texts; got 1"),
        (FRAME.to_csv(index=False).encode(), "body", "Columns: name, text"),
    ],
)
def test_unusable_tables_get_messages(client, tmp_path, content, column, expected):
    *_, message = cluster_call(client, write(tmp_path, "bad.csv", content), column=column)
    assert message.startswith("⛔") and expected in message


def test_rows_over_the_cap(client, app_server, tmp_path):
    cap = app_server[1].max_rows
    rows = "text\n" + "".join(f"row {i}\n" for i in range(cap + 1))
    *_, message = cluster_call(client, write(tmp_path, "big.csv", rows.encode()))
    assert f"the limit here is {cap:,}" in message


def test_huge_single_text_is_truncated_and_reported(client, tmp_path):
    frame = pd.DataFrame({"text": ["word " * 200_000, "short one", "another short", "a third"], "id": range(4)})
    *_, csv_path, _, message = cluster_call(client, write(tmp_path, "huge.csv", frame.to_csv(index=False).encode()))
    assert "1 text(s) are longer than the 256 tokens" in message
    assert len(pd.read_csv(csv_path)) == 4


def test_instruction_longer_than_the_model_limit(client, tmp_path):
    instruction = "Represent the " + "very " * 400 + "long text: "
    *_, message = cluster_call(client, write(tmp_path, "ok.csv", FRAME.to_csv(index=False).encode()),
                               instruction=instruction)
    assert message.startswith("⛔") and "Shorten the instruction" in message


def test_duplicate_column_names_are_kept(client, tmp_path):
    content = b"text,text,score\n" + b"".join(f"alpha {i},beta {i},{i}\n".encode() for i in range(6))
    *_, csv_path, _, message = cluster_call(client, write(tmp_path, "dup.csv", content))
    out = pd.read_csv(csv_path)
    assert {"text", "text.1", "score"} <= set(out.columns) and "duplicate" in message


def test_label_column_with_a_thousand_values(client, tmp_path):
    frame = pd.DataFrame({"text": [f"note number {i} about item {i % 7}" for i in range(1000)],
                          "label": [f"id-{i}" for i in range(1000)]})
    path = write(tmp_path, "labels.csv", frame.to_csv(index=False).encode())
    plot_a, _, _, _, _, message = client.predict(
        "bundled", UPLOAD, handle_file(str(path)), "text", "label", "", "Represent the note for topic: ", "PCA",
        15, 0.1, 30, 0, api_name="/project")
    assert "1,000 distinct values" in message and "(other)" in message
    assert plot_a is not None


def test_hosted_pool_refuses_names_off_the_allow_list(tiny_instructor_path):
    pool = EncoderPool("bundled", device="cpu", allowed=["bundled"])
    for name in (tiny_instructor_path, "someone/any-model", "/etc"):
        with pytest.raises(ModelLoadError, match="not available on this server"):
            pool.get(name)
    assert pool.get().name == "bundled-base"


def test_cli_flags_have_environment_twins(monkeypatch):
    from app import parse_args

    monkeypatch.setenv("INSTRUCTOR_EXPLORER_MODEL", "bundled")
    monkeypatch.setenv("INSTRUCTOR_EXPLORER_HOSTED", "1")
    monkeypatch.setenv("INSTRUCTOR_EXPLORER_MAX_ROWS", "500")
    monkeypatch.setenv("INSTRUCTOR_EXPLORER_ALLOW_MODELS", "a/b, c/d")
    args = parse_args([])
    assert (args.model, args.hosted, args.max_rows, args.allow_model) == ("bundled", True, 500, ["a/b", "c/d"])
    assert parse_args(["--model", "auto", "--port", "9000"]).port == 9000
