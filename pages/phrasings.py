"""Page 2 — K phrasings of one instruction on a labeled dataset: do they agree, and which separates best?"""

from __future__ import annotations

import gradio as gr

from instructor_core import explore, plots
from instructor_core.instructions import phrasing_sets

from .common import (
    AppContext,
    cancel_button,
    dataset_inputs,
    instruction_preview,
    load_dataset,
    loaded_encoder,
    main_action,
    model_b_picker,
    model_columns,
    progress_callback,
    status,
    wire_cancel,
)
from .share import SharedPage


def build(ctx: AppContext, model: gr.Dropdown) -> SharedPage:
    sets = phrasing_sets(ctx.pool.get(model.value).profile.style)  # the app has loaded it already
    first = next(iter(sets))
    gr.Markdown(
        "The INSTRUCTOR paper found its models robust to how an instruction is worded. Check that on your data: "
        "enter several phrasings of one instruction (one per line). For each phrasing you get the label "
        "separation (kNN accuracy, silhouette) with 95 % intervals, beside no instruction and a same-length "
        "placebo; a best phrasing is named only when it beats the runner-up beyond noise. The agreement matrices "
        "show how similar the spaces are."
    )
    data = dataset_inputs(ctx, "phrasings")
    with gr.Row():
        phrasing_set = gr.Dropdown(list(sets), value=first, label="Example phrasing set", scale=1)
        phrasings = gr.Textbox(label="Phrasings, one per line", value="\n".join(sets[first]), lines=5, scale=3,
                               elem_id="phrasings-text")
    instruction_preview(ctx, model, phrasings, lambda text: (text or "").splitlines(), "phrasings-preview")
    include_none = gr.Checkbox(value=True, label="Also measure with no instruction")
    with gr.Row():
        run = gr.Button("Compare phrasings", variant="primary", elem_id="phrasings-run")
        cancel = cancel_button("phrasings-cancel")
    message = gr.Markdown(elem_id="phrasings-status")
    best = gr.Markdown(elem_id="phrasings-best")
    bars = gr.Plot(label="Label separation per phrasing", elem_id="phrasings-bars")
    with gr.Row():
        vector_agreement = gr.Plot(label="Vector agreement (mean cosine of each text across phrasings)")
        rank_agreement = gr.Plot(label="Neighbourhood agreement (Spearman of similarity matrices)")
    table = gr.Dataframe(label="Metrics per phrasing", interactive=False, elem_id="phrasings-table")
    data.clears([best, bars, vector_agreement, rank_agreement, table, message])

    @main_action(ctx, "compare_phrasings", 6)
    def compare(model_name, choice, upload, text_column, label_column, phrasings_text, with_none,
                progress=gr.Progress()):
        dataset = load_dataset(choice, upload, text_column, label_column, ctx.max_rows)
        report = explore.compare_phrasings(
            ctx.pool.get(model_name), dataset.texts, dataset.labels, phrasings_text.splitlines(),
            include_no_instruction=bool(with_none), progress=progress_callback(progress),
        )
        return (
            report.verdict,
            plots.metric_bars(report.metrics, "phrasing", ["knn_accuracy", "silhouette"], highlight=report.best),
            plots.similarity_heatmap(report.vector_agreement, "Vector agreement", zmin=0),
            plots.similarity_heatmap(report.rank_agreement, "Neighbourhood agreement", zmin=0),
            report.metrics.round(4),
            status(f"{len(dataset.texts):,} texts × {len(report.metrics)} phrasings. "
                   f"{' '.join([*dataset.notes, *report.notes])}".strip()),
        )

    def fill_set(name: str, model_name: str) -> str:
        """The example set in the style of the model's family (paper instructions or task phrases)."""
        encoder = loaded_encoder(ctx, model_name)
        return "\n".join(phrasing_sets(encoder.profile.style if encoder else "instructor").get(name, []))

    phrasing_set.change(fill_set, [phrasing_set, model], phrasings, api_visibility="private")
    action = (compare, [model, data.choice, data.upload, data.text_column, data.label_column, phrasings, include_none],
              [best, bars, vector_agreement, rank_agreement, table, message])
    shared = SharedPage("phrasings", {"dataset": data.choice, "label": data.label_column, "phrasings": phrasings,
                                      "none": include_none}, [action], dataset=data)
    event = run.click(*action, api_name="compare_phrasings", time_limit=ctx.time_limit)
    wire_cancel(ctx, "compare_phrasings", cancel, event, message)
    shared.runs.append(event)

    with gr.Accordion("Compare two models", open=False, elem_id="compare-phrasings"):
        gr.Markdown(
            "The phrasings above scored under the model picked at the top (**A**) and under **model B**, side "
            "by side: which model separates the labels under each phrasing, and which cares less about the wording."
        )
        model_b = model_b_picker(model, "compare-phrasings-model-b")
        instruction_preview(ctx, model_b, phrasings, lambda text: (text or "").splitlines(),
                            "compare-phrasings-preview-b", who="Model B")
        with gr.Row():
            compare_run = gr.Button("Compare models", variant="primary", elem_id="compare-phrasings-run")
            compare_cancel = cancel_button("compare-phrasings-cancel")
        compare_message = gr.Markdown(elem_id="compare-phrasings-status")
        compare_summary = gr.Markdown(elem_id="compare-phrasings-summary")
        compare_bars = gr.Plot(label="Label separation per phrasing, model A and model B",
                               elem_id="compare-phrasings-bars")
        compare_table = gr.Dataframe(label="Metrics per phrasing and model", interactive=False,
                                     elem_id="compare-phrasings-table")
    data.clears([compare_summary, compare_bars, compare_table, compare_message])

    @main_action(ctx, "compare_models_phrasings", 4)
    def compare_models(model_a, model_b_name, choice, upload, text_column, label_column, phrasings_text, with_none,
                       progress=gr.Progress()):
        dataset = load_dataset(choice, upload, text_column, label_column, ctx.max_rows)
        result = explore.compare_models_phrasings(
            ctx.pool.get(model_a), ctx.pool.get(model_b_name), dataset.texts, dataset.labels,
            phrasings_text.splitlines(), include_no_instruction=bool(with_none), progress=progress_callback(progress),
        )
        names = (f"A: {result.model_a}", f"B: {result.model_b}")
        notes = " ".join([*dataset.notes, *result.notes])
        return (
            result.summary(),
            plots.metric_bars_pair(result.metrics, "phrasing", ["knn_accuracy", "silhouette"], names),
            model_columns(result.metrics, result.model_a, result.model_b),
            status(f"{len(dataset.texts):,} texts × {len(result.metrics)} phrasings under both models. {notes}".strip()),
        )

    compare_event = compare_run.click(
        compare_models,
        [model, model_b, data.choice, data.upload, data.text_column, data.label_column, phrasings, include_none],
        [compare_summary, compare_bars, compare_table, compare_message],
        api_name="compare_models_phrasings", time_limit=ctx.time_limit,
    )
    wire_cancel(ctx, "compare_models_phrasings", compare_cancel, compare_event, compare_message)
    return shared
