"""Cluster output a reader can trust (issue 17, item 4): clean keywords, clusters named on the map and in
the legend, rounded shares, HDBSCAN's noise share stated."""

from __future__ import annotations

import numpy as np

from instructor_core import plots
from instructor_core.clustering import cluster, cluster_keywords, cluster_summary, keyword_text

# Scraped news as it comes: entities whose "&" was lost, escaped markup, links and numbers.
NEWS = [
    "Apple #39;s new iPod sells 2 million units in 2004 &lt;b&gt;Reuters&lt;/b&gt; quot;amazing quot;",
    "Apple iPod and iTunes sales rise 39 percent, Reuters says http://www.reuters.com/tech",
    "Apple unveils a cheaper iPod mini lt;A HREF=www.apple.comgt; Reuters",
    "Red Sox win the World Series #39; first title in 86 years, Reuters reports",
    "Red Sox beat Yankees 10-3 &amp; reach the World Series &#39;at last&#39; Reuters",
    "Yankees fans stunned as Red Sox sweep into the Series, Reuters",
]
LABELS = [0, 0, 0, 1, 1, 1]


def test_keyword_text_drops_markup_links_and_entity_leftovers():
    assert keyword_text("It #39;s &lt;b&gt;bold&lt;/b&gt; quot;newquot; http://x.com/a &amp; lt;A HREF=x gt; done").split() == \
        ["It", "s", "bold", "new", "&", "done"]
    assert keyword_text("Café crème — 3 €") == "Café crème — 3 €"  # ordinary text is left alone


def test_keywords_have_no_entities_numbers_or_words_every_cluster_shares():
    keywords = cluster_keywords(NEWS, LABELS, top_n=10)
    words = {w for terms in keywords.values() for term in terms for w in term.split()}
    assert not words & {"39", "gt", "lt", "quot", "amp", "http", "www", "com", "2004", "86", "10"}
    assert not any(ch.isdigit() for w in words for ch in w)
    assert not any("reuters" in terms for terms in keywords.values())  # in every cluster: it names none
    assert keywords[0][0] == "apple" and "red sox" in keywords[1][:3]


def test_shares_are_rounded():
    x = np.eye(3)[[0, 0, 0, 1, 1, 2, 2]].astype(float)
    summary = cluster_summary([f"t{i}" for i in range(7)], x, [0, 0, 0, 1, 1, 2, 2])
    assert summary["share"].tolist() == [0.429, 0.286, 0.286]


def test_hdbscan_says_how_much_is_noise():
    rng = np.random.default_rng(0)
    blobs = np.vstack([rng.normal(size=(30, 8)) * 0.05 + np.eye(8)[i] for i in range(2)])
    x = np.vstack([blobs, rng.normal(size=(6, 8))])
    result = cluster(x, "hdbscan", min_cluster_size=5)
    noise = int((result.labels == -1).sum())
    assert noise > 0 and any(f"left {noise} of 66 texts ({noise / 66:.1%})" in note for note in result.notes)
    assert cluster(x, "kmeans", 2).notes == []


def test_cluster_map_names_clusters_by_keywords_in_legend_and_on_the_map():
    coords = np.array([[0, 0], [0, 1], [5, 5], [5, 6], [9, 0]], dtype=float)
    figure = plots.cluster_map(coords, list("abcde"), [0, 0, 1, 1, -1],
                               {0: "apple, ipod, itunes, mini", 1: "sox, series", -1: "(noise)"})
    assert [t.name for t in figure.data] == ["0: apple, ipod, itunes, mini", "1: sox, series", "noise"]
    annotations = {a.text: (a.x, a.y) for a in figure.layout.annotations}
    assert annotations == {"0: apple, ipod, itunes": (0, 0.5), "1: sox, series": (5, 5.5)}


def test_cluster_table_widths_cover_its_columns():
    from pages.cluster import SUMMARY_WIDTHS

    summary = cluster_summary(["a b", "c d"], np.eye(2), [0, 1])
    assert len(SUMMARY_WIDTHS) == len(summary.columns)
    assert sum(float(w.rstrip("%")) for w in SUMMARY_WIDTHS) <= 100


def test_keywords_count_each_text_once_and_no_bigram_spans_two_texts(monkeypatch):
    from instructor_core import clustering

    cleaned = []
    monkeypatch.setattr(clustering, "keyword_text", lambda t: cleaned.append(t) or keyword_text(t))
    clustering.TERM_COUNTS.clear()
    texts = ["zebra crossing", "giraffe neck", "zebra crossing", "ocean tide", "ocean wave", "ocean tide"]
    first = cluster_keywords(texts, [0, 0, 0, 1, 1, 1], top_n=10)
    assert not any(term in first[0] for term in ("crossing giraffe", "neck zebra"))  # joins of two texts
    assert first[0][0] == "crossing"  # ties: alphabetical
    again = cluster_keywords(list(texts), [0, 1, 0, 1, 0, 1], top_n=10)  # another clustering of the same texts
    assert len(cleaned) == len(texts)  # the texts were cleaned and counted once
    assert "giraffe" in again[1] and "zebra" in again[0]
