"""Instructions: the paper's template, a library of examples by task type, and input checks.

Each library example comes in two styles (see :attr:`ModelProfile.style`): the INSTRUCTOR paper's
"Represent the [domain] [text type] for [task objective]: " and a task phrase ("Classify the sentiment of a
given product review") for the families that wrap a task in their own template (EmbeddingGemma, Qwen3,
E5-instruct).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import InputError

MAX_INSTRUCTIONS = 12
LIBRARY_PATH = Path(__file__).resolve().parents[1] / "assets" / "instructions.json"
# How "no instruction" is written where a blank would be invisible (a table row, a legend); read back as blank.
NO_INSTRUCTION = "(no instruction)"


def _clean(part: str) -> str:
    return re.sub(r"\s+", " ", part or "").strip()


def build_instruction(domain: str = "", text_type: str = "", objective: str = "") -> str:
    """"Represent the [domain] [text type] for [task objective]: " with empty parts left out cleanly.

    >>> build_instruction("Amazon", "review", "classifying sentiment")
    'Represent the Amazon review for classifying sentiment: '
    """
    domain, text_type = _clean(domain), _clean(text_type) or "text"
    objective = re.sub(r"^for\b\s*", "", _clean(objective), flags=re.IGNORECASE).rstrip(" .:;")
    subject = f"{domain} {text_type}" if domain else text_type
    return f"Represent the {subject} for {objective}: " if objective else f"Represent the {subject}: "


def check_instructions(instructions: Sequence[str | None], max_count: int = MAX_INSTRUCTIONS) -> list[str]:
    """Instructions as typed, blank ones and ``NO_INSTRUCTION`` as "" (no instruction); raises InputError on
    too many or repeats."""
    cleaned = ["" if ins is None or str(ins).strip() in ("", NO_INSTRUCTION) else str(ins) for ins in instructions]
    if not cleaned:
        raise InputError("Enter at least one instruction (a blank one means 'no instruction').")
    if len(cleaned) > max_count:
        raise InputError(f"You entered {len(cleaned)} instructions; the limit is {max_count}. Remove some rows.")
    seen: set[str] = set()
    for ins in cleaned:
        key = ins.strip()  # "x: " and "x:  " tokenize alike: the same instruction to the model
        if key in seen:
            if not key:
                raise InputError("More than one row is blank (no instruction); keep one blank row at most.")
            raise InputError(f"The instruction “{key}” appears twice; each row should differ, since comparing "
                             "an instruction with itself tells nothing.")
        seen.add(key)
    return cleaned


@dataclass(frozen=True)
class InstructionPreset:
    """A named example instruction from the library, e.g. ("Wikipedia QA (query)", "Represent ...", "retrieval")."""

    name: str
    instruction: str
    task_type: str


@lru_cache(maxsize=4)
def load_instruction_library(path: str | Path | None = None) -> dict:
    """The example-instruction library: ``{"task_types": {...}, "phrasing_sets": [...]}``.

    ``path`` defaults to the repository's ``assets/instructions.json``; the result is cached, so treat it
    as read-only.
    """
    return json.loads(Path(path or LIBRARY_PATH).read_text(encoding="utf-8"))


def instruction_presets(task_type: str | None = None, style: str = "instructor") -> list[InstructionPreset]:
    """Example instructions, optionally of one task type, in ``style`` ("instructor" or "task").

    INSTRUCTOR-style retrieval pairs give a query and a document preset; task-style ones only the query's
    task (templated families encode documents without an instruction)."""
    presets = []
    for kind, entries in load_instruction_library()["task_types"].items():
        if task_type not in (None, kind):
            continue
        for entry in entries:
            if style == "task":
                name = f"{entry['name']} (query)" if "query" in entry else entry["name"]
                presets.append(InstructionPreset(name, entry["task"], kind))
            elif "instruction" in entry:
                presets.append(InstructionPreset(entry["name"], entry["instruction"], kind))
            else:
                presets.append(InstructionPreset(f"{entry['name']} (query)", entry["query"], kind))
                presets.append(InstructionPreset(f"{entry['name']} (document)", entry["document"], kind))
    return presets


def phrasing_sets(style: str = "instructor") -> dict[str, list[str]]:
    """Named groups of paraphrases of one instruction, for the robustness analysis, in ``style``
    ("instructor": the paper's template; "task": task phrases)."""
    key = "tasks" if style == "task" else "phrasings"
    return {entry["name"]: list(entry[key]) for entry in load_instruction_library()["phrasing_sets"]}
