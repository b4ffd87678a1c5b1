"""Page — does the instruction matter? The crossed matrix (instructions × label columns, with a placebo) and
neighbour movement between two instructions."""

from __future__ import annotations

import gradio as gr

from instructor_core import InputError, explore, plots
from instructor_core.data import prepare_labels
from instructor_core.neighbours import DEFAULT_K, biggest_movers, per_text_table
from instructor_core.samples import BUILTIN_DATASETS

from .common import (
    NONE,
    UPLOAD,
    AppContext,
    cancel_button,
    dataset_inputs,
    load_dataset,
    main_action,
    progress_callback,
    status,
    wire_cancel,
    write_csv,
)
from .share import SharedPage

METHODS = {"UMAP": "umap", "t-SNE": "tsne", "PCA": "pca"}
_FIRST = next(iter(BUILTIN_DATASETS.values()))
MOVERS_COLUMNS = {"text": "text", "overlap": "overlap", "neighbours_a": "nearest under A",
                  "neighbours_b": "nearest under B", "label": "label", "placebo_overlap": "overlap with placebo"}


def _label_columns(frame, row_index, columns: list[str]) -> tuple[dict[str, object], list[str]]:
    """Each chosen label column's labels for the kept texts, and notes about reading them."""
    columns = [c for c in (columns or []) if c and c != NONE]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"Column(s) {', '.join(missing)} not in the table. Columns: {', '.join(frame.columns)}.")
    labels, notes = {}, []
    for column in columns:
        labels[column], column_notes = prepare_labels(frame[column].iloc[row_index])
        notes += [f"{column}: {n}" for n in column_notes]
    return labels, notes


def build(ctx: AppContext, model: gr.Dropdown) -> SharedPage:
    gr.Markdown(
        "Any prefix moves an embedding, so an instruction's effect means little alone. Here every instruction "
        "is measured beside **no instruction** and a **placebo** — a neutral sentence with the same number of "
        "tokens — with 95 % bootstrap intervals over your texts. An effect whose interval against the placebo "
        "includes 0 is what any prefix does, not what the instruction *means*."
    )
    data = dataset_inputs(ctx, "controls", label_title="Label shown in the movers table")
    with gr.Row():
        label_columns = gr.Dropdown(_FIRST["label_columns"], value=_FIRST["label_columns"], multiselect=True,
                                    allow_custom_value=True, label="Label columns to cross", scale=1,
                                    elem_id="controls-label-columns")
        instructions = gr.Textbox("\n".join(_FIRST["instructions"].values()), lines=3, scale=2,
                                  label="Instructions, one per line (no instruction and the placebo are added)",
                                  elem_id="controls-instructions")

    gr.Markdown("### The crossed matrix\nEach instruction should separate *its own* task's labels best: read down "
                "a column to see which instruction organises that label, across a row to see what one instruction "
                "organises.")
    with gr.Row():
        run_matrix = gr.Button("Cross instructions with label columns", variant="primary",
                               elem_id="controls-matrix-run")
        cancel_matrix = cancel_button("controls-matrix-cancel")
    matrix_message = gr.Markdown(elem_id="controls-matrix-status")
    matrix_plot = gr.Plot(label="kNN accuracy and silhouette per instruction × label column",
                          elem_id="controls-matrix-plot")
    matrix_table = gr.Dataframe(label="The crossed matrix with 95 % intervals", interactive=False, wrap=True,
                                elem_id="controls-matrix-table")
    matrix_csv = gr.File(label="The crossed matrix (CSV)", elem_id="controls-matrix-csv")

    gr.Markdown("### Neighbour movement\nWhich texts get other nearest neighbours when instruction A becomes B? "
                "The reference is A against B's placebo: the movement any prefix of B's length causes.")
    with gr.Row():
        instruction_a = gr.Textbox(label="Instruction A (blank = none)", value="", elem_id="controls-instruction-a")
        instruction_b = gr.Textbox(label="Instruction B", value=_FIRST["instructions"]["sentiment"],
                                   elem_id="controls-instruction-b")
    with gr.Row():
        k = gr.Slider(2, 50, value=DEFAULT_K, step=1, label="Neighbours per text (k)")
        method = gr.Radio(list(METHODS), value="UMAP", label="Projection")
    with gr.Row():
        run_movement = gr.Button("Compare neighbours", variant="primary", elem_id="controls-movement-run")
        cancel_movement = cancel_button("controls-movement-cancel")
    movement_message = gr.Markdown(elem_id="controls-movement-status")
    movement_summary = gr.Markdown(elem_id="controls-movement-summary")
    movers = gr.Dataframe(label="Biggest movers: texts whose neighbours changed most (overlap 0 = no neighbour kept)",
                          interactive=False, wrap=True, elem_id="controls-movers",
                          column_widths=["28%", "8%", "26%", "26%", "6%", "6%"])  # in MOVERS_COLUMNS' order
    movement_plot = gr.Plot(label="Layouts (B aligned to A) coloured by neighbour movement",
                            elem_id="controls-movement-plot")
    movement_csv = gr.File(label="Per-text overlap (CSV)", elem_id="controls-movement-csv")

    def on_dataset(choice_value):
        spec = BUILTIN_DATASETS.get(choice_value)
        if spec is None:  # an upload: every column may be a label; the user picks
            return gr.update(value=[]), gr.update()
        return (gr.update(choices=spec["label_columns"], value=spec["label_columns"]),
                gr.update(value="\n".join(spec["instructions"].values())))

    @main_action(ctx, "crossed_matrix", 4)
    def cross(model_name, choice, upload, text_column, columns, instructions_text, progress=gr.Progress()):
        dataset = load_dataset(choice, upload, text_column, None, ctx.max_rows)
        labels, label_notes = _label_columns(dataset.frame, dataset.row_index, columns)
        result = explore.crossed_label_matrix(ctx.pool.get(model_name), dataset.texts, labels,
                                              instructions_text.splitlines(), progress=progress_callback(progress))
        notes = " ".join([*dataset.notes, *label_notes, *result.notes])
        return (plots.crossed_heatmap(result.table), result.display(),
                write_csv(result.table, ctx, "crossed_matrix.csv"),
                status(f"{len(dataset.texts):,} texts × {len(labels)} label column(s). {notes}".strip()))

    @main_action(ctx, "neighbour_movement", 5)
    def move(model_name, choice, upload, text_column, label_column, ins_a, ins_b, k_value, method_name,
             progress=gr.Progress()):
        dataset = load_dataset(choice, upload, text_column, label_column, ctx.max_rows)
        result = explore.neighbour_movement_between(
            ctx.pool.get(model_name), dataset.texts, ins_a, ins_b, k=int(k_value),
            method=METHODS.get(method_name, method_name), progress=progress_callback(progress))
        figure = plots.movement_scatter(result.coords_a, result.coords_b, dataset.texts, 1 - result.movement.overlap,
                                        (f"A: {explore.instruction_label(ins_a or '')}",
                                         f"B: {explore.instruction_label(ins_b or '')} (aligned to A)"))
        csv_path = write_csv(per_text_table(result.movement, dataset.texts, dataset.labels, shown=result.movement.k),
                             ctx, "neighbour_movement.csv")
        movers_table = biggest_movers(result.movement, dataset.texts, dataset.labels).round(3)
        return (result.movement.summary(), movers_table[[c for c in MOVERS_COLUMNS if c in movers_table]]
                .rename(columns=MOVERS_COLUMNS),
                figure, csv_path, status(f"{len(dataset.texts):,} texts. {' '.join([*dataset.notes, *result.notes])}"))

    data.choice.input(on_dataset, data.choice, [label_columns, instructions], api_visibility="private")
    data.upload.upload(lambda: on_dataset(UPLOAD), None, [label_columns, instructions], api_visibility="private")
    data.clears([matrix_plot, matrix_table, matrix_csv, matrix_message, movement_summary, movers, movement_plot,
                 movement_csv, movement_message])
    matrix_action = (cross, [model, data.choice, data.upload, data.text_column, label_columns, instructions],
                     [matrix_plot, matrix_table, matrix_csv, matrix_message])
    movement_action = (move, [model, data.choice, data.upload, data.text_column, data.label_column, instruction_a,
                              instruction_b, k, method],
                       [movement_summary, movers, movement_plot, movement_csv, movement_message])
    matrix_event = run_matrix.click(*matrix_action, api_name="crossed_matrix", time_limit=ctx.time_limit)
    wire_cancel(ctx, "crossed_matrix", cancel_matrix, matrix_event, matrix_message)
    movement_event = run_movement.click(*movement_action, api_name="neighbour_movement", time_limit=ctx.time_limit)
    wire_cancel(ctx, "neighbour_movement", cancel_movement, movement_event, movement_message)
    return SharedPage("controls", {"dataset": data.choice, "label": data.label_column, "columns": label_columns,
                                   "instructions": instructions, "a": instruction_a, "b": instruction_b, "k": k,
                                   "method": method},
                      [matrix_action, movement_action], [matrix_event, movement_event], dataset=data,
                      dataset_menus=lambda name: {label_columns: BUILTIN_DATASETS[name]["label_columns"]})
