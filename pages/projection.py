"""Page 3 — the same labeled texts under instruction A and instruction B, projected side by side."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from instructor_core import explore, plots
from instructor_core.samples import PROJECTION_EXAMPLES

from .common import (
    NONE,
    AppContext,
    cancel_button,
    dataset_inputs,
    instruction_preview,
    load_dataset,
    main_action,
    model_b_picker,
    model_columns,
    progress_callback,
    status,
    wire_cancel,
)
from .share import SharedPage

METHODS = {"UMAP": "umap", "t-SNE": "tsne", "PCA": "pca"}
_FIRST = PROJECTION_EXAMPLES[0]
EFFECT_COLUMNS = {"without": "A", "with": "B", "delta": "B − A", "delta_low": "B − A low", "delta_high": "B − A high",
                  "b_vs_placebo": "B − placebo", "b_vs_placebo_low": "B − placebo low",
                  "b_vs_placebo_high": "B − placebo high"}
MAX_VERDICT_ROWS = 2000  # per-text verdicts shown (disagreements first); a 20k-row table is megabytes of page


def _metrics_markdown(metrics: dict[str, float | None]) -> str:
    if not metrics:
        return "Pick a label column to measure how well the layout separates the labels."
    return " · ".join(f"**{name.replace('_', ' ')}** {'n/a' if v is None else f'{v:.3f}'}" for name, v in metrics.items())


def parameter_visibility(method_name: str) -> tuple[dict, dict, dict]:
    """Updates showing only the chosen projection's own sliders: UMAP's n_neighbors and min_dist, t-SNE's perplexity."""
    key = METHODS.get(method_name)
    return gr.update(visible=key == "umap"), gr.update(visible=key == "umap"), gr.update(visible=key == "tsne")
def _method(method_name: str, neighbors: float, dist: float, perp: float) -> tuple[str, dict[str, object]]:
    """The core's method key and the sliders that apply to it (the core rejects unknown methods)."""
    key = METHODS.get(method_name, method_name)
    params = {"umap": {"n_neighbors": int(neighbors), "min_dist": float(dist)},
              "tsne": {"perplexity": float(perp)}}.get(key, {})
    return key, params


def build(ctx: AppContext, model: gr.Dropdown) -> SharedPage:
    gr.Markdown(
        "Embed a labeled dataset under two instructions and project both spaces to 2-D. The right plot is "
        "rotated onto the left one (Procrustes), so the same text sits in comparable places. Below each plot: "
        "how well the **embeddings** (not the 2-D picture) separate the labels — cross-validated kNN accuracy "
        "and cosine silhouette."
    )
    data = dataset_inputs(ctx, "projection", label_title="Colour by / label column", default=_FIRST.dataset)
    with gr.Row():
        with gr.Column():
            instruction_a = gr.Textbox(label="Instruction A (blank = none)", value=_FIRST.instruction_a,
                                       elem_id="projection-instruction-a")
            instruction_preview(ctx, model, instruction_a, elem_id="projection-preview-a")
        with gr.Column():
            instruction_b = gr.Textbox(label="Instruction B", value=_FIRST.instruction_b,
                                       elem_id="projection-instruction-b")
            instruction_preview(ctx, model, instruction_b, elem_id="projection-preview-b")
    with gr.Row():
        method = gr.Radio(list(METHODS), value="UMAP", label="Projection")
        n_neighbors = gr.Slider(2, 100, value=15, step=1, label="UMAP n_neighbors")
        min_dist = gr.Slider(0.0, 0.99, value=0.1, step=0.01, label="UMAP min_dist")
        perplexity = gr.Slider(2, 100, value=30, step=1, label="t-SNE perplexity", visible=False)
        seed = gr.Number(value=0, precision=0, label="Seed")
    gr.Examples(
        [[e.dataset, e.label, e.instruction_a, e.instruction_b] for e in PROJECTION_EXAMPLES],
        [data.choice, data.label_column, instruction_a, instruction_b],
        example_labels=[e.title for e in PROJECTION_EXAMPLES],
        label="Examples: instruction B separates the coloured labels better than A",
    )
    with gr.Row():
        run = gr.Button("Project both", variant="primary", elem_id="projection-run")
        cancel = cancel_button("projection-cancel")
    message = gr.Markdown(elem_id="projection-status")
    with gr.Row():
        with gr.Column():
            plot_a = gr.Plot(label="Instruction A", elem_id="projection-plot-a")
            metrics_a = gr.Markdown(elem_id="projection-metrics-a")
        with gr.Column():
            plot_b = gr.Plot(label="Instruction B", elem_id="projection-plot-b")
            metrics_b = gr.Markdown(elem_id="projection-metrics-b")
    effect = gr.Dataframe(label="Instruction effect (B minus A, and B minus a same-length placebo; low/high: 95 % "
                                "interval over texts)", interactive=False, elem_id="projection-effect")
    data.clears([plot_a, metrics_a, plot_b, metrics_b, effect, message])

    @main_action(ctx, "project", 6)
    def compare(model_name, choice, upload, text_column, label_column, ins_a, ins_b, method_name, neighbors,
                dist, perp, seed_value, progress=gr.Progress()):
        dataset = load_dataset(choice, upload, text_column, label_column, ctx.max_rows)
        key, params = _method(method_name, neighbors, dist, perp)
        encoder = ctx.pool.get(model_name)
        result = explore.compare_projections(
            encoder, dataset.texts, dataset.labels, ins_a, ins_b, method=key,
            random_state=int(seed_value or 0), progress=progress_callback(progress), **params,
        )
        colour = dataset.labels if dataset.labels is not None else None
        colour_title = label_column if label_column != NONE else ""
        figure_a, figure_b = (
            plots.scatter(coords, dataset.texts, colour, f"{side}: {explore.instruction_label(ins or '')}", colour_title)
            for side, coords, ins in (("A", result.coords_a, ins_a), ("B", result.coords_b, ins_b))
        )
        table = result.effect.round(4).rename(columns=EFFECT_COLUMNS) if not result.effect.empty else pd.DataFrame()
        notes = " ".join([*dataset.notes, *result.notes])
        return (figure_a, _metrics_markdown(result.metrics_a), figure_b, _metrics_markdown(result.metrics_b), table,
                status(f"{len(dataset.texts):,} texts projected with {method_name}. {notes}".strip()))

    method.change(parameter_visibility, method, [n_neighbors, min_dist, perplexity], api_visibility="private")
    action = (compare, [model, data.choice, data.upload, data.text_column, data.label_column, instruction_a,
                        instruction_b, method, n_neighbors, min_dist, perplexity, seed],
              [plot_a, metrics_a, plot_b, metrics_b, effect, message])
    shared = SharedPage("projection", {"dataset": data.choice, "label": data.label_column, "a": instruction_a,
                                       "b": instruction_b, "method": method}, [action], dataset=data)
    event = run.click(*action, api_name="project", time_limit=ctx.time_limit)
    wire_cancel(ctx, "project", cancel, event, message)
    shared.runs.append(event)

    with gr.Accordion("Compare two models", open=False, elem_id="compare-projection"):
        gr.Markdown(
            "Which model follows this instruction? The same texts under one instruction, embedded by the model "
            "picked at the top (**A**) and by **model B**, projected with the settings above (B's map aligned "
            "onto A's). Each model is scored in its own space; crosses mark the texts whose kNN label a model "
            "gets wrong."
        )
        with gr.Row():
            model_b = model_b_picker(model, "compare-projection-model-b")
            compare_instruction = gr.Textbox(label="Instruction for both models (blank = none)", scale=3,
                                             value=_FIRST.instruction_b,
                                             elem_id="compare-projection-instruction")
        for picker, side in ((model, "A"), (model_b, "B")):
            instruction_preview(ctx, picker, compare_instruction, elem_id=f"compare-projection-preview-{side.lower()}",
                                who=f"Model {side}")
        with gr.Row():
            compare_run = gr.Button("Compare models", variant="primary", elem_id="compare-projection-run")
            compare_cancel = cancel_button("compare-projection-cancel")
        compare_message = gr.Markdown(elem_id="compare-projection-status")
        compare_summary = gr.Markdown(elem_id="compare-projection-summary")
        compare_plot = gr.Plot(label="Model A | model B", elem_id="compare-projection-plot")
        compare_metrics = gr.Dataframe(label="Label separation per model", interactive=False,
                                       elem_id="compare-projection-metrics")
        compare_verdicts = gr.Dataframe(label="Per text: the kNN label under A and under B (disagreements first)",
                                        interactive=False, max_height=400, elem_id="compare-projection-verdicts")
    data.clears([compare_summary, compare_plot, compare_metrics, compare_verdicts, compare_message])

    @main_action(ctx, "compare_models_projection", 5)
    def compare_models(model_a, model_b_name, choice, upload, text_column, label_column, instruction, method_name,
                       neighbors, dist, perp, seed_value, progress=gr.Progress()):
        dataset = load_dataset(choice, upload, text_column, label_column, ctx.max_rows)
        key, params = _method(method_name, neighbors, dist, perp)
        result = explore.compare_models(
            ctx.pool.get(model_a), ctx.pool.get(model_b_name), dataset.texts, dataset.labels, instruction,
            method=key, random_state=int(seed_value or 0), progress=progress_callback(progress), **params,
        )
        figure = plots.scatter_pair(
            result.coords_a, result.coords_b, dataset.texts, dataset.labels,
            (f"A: {result.model_a}", f"B: {result.model_b}"), label_column if label_column != NONE else "",
            result.wrong("a"), result.wrong("b"),
        )
        verdicts = result.verdict_table()
        shown = "" if len(verdicts) <= MAX_VERDICT_ROWS else f"The table shows the first {MAX_VERDICT_ROWS:,} texts."
        notes = " ".join([*dataset.notes, *result.notes, shown])
        return (result.summary(), figure, model_columns(result.metrics, result.model_a, result.model_b),
                model_columns(verdicts.head(MAX_VERDICT_ROWS), result.model_a, result.model_b),
                status(f"{len(dataset.texts):,} texts under both models, projected with {method_name}. {notes}".strip()))

    compare_event = compare_run.click(
        compare_models,
        [model, model_b, data.choice, data.upload, data.text_column, data.label_column, compare_instruction, method,
         n_neighbors, min_dist, perplexity, seed],
        [compare_summary, compare_plot, compare_metrics, compare_verdicts, compare_message],
        api_name="compare_models_projection", time_limit=ctx.time_limit,
    )
    wire_cancel(ctx, "compare_models_projection", compare_cancel, compare_event, compare_message)
    return shared
