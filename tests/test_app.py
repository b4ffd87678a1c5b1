"""Each page's main action through its named API endpoint, as gradio_client (and the UI) call it."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import pytest
from gradio_client import handle_file

REVIEWS = "Product reviews (sentiment × category)"
QUESTIONS = "Questions (topic × answer type)"
SENTIMENT = "Represent the product review for classifying its sentiment: "
TOPIC = "Represent the question for classifying its topic: "
CATEGORY = "Represent the product review for classifying its product category: "


def _table(rows: list[str]) -> dict:
    return {"headers": ["instruction"], "data": [[r] for r in rows]}


def _traces(plot: dict) -> list[dict]:
    assert plot["type"] == "plotly"
    return json.loads(plot["plot"])["data"]


def _array(value) -> np.ndarray:
    """Plotly 6 sends numpy data as typed arrays ({dtype, bdata, shape}); plain lists otherwise."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return flat.reshape([int(n) for n in str(value.get("shape", len(flat))).split(",")])
    return np.asarray(value)


def _points(plot: dict) -> int:
    return sum(len(_array(t["x"])) for t in _traces(plot))


def test_playground_heatmap_matches_the_core(client, app_server):
    from instructor_core import explore

    instructions = [SENTIMENT, TOPIC, ""]
    plot, csv_path, message = client.predict("bundled", "The battery died after two days.", _table(instructions),
                                             api_name="/instruction_similarity")  # the placebo row is on by default
    z = _array(_traces(plot)[0]["z"])
    expected = explore.one_text_many_instructions(app_server[1].pool.get("bundled"),
                                                  "The battery died after two days.", instructions, placebo=True)
    assert z.shape == (4, 4) and message == ""
    np.testing.assert_allclose(z, expected.to_numpy(), atol=1e-6)
    np.testing.assert_allclose(np.diag(z), 1.0, atol=1e-5)
    downloaded = pd.read_csv(csv_path)
    assert list(downloaded["instruction"])[:3] == [SENTIMENT.strip(), TOPIC.strip(), "(no instruction)"]
    assert downloaded["instruction"].iloc[3].startswith("placebo: ")
    plot, *_ = client.predict("bundled", "The battery died after two days.", _table(instructions), False,
                              api_name="/instruction_similarity")
    assert _array(_traces(plot)[0]["z"]).shape == (3, 3)


def test_text_neighbours_one_panel_per_instruction(client):
    texts = "The battery died.\nGreat headphones.\nThe blender broke."
    plot, csv_path, message = client.predict("bundled", texts, _table([SENTIMENT, ""]), api_name="/text_neighbours")
    heatmaps = _traces(plot)
    assert len(heatmaps) == 2 and all(_array(h["z"]).shape == (3, 3) for h in heatmaps)
    assert len(pd.read_csv(csv_path)) == 2 * 9


@pytest.mark.parametrize(
    ("text", "instructions", "expected"),
    [
        ("", [SENTIMENT, ""], "Enter a text"),
        ("ok", [f"Represent the text for task {i}: " for i in range(13)], "limit is 12"),
        ("ok", [SENTIMENT, SENTIMENT], "appears twice"),
        ("ok", [SENTIMENT], "at least two instructions"),
    ],
)
def test_playground_bad_input_is_a_message(client, text, instructions, expected):
    *_, message = client.predict("bundled", text, _table(instructions), api_name="/instruction_similarity")
    assert message.startswith("⛔") and expected in message


def test_phrasings_report(client):
    phrasings = "Represent the question for classifying its topic: \nRepresent the question for clustering by topic: "
    verdict, bars, vector_plot, rank_plot, table, message = client.predict(
        "bundled", QUESTIONS, None, "text", "topic", phrasings, True, api_name="/compare_phrasings")
    frame = pd.DataFrame(table["data"], columns=table["headers"])
    assert list(frame["phrasing"])[0] == "(no instruction)" and frame["phrasing"][1].startswith("placebo: ")
    assert len(frame) == 4 and frame["knn_accuracy"].between(0, 1).all()
    assert (frame["knn_accuracy_low"] <= frame["knn_accuracy"]).all() and (frame["knn_accuracy"] <= frame["knn_accuracy_high"]).all()
    top = frame.iloc[2:].sort_values("knn_accuracy", ascending=False, kind="stable")["phrasing"].iloc[0]
    assert (verdict.startswith("**Best phrasing:**") or "indistinguishable" in verdict) and top in verdict
    assert _array(_traces(vector_plot)[0]["z"]).shape == (4, 4)
    assert "240 texts" in message and "Placebo" in message and "bootstrap" in message


def test_phrasings_too_few_labelled_texts_is_a_message(client, tmp_path):
    path = tmp_path / "four.csv"
    pd.DataFrame({"text": ["good", "bad", "fine", "awful"], "label": ["pos", "neg", "pos", "neg"]}).to_csv(path, index=False)
    verdict, *_, table, message = client.predict("bundled", "Upload a CSV…", handle_file(str(path)), "text", "label",
                                                 "Represent the review for sentiment: \nClassify the review: ", True,
                                                 api_name="/compare_phrasings")
    assert "Too few labelled texts" in verdict and "Best" not in verdict and "nan" not in verdict.lower()


def test_projection_side_by_side(client):
    plot_a, metrics_a, plot_b, metrics_b, effect, message = client.predict(
        "bundled", REVIEWS, None, "text", "sentiment", "", SENTIMENT, "PCA", 15, 0.1, 30, 0, api_name="/project")
    assert _points(plot_a) == _points(plot_b) == 240
    assert {t["name"] for t in _traces(plot_a)} == {"negative", "positive"}
    assert "knn accuracy" in metrics_a and "knn accuracy" in metrics_b
    rows = {r[0]: r for r in effect["data"]}
    assert set(rows) == {"knn_accuracy", "silhouette"}
    assert effect["headers"][:6] == ["metric", "A", "B", "B − A", "B − A low", "B − A high"]
    assert "B − placebo" in effect["headers"]
    assert rows["knn_accuracy"][3] == pytest.approx(rows["knn_accuracy"][2] - rows["knn_accuracy"][1], abs=1e-3)
    assert rows["knn_accuracy"][4] <= rows["knn_accuracy"][3] <= rows["knn_accuracy"][5]


def test_projection_same_instructions_is_a_message(client):
    *_, message = client.predict("bundled", REVIEWS, None, "text", "sentiment", SENTIMENT, SENTIMENT, "PCA", 15, 0.1,
                                 30, 0, api_name="/project")
    assert "the same" in message


def test_crossed_matrix(client):
    plot, table, csv_path, message = client.predict(
        "bundled", REVIEWS, None, "text", ["sentiment", "category"], f"{SENTIMENT}\n{CATEGORY}",
        api_name="/crossed_matrix")
    shown = pd.DataFrame(table["data"], columns=table["headers"])
    assert len(shown) == 2 * 4  # (none, placebo, 2 instructions) x 2 label columns
    assert shown["instruction"].iloc[1].startswith("placebo: ") and set(shown["label column"]) == {"sentiment", "category"}
    assert shown["kNN accuracy [95 %]"].str.match(r"^0\.\d{3} \[0\.\d{3}, [01]\.\d{3}\]$").all()
    heatmaps = _traces(plot)
    assert len(heatmaps) == 2 and np.asarray(heatmaps[0]["z"], dtype=float).shape == (4, 2)
    saved = pd.read_csv(csv_path)
    assert (saved["knn_accuracy_low"] <= saved["knn_accuracy"]).all() and "silhouette_vs_placebo_high" in saved
    assert "Placebo" in message and "bootstrap" in message


def test_crossed_matrix_too_few_labels_says_so(client, tmp_path):
    path = tmp_path / "small.csv"
    pd.DataFrame({"text": [f"text number {i}" for i in range(12)], "good": ["a", "b"] * 6,
                  "rare": ["x", "y", "z"] + [""] * 9}).to_csv(path, index=False)
    plot, table, _, message = client.predict("bundled", "Upload a CSV…", handle_file(str(path)), "text",
                                             ["good", "rare"], SENTIMENT, api_name="/crossed_matrix")
    shown = pd.DataFrame(table["data"], columns=table["headers"])
    rare = shown[shown["label column"] == "rare"]
    assert (rare["kNN accuracy [95 %]"] == "too few labelled texts").all()
    assert not shown.astype(str).apply(lambda c: c.str.contains("nan")).any().any()
    assert "rare: Too few labelled texts" in message
    *_, message = client.predict("bundled", REVIEWS, None, "text", ["no_such_column"], SENTIMENT,
                                 api_name="/crossed_matrix")
    assert message.startswith("⛔") and "no_such_column" in message


def test_neighbour_movement(client):
    summary, movers, plot, csv_path, message = client.predict(
        "bundled", REVIEWS, None, "text", "sentiment", "", SENTIMENT, 10, "PCA", api_name="/neighbour_movement")
    assert "Mean neighbour overlap between A and B" in summary and "placebo" in summary
    table = pd.DataFrame(movers["data"], columns=movers["headers"])
    assert len(table) == 20 and table["overlap"].is_monotonic_increasing
    assert list(table.columns) == ["text", "overlap", "nearest under A", "nearest under B", "label",
                                   "overlap with placebo"]
    per_text = pd.read_csv(csv_path)
    assert len(per_text) == 240 and per_text["overlap"].between(0, 1).all()
    assert per_text["overlap"].min() == pytest.approx(table["overlap"].iloc[0], abs=1e-3)
    assert per_text["neighbours_a"].str.count(" · ").eq(9).all()  # all k = 10 neighbours in the download
    traces = _traces(plot)
    assert len(traces) == 2 and all(len(_array(t["x"])) == 240 for t in traces)
    assert "240 texts" in message and "bootstrap" in message
    *_, message = client.predict("bundled", REVIEWS, None, "text", "sentiment", SENTIMENT, SENTIMENT, 10, "PCA",
                                 api_name="/neighbour_movement")
    assert message.startswith("⛔") and "the same" in message


def test_cluster_upload_keeps_every_row_and_column(client, tmp_path):
    source = pd.DataFrame({
        "id": [f"{i:05d}" for i in range(60)],
        "comment": [f"{'battery charger screen' if i % 2 else 'pasta sauce recipe'} number {i}" for i in range(60)],
        "note": ["=1+1", "+danger", "-3", "@cmd"] + ["plain"] * 56,
    })
    source.loc[[5, 17], "comment"] = ""
    path = tmp_path / "upload.csv"
    source.to_csv(path, index=False)
    plot, summary, csv_path, embeddings_path, message = client.predict(
        "bundled", "Upload a CSV…", handle_file(str(path)), "comment", "", "k-means", "2", "PCA", ".npy",
        api_name="/cluster")
    out = pd.read_csv(csv_path, dtype=str)
    assert len(out) == 60 and list(out.columns) == ["id", "comment", "note", "cluster", "cluster_keywords", "x", "y"]
    assert list(out["id"]) == list(source["id"])  # leading zeros kept, order kept
    assert out.loc[[5, 17], "cluster"].isna().all() and out["cluster"].notna().sum() == 58
    assert list(out["note"][:4]) == ["'=1+1", "'+danger", "-3", "'@cmd"]  # formulas neutralised, numbers kept
    embeddings = np.load(embeddings_path)
    assert embeddings.shape == (60, 384) and np.isnan(embeddings[5]).all()
    assert len(summary["data"]) == 2 and _points(plot) == 58
    assert "Skipped 2 row(s)" in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "does not look like a text table"),
        (b"", "empty"),
        (b"text,label\n", "no rows"),
    ],
)
def test_cluster_bad_upload_is_a_message(client, tmp_path, content, expected):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    *_, message = client.predict("bundled", "Upload a CSV…", handle_file(str(path)), "text", "", "k-means", "auto",
                                 "PCA", ".npy", api_name="/cluster")
    assert message.startswith("⛔") and expected in message


def test_unknown_model_keeps_the_previous_one(client):
    picker, banner, message = client.predict("no/such-model", api_name="/load_model")
    assert picker == "instructor-mini"
    assert "not in the local Hugging Face cache" in message and "Still using `instructor-mini`" in message
    *_, ok = client.predict("bundled", "Still works.", _table([SENTIMENT, ""]), api_name="/instruction_similarity")
    assert ok == ""


def test_banner_says_which_models_follow_instructions(bundled_encoder, app_server):
    from pages.common import model_banner

    untuned, mini = model_banner(bundled_encoder), model_banner(app_server[1].pool.get())
    assert "not instruction-tuned" in untuned and "hkunlp/instructor-large" in untuned
    assert "`instructor-mini`" in mini and "instruction-tuned ✅" in mini and "not instruction-tuned" not in mini


def test_compare_models_projection_matches_the_core(client, app_server):
    from instructor_core import explore
    from instructor_core.samples import load_builtin_dataset

    summary, plot, metrics, verdicts, message = client.predict(
        "instructor-mini", "bundled-base", REVIEWS, None, "text", "sentiment", SENTIMENT, "PCA", 15, 0.1, 30, 0,
        api_name="/compare_models_projection")
    traces = _traces(plot)
    assert {t["xaxis"] for t in traces} == {"x", "x2"}  # two panels, one per model
    assert sum(len(_array(t["x"])) for t in traces if t["xaxis"] == "x2") == 240
    frame = pd.DataFrame(metrics["data"], columns=metrics["headers"]).set_index("metric")
    assert list(frame.columns) == ["A: instructor-mini", "B: bundled-base", "B − A"]
    reviews = load_builtin_dataset(REVIEWS)
    pool = app_server[1].pool
    expected = explore.compare_models(pool.get("instructor-mini"), pool.get("bundled-base"), reviews["text"].tolist(),
                                      reviews["sentiment"].tolist(), SENTIMENT, method="pca")
    np.testing.assert_allclose(frame.iloc[:, :2].to_numpy(dtype=float),
                               expected.metrics[["model_a", "model_b"]].to_numpy(dtype=float), atol=1e-4)
    # instructor-mini was tuned to follow sentiment instructions (its model card); its base was not
    assert frame.loc["knn_accuracy", "B − A"] < -0.1 and frame.loc["knn_accuracy_instruction_gain"].iloc[0] > 0
    rows = pd.DataFrame(verdicts["data"], columns=verdicts["headers"])
    assert len(rows) == 240 and rows["verdict"].iloc[0] == "only A right"
    right_a = rows["verdict"].isin(["only A right", "both right"]).mean()
    assert right_a == pytest.approx(frame.loc["knn_accuracy"].iloc[0], abs=1e-3)
    assert "`instructor-mini`" in summary and "never trained with instructions" in message
    overlap = expected.movement.mean_overlap.estimate  # the two models' shared neighbours, per text and overall
    assert 0 < overlap < 1 and expected.movement.mean_overlap.format() in summary
    assert rows["neighbour_overlap"].between(0, 1).all()


def test_compare_models_phrasings(client):
    phrasings = f"{SENTIMENT}\nRepresent the review for classifying sentiment: "
    summary, bars, table, message = client.predict(
        "instructor-mini", "bundled-base", REVIEWS, None, "text", "sentiment", phrasings, True,
        api_name="/compare_models_phrasings")
    frame = pd.DataFrame(table["data"], columns=table["headers"])
    assert list(frame["phrasing"]) == ["(no instruction)", SENTIMENT.strip(),
                                       "Represent the review for classifying sentiment:"]
    assert (frame["knn_accuracy (A)"] > frame["knn_accuracy (B)"]).all()
    np.testing.assert_allclose(frame["knn_accuracy (B − A)"], frame["knn_accuracy (B)"] - frame["knn_accuracy (A)"],
                               atol=2e-4)
    assert [t["name"] for t in _traces(bars)] == ["A: instructor-mini", "B: bundled-base"] * 2
    # two sentiment phrasings: a winner only when its lead is beyond noise
    assert ("best phrasing" in summary or "no phrasing beats the runner-up beyond noise" in summary)
    assert "240 texts × 3 phrasings" in message


@pytest.mark.parametrize(
    ("model_b", "label", "expected"),
    [("instructor-mini", "sentiment", "same model"), ("bundled-base", "(none)", "Pick a label column"),
     ("no/such-model", "sentiment", "not in the local Hugging Face cache")],
)
def test_compare_models_bad_input_is_a_message(client, model_b, label, expected):
    *_, message = client.predict("instructor-mini", model_b, REVIEWS, None, "text", label, SENTIMENT, True,
                                 api_name="/compare_models_phrasings")
    assert message.startswith("⛔") and expected in message


def test_compare_models_projection_caps_the_verdict_table(client, monkeypatch):
    import pages.projection

    monkeypatch.setattr(pages.projection, "MAX_VERDICT_ROWS", 10)
    *_, verdicts, message = client.predict(
        "instructor-mini", "bundled-base", REVIEWS, None, "text", "sentiment", SENTIMENT, "PCA", 15, 0.1, 30, 0,
        api_name="/compare_models_projection")
    assert len(verdicts["data"]) == 10 and "shows the first 10 texts" in message
    assert {row[verdicts["headers"].index("verdict")] for row in verdicts["data"]} == {"only A right"}


def test_every_instruction_box_shows_what_the_model_reads(tmp_path, monkeypatch):
    import huggingface_hub.constants

    from app import build_app
    from instructor_core.pool import EncoderPool
    from pages.common import AppContext, preview_markdown
    from tests.tiny_models import build_tiny_qwen3

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))  # nothing cached: auto is mini
    demo = build_app(AppContext(EncoderPool("auto", device="cpu"), output_dir=tmp_path))
    previews = {b.elem_id: b.value for b in demo.blocks.values() if "preview" in str(getattr(b, "elem_id", ""))}
    assert set(previews) == {"playground-preview", "phrasings-preview", "projection-preview-a", "projection-preview-b",
                             "cluster-preview", "compare-projection-preview-a", "compare-projection-preview-b",
                             "compare-phrasings-preview-b"}
    box = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "cluster-instruction")
    assert box.value.startswith("Represent the ") and previews["cluster-preview"] == f"The model reads: `{box.value}⟨text⟩`"
    assert previews["projection-preview-a"] == "The model reads: `⟨text⟩`"
    assert previews["playground-preview"].count("\n- `") == 4
    picker = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "model-picker")
    assert picker.value == "instructor-mini"  # what "auto" resolved to, not "auto"
    qwen = EncoderPool(device="cpu").get(str(build_tiny_qwen3(tmp_path / "qwen")))
    assert preview_markdown(qwen, ["Classify the sentiment", None]) == \
        "The model reads:\n- `Instruct: Classify the sentiment↵Query:⟨text⟩`\n- `⟨text⟩`"
