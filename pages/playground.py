"""Page 1 — one text (or a few) under several instructions: how far apart do the vectors move?"""

from __future__ import annotations

import gradio as gr
import pandas as pd

from instructor_core import explore, plots
from instructor_core.encoder import Encoder
from instructor_core.instructions import MAX_INSTRUCTIONS, NO_INSTRUCTION, build_instruction, instruction_presets
from instructor_core.samples import PLAYGROUND_EXAMPLES

from .common import AppContext, guarded, instruction_preview, loaded_encoder, main_action, status, write_csv
from .share import SharedPage

EXAMPLE_TEXT, EXAMPLE_INSTRUCTIONS = next(iter(PLAYGROUND_EXAMPLES.items()))
EXAMPLE_TEXTS = "\n".join([
    "The battery died after two days.",
    "My new headphones sound amazing.",
    "The blender broke the first time I used it.",
    "This saucepan heats evenly and cleans up in seconds.",
])


def _rows(instructions: list[str]) -> list[list[str]]:
    """Table rows for ``instructions``, the blank one written as (no instruction) so it can be seen."""
    return [[i or NO_INSTRUCTION] for i in instructions]


def _instruction_list(table) -> list[str]:
    """Instructions from the editable table (a DataFrame, rows of lists via the API, or its initial value)."""
    if isinstance(table, dict):
        table = table.get("data")
    rows = table.values.tolist() if isinstance(table, pd.DataFrame) else (table or [])
    return ["" if not row or row[0] is None else str(row[0]) for row in rows]


def _presets(encoder: Encoder | None) -> dict[str, str]:
    """The model's own named prompts, then the example library in its family's style (the paper's
    template when the model could not load)."""
    profile = encoder.profile if encoder else None
    own = {f"this model's prompt: {name}": prompt for name, prompt in (profile.presets if profile else ())}
    examples = instruction_presets(style=profile.style if profile else "instructor")
    return own | {f"{p.task_type}: {p.name}": p.instruction for p in examples}


def build(ctx: AppContext, model: gr.Dropdown) -> SharedPage:

    gr.Markdown(
        "Enter a text and several instructions. Each instruction gives the text a different vector; "
        f"the heatmap shows the cosine similarity between them. A row reading `{NO_INSTRUCTION}` (or left blank) "
        "embeds the text **without** an instruction."
    )
    text = gr.Textbox(label="Text", value=EXAMPLE_TEXT, lines=2, elem_id="playground-text")
    instructions = gr.Dataframe(
        value=_rows(EXAMPLE_INSTRUCTIONS), headers=["instruction"], column_count=1, type="array",
        interactive=True, label=f"Instructions (2 to {MAX_INSTRUCTIONS})",
        elem_id="playground-instructions",
    )
    instruction_preview(ctx, model, instructions, _instruction_list, "playground-preview")
    with gr.Row():
        preset = gr.Dropdown(list(_presets(loaded_encoder(ctx, model.value))), label="Add an example instruction",
                             scale=3, elem_id="playground-preset")
        add_preset = gr.Button("Add", scale=1)
    with gr.Accordion("Build an instruction from the paper's template", open=False):
        with gr.Row():
            domain = gr.Textbox(label="Domain", placeholder="e.g. Amazon, medical, Wikipedia")
            text_type = gr.Textbox(label="Text type", placeholder="e.g. review, question, sentence")
            objective = gr.Textbox(label="Task objective", placeholder="e.g. classifying sentiment")
        built = gr.Textbox(label="Instruction", interactive=False)
        add_built = gr.Button("Add this instruction")
    gr.Examples(
        [[example, _rows(ins)] for example, ins in PLAYGROUND_EXAMPLES.items()], [text, instructions],
        example_labels=list(PLAYGROUND_EXAMPLES), label="Example texts, each with instructions that fit it",
    )
    placebo = gr.Checkbox(value=True, label="Add a placebo row", elem_id="playground-placebo",
                          info="a neutral prefix as long as the instructions: how far any prefix moves the text")
    run = gr.Button("Compare instructions", variant="primary", elem_id="playground-run")
    message = gr.Markdown(elem_id="playground-status")
    heatmap = gr.Plot(label="Cosine similarity between the text's vectors", elem_id="playground-heatmap")
    download = gr.File(label="Matrix as CSV", elem_id="playground-download")

    gr.Markdown("### Several texts: who becomes neighbours under which instruction?")
    texts = gr.Textbox(label="Texts, one per line", value=EXAMPLE_TEXTS, lines=5, elem_id="neighbours-texts")
    run_texts = gr.Button("Compare texts under each instruction", variant="primary", elem_id="neighbours-run")
    texts_message = gr.Markdown(elem_id="neighbours-status")
    matrices = gr.Plot(label="Text-by-text cosine similarity per instruction", elem_id="neighbours-heatmaps")
    texts_download = gr.File(label="Matrices as CSV (long format)")

    @main_action(ctx, "instruction_similarity", 3)
    def compare(model_name, text_value, table, with_placebo):
        encoder = ctx.pool.get(model_name)
        matrix = explore.one_text_many_instructions(encoder, text_value, _instruction_list(table),
                                                    placebo=bool(with_placebo))
        path = write_csv(matrix.reset_index(names="instruction"), ctx, "instruction_similarity.csv")
        figure = plots.similarity_heatmap(matrix, f"“{plots.shorten(text_value, 80)}” under {len(matrix)} instructions")
        note = explore.truncation_note(encoder, [text_value], _instruction_list(table))
        return figure, path, status(note, "warning") if note else ""

    @main_action(ctx, "text_neighbours", 3)
    def compare_texts(model_name, texts_value, table):
        encoder = ctx.pool.get(model_name)
        by_instruction = explore.texts_under_instructions(encoder, texts_value.splitlines(), _instruction_list(table))
        long = pd.concat(
            [m.rename_axis("text_a").reset_index().melt("text_a", var_name="text_b", value_name="cosine")
             .assign(instruction=name) for name, m in by_instruction.items()]
        )[["instruction", "text_a", "text_b", "cosine"]]
        return plots.similarity_heatmaps(by_instruction), write_csv(long, ctx, "text_similarity.csv"), ""

    @guarded(2)
    def add_row(table, instruction):
        rows = _instruction_list(table)
        if not instruction:
            return gr.update(), status("Pick or build an instruction first.", "warning")
        if len(rows) >= MAX_INSTRUCTIONS:
            return gr.update(), status(f"The table already holds {MAX_INSTRUCTIONS} instructions, the limit.", "warning")
        return _rows([*rows, instruction]), ""

    one_text = (compare, [model, text, instructions, placebo], [heatmap, download, message])
    several = (compare_texts, [model, texts, instructions], [matrices, texts_download, texts_message])
    runs = [run.click(*one_text, api_name="instruction_similarity", time_limit=ctx.time_limit),
            text.submit(*one_text, api_visibility="private", time_limit=ctx.time_limit),
            run_texts.click(*several, api_name="text_neighbours", time_limit=ctx.time_limit)]
    add_preset.click(lambda t, p, m: add_row(t, _presets(loaded_encoder(ctx, m)).get(p, "")),
                     [instructions, preset, model], [instructions, message], api_visibility="private")
    model.change(lambda m: gr.update(choices=list(_presets(loaded_encoder(ctx, m))), value=None), model, preset,
                 api_visibility="private", show_progress="hidden")
    for part in (domain, text_type, objective):
        part.change(build_instruction, [domain, text_type, objective], built, api_visibility="private")
    add_built.click(add_row, [instructions, built], [instructions, message], api_visibility="private")
    return SharedPage("playground", {"text": text, "instructions": instructions, "texts": texts}, [one_text, several],
                      runs)
