"""How an instruction reaches each family of embedding model: template, pooling, named prompts.

Instruction-aware embedders differ in what they read and what they pool:

* INSTRUCTOR (``hkunlp/instructor-*``, ``instructor-mini``): the raw instruction ("Represent the review for
  classifying sentiment: ") is read with the text but left out of the mean pool.
* EmbeddingGemma: ``task: {task} | query: `` + text, mean pooling *including* the prompt, then Dense layers.
* Qwen3-Embedding, gte-Qwen2-instruct, e5-mistral-instruct: ``Instruct: {task}\\nQuery:`` + text, last-token
  pooling; multilingual-e5-large-instruct: the same template, mean pooling including it.
* BGE, Arctic-embed, Nomic: a few fixed prefixes ("search_query: ", ...), no free instructions.
* Plain models (all-MiniLM, mpnet, ...): never trained with instructions; one is simply prepended.

:func:`detect_profile` reads the family from the model's own files (modules.json, the pooling config,
config.json's architecture, config_sentence_transformers.json's prompts) and from known hub ids, never from
a name alone. Only the INSTRUCTOR family has the prompt left out of the pool; every other model keeps its
own pooling configuration.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Style = Literal["instructor", "task"]
Instructions = Literal["free", "fixed", "none"]

TASK = "{task}"
_INSTRUCT_PROMPT = re.compile(r"^Instruct: (?P<task>.*)\nQuery:(?P<space> ?)$", re.DOTALL)
_GEMMA_PROMPT = re.compile(r"^task: (?P<task>.*) \| query: $", re.DOTALL)
_HUB_CACHE_DIR = re.compile(r"^models--(?P<org>[^/]+?)--(?P<name>[^/]+)$")
_T5_TYPES = {"t5", "mt5"}
_DECODER_TYPES = {"qwen2", "qwen3", "mistral", "llama", "gemma", "gemma2", "gemma3_text"}


@dataclass(frozen=True)
class ModelProfile:
    """What a model family does with an instruction.

    ``template`` wraps the user's instruction (``{task}`` alone: passed verbatim); ``include_prompt`` says
    whether prompt tokens are pooled; ``instructions`` is "free" (any instruction), "fixed" (only its
    named prefixes) or "none" (never trained with one); ``style`` says how example instructions are
    written for it: the INSTRUCTOR paper's "Represent the ...: " or a task phrase.
    """

    family: str
    label: str
    template: str = TASK
    pooling: str = "mean"
    include_prompt: bool = True
    instructions: Instructions = "none"
    style: Style = "instructor"
    presets: tuple[tuple[str, str], ...] = ()  # (name, full prompt) from the model's own configuration
    remote_code: bool = False  # the checkpoint runs code from its repository (auto_map or custom modules)
    default_prompt: str = ""  # its config's default_prompt_name: what sentence-transformers adds to a bare text

    @property
    def instruction_tuned(self) -> bool:
        return self.instructions == "free"

    @property
    def templated(self) -> bool:
        return self.template != TASK

    def prompt(self, instruction: str | None) -> str:
        """The exact string the model reads before the text for ``instruction`` ("" for none).

        Templated families wrap a task phrase; an instruction that already is a full prompt of the model
        (one of its named prompts, or starting like the template) is used as it is. No instruction gives
        the model's default prompt, as ``SentenceTransformer.encode`` without a prompt does (usually none).
        """
        instruction = (instruction or "").lstrip()
        if not instruction.strip():
            return self.default_prompt
        if not self.templated or instruction in dict(self.presets).values():
            return instruction
        if instruction.startswith(self.template.split(TASK)[0]):
            return instruction
        return self.template.replace(TASK, instruction.strip())

    def model_input(self, text: str, instruction: str | None = None) -> str:
        """The whole string the model reads: the prompt, then the (stripped) text."""
        return self.prompt(instruction) + text.strip()

    def describe(self) -> str:
        """One line: the template and the pooling, for banners and listings."""
        shown = self.template.replace("\n", "\\n")
        template = f"`{shown}`" if self.templated else "the instruction as typed"
        pooled = "including the prompt" if self.include_prompt else "leaving the instruction out of the pool"
        return f"{self.label}: {template}, {self.pooling} pooling {pooled}"


# Families of known hub ids (lower-cased, matched from the start), for what the files alone cannot tell:
# hkunlp's INSTRUCTOR and sentence-t5 share one layout; BGE keeps its query prefix in its model card.
_KNOWN_IDS: tuple[tuple[str, str], ...] = (
    (r"hkunlp/instructor-", "instructor"),
    (r"google/embeddinggemma-", "embeddinggemma"),
    (r"qwen/qwen3-embedding-", "qwen3"),
    (r"alibaba-nlp/gte-qwen2-.*-instruct$", "gte-qwen2"),
    (r"intfloat/(e5-mistral-7b-instruct|multilingual-e5-large-instruct)$", "e5-instruct"),
    (r"baai/bge-(small|base|large)-en(-v1\.5)?$", "bge"),  # the zh models have a Chinese prefix
    (r"snowflake/snowflake-arctic-embed-(xs|s|m|m-long|l|m-v1\.5)$", "bge"),
    (r"nomic-ai/nomic-embed-text-v1(\.5)?$", "nomic"),
)
_BGE_QUERY = "Represent this sentence for searching relevant passages: "
_KNOWN_PREFIXES: dict[str, tuple[tuple[str, str], ...]] = {
    "bge": (("query", _BGE_QUERY),),
    "nomic": (("search_query", "search_query: "), ("search_document", "search_document: "),
              ("clustering", "clustering: "), ("classification", "classification: ")),
}
LABELS = {
    "instructor": "INSTRUCTOR",
    "embeddinggemma": "EmbeddingGemma",
    "qwen3": "Qwen3-Embedding",
    "gte-qwen2": "gte-Qwen2-instruct",
    "e5-instruct": "E5-instruct",
    "instruct-query": "Instruct/Query template",
    "bge": "fixed query prefix (BGE / Arctic-embed)",
    "nomic": "fixed task prefixes (Nomic)",
    "prefix": "fixed prompts from its configuration",
    "plain": "no instruction training",
}


# What each family does, for listings before a model's files are on disk (detection reads the files).
FAMILY_SUMMARIES = {
    "instructor": "the instruction as typed, read with the text but left out of the mean pool",
    "embeddinggemma": "`task: {task} | query: `, mean pooling including the prompt, then two Dense layers",
    "qwen3": "`Instruct: {task}\\nQuery:`, last-token pooling",
    "gte-qwen2": "`Instruct: {task}\\nQuery: `, last-token pooling, bidirectional attention",
    "e5-instruct": "`Instruct: {task}\\nQuery: `, last-token (e5-mistral) or mean pooling including the prompt "
                   "(multilingual-e5)",
    "bge": "fixed query prefix `Represent this sentence for searching relevant passages: `, CLS pooling",
    "nomic": "fixed prefixes `search_query: `, `search_document: `, `clustering: `, `classification: `",
    "plain": "no instruction training: an instruction is read as part of the text",
}


@dataclass(frozen=True)
class ModelFiles:
    """The few small files that decide a model's family (all optional)."""

    modules: list[dict]
    pooling: dict
    config: dict
    st_config: dict

    @classmethod
    def read(cls, folder: str | Path | None) -> ModelFiles:
        root = Path(folder) if folder else None
        modules = _json(root, "modules.json") or []
        pooling_path = next((m.get("path", "") for m in modules if str(m.get("type", "")).endswith("Pooling")), None)
        pooling = _json(root, f"{pooling_path}/config.json") if pooling_path else {}
        config, st_config = _json(root, "config.json"), _json(root, "config_sentence_transformers.json")
        return cls(modules, pooling or {}, config or {}, st_config or {})

    @property
    def pooling_mode(self) -> str:
        """"mean", "lasttoken", "cls", ... from the new (``pooling_mode``) or legacy (``pooling_mode_*``) keys."""
        mode = self.pooling.get("pooling_mode")
        if isinstance(mode, str):
            return mode
        if isinstance(mode, list) and mode:
            return "+".join(mode)
        legacy = [key.removeprefix("pooling_mode_") for key, on in self.pooling.items()
                  if key.startswith("pooling_mode_") and on]
        names = {"cls_token": "cls", "mean_tokens": "mean", "max_tokens": "max", "weightedmean_tokens": "weightedmean",
                 "mean_sqrt_len_tokens": "mean_sqrt_len", "lasttoken": "lasttoken"}
        return "+".join(names.get(m, m) for m in legacy) or "mean"

    @property
    def model_type(self) -> str:
        return str(self.config.get("model_type", "")).lower()

    @property
    def prompts(self) -> dict[str, str]:
        prompts = self.st_config.get("prompts") or {}
        return {str(k): v for k, v in prompts.items() if isinstance(v, str) and v.strip()}

    @property
    def remote_code(self) -> bool:
        """True when loading would run code from the repository (transformers auto_map, custom modules)."""
        types = [str(m.get("type", "sentence_transformers")) for m in self.modules]
        custom = any(not t.startswith("sentence_transformers") for t in types)
        return bool(self.config.get("auto_map")) or custom

    @property
    def has_dense(self) -> bool:
        return any(str(m.get("type", "")).endswith("Dense") for m in self.modules)


def _json(root: Path | None, name: str) -> dict | list | None:
    if root is None or not (root / name).is_file():
        return None
    try:
        return json.loads((root / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def hub_id_of(folder: str | Path | None) -> str | None:
    """The hub id of a Hugging Face cache snapshot folder (``.../models--org--name/snapshots/<hash>``)."""
    if not folder:
        return None
    parts = Path(folder).parts
    if len(parts) >= 3 and parts[-2] == "snapshots":
        match = _HUB_CACHE_DIR.match(parts[-3])
        if match:
            return f"{match['org']}/{match['name']}"
    return None


def known_family(hub_id: str | None) -> str | None:
    """The family of a known hub id (case-insensitive), else None."""
    lowered = (hub_id or "").lower()
    return next((family for pattern, family in _KNOWN_IDS if re.match(pattern, lowered)), None) if lowered else None


def detect_profile(folder: str | Path | None, hub_id: str | None = None, name: str = "") -> ModelProfile:
    """The :class:`ModelProfile` of the model saved in ``folder`` (and known as ``hub_id``, if any).

    Decided by, in order: a pooling config that leaves the prompt out (INSTRUCTOR semantics); a known hub
    id; a T5 encoder with Dense layers whose id or folder says instructor (hkunlp's legacy layout, which
    carries no other mark); a Gemma3 text encoder (EmbeddingGemma); an ``Instruct: ...\\nQuery:`` prompt or
    last-token pooling; other named prompts (fixed prefixes); otherwise a plain model.
    """
    files = ModelFiles.read(folder)
    hub_id = hub_id or hub_id_of(folder)
    family = known_family(hub_id)
    marked_instructor = "instructor" in f"{hub_id or ''} {name} {Path(folder).name if folder else ''}".lower()
    if files.pooling.get("include_prompt") is False or family == "instructor" or (
            family is None and files.model_type in _T5_TYPES and files.has_dense and marked_instructor):
        return instructor_profile(folder)
    if family is None:
        family = _family_from_files(files)
    if family == "embeddinggemma":
        return _profile(files, family, "task: {task} | query: ", instructions="free", style="task")
    if family in {"qwen3", "gte-qwen2", "e5-instruct", "instruct-query"}:
        return _profile(files, family, _instruct_template(files, family), instructions="free", style="task")
    if family in {"bge", "nomic", "prefix"}:
        return _profile(files, family, TASK, instructions="fixed", extra=_KNOWN_PREFIXES.get(family, ()))
    return _profile(files, "plain", TASK)


def instructor_profile(folder: str | Path | None) -> ModelProfile:
    """The INSTRUCTOR profile for the model in ``folder``: the instruction read but left out of the pool.
    Detection gives it to INSTRUCTOR checkpoints; training asks for it to turn any base model into one."""
    return _profile(ModelFiles.read(folder), "instructor", TASK, include_prompt=False, instructions="free",
                    style="instructor")


def _family_from_files(files: ModelFiles) -> str:
    prompts = files.prompts.values()
    if files.model_type == "gemma3_text" or any(_GEMMA_PROMPT.match(p) for p in prompts):
        return "embeddinggemma"
    if any(_INSTRUCT_PROMPT.match(p) for p in prompts) or (
            files.pooling_mode == "lasttoken" and files.model_type in _DECODER_TYPES):
        return "instruct-query"
    return "prefix" if files.prompts else "plain"


def _instruct_template(files: ModelFiles, family: str) -> str:
    """``Instruct: {task}\\nQuery:`` followed by a space or not, as the model's own prompts write it
    (Qwen3-Embedding: no space; e5 and gte-Qwen2: a space)."""
    for prompt in files.prompts.values():
        match = _INSTRUCT_PROMPT.match(prompt)
        if match:
            return "Instruct: {task}\nQuery:" + match["space"]
    return "Instruct: {task}\nQuery:" + ("" if family == "qwen3" else " ")


def _profile(files: ModelFiles, family: str, template: str, *, include_prompt: bool = True,
             instructions: Instructions = "none", style: Style = "instructor",
             extra: tuple[tuple[str, str], ...] = ()) -> ModelProfile:
    presets = tuple(dict.fromkeys([*files.prompts.items(), *extra]))
    default = files.prompts.get(str(files.st_config.get("default_prompt_name")), "")
    return ModelProfile(family, LABELS[family], template, files.pooling_mode, include_prompt, instructions, style,
                        presets, files.remote_code, default)
