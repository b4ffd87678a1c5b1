"""End to end in a real browser (Debian chromium via playwright): each page's main flow, as a first-time
visitor clicks it, with assertions on what is rendered. Screenshots go to test-output/screenshots/."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[1] / "test-output" / "screenshots"
# _fullData holds the decoded arrays (plotly 6 ships numpy data as base64 typed arrays).
PLOT_POINTS = "(sel) => document.querySelector(sel)._fullData.reduce((n, t) => n + t.x.length, 0)"
HOVER_ROW = """([sel, row]) => {
  const gd = document.querySelector(sel);
  gd._fullData.forEach((t, curve) => Array.from(t.customdata).forEach((r, point) => {
    if (r === row) Plotly.Fx.hover(gd, [{curveNumber: curve, pointNumber: point}]);
  }));
  return gd.querySelector('.hoverlayer').textContent;
}"""
HEATMAP_Z = "(sel) => Array.from(document.querySelector(sel)._fullData[0].z, row => Array.from(row))"


@pytest.fixture(scope="module")
def browser_page(app_server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(app_server[0])
        expect(page.locator("#model-banner")).to_contain_text("instructor-mini")
        yield page, dialogs
        browser.close()


def _open_tab(page: Page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def _plot(page: Page, elem_id: str, timeout: float = 300_000) -> str:  # first-visit results compete with clicks
    selector = f"#{elem_id} .js-plotly-plot"
    page.wait_for_selector(selector, timeout=timeout)
    return selector


def test_banner_says_the_model_is_instruction_tuned_and_names_the_papers_model(browser_page):
    page, _ = browser_page
    expect(page.locator("#model-banner")).to_contain_text("instruction-tuned ✅")
    expect(page.locator("#model-banner")).to_contain_text("hkunlp/instructor-large")


def test_playground(browser_page):
    page, _ = browser_page
    _open_tab(page, "Instruction playground")
    page.locator("#playground-run").click()
    selector = _plot(page, "playground-heatmap")
    z = page.evaluate(HEATMAP_Z, selector)
    assert len(z) == 5 and all(len(row) == 5 for row in z)  # the four example instructions and the placebo
    assert all(abs(z[i][i] - 1) < 1e-4 for i in range(5))
    expect(page.locator("#playground-heatmap")).to_contain_text("placebo")
    cell_texts = page.locator(f"{selector} text").all_text_contents()
    assert "1.000" in cell_texts  # values are printed in the cells
    page.locator("#neighbours-run").click()
    _plot(page, "neighbours-heatmaps")
    panels = page.evaluate("() => document.querySelector('#neighbours-heatmaps .js-plotly-plot').data.length")
    assert panels == 4
    page.screenshot(path=str(SHOTS / "1-playground.png"), full_page=True)


def test_phrasings(browser_page):
    page, _ = browser_page
    _open_tab(page, "Phrasings")
    page.locator("#phrasings-run").click()
    selector = _plot(page, "phrasings-bars")
    expect(page.locator("#phrasings-best")).to_contain_text(re.compile("Best phrasing|indistinguishable"))
    expect(page.locator("#phrasings-best")).to_contain_text("[")  # the lead is given with its interval
    bars = page.evaluate("(sel) => document.querySelector(sel)._fullData.map(t => t.x.length)", selector)
    assert bars == [7, 7]  # no instruction, the placebo and the 5 example phrasings; two metrics
    errors = page.evaluate("(sel) => document.querySelector(sel)._fullData.map(t => t.error_y.visible)", selector)
    assert errors == [True, True]  # 95 % intervals drawn on the bars
    page.screenshot(path=str(SHOTS / "2-phrasings.png"), full_page=True)


def test_projection(browser_page):
    page, _ = browser_page
    _open_tab(page, "Projection")
    page.locator("#projection-run").click()
    a, b = _plot(page, "projection-plot-a", 240_000), _plot(page, "projection-plot-b")
    assert page.evaluate(PLOT_POINTS, a) == page.evaluate(PLOT_POINTS, b) == 240
    expect(page.locator("#projection-metrics-a")).to_contain_text("knn accuracy")
    expect(page.locator("#projection-metrics-b")).to_contain_text("knn accuracy")
    page.screenshot(path=str(SHOTS / "3-projection.png"), full_page=True)


def test_cluster_upload_download_and_no_injection(browser_page, tmp_path):
    page, dialogs = browser_page
    texts = ["<img src=x onerror=alert(1)> the battery died", "<script>alert(2)</script> great pasta recipe"]
    texts += [f"{'phone battery and charger' if i % 2 else 'pasta sauce and garlic'} review {i}" for i in range(38)]
    upload = tmp_path / "comments.csv"
    pd.DataFrame({"id": range(40), "comment": texts, "stars": [i % 5 for i in range(40)]}).to_csv(upload, index=False)

    _open_tab(page, "Cluster a CSV")
    _plot(page, "cluster-plot")  # the first-visit result is in, so it cannot land on top of this test's run
    page.locator("#cluster-upload input[type=file]").set_input_files(str(upload))
    expect(page.locator("#cluster-data-status")).to_contain_text("40 rows", timeout=30_000)
    expect(page.locator("#cluster-plot .js-plotly-plot")).to_have_count(0)  # cleared with the dataset change
    page.locator("#cluster-instruction textarea, #cluster-instruction input").first.fill(
        "Represent the comment for clustering by topic: ")
    page.locator("#cluster-run").click()
    selector = _plot(page, "cluster-plot")
    assert page.evaluate(PLOT_POINTS, selector) == 40
    table = page.locator("#cluster-table")
    expect(table).to_contain_text("representatives")
    expect(table).to_contain_text("battery")  # one row per cluster, with its keywords
    expect(table).to_contain_text("pasta")

    # Hover the injected row: its label must show the markup as text (and run nothing).
    hover_text = page.evaluate(HOVER_ROW, [selector, 0])
    assert "<img src=x onerror=alert(1)>" in hover_text
    with page.expect_download() as download_info:
        page.locator("#cluster-csv a").first.click()
    out = pd.read_csv(download_info.value.path())
    assert len(out) == 40 and {"id", "comment", "stars", "cluster", "cluster_keywords", "x", "y"} <= set(out.columns)
    assert out["comment"].iloc[0] == texts[0]  # the text itself survives, as text
    assert out["cluster"].nunique() == 2
    page.screenshot(path=str(SHOTS / "4-cluster.png"), full_page=True)
    assert dialogs == []  # no injected script ran



def test_cancel_stops_the_running_clustering(browser_page, app_server, tmp_path, monkeypatch):
    """The Cancel button ends the work itself (the core sees the job's flag between batches), not only
    the page's wait: the job leaves the registry and most texts are never embedded."""
    page, _ = browser_page
    ctx = app_server[1]
    encoder = ctx.pool.get()
    embedded: list[int] = []
    original = encoder._encode_chunk

    def slow_chunk(texts, *args, **kwargs):  # ~12 s for the whole table, whatever the machine
        time.sleep(0.2)
        embedded.append(len(texts))
        return original(texts, *args, **kwargs)

    monkeypatch.setattr(encoder, "_encode_chunk", slow_chunk)
    upload = tmp_path / "many.csv"
    pd.DataFrame({"text": [f"cancel test {i}: the lid cracked after {i % 11} washes" for i in range(2000)]}).to_csv(
        upload, index=False)
    page.reload()  # a fresh page: the upload box of an earlier test still holds its file
    _open_tab(page, "Cluster a CSV")
    _plot(page, "cluster-plot")  # the first-visit result is in, so it cannot overwrite the cancel's message
    page.locator("#cluster-upload input[type=file]").set_input_files(str(upload))
    expect(page.locator("#cluster-data-status")).to_contain_text("2,000 rows", timeout=30_000)
    expect(page.locator("#cluster-upload")).to_contain_text(re.compile(r"many\s*\.csv"))  # this test's file, not an earlier one
    embedded.clear()  # count only this run's batches
    page.locator("#cluster-run").click()
    deadline = time.monotonic() + 60
    while not embedded:
        assert time.monotonic() < deadline, "the clustering did not start"
        time.sleep(0.1)
    page.locator("#cluster-cancel").click()
    expect(page.locator("#cluster-status")).to_contain_text("Cancelled", timeout=30_000)  # its message or the job's
    while len(ctx.jobs):
        assert time.monotonic() < deadline, "the cancelled job kept running"
        time.sleep(0.1)
    assert sum(embedded) < 2000


def _open_accordion(page: Page, elem_id: str) -> None:
    page.locator(f"#{elem_id}").get_by_text("Compare two models").first.click()


def test_compare_two_models_on_the_projection_page(browser_page):
    page, _ = browser_page
    _open_tab(page, "Projection")
    _open_accordion(page, "compare-projection")
    expect(page.locator("#compare-projection-model-b input")).to_have_value("bundled-base")
    page.locator("#compare-projection-run").click()
    selector = _plot(page, "compare-projection-plot", 240_000)
    panels = page.evaluate("(sel) => [...new Set(document.querySelector(sel)._fullData.map(t => t.xaxis))]", selector)
    assert sorted(panels) == ["x", "x2"]
    assert page.evaluate(PLOT_POINTS, selector) == 2 * 240  # the same texts under each model
    summary = page.locator("#compare-projection-summary")
    expect(summary).to_contain_text("kNN accuracy")
    expect(summary).to_contain_text("A (instructor-mini) is higher")  # tuned on sentiment; its base was not
    expect(page.locator("#compare-projection-metrics")).to_contain_text("A: instructor-mini")
    expect(page.locator("#compare-projection-verdicts")).to_contain_text("only A right")
    expect(page.locator("#compare-projection-status")).to_contain_text("never trained with instructions")
    page.screenshot(path=str(SHOTS / "5-compare-models-projection.png"), full_page=True)


def test_compare_two_models_on_the_phrasings_page(browser_page):
    page, _ = browser_page
    _open_tab(page, "Phrasings")
    _open_accordion(page, "compare-phrasings")
    page.locator("#compare-phrasings-run").click()
    selector = _plot(page, "compare-phrasings-bars", 240_000)
    bars = page.evaluate("(sel) => document.querySelector(sel)._fullData.map(t => [t.name, t.x.length])", selector)
    assert [name for name, _ in bars] == ["A: instructor-mini", "B: bundled-base"] * 2
    assert {n for _, n in bars} == {6}  # no instruction + the 5 example phrasings
    expect(page.locator("#compare-phrasings-summary")).to_contain_text(
        re.compile("best phrasing|no phrasing beats the runner-up"))
    expect(page.locator("#compare-phrasings-table")).to_contain_text("knn_accuracy (B − A)")
    page.screenshot(path=str(SHOTS / "6-compare-models-phrasings.png"), full_page=True)


def test_crossed_matrix(browser_page):
    page, _ = browser_page
    _open_tab(page, "Does the instruction matter?")
    selector = _plot(page, "controls-matrix-plot", 240_000)  # the first-visit result: both example instructions
    page.locator("#controls-instructions textarea").fill("Represent the product review for classifying its sentiment: ")
    page.locator("#controls-matrix-run").click()  # one instruction: the run's own result has one row fewer
    page.wait_for_function(f"(sel) => ({HEATMAP_Z})(sel).length === 3", arg=selector, timeout=240_000)
    z = page.evaluate(HEATMAP_Z, selector)  # the kNN accuracy panel
    assert all(len(row) == 2 for row in z)  # (none, placebo, the instruction) x (sentiment, category)
    assert all(0 <= v <= 1 for row in z for v in row)
    cells = page.locator(f"{selector} text").all_text_contents()
    assert any(re.fullmatch(r"0\.\d{3}\[0\.\d{3}, [01]\.\d{3}\]", c) for c in cells)  # value and its interval
    table = page.locator("#controls-matrix-table")
    expect(table).to_contain_text("kNN − placebo [95 %]")
    expect(table).to_contain_text("placebo: ")
    expect(page.locator("#controls-matrix-status")).to_contain_text("Placebo")
    page.screenshot(path=str(SHOTS / "7-crossed-matrix.png"), full_page=True)


def test_neighbour_movers(browser_page):
    page, _ = browser_page
    _open_tab(page, "Does the instruction matter?")
    selector = _plot(page, "controls-movement-plot", 240_000)  # the first-visit result: B is the sentiment example
    page.locator("#controls-instruction-b input, #controls-instruction-b textarea").first.fill(
        "Represent the product review for classifying its product category: ")
    page.locator("#controls-movement-run").click()
    expect(page.locator("#controls-movement-plot")).to_contain_text("category:", timeout=240_000)  # B's title
    assert page.evaluate(PLOT_POINTS, selector) == 2 * 240  # the texts under A and under B
    expect(page.locator("#controls-movement-summary")).to_contain_text("Mean neighbour overlap between A and B")
    expect(page.locator("#controls-movement-summary")).to_contain_text("placebo")
    movers = page.locator("#controls-movers")
    expect(movers).to_contain_text("nearest under B")
    with page.expect_download() as download_info:
        page.locator("#controls-movement-csv a").first.click()
    per_text = pd.read_csv(download_info.value.path())
    assert len(per_text) == 240 and per_text["overlap"].between(0, 1).all()
    page.locator("#controls-movers").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "8-neighbour-movers.png"), full_page=True)


def test_instruction_preview_follows_the_box_and_the_model(browser_page):
    page, dialogs = browser_page
    _open_tab(page, "Cluster a CSV")
    box = page.locator("#cluster-instruction textarea, #cluster-instruction input").first
    box.fill("Represent the <b>tweet</b> for clustering: ")
    preview = page.locator("#cluster-preview")
    expect(preview).to_contain_text("The model reads: Represent the <b>tweet</b> for clustering: ⟨text⟩")
    _open_tab(page, "Instruction playground")
    expect(page.locator("#playground-preview")).to_contain_text(
        "Represent the product review for classifying its sentiment: ⟨text⟩")
    # picking "auto" shows the model it resolved to, and the previews stay
    page.locator("#model-picker input").fill("auto")
    page.locator("#model-picker input").press("Enter")
    expect(page.locator("#model-status")).to_contain_text("Loaded instructor-mini", timeout=60_000)
    expect(page.locator("#model-picker input")).to_have_value("instructor-mini")
    expect(page.locator("#playground-preview")).to_contain_text("⟨text⟩")
    assert dialogs == []
