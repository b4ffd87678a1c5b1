"""Plotly figures for the explorer. Pure functions: data in, ``go.Figure`` out (usable in notebooks too).

Every user-supplied string shown in a figure is HTML-escaped: plotly renders a subset of HTML in
hover labels and titles, and a text like ``<img src=x onerror=...>`` must show as text.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .similarity import unique_labels

# Above this many points scatters use WebGL (Scattergl) so panning stays smooth up to the row cap.
WEBGL_MIN_POINTS = 1500
# Maps with more points draw a seeded sample of about this many and say so in the title: at 100,000 points the
# figure's JSON (hover texts mostly) is about 5x what the browser gets at 20,000 (bench/RESULTS.md).
MAX_DRAWN_POINTS = 20_000
_PALETTE = (
    "#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#EECA3B", "#9D755D", "#FF9DA6",
    "#BAB0AC", "#1F77B4", "#2CA02C", "#D62728", "#9467BD", "#8C564B", "#E377C2", "#7F7F7F", "#BCBD22",
)
_NOISE_COLOR = "#C8C8C8"
TITLE_WIDTH = 70  # characters per line of a figure title; longer titles wrap between words
_TITLE_MARGIN = {"l": 10, "r": 10, "t": 70, "b": 10}  # room for a two-line title


def escape(text: object, width: int | None = None) -> str:
    """``text`` made safe for plotly labels; wrapped at ``width`` characters with ``<br>``."""
    raw = str(text)
    lines = textwrap.wrap(raw, width) if width else [raw]
    return "<br>".join(html.escape(line) for line in lines[:8]) + ("…" if width and len(lines) > 8 else "")


def shorten(text: object, width: int) -> str:
    """``text`` cut to at most ``width`` characters at a word boundary, "…" marking the cut (a word
    longer than ``width`` is the only thing cut inside)."""
    text = " ".join(str(text).split())
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    if " " in cut and text[width - 1] != " ":
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.") + "…"


def similarity_heatmap(matrix: pd.DataFrame, title: str = "", zmin: float = -1.0, zmax: float = 1.0) -> go.Figure:
    """Heatmap of a labelled similarity matrix, values printed in the cells."""
    rows = [escape(label, 40) for label in matrix.index]
    cols = [escape(label, 40) for label in matrix.columns]
    values = matrix.to_numpy(dtype=float)
    figure = go.Figure(
        go.Heatmap(
            z=values, x=cols, y=rows, zmin=zmin, zmax=zmax, colorscale="RdBu_r",
            text=np.vectorize(lambda v: f"{v:.3f}")(values), texttemplate="%{text}",
            hovertemplate="%{y}<br>vs %{x}<br>cosine %{z:.4f}<extra></extra>", colorbar={"title": "cosine"},
        )
    )
    size = max(320, 70 * len(rows) + 160)
    figure.update_layout(title=escape(title, TITLE_WIDTH), height=size, margin=_TITLE_MARGIN,
                         yaxis={"autorange": "reversed"}, xaxis={"side": "bottom"})
    return figure


def similarity_heatmaps(matrices: dict[str, pd.DataFrame], columns: int = 3) -> go.Figure:
    """Several labelled similarity matrices side by side (one panel per title), on one colour scale."""
    from plotly.subplots import make_subplots

    titles = list(matrices)
    rows = -(-len(titles) // columns)
    cols = min(columns, len(titles))
    figure = make_subplots(rows=rows, cols=cols, subplot_titles=[escape(t, 45) for t in titles],
                           horizontal_spacing=0.08, vertical_spacing=0.12)
    for k, (title, matrix) in enumerate(matrices.items()):
        # Short numbered tick labels keep panels apart; the full text is in the hover label.
        ticks = [f"{i + 1}. {escape(shorten(label, 24))}"
                 for i, label in enumerate(matrix.index)]
        full = [escape(label, 50) for label in matrix.index]
        values = matrix.to_numpy(dtype=float)
        figure.add_trace(
            go.Heatmap(z=values, x=[t.split(".")[0] for t in ticks], y=ticks, zmin=-1, zmax=1, colorscale="RdBu_r",
                       showscale=k == 0, text=np.vectorize(lambda v: f"{v:.2f}")(values), texttemplate="%{text}",
                       customdata=[[[full[i], full[j]] for j in range(len(full))] for i in range(len(full))],
                       hovertemplate="%{customdata[0]}<br>vs %{customdata[1]}<br>cosine %{z:.4f}<extra></extra>",
                       name=escape(title)),
            row=k // cols + 1, col=k % cols + 1,
        )
        if k % cols:
            figure.update_yaxes(showticklabels=False, row=k // cols + 1, col=k % cols + 1)
    figure.update_yaxes(autorange="reversed")
    figure.update_layout(height=max(380, 360 * rows), margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return figure


def scatter(
    coords: np.ndarray,
    hover_texts: Sequence[str],
    color_by: Sequence[object] | None = None,
    title: str = "",
    color_title: str = "",
    names: Mapping[str, str] | None = None,
    max_points: int = MAX_DRAWN_POINTS,
) -> go.Figure:
    """2-D scatter, one trace per colour value (so the legend toggles groups), text shown on hover.

    ``names`` gives a colour value (as shown, e.g. "3") a longer legend entry. Above ``max_points`` points
    a seeded sample is drawn (:func:`drawn_rows`) and the title says how many of how many are shown."""
    coords = np.asarray(coords)
    rows = drawn_rows(len(coords), color_by, max_points)
    figure = go.Figure(_group_traces(coords, hover_texts, color_by, names=names, rows=rows))
    figure.update_layout(
        title=escape(_with_sample_note(title, rows, len(coords)), TITLE_WIDTH), height=520, margin=_TITLE_MARGIN,
        legend={"title": {"text": escape(color_title)}, "itemsizing": "constant"},
        xaxis={"showticklabels": False, "title": ""}, yaxis={"showticklabels": False, "title": ""},
        showlegend=color_by is not None,
    )
    return figure


def cluster_map(coords: np.ndarray, hover_texts: Sequence[str], labels: Sequence[int], keywords: Mapping[int, str],
                title: str = "", words_on_map: int = 3, max_points: int = MAX_DRAWN_POINTS) -> go.Figure:
    """Scatter coloured by cluster, each cluster named by its keywords in the legend and labelled on the
    map with its first ``words_on_map`` keywords at its median point (as datamapplot does; the median of
    all its points, also when only a sample is drawn)."""
    labels = np.asarray(labels)
    names = {str(c): shorten(f"{c}: {keywords.get(c, '')}", 48) for c in keywords if c != -1}
    figure = scatter(coords, hover_texts, labels.tolist(), title, "cluster: keywords", names, max_points)
    for c in sorted(set(labels.tolist()) - {-1}):
        words = ", ".join(str(keywords.get(c, "")).split(", ")[:words_on_map])
        x, y = np.median(np.asarray(coords)[labels == c], axis=0)
        figure.add_annotation(x=x, y=y, text=escape(f"{c}: {words}" if words else str(c)), showarrow=False,
                              font={"size": 12, "color": "#222"}, bgcolor="rgba(255,255,255,0.75)", borderpad=2)
    return figure


def scatter_pair(
    coords_a: np.ndarray,
    coords_b: np.ndarray,
    hover_texts: Sequence[str],
    color_by: Sequence[object] | None = None,
    titles: tuple[str, str] = ("A", "B"),
    color_title: str = "",
    wrong_a: Sequence[bool] | None = None,
    wrong_b: Sequence[bool] | None = None,
    max_points: int = MAX_DRAWN_POINTS,
) -> go.Figure:
    """Two 2-D maps of the same texts side by side in one figure, one legend toggling a group in both.

    ``wrong_a`` / ``wrong_b`` (a bool per text) draw the texts a panel's model mislabels as crosses. Above
    ``max_points`` texts both panels draw the same seeded sample, as :func:`scatter` does.
    """
    from plotly.subplots import make_subplots

    rows = drawn_rows(len(coords_a), color_by, max_points)
    titles = tuple(_with_sample_note(t, rows, len(coords_a)) for t in titles)
    figure = make_subplots(rows=1, cols=2, subplot_titles=[escape(t, 60) for t in titles], horizontal_spacing=0.04)
    for col, (coords, wrong) in enumerate(((coords_a, wrong_a), (coords_b, wrong_b)), start=1):
        for trace in _group_traces(np.asarray(coords), hover_texts, color_by, wrong, showlegend=col == 1, rows=rows):
            figure.add_trace(trace, row=1, col=col)
    figure.update_xaxes(showticklabels=False, title="")
    figure.update_yaxes(showticklabels=False, title="")
    figure.update_layout(height=520, margin={"l": 10, "r": 10, "t": 50, "b": 10}, showlegend=color_by is not None,
                         legend={"title": {"text": escape(color_title)}, "itemsizing": "constant"})
    return figure


def drawn_rows(n: int, color_by: Sequence[object] | None = None, max_points: int = MAX_DRAWN_POINTS,
               seed: int = 0) -> np.ndarray | None:
    """The rows a map of ``n`` points draws: None (all of them) up to ``max_points``, else a seeded sample
    of about ``max_points`` in input order, each colour group in proportion and keeping at least one point
    (so no legend entry disappears)."""
    if n <= max_points:
        return None
    groups = np.zeros(n, dtype=int) if color_by is None else pd.factorize(pd.Series([_label(v) for v in color_by]))[0]
    rng = np.random.default_rng(seed)
    chosen = [rng.choice(members, size=max(1, round(len(members) * max_points / n)), replace=False)
              for members in (np.flatnonzero(groups == g) for g in np.unique(groups))]
    return np.sort(np.concatenate(chosen))


def _with_sample_note(title: str, rows: np.ndarray | None, n: int) -> str:
    """``title`` followed by how many of the ``n`` points are drawn, when only ``rows`` are."""
    if rows is None:
        return title
    note = f"showing a sample of {len(rows):,} of {n:,} points (downloads have every row)"
    return f"{title} · {note}" if title else note


def _group_traces(coords: np.ndarray, hover_texts: Sequence[str], color_by: Sequence[object] | None,
                  wrong: Sequence[bool] | None = None, showlegend: bool = True,
                  names: Mapping[str, str] | None = None, rows: np.ndarray | None = None
                  ) -> list[go.Scatter | go.Scattergl]:
    """One marker trace per colour value (legend-grouped by it, named by ``names`` where given); ``wrong``
    points drawn as crosses; only ``rows`` drawn when given (each point's customdata is its row)."""
    groups = pd.Series(["all"] * len(coords) if color_by is None else [_label(v) for v in color_by]).to_numpy()
    crosses = np.zeros(len(coords), dtype=bool) if wrong is None else np.asarray(wrong, dtype=bool)
    hover_texts = list(hover_texts)
    drawn = np.ones(len(coords), dtype=bool)
    if rows is not None:
        drawn[:] = False
        drawn[rows] = True
    n_drawn = int(drawn.sum())
    trace_type = go.Scattergl if n_drawn >= WEBGL_MIN_POINTS else go.Scatter
    order = sorted(pd.unique(groups), key=lambda g: (g in {"noise", "(missing)"}, _natural(g)))
    traces = []
    for i, group in enumerate(order):
        idx = np.flatnonzero((groups == group) & drawn)
        hover = [escape(hover_texts[j], 60) + ("<br><i>kNN gets this one wrong</i>" if crosses[j] else "") for j in idx]
        marker = {"size": 7 if n_drawn < 2000 else 4, "opacity": 0.85,
                  "color": _NOISE_COLOR if group == "noise" else _PALETTE[i % len(_PALETTE)]}
        if crosses.any():
            marker["symbol"] = np.where(crosses[idx], "x", "circle").tolist()
        traces.append(trace_type(
            x=coords[idx, 0], y=coords[idx, 1], mode="markers", name=escape((names or {}).get(group, group)),
            legendgroup=group, showlegend=showlegend, marker=marker, text=hover, customdata=idx,
            hovertemplate=f"<b>{escape(group)}</b><br>%{{text}}<extra></extra>",
        ))
    return traces


def metric_bars_pair(frame: pd.DataFrame, category: str, metrics: Sequence[str], names: tuple[str, str] = ("A", "B"),
                     title: str = "") -> go.Figure:
    """One panel per metric, one bar group per row of ``frame[category]``, one bar per model: columns
    ``{metric}_a`` and ``{metric}_b`` of ``frame`` (``compare.phrasing_table``'s layout)."""
    from plotly.subplots import make_subplots

    labels = [escape(v, 30) for v in frame[category]]
    figure = make_subplots(rows=1, cols=len(metrics), subplot_titles=[m.replace("_", " ") for m in metrics],
                           horizontal_spacing=0.06)
    for col, metric in enumerate(metrics, start=1):
        for k, (side, name) in enumerate(zip("ab", names)):
            values = frame[f"{metric}_{side}"]
            figure.add_trace(
                go.Bar(name=escape(name), x=labels, y=values, text=values.map(_fmt), textposition="outside",
                       marker={"color": _PALETTE[k]}, legendgroup=side, showlegend=col == 1),
                row=1, col=col,
            )
    values = frame[[f"{m}_{s}" for m in metrics for s in "ab"]].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    low = min(0.0, float(np.nanmin(values)) - 0.05) if np.isfinite(values).any() else 0.0
    figure.update_yaxes(range=[low, 1.08])
    figure.update_layout(barmode="group", title=escape(title), height=460, margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return figure


def metric_bars(frame: pd.DataFrame, category: str, metrics: Sequence[str], title: str = "",
                highlight: str | None = None) -> go.Figure:
    """Grouped bars: one group per row of ``frame[category]``, one bar per metric; ``highlight`` in bold;
    error bars where ``frame`` has ``{metric}_low`` and ``{metric}_high`` columns."""
    labels = [escape(v, 30) for v in frame[category]]
    if highlight is not None:
        labels = [f"<b>★ {lab}</b>" if v == highlight else lab for lab, v in zip(labels, frame[category])]
    figure = go.Figure([go.Bar(name=m.replace("_", " "), x=labels, y=frame[m], text=frame[m].map(_fmt),
                               textposition="outside", error_y=_interval_bars(frame, m)) for m in metrics])
    figure.update_layout(barmode="group", title=escape(title, TITLE_WIDTH), height=420, yaxis={"range": [min(0, frame[list(metrics)].min().min() - 0.05), 1.08]},
                         margin=_TITLE_MARGIN)
    return figure


def _interval_bars(frame: pd.DataFrame, metric: str) -> dict | None:
    """Plotly error bars from ``{metric}_low`` / ``{metric}_high`` columns (95 % intervals), when present."""
    if f"{metric}_low" not in frame or f"{metric}_high" not in frame:
        return None
    value, low, high = (pd.to_numeric(frame[c], errors="coerce") for c in (metric, f"{metric}_low", f"{metric}_high"))
    return {"type": "data", "symmetric": False, "array": (high - value).tolist(), "arrayminus": (value - low).tolist(),
            "thickness": 1.2, "width": 4}


def _fmt(value: object) -> str:
    return "n/a" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.3f}"


def _label(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "(missing)"
    if isinstance(value, (int, np.integer)) and value == -1:
        return "noise"
    return str(value)


def _natural(label: str) -> tuple[int, float | str]:
    """Sort numbers numerically ("2" before "10"), then text."""
    try:
        return (0, float(label))
    except ValueError:
        return (1, label)


def crossed_heatmap(table: pd.DataFrame) -> go.Figure:
    """Instructions × label columns, one panel per metric (kNN accuracy, silhouette), each cell with its
    95 % interval; cells that could not be scored read "too few texts" instead of a number.

    ``table``: ``controls.CrossedMatrix.table`` (instruction, label_column, metric, metric_low, metric_high).
    """
    from plotly.subplots import make_subplots

    rows = list(dict.fromkeys(table["instruction"]))
    columns = list(dict.fromkeys(table["label_column"]))
    panels = (("knn_accuracy", "kNN accuracy"), ("silhouette", "silhouette"))
    figure = make_subplots(rows=1, cols=2, subplot_titles=[title for _, title in panels], horizontal_spacing=0.12)
    cells = table.set_index(["instruction", "label_column"])
    # instructions often differ only at the end: keep both ends, and distinct (plotly merges equal labels)
    ticks = [escape(t) for t in unique_labels([r if len(r) <= 44 else f"{r[:20]}…{r[-23:]}" for r in rows])]
    for k, (metric, title) in enumerate(panels):
        z = [[_number(cells.loc[(r, c), metric]) for c in columns] for r in rows]
        text = [[_cell_text(cells.loc[(r, c)], metric) for c in columns] for r in rows]
        figure.add_trace(
            go.Heatmap(z=z, x=[escape(c, 20) for c in columns], y=ticks, text=text, texttemplate="%{text}",
                       colorscale="Viridis", showscale=False,
                       customdata=[[escape(r, 60)] * len(columns) for r in rows], name=title,
                       hovertemplate="%{customdata}<br>%{x}: %{text}<extra>" + title + "</extra>"),
            row=1, col=k + 1,
        )
        if k:
            figure.update_yaxes(showticklabels=False, row=1, col=k + 1)
    figure.update_yaxes(autorange="reversed")
    figure.update_layout(height=max(320, 70 * len(rows) + 120), margin={"l": 10, "r": 10, "t": 50, "b": 10})
    return figure


def _number(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _cell_text(row: pd.Series, metric: str) -> str:
    if _number(row[metric]) is None:
        return "too few texts"
    return f"{row[metric]:.3f}<br>[{row[f'{metric}_low']:.3f}, {row[f'{metric}_high']:.3f}]"


def movement_scatter(coords_a: np.ndarray, coords_b: np.ndarray, hover_texts: Sequence[str],
                     movement: np.ndarray, titles: tuple[str, str] = ("A", "B")) -> go.Figure:
    """The same texts in layout A and in layout B (aligned to A), coloured by how much their neighbours
    changed (1 − overlap: 0 same neighbours, 1 none shared)."""
    from plotly.subplots import make_subplots

    figure = make_subplots(rows=1, cols=2, subplot_titles=[escape(t, 60) for t in titles], horizontal_spacing=0.04)
    trace_type = go.Scattergl if len(coords_a) >= WEBGL_MIN_POINTS else go.Scatter
    hover = [escape(t, 60) for t in hover_texts]
    for k, coords in enumerate((np.asarray(coords_a), np.asarray(coords_b))):
        figure.add_trace(
            trace_type(x=coords[:, 0], y=coords[:, 1], mode="markers", text=hover, customdata=np.asarray(movement),
                       marker={"size": 7 if len(coords) < 2000 else 4, "color": np.asarray(movement),
                               "colorscale": "Plasma", "cmin": 0, "cmax": 1, "showscale": k == 1,
                               "colorbar": {"title": {"text": "changed"}, "x": 1.02, "len": 0.8}},
                       hovertemplate="%{text}<br>neighbours changed %{customdata:.2f}<extra></extra>", showlegend=False),
            row=1, col=k + 1,
        )
    figure.update_xaxes(showticklabels=False)
    figure.update_yaxes(showticklabels=False)
    figure.update_layout(height=520, margin={"l": 10, "r": 10, "t": 50, "b": 10})
    return figure
