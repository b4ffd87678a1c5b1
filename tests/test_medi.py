"""The MEDI-style mixture: formats read, splits kept apart, instructions per side, per-task groups."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest

from instructor_core.training import mixture as mix
from instructor_core.training import tasks

REAL_DATA = tasks.default_data_dir()


def write_fake_data(root: Path, n: int = 60) -> Path:
    """Tiny copies of every raw training file, in the exact formats of ../shared/data/train."""
    rnd = random.Random(0)
    topics = {"World": "election minister parliament treaty", "Sports": "match goal season coach",
              "Business": "stocks profit market shares", "Sci/Tech": "software chip internet browser"}
    (root / "ag_news").mkdir(parents=True)
    with (root / "ag_news" / "train_subset_alps.tsv").open("w") as fh:
        for i in range(n):
            label = list(topics)[i % 4]
            words = rnd.sample(topics[label].split(), 3)
            fh.write(f"Report {i} says the {' '.join(words)} news #39;s story \\$5 today\t{label}\n")
    (root / "sst2").mkdir()
    with (root / "sst2" / "train.tsv").open("w") as fh:
        fh.write("sentence\tlabel\n")
        for i in range(n):
            word = ("wonderful", "dreadful")[i % 2]
            fh.write(f"film number {i} is a {word} experience overall \t{i % 2}\n")
        fh.write("too short \t1\n")  # fewer than 5 words: dropped
    (root / "trec").mkdir()
    with (root / "trec" / "train_5500.label").open("w") as fh:
        for i in range(n):
            tag, q = [("HUM:ind", "Who wrote book"), ("LOC:city", "Where is town"), ("NUM:date", "When did war")][i % 3]
            fh.write(f"{tag} {q} number {i} ?\n")
    (root / "banking77").mkdir()
    pd.DataFrame({"text": [f"my card {i} {'arrival is late' if i % 2 else 'was declined'}" for i in range(n)],
                  "category": ["card_arrival" if i % 2 else "declined_card_payment" for i in range(n)]}
                 ).to_csv(root / "banking77" / "train.csv", index=False)
    (root / "emotion").mkdir()
    for name, start in (("train.txt", 0), ("val.txt", 10_000)):
        with (root / "emotion" / name).open("w") as fh:
            for i in range(start, start + n):
                fh.write(f"i feel so {('happy', 'sad', 'angry')[i % 3]} about thing {i};{('joy', 'sadness', 'anger')[i % 3]}\n")
    (root / "stsb").mkdir()
    for name, start in (("sts-train.csv", 0), ("sts-dev.csv", 10_000)):
        with (root / "stsb" / name).open("w") as fh:
            for i in range(start, start + n):
                score = 5.0 * (i % 5) / 4
                fh.write(f"main-captions\tMSRvid\t2012test\t{i:04d}\t{score:.3f}\tA man plays guitar {i}.\t"
                         f"A person plays {'guitar' if score >= 4 else 'chess'} {i}.\n")
    (root / "mrpc").mkdir()
    with (root / "mrpc" / "msr_paraphrase_train_minus_heldout.txt").open("w", encoding="utf-8-sig") as fh:
        fh.write("Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\r\n")
        for i in range(n):
            fh.write(f"{i % 2}\t{i}\t{i + 1}\tShares rose {i} percent on Monday.\tOn Monday shares gained {i} percent.\r\n")
    (root / "qqp").mkdir()
    with (root / "qqp" / "quora_bimpm_pairs_minus_heldout.tsv").open("w") as fh:
        for i in range(n):
            fh.write(f"{i % 2}\tHow do I learn topic {i} ?\tWhat is the best way to learn topic {i} ?\t{i}\n")
    (root / "nli").mkdir()
    with (root / "nli" / "rte_train.tsv").open("w") as fh:
        fh.write("index\tsentence1\tsentence2\tlabel\n")
        for i in range(n):
            fh.write(f"{i}\tThe company {i} was founded in Paris by two brothers.\tCompany {i} is from Paris.\t"
                     f"{'entailment' if i % 2 else 'not_entailment'}\n")
    with (root / "nli" / "cad_snli_all_combined_train_minus_heldout.tsv").open("w") as fh:
        fh.write("sentence1\tsentence2\tgold_label\n")
        for i in range(n // 3):
            premise = f"A dog number {i} runs across the green field."
            fh.write(f"{premise}\tAn animal {i} is outside.\tentailment\n")
            fh.write(f"{premise}\tThe dog {i} sleeps indoors.\tcontradiction\n")
            fh.write(f"{premise}\tThe dog {i} chases a ball.\tneutral\n")
    (root / "wikiqa").mkdir()
    with (root / "wikiqa" / "WikiQA-train.tsv").open("w") as fh:
        fh.write("QuestionID\tQuestion\tDocumentID\tDocumentTitle\tSentenceID\tSentence\tLabel\r\n")
        for i in range(n // 2):
            fh.write(f"Q{i}\thow tall is tower {i}?\tD{i}\tTower\tD{i}-0\tTower {i} was built of stone.\t0\r\n")
            fh.write(f"Q{i}\thow tall is tower {i}?\tD{i}\tTower\tD{i}-1\tTower {i} is {100 + i} metres tall.\t1\r\n")
    write_fake_crossed_data(root, n)
    return root


def write_fake_crossed_data(root: Path, n: int = 60) -> None:
    """Tiny copies of the "Added later" JSON-lines files: reviews with a category and a sentiment,
    questions with a topic, Reuters stories with a topic and a place, DBpedia abstracts with a class."""
    import json

    def write(path: Path, rows: list[dict]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

    products = {"books": "novel chapter author", "electronics": "battery cable screen", "kitchen": "pan knife kettle"}
    opinions = {"positive": "love great superb", "negative": "hate broken awful"}
    mdsd, fdu = [], []
    for i in range(n):
        domain, sentiment = list(products)[i % 3], list(opinions)[(i // 6) % 2]  # every cell filled
        row = {"domain": domain, "sentiment": sentiment,
               "text": f"review {i}: the {products[domain].split()[i % 3]} is {opinions[sentiment].split()[i % 3]}"}
        (mdsd if i % 2 else fdu).append(row)
    fdu = [{**r, "domain": {"books": "magazines", "electronics": "camera_photo", "kitchen": "baby"}[r["domain"]]}
           for r in fdu]
    write(root / "reviews_by_category" / "mdsd_sorted_acl_reviews.jsonl", mdsd)
    write(root / "reviews_by_category" / "fdumtl_amazon10_train.jsonl", fdu)
    write(root / "questions_by_topic" / "clinc150_train_domain.jsonl",
          [{"text": f"how do i {('pay my bill', 'book a flight')[i % 2]} number {i}",
            "domain": ("banking", "travel")[i % 2]} for i in range(n)])
    write(root / "questions_by_topic" / "stackoverflow_titles_20tags.jsonl",
          [{"text": f"How to {('query', 'plot')[i % 2]} in {('linq', 'matlab')[i % 2]} case {i}?",
            "tag": ("linq", "matlab")[i % 2]} for i in range(n)])
    write(root / "topics" / "reuters21578_modapte_train_topics_places.jsonl",
          [{"text": f"story {i} about {('profits', 'wheat harvest')[i % 2]} in {('usa', 'uk')[(i // 2) % 2]}",
            "topics": [("earn", "grain")[i % 2]], "places": [("usa", "uk")[(i // 2) % 2]]} for i in range(2 * n)])
    write(root / "topics" / "dbpedia14_train_sample1000pc.jsonl",
          [{"text": f"abstract {i} of a {('village', 'film')[i % 2]}", "label": ("Village", "Film")[i % 2]}
           for i in range(n)])


@pytest.fixture(scope="module")
def fake_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fake_data(tmp_path_factory.mktemp("medi-data"), n=90)


def test_heldout_split_is_deterministic_and_about_ten_percent():
    texts = [f"sentence number {i}" for i in range(5000)]
    held = [tasks.is_heldout(t) for t in texts]
    assert held == [tasks.is_heldout(t) for t in texts]
    assert 0.08 < sum(held) / len(held) < 0.12
    # normalisation: case and spacing do not move a text to the other side
    assert tasks.is_heldout("Sentence  number 7") == tasks.is_heldout("sentence number 7")


def test_readers_parse_every_format(fake_data: Path):
    ag = tasks.labeled_split("ag_news", "train", fake_data)
    assert set(ag["label"]) == {"World", "Sports", "Business", "Sci/Tech"}
    assert not ag["text"].str.contains("#39;").any() and ag["text"].str.contains(r"\$5", regex=True).any()
    sst = pd.concat([tasks.labeled_split("sst2", s, fake_data) for s in ("train", "dev")])
    assert set(sst["label"]) == {"negative", "positive"} and "too short" not in set(sst["text"])
    assert set(tasks.labeled_split("trec", "train", fake_data)["label"]) == {"HUM", "LOC", "NUM"}
    assert tasks.stsb_split("dev", fake_data)["score"].between(0, 5).all()
    cad = tasks.pair_split("cad_snli", "train", fake_data) + tasks.pair_split("cad_snli", "dev", fake_data)
    assert all(len(row) == 3 and "sleeps" in row[2] for row in cad)  # contradiction = hard negative
    wiki = tasks.pair_split("wikiqa", "train", fake_data)
    assert all(row[0].startswith("how tall") and "metres" in row[1] and "stone" in row[2] for row in wiki)
    assert all("gained" in b for _, b in tasks.pair_split("mrpc", "train", fake_data))  # only Quality 1


def test_train_and_dev_never_overlap(fake_data: Path):
    for name in tasks.LABELED_SETS:
        train = set(tasks.labeled_split(name, "train", fake_data)["text"])
        dev = set(tasks.labeled_split(name, "dev", fake_data)["text"])
        assert dev and not train & dev, name
    mixture = mix.build_mixture(data_dir=fake_data, seed=1)
    trained = {t for cols in mixture.columns.values() for col in cols.values() for t in col}
    for name in tasks.LABELED_SETS:  # held-out and official dev texts are never trained on
        assert not trained & set(tasks.labeled_split(name, "dev", fake_data)["text"]), name
    dev = tasks.stsb_split("dev", fake_data)
    assert not trained & (set(dev["sentence1"]) | set(dev["sentence2"]))


def test_classification_examples_pair_same_label_and_contrast_another():
    frame = pd.DataFrame({"text": [f"t{i}" for i in range(30)], "label": [("a", "b", "c")[i % 3] for i in range(30)]})
    label_of = dict(zip(frame["text"], frame["label"]))
    names = sorted(set(frame["label"]))
    rows = mix.classification_examples(frame, 100, random.Random(0))
    assert len(rows) == 30 and len({r[0] for r in rows}) == 30  # each text anchors once
    for anchor, positive, negative, anchor_id, negative_id in rows:
        assert positive != anchor and label_of[positive] == label_of[anchor]
        assert label_of[negative] != label_of[anchor]
        assert names[anchor_id] == label_of[anchor] and names[negative_id] == label_of[negative]


def test_mixture_groups_by_dataset_and_phrasing_with_matching_prompts(fake_data: Path):
    mixture = mix.build_mixture(data_dir=fake_data, no_instruction_share=0.3, seed=0)
    assert set(mixture.columns) == set(mixture.prompts)
    for key, cols in mixture.columns.items():
        name, _, phrasing = key.partition("__")
        spec = tasks.TASKS[name]
        assert len({len(v) for v in cols.values()}) == 1
        if phrasing == tasks.NO_INSTRUCTION:
            assert mixture.prompts[key] == {} and not spec.labeled
            continue
        k = int(phrasing[1:])
        assert mixture.prompts[key]["anchor"] == spec.instructions[k]
        assert set(mixture.prompts[key]) == set(cols) - {"label"}
        for prompt in mixture.prompts[key].values():
            assert prompt.startswith("Represent the ") and prompt.endswith(": ")
        if spec.kind == "asymmetric":  # different instructions on the query and the document side
            assert mixture.prompts[key]["positive"] == spec.doc_instructions[k] != mixture.prompts[key]["anchor"]
        else:
            assert len(set(mixture.prompts[key].values())) == 1
    # several phrasings per dataset, a no-instruction share only outside labeled (class) tasks
    for name in tasks.DEFAULT_DATASETS:
        spec = tasks.TASKS[name]
        keys = [k for k in mixture.columns if k.startswith(name + "__")]
        assert sum(k.endswith("__none") for k in keys) == (not spec.labeled), name
        assert len(keys) >= 3, name
    assert set(mixture.labels) == {k for k in mixture.columns if tasks.TASKS[k.split("__")[0]].labeled}


def test_crossed_tasks_cross_the_other_property_and_keep_it_in_negatives(fake_data: Path):
    """Sentiment over reviews and tweets: positives of the same sentiment from the other source, negatives
    of the other sentiment from the same source. Topic: movie-review positives of the other sentiment."""
    rng = random.Random(0)
    frame = mix.crossed_frame("sentiment_x", 80, fake_data, tasks.HELDOUT_PERMILLE, rng)
    assert set(frame["label"]) == {"positive", "negative"} and set(frame["other"]) == {"sst2", "emotion"}
    assert set(frame.loc[frame["text"].str.contains("angry"), "label"]) == {"negative"}  # anger -> negative
    row = frame.set_index("text")
    rows = mix.crossed_examples(frame, 60, rng)
    assert len(rows) == 60
    for anchor, positive, negative, label_id, negative_id in rows:
        assert row.at[positive, "label"] == row.at[anchor, "label"] != row.at[negative, "label"]
        assert row.at[positive, "other"] != row.at[anchor, "other"] == row.at[negative, "other"]
        assert label_id != negative_id
    topic = mix.crossed_frame("topic_x", 200, fake_data, tasks.HELDOUT_PERMILLE, rng)
    assert {"movies", "banking", "personal life", "sports"} <= set(topic["label"])
    trow = topic.set_index("text")
    movie_rows = [r for r in mix.crossed_examples(topic, 200, rng) if trow.at[r[0], "label"] == "movies"]
    assert movie_rows and all(trow.at[a, "other"] != trow.at[p, "other"] for a, p, *_ in movie_rows)
    mixture = mix.build_mixture(["topic_x"], data_dir=fake_data, classification_hard_negatives=False)
    assert all(set(cols) == {"anchor", "positive", "negative"} for cols in mixture.columns.values())
    assert set(mixture.labels) == set(mixture.columns)


def test_mixture_is_seeded_and_respects_caps_and_options(fake_data: Path):
    a = mix.build_mixture(data_dir=fake_data, seed=3)
    assert a.columns == mix.build_mixture(data_dir=fake_data, seed=3).columns
    assert a.columns != mix.build_mixture(data_dir=fake_data, seed=4).columns
    small = mix.build_mixture({"sst2": {"max_examples": 10, "phrasings": [1]}, "qqp": None},
                               data_dir=fake_data, no_instruction_share=0.0, classification_hard_negatives=False)
    assert set(small.columns) == {"sst2__p1"} | {k for k in small.columns if k.startswith("qqp__p")}
    assert len(small.columns["sst2__p1"]["anchor"]) == 10 and "negative" not in small.columns["sst2__p1"]
    assert small.stats["sst2"]["examples"] == 10
    with pytest.raises(ValueError, match="Unknown dataset"):
        mix.build_mixture(["imdb"], data_dir=fake_data)


def test_training_phrasings_follow_the_template_and_are_several_per_dataset():
    for spec in tasks.TASKS.values():
        assert len(spec.instructions) >= 3 and len(set(spec.instructions)) == len(spec.instructions)
        assert not spec.doc_instructions or len(spec.doc_instructions) == len(spec.instructions)
        for ins in (*spec.instructions, *spec.doc_instructions):
            assert ins.startswith("Represent the ") and " for " in ins and ins.endswith(": ")


@pytest.mark.skipif(not (REAL_DATA / "SOURCES.md").exists(), reason="shared training data not present")
def test_real_data_builds_every_dataset_quickly():
    mixture = mix.build_mixture(list(tasks.TASKS), max_examples_scale=0.02, seed=0)
    assert set(mixture.stats) == set(tasks.TASKS)
    assert all(s["examples"] > 0 for s in mixture.stats.values())
    emotion_dev = set(tasks.labeled_split("emotion", "dev")["text"])
    assert len(emotion_dev) > 1900
    trained = {t for cols in mixture.columns.values() for col in cols.values() for t in col}
    assert not trained & emotion_dev
    for name in tasks.CROSSED_SETS:  # the held-out parts of the "Added later" sets
        assert not trained & set(tasks.crossed_split(name, "dev")["text"]), name


V2 = {"reviews_category_x": {}, "reviews_sentiment_x": {}, "questions_topic_x": {}, "topics_x": {}}
V2_HELDOUT = {name: [4, 5] for name in V2}


def test_crossed_sets_split_by_text_and_dev_is_never_trained(fake_data: Path):
    for name in tasks.CROSSED_SETS:
        train, dev = tasks.crossed_split(name, "train", fake_data), tasks.crossed_split(name, "dev", fake_data)
        assert len(train) and not set(train["text"]) & set(dev["text"]), name
    # the dev part is seeded: another seed holds out other texts
    reviews = [set(tasks.crossed_split("reviews", "dev", fake_data, permille=300, seed=s)["text"]) for s in (0, 1)]
    assert reviews[0] and reviews[0] != reviews[1]
    reviews = tasks.crossed_split("reviews", "train", fake_data)
    assert set(reviews["category"]) == {"books", "electronics", "kitchen", "magazines", "camera and photo",
                                        "baby products"} and set(reviews["sentiment"]) == {"positive", "negative"}
    mixture = mix.build_mixture(V2, data_dir=fake_data, heldout_phrasings=V2_HELDOUT, seed=0)
    trained = {t for cols in mixture.columns.values() for col in cols.values() for t in col}
    for name in tasks.CROSSED_SETS:
        assert not trained & set(tasks.crossed_split(name, "dev", fake_data)["text"]), name


def test_review_tasks_are_twins_with_same_text_hard_negatives_and_held_out_phrasings(fake_data: Path):
    """The same anchors grouped by category under one instruction and by sentiment under another: each
    category row's positive (same category, other sentiment) is the sentiment row's hard negative, and
    the reverse. Held-out phrasings never appear as a prompt."""
    mixture = mix.build_mixture(V2, data_dir=fake_data, heldout_phrasings=V2_HELDOUT, seed=0)
    reviews = tasks.crossed_split("reviews", "train", fake_data)
    category, sentiment = (dict(zip(reviews["text"], reviews[c])) for c in ("category", "sentiment"))

    def rows(task: str) -> dict[str, tuple[str, str]]:
        out = {}
        for key, cols in mixture.columns.items():
            if key.startswith(task + "__"):
                out.update({a: (p, n) for a, p, n in zip(cols["anchor"], cols["positive"], cols["negative"])})
        return out

    by_category, by_sentiment = rows("reviews_category_x"), rows("reviews_sentiment_x")
    assert len(by_sentiment) >= 0.9 * len(by_category) > 0
    for anchor, (positive, negative) in by_sentiment.items():
        assert by_category[anchor] == (negative, positive)
        assert sentiment[positive] == sentiment[anchor] != sentiment[negative]
        assert category[negative] == category[anchor] != category[positive]
    used = {prompt for prompts in mixture.prompts.values() for prompt in prompts.values()}
    for name, held in V2_HELDOUT.items():
        spec = tasks.TASKS[name]
        assert not used & {spec.instructions[k] for k in held}, name
        assert used & set(spec.instructions), name
    with pytest.raises(ValueError, match="held out"):
        mix.build_mixture({"topics_x": {"phrasings": [4]}}, data_dir=fake_data, heldout_phrasings=V2_HELDOUT)
