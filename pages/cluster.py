"""Page 4 — upload a CSV, embed a column under an instruction, cluster it, explore and download."""

from __future__ import annotations

import gradio as gr

from instructor_core import explore, plots
from instructor_core.errors import InputError
from instructor_core.export import write_embeddings
from instructor_core.samples import CLUSTER_EXAMPLES

from .common import (
    AppContext,
    cancel_button,
    dataset_inputs,
    instruction_preview,
    load_dataset,
    main_action,
    output_path,
    progress_callback,
    status,
    wire_cancel,
    write_csv,
)
from .share import SharedPage

ALGORITHMS = {"k-means": "kmeans", "HDBSCAN": "hdbscan", "Agglomerative": "agglomerative"}
PROJECTIONS = {"UMAP": "umap", "t-SNE": "tsne", "PCA": "pca"}
K_CHOICES = ["auto", *[str(k) for k in range(2, 31)]]
# cluster, size, share, keywords, representatives: the two text columns get the room
SUMMARY_WIDTHS = ["8%", "7%", "7%", "28%", "50%"]


def _parse_k(value: str) -> int | str:
    value = str(value or "auto").strip().lower()
    if value == "auto":
        return "auto"
    if not value.isdigit() or int(value) < 2:
        raise InputError(f"Number of clusters must be 'auto' or a whole number of at least 2, not '{value}'.")
    return int(value)


def build(ctx: AppContext, model: gr.Dropdown) -> SharedPage:
    gr.Markdown(
        "Upload a CSV (or use a sample), choose the text column and an instruction that names what the "
        "clusters should be about, and cluster. Downloads keep **every original row and column** and add "
        "`cluster`, `cluster_keywords`, `x`, `y`."
    )
    first = CLUSTER_EXAMPLES[0]
    data = dataset_inputs(ctx, "cluster", with_label=False, default=first.dataset)
    instruction = gr.Textbox(label="Instruction (blank = none)", elem_id="cluster-instruction", value=first.instruction)
    instruction_preview(ctx, model, instruction, elem_id="cluster-preview")
    with gr.Row():
        algorithm = gr.Radio(list(ALGORITHMS), value="k-means", label="Algorithm")
        n_clusters = gr.Dropdown(K_CHOICES, value=first.n_clusters, allow_custom_value=True,
                                 label="Clusters (auto = best silhouette)", info="ignored by HDBSCAN")
        projection = gr.Radio(list(PROJECTIONS), value="UMAP", label="Projection")
        embeddings_format = gr.Radio([".npy", ".parquet"], value=".npy", label="Embeddings file")
    gr.Examples(
        [[e.dataset, e.instruction, e.n_clusters] for e in CLUSTER_EXAMPLES], [data.choice, instruction, n_clusters],
        example_labels=[e.title for e in CLUSTER_EXAMPLES],
        label="Examples: the same texts clustered under different instructions",
    )
    with gr.Row():
        run = gr.Button("Cluster", variant="primary", elem_id="cluster-run")
        cancel = cancel_button("cluster-cancel")
    message = gr.Markdown(elem_id="cluster-status")
    figure = gr.Plot(label="Texts coloured by cluster", elem_id="cluster-plot")
    summary = gr.Dataframe(label="Clusters", interactive=False, wrap=True, elem_id="cluster-table",
                           column_widths=SUMMARY_WIDTHS)
    with gr.Row():
        csv_file = gr.File(label="Table with clusters (CSV)", elem_id="cluster-csv")
        embeddings_file = gr.File(label="Embeddings", elem_id="cluster-embeddings")
    data.clears([figure, summary, csv_file, embeddings_file, message])

    @main_action(ctx, "cluster", 5)
    def run_clustering(model_name, choice, upload, text_column, instruction_value, algorithm_name, k, projection_name,
                       fmt, progress=gr.Progress()):
        dataset = load_dataset(choice, upload, text_column, None, ctx.max_rows)
        encoder = ctx.pool.get(model_name)
        expected_s = encoder.estimate_seconds(dataset.texts, instruction_value)  # shown before the first batch
        result = explore.cluster_texts(
            encoder, dataset.frame, dataset.texts, dataset.row_index, instruction_value,
            method=ALGORITHMS.get(algorithm_name, algorithm_name), n_clusters=_parse_k(k),
            projection=PROJECTIONS.get(projection_name, projection_name),
            progress=progress_callback(progress, expected_s=expected_s, then="clustering and drawing the map"),
        )
        kept = result.frame.iloc[dataset.row_index]
        scatter = plots.cluster_map(kept[["x", "y"]].to_numpy(), dataset.texts, kept["cluster"].tolist(),
                                    dict(zip(result.summary["cluster"], result.summary["keywords"])),
                                    f"{result.n_clusters} clusters · {algorithm_name}")
        csv_path = write_csv(result.frame, ctx, "clustered.csv")
        emb_path = write_embeddings(result.embeddings, output_path(ctx, f"embeddings{fmt}"))
        quality = "" if result.silhouette is None else f" Silhouette {result.silhouette:.3f}."
        notes = " ".join([*dataset.notes, *result.notes])
        return (scatter, result.summary, csv_path, str(emb_path),
                status(f"{len(dataset.texts):,} texts in {result.n_clusters} clusters.{quality} {notes}".strip()))

    action = (run_clustering, [model, data.choice, data.upload, data.text_column, instruction, algorithm, n_clusters,
                               projection, embeddings_format],
              [figure, summary, csv_file, embeddings_file, message])
    shared = SharedPage("cluster", {"dataset": data.choice, "instruction": instruction, "algorithm": algorithm,
                                    "k": n_clusters, "projection": projection}, [action], dataset=data)
    event = run.click(*action, api_name="cluster", time_limit=ctx.time_limit)
    wire_cancel(ctx, "cluster", cancel, event, message)
    shared.runs.append(event)
    return shared
