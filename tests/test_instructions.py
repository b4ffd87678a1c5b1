"""The paper's instruction template, instruction checks, and the example library."""

from __future__ import annotations

import json

import pytest

from instructor_core import InputError
from instructor_core.instructions import (
    LIBRARY_PATH,
    MAX_INSTRUCTIONS,
    InstructionPreset,
    build_instruction,
    check_instructions,
    instruction_presets,
    load_instruction_library,
    phrasing_sets,
)

TASK_TYPES = {"classification", "clustering", "retrieval", "sts"}


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("Amazon", "review", "classifying sentiment"), "Represent the Amazon review for classifying sentiment: "),
        (("", "question", "retrieving supporting documents"),
         "Represent the question for retrieving supporting documents: "),
        (("Wikipedia", "document", ""), "Represent the Wikipedia document: "),
        (("medical", "", "clustering"), "Represent the medical text for clustering: "),
        (("", "", "clustering by topic"), "Represent the text for clustering by topic: "),
        (("Bio-medical", "statement", ""), "Represent the Bio-medical statement: "),
        (("", "", ""), "Represent the text: "),
    ],
)
def test_template_with_each_omission(parts, expected):
    assert build_instruction(*parts) == expected


def test_template_cleans_whitespace_and_objective_wording():
    assert build_instruction("  news \n", " head\tline ", "  clustering   by  topic ") == \
        "Represent the news head line for clustering by topic: "
    assert build_instruction("", "review", "for classifying sentiment.") == \
        "Represent the review for classifying sentiment: "
    assert build_instruction("", "review", "For classifying sentiment:") == \
        "Represent the review for classifying sentiment: "
    assert build_instruction("", "question", "forecasting demand") == \
        "Represent the question for forecasting demand: "  # "for" only stripped as a whole word
    assert build_instruction("", "question", "for") == "Represent the question: "
    assert build_instruction(text_type="tweet").endswith("tweet: ")


def test_check_instructions_keeps_text_and_blanks_mean_no_instruction():
    assert check_instructions(["  Represent the review: ", None]) == ["  Represent the review: ", ""]
    assert check_instructions(["\t \n", "a: "]) == ["", "a: "]
    assert check_instructions(("only one",)) == ["only one"]


def test_check_instructions_limits():
    assert len(check_instructions([f"i{n}" for n in range(MAX_INSTRUCTIONS)])) == MAX_INSTRUCTIONS
    with pytest.raises(InputError, match=f"You entered {MAX_INSTRUCTIONS + 1} instructions; the limit is "
                                         f"{MAX_INSTRUCTIONS}"):
        check_instructions([f"i{n}" for n in range(MAX_INSTRUCTIONS + 1)])
    with pytest.raises(InputError, match="limit is 2"):
        check_instructions(["a", "b", "c"], max_count=2)
    with pytest.raises(InputError, match="at least one"):
        check_instructions([])


def test_check_instructions_duplicates_are_named():
    with pytest.raises(InputError, match="“Represent the tweet:” appears twice"):
        check_instructions(["Represent the tweet: ", "other: ", "Represent the tweet: "])
    with pytest.raises(InputError, match="appears twice"):
        check_instructions(["x: ", " x:  "])  # the same to the model
    with pytest.raises(InputError, match="More than one row is blank"):
        check_instructions(["", None, "a: "])


def test_library_json_has_every_task_type_and_phrasing_set():
    library = json.loads(LIBRARY_PATH.read_text(encoding="utf-8"))
    assert set(library["task_types"]) == TASK_TYPES
    assert all(len(entries) >= 5 for entries in library["task_types"].values())
    for entry in library["task_types"]["retrieval"]:
        assert entry["query"] != entry["document"]
    sets = library["phrasing_sets"]
    assert len(sets) >= 4 and all(4 <= len(s["phrasings"]) <= 6 for s in sets)
    assert {"review sentiment", "question topic", "news topic"} <= {s["name"] for s in sets}
    assert load_instruction_library() == library
    assert load_instruction_library(LIBRARY_PATH) == library


def test_library_entries_follow_the_template():
    library = load_instruction_library()
    for task_type, entries in library["task_types"].items():
        for entry in entries:
            if "instruction" in entry:
                assert build_instruction(entry["domain"], entry["text_type"], entry["objective"]) == \
                    entry["instruction"], (task_type, entry["name"])
    everything = [p.instruction for p in instruction_presets()]
    everything += [p for phrasings in phrasing_sets().values() for p in phrasings]
    assert all(i.startswith("Represent the ") and i.endswith(": ") and not i.endswith("  ") for i in everything)


def test_presets_by_task_type_and_retrieval_pairs():
    presets = instruction_presets()
    assert all(isinstance(p, InstructionPreset) for p in presets)
    assert {p.task_type for p in presets} == TASK_TYPES
    assert {p.task_type for p in instruction_presets("sts")} == {"sts"}
    assert instruction_presets("no such type") == []
    retrieval = {p.name: p.instruction for p in instruction_presets("retrieval")}
    assert retrieval["Wikipedia QA (query)"] == "Represent the Wikipedia question for retrieving supporting documents: "
    assert retrieval["Wikipedia QA (document)"] == "Represent the Wikipedia document for retrieval: "
    assert len(retrieval) == 2 * len(load_instruction_library()["task_types"]["retrieval"])
    names = [(p.task_type, p.name) for p in presets]
    assert len(names) == len(set(names))  # each preset can be picked by its label


def test_phrasing_sets_are_valid_instruction_lists():
    sets = phrasing_sets()
    assert next(iter(sets)) == "review sentiment" and len(sets["review sentiment"]) == 5
    for phrasings in sets.values():
        assert check_instructions(phrasings) == phrasings  # distinct, within the limit
    sets["review sentiment"].append("mutated")
    assert "mutated" not in phrasing_sets()["review sentiment"]  # callers get copies


def test_every_example_also_comes_as_a_task_phrase_for_templated_families():
    tasks = instruction_presets(style="task")
    assert len(tasks) == len(instruction_presets()) - len(instruction_presets("retrieval")) // 2
    assert all(p.instruction and not p.instruction.startswith("Represent") and not p.instruction.endswith(": ")
               for p in tasks)
    by_name = {p.name: p.instruction for p in tasks}
    assert by_name["review sentiment"] == "Classify the sentiment of a given product review"
    sets = phrasing_sets("task")
    assert list(sets) == list(phrasing_sets())
    for name, phrasings in sets.items():
        assert check_instructions(phrasings) == phrasings and not phrasings[0].startswith("Represent"), name
