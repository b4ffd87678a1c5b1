"""Instructor Explorer — the Gradio app. ``python app.py --help`` lists the options.

Every option has an environment-variable twin (``INSTRUCTOR_EXPLORER_<OPTION>``) for containers and
hosted demos; command-line flags win over the environment.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence

if __name__ == "__main__":  # SIGTERM during the slow imports and model load below: exit 0 at once
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))

from instructor_core.cache import default_cache_dir  # noqa: E402

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# numba (UMAP) keeps compiled code here, so its JIT cost is paid once per install, not per start.
os.environ.setdefault("NUMBA_CACHE_DIR", str(default_cache_dir() / "numba"))

import gradio as gr  # noqa: E402

from instructor_core import ModelLoadError  # noqa: E402
from instructor_core.data import DEFAULT_MAX_ROWS, HOSTED_MAX_ROWS  # noqa: E402
from instructor_core.fast import BACKENDS  # noqa: E402
from instructor_core.models import CATALOGUE, offline_choices  # noqa: E402
from instructor_core.pool import EncoderPool  # noqa: E402
from instructor_core.projection import warm_up  # noqa: E402
from pages import cluster, controls, phrasings, playground, projection, share  # noqa: E402
from pages.common import AppContext, model_banner, status  # noqa: E402

ENV_PREFIX = "INSTRUCTOR_EXPLORER_"
# Uploads up to 100 MB locally hold 100,000 rows of texts of a few hundred characters (data.DEFAULT_MAX_ROWS);
# a public demo keeps them small.
LOCAL_UPLOAD_MB = 100
HOSTED_UPLOAD_MB = 20
CSS = """
#model-banner {font-size: 0.95em}
footer {display: none !important}
"""


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(ENV_PREFIX + name.upper().replace("-", "_"), default)


def _env_int(name: str) -> int | None:
    value = _env(name)
    return None if value is None or not value.strip() else int(value)


def _env_flag(name: str) -> bool:
    return (_env(name) or "").strip().lower() in {"1", "true", "yes", "on"}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--model", default=_env("model", "auto"),
                        help="'auto', a catalogue name (`python -m instructor_core models` lists them), "
                             "a Hugging Face id or a folder")
    parser.add_argument("--device", default=_env("device", "auto"), help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--dtype", default=_env("dtype", "auto"), help="auto, fp32, fp16 or bf16 (CUDA)")
    parser.add_argument("--backend", default=_env("backend", "auto"), choices=BACKENDS,
                        help="auto (int8 on CPU when onnxruntime is installed), torch (exact) or int8 (CPU, ~2.5x faster)")
    parser.add_argument("--host", default=_env("host", "127.0.0.1"), help="interface to listen on")
    parser.add_argument("--port", type=int, default=int(_env("port", "7860")))
    parser.add_argument("--share", action="store_true", default=_env_flag("share"), help="public Gradio link")
    parser.add_argument("--max-rows", type=int, default=_env_int("max_rows"),
                        help=f"largest table a user may upload or embed (default {DEFAULT_MAX_ROWS:,}; "
                             f"{HOSTED_MAX_ROWS:,} with --hosted)")
    parser.add_argument("--hosted", action="store_true", default=_env_flag("hosted"),
                        help="public-demo mode: model allow-list, capped uploads, limited queue and run time")
    parser.add_argument("--allow-model", action="append",
                        default=[m.strip() for m in (_env("allow_models") or "").split(",") if m.strip()],
                        help="extra model a hosted visitor may pick (repeatable; env: comma-separated)")
    parser.add_argument("--max-upload-mb", type=int, default=_env_int("max_upload_mb"),
                        help=f"largest upload (default {LOCAL_UPLOAD_MB}; {HOSTED_UPLOAD_MB} with --hosted)")
    parser.add_argument("--concurrency", type=int, default=int(_env("concurrency", "4")),
                        help="requests of one kind served at once")
    parser.add_argument("--time-limit", type=int, default=int(_env("time_limit", "300")),
                        help="seconds a hosted request may run")
    parser.add_argument("--trust-remote-code", action="store_true", default=_env_flag("trust_remote_code"),
                        help="let models that ship their own code (gte-Qwen2, Nomic) run it; never in hosted mode")
    parser.add_argument("--disk-cache", action="store_true", default=_env_flag("disk_cache"),
                        help="also keep embeddings on disk across restarts")
    args = parser.parse_args(argv)
    if args.max_rows is None:
        args.max_rows = HOSTED_MAX_ROWS if args.hosted else DEFAULT_MAX_ROWS
    if args.max_upload_mb is None:
        args.max_upload_mb = HOSTED_UPLOAD_MB if args.hosted else LOCAL_UPLOAD_MB
    return args


def build_app(ctx: AppContext, concurrency: int = 4, precompute: bool = False) -> gr.Blocks:
    """The four pages under one header that names the active model; ``precompute`` computes the pages'
    first-visit results in the background at once, so the first visitor does not wait for the model."""
    with gr.Blocks(title="Instructor Explorer", delete_cache=(1800, 3600)) as demo:
        gr.Markdown("# Instructor Explorer\nSee how an instruction reshapes a text's embedding "
                    "([INSTRUCTOR](https://arxiv.org/abs/2212.09741): *Represent the [domain] [text type] for "
                    "[task objective]:*).")
        default_encoder = ctx.pool.get()
        in_use = default_encoder.source.choice  # what "auto" resolved to
        with gr.Row():
            names = ctx.pool.choices() if ctx.hosted else [ctx.pool.default, *(e.name for e in CATALOGUE)]
            model = gr.Dropdown(list(dict.fromkeys([in_use, *names])), value=in_use, label="Model", scale=1,
                                allow_custom_value=not ctx.hosted, elem_id="model-picker",
                                info="models that load offline here" if ctx.hosted
                                else "a Hugging Face id or a local folder also works")
            banner = gr.Markdown(model_banner(default_encoder, ctx.hosted), elem_id="model-banner")
        last_good = gr.State(in_use)
        model_message = gr.Markdown(elem_id="model-status")

        def switch_model(name, previous):
            """Load ``name``; on failure put the picker back and keep serving the previous model."""
            try:
                encoder = ctx.pool.get(name)
            except Exception as err:  # noqa: BLE001 - load_encoder wraps every failure in ModelLoadError
                return previous, gr.update(), previous, status(
                    f"{err} Still using `{previous}`.", "error")
            choice = encoder.source.choice  # "auto" shows what it resolved to
            picker = gr.update() if choice == name else gr.update(value=choice)
            return picker, model_banner(encoder, ctx.hosted), choice, status(f"Loaded `{encoder.name}`.")

        model.input(switch_model, [model, last_good], [model, banner, last_good, model_message],
                    api_name="load_model")

        with gr.Tabs() as tabs:
            with gr.Tab("Instruction playground", id="playground"):
                pages = [playground.build(ctx, model)]
            with gr.Tab("Phrasings", id="phrasings"):
                pages.append(phrasings.build(ctx, model))
            with gr.Tab("Projection", id="projection"):
                pages.append(projection.build(ctx, model))
            with gr.Tab("Does the instruction matter?", id="controls"):
                pages.append(controls.build(ctx, model))
            with gr.Tab("Cluster a CSV", id="cluster"):
                pages.append(cluster.build(ctx, model))
        query = gr.Textbox(visible="hidden", elem_id="share-query")

        def open_link(request: gr.Request):
            """Restore the page (and model) a shared link names; every page then shows its result."""
            params = dict(request.query_params)
            updates = {model_message: "", **share.restore(pages, tabs, params)}  # never empty: Gradio needs one
            name = params.get("model", in_use)
            if name != in_use:
                try:
                    encoder = ctx.pool.get(name)
                except ModelLoadError as err:
                    updates[model_message] = status(f"The link's model could not be loaded: {err}", "warning")
                else:
                    choice = encoder.source.choice
                    updates.update({model: choice, banner: model_banner(encoder, ctx.hosted), last_good: choice})
            return updates

        restored = [tabs, model, banner, last_good, model_message,
                    *(c for page in pages for c in page.fields.values()),
                    *(c for page in pages if page.dataset for c in (page.dataset.text_column, page.dataset.label_column)
                      if c is not None)]
        share.FirstVisitCache(ctx).serve(pages, model)
        opened = demo.load(open_link, None, list(dict.fromkeys(restored)), api_visibility="private")
        for page in pages:
            for handler, inputs, outputs in page.actions:
                opened.then(handler, inputs, outputs, api_visibility="private", time_limit=ctx.time_limit)
            for run in page.runs:
                run.then(lambda name, *values, page=page: share.encode_query(page.tab, name, page.fields, values),
                         [model, *page.fields.values()], query, api_visibility="private"
                         ).then(None, query, None, js=share.SET_URL_JS, api_visibility="private")
        if precompute:
            threading.Thread(target=share.warm_up, args=(pages,), name="first-visit", daemon=True).start()
    demo.queue(default_concurrency_limit=concurrency, max_size=64 if ctx.hosted else None)
    return demo


def create_app(args: argparse.Namespace, precompute: bool = False) -> gr.Blocks:
    """The app as the command line configures it (hosted mode: allow-list, time limit, bounded queue)."""
    allowed = [*offline_choices(), args.model, *args.allow_model] if args.hosted else None
    pool = EncoderPool(args.model, args.device, args.dtype, allowed=allowed,
                       disk_cache=True if args.disk_cache else None,
                       trust_remote_code=args.trust_remote_code and not args.hosted, backend=args.backend)
    ctx = AppContext(pool, max_rows=args.max_rows, hosted=args.hosted,
                     time_limit=args.time_limit if args.hosted else None)
    return build_app(ctx, concurrency=args.concurrency, precompute=precompute)


def launch_options(args: argparse.Namespace) -> dict:
    """Keyword arguments for ``Blocks.launch``: where to listen, the upload cap, the stylesheet."""
    return {"server_name": args.host, "server_port": args.port, "share": args.share, "css": CSS,
            "max_file_size": f"{args.max_upload_mb}mb", "footer_links": ["api"]}


def stop_on_sigterm(demo: gr.Blocks) -> None:
    """Stop cleanly on SIGTERM (``docker stop``, Spaces, Kubernetes) as on Ctrl-C: close the app, so
    ``launch`` returns. Python as a container's PID 1 would otherwise ignore the signal and be killed
    after the grace period (exit 137)."""

    def stop(signum, frame):
        if not demo.is_running:  # not launched yet
            sys.exit(0)
        demo.close()  # stops the queue before the server, which then closes without waiting

    signal.signal(signal.SIGTERM, stop)


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    demo = create_app(args, precompute=True)  # every page's example result, computed before the first visit
    stop_on_sigterm(demo)
    threading.Thread(target=warm_up, name="umap-warm-up", daemon=True).start()
    demo.launch(**launch_options(args))  # returns once SIGTERM or Ctrl-C closed the server
    # Downloads and cached vectors are on disk already. Skip the interpreter's teardown of torch, numba and
    # gradio: it takes seconds on a busy machine (past docker's 10 s) and can hang on a daemon thread.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
