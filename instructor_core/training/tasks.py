"""Training tasks and their data sources: what the MEDI-style mixture (:mod:`.mixture`) is built from.

Every training example is ``(anchor, positive[, negative])``; each side is later read together with an
instruction (an ST *prompt*: attended to, left out of the mean pool). How examples are made per kind:

* ``classification`` (SST-2, emotion, AG News, TREC, Banking77): every text is an anchor once; its
  positive is another text with the same label, its hard negative a text with a different label. The
  same instruction is on all three sides.
* ``crossed`` (sentiment across SST-2 and emotion; topic across AG News, movie reviews, banking queries and
  personal posts; question topic across TREC's fine labels and banking queries): texts of several sets
  labeled by one property while another varies. The positive shares the task's label but differs in the
  other property, the hard negative shares the other property but not the label, so an instruction, not
  a text's domain words, decides which texts belong together.
* ``symmetric`` (STS-B score >= 4, MRPC / QQP duplicates, RTE / CAD-SNLI entailments): the pair, in a
  random order; CAD-SNLI adds the contradiction of the same premise as a hard negative. Same
  instruction on both sides.
* ``asymmetric`` (WikiQA): question -> correct answer sentence, an incorrect sentence for the same
  question as the hard negative; a *query* instruction on the question, a *document* instruction on the
  sentences.

Instructions follow the paper's template ("Represent the [domain] [text type] for [task objective]: ")
in several phrasings per dataset; each example gets one phrasing at random (seeded). A share of the
symmetric and asymmetric examples gets *no* instruction, so that the model stays a good general-purpose
encoder without one. Classification examples always carry an instruction: label clustering is what the
instruction asks for, and teaching it without one would erase the very difference instructions make.

Examples are grouped by ``(dataset, phrasing)`` into sub-datasets, so that a batch drawn from one
sub-dataset has one task (in-batch negatives are meaningful, as in the paper's per-task batches) and one
prompt per column (sentence-transformers' ``prompts={dataset: {column: prompt}}``).

Splits: dev files are never read for training (STS-B dev, emotion val). Sets without a dev split get a
deterministic held-out split: a text whose normalised md5 falls in the lowest ``heldout_permille`` of
1000 buckets is held out (pairs are keyed by their first text). ``labeled_split(name, "dev")`` returns
that held-out part for evaluation, ``"train"`` the rest.

Data files are read in place from ``../shared/data/train`` (override with ``INSTRUCTOR_TRAIN_DATA`` or
``data_dir=``); see SOURCES.md there for provenance. Nothing is copied into the repo.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_ENV = "INSTRUCTOR_TRAIN_DATA"
HELDOUT_PERMILLE = 100  # 10 % of the texts of sets without a dev split are held out for evaluation
COLUMNS = ("anchor", "positive", "negative")
NO_INSTRUCTION = "none"


def default_data_dir() -> Path:
    """``$INSTRUCTOR_TRAIN_DATA``, else ``<repo>/../shared/data/train``."""
    return Path(os.environ.get(DATA_ENV) or REPO_ROOT.parent / "shared" / "data" / "train")


# ---------------------------------------------------------------------------------------------------
# Instructions: several phrasings of the paper's template per dataset.


@dataclass(frozen=True)
class TaskSpec:
    """One source dataset: its kind, the phrasings of its instruction, and its default size cap."""

    name: str
    kind: str  # "classification" | "crossed" | "symmetric" | "asymmetric"
    instructions: tuple[str, ...]  # query side (and both sides unless doc_instructions is given)
    doc_instructions: tuple[str, ...] = ()  # asymmetric only: one per query phrasing, same order
    max_examples: int = 10_000
    description: str = ""
    # crossed tasks over a two-label set of CROSSED_SETS: the set, its column the task groups by, and the
    # column the positive crosses (""  = none); ``twin``: the task built from the same anchors whose
    # positives and hard negatives are this task's swapped (same texts, opposite roles)
    source: str = ""
    label: str = ""
    other: str = ""
    twin: str = ""

    @property
    def labeled(self) -> bool:
        """Examples come from class labels (classification and crossed tasks)."""
        return self.kind in ("classification", "crossed")

    def prompts(self, phrasing: int) -> dict[str, str]:
        query = self.instructions[phrasing]
        doc = self.doc_instructions[phrasing] if self.doc_instructions else query
        return {"anchor": query, "positive": doc, "negative": doc}


TASKS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (
        TaskSpec(
            "sst2", "classification",
            (
                "Represent the movie review for classifying sentiment: ",
                "Represent the review sentence for classifying its sentiment as positive or negative: ",
                "Represent the film review for sentiment classification: ",
                "Represent the opinion for clustering by sentiment: ",
            ),
            max_examples=12_000, description="SST-2 train (binary sentiment), texts of 5+ words",
        ),
        TaskSpec(
            "emotion", "classification",
            (
                "Represent the tweet for classifying the emotion: ",
                "Represent the social media post for classifying the emotion it expresses: ",
                "Represent the personal message for emotion classification: ",
                "Represent the text for clustering by the feeling it expresses: ",
            ),
            max_examples=10_000, description="dair-ai emotion train (6 emotions)",
        ),
        TaskSpec(
            "ag_news", "classification",
            (
                "Represent the news article for classifying its topic: ",
                "Represent the news description for topic classification: ",
                "Represent the news text for clustering by topic: ",
                "Represent the news report for classifying it as world, sports, business or science news: ",
            ),
            max_examples=10_000, description="AG News train subset (4 topics)",
        ),
        TaskSpec(
            "trec", "classification",
            (
                "Represent the question for classifying the type of its expected answer: ",
                "Represent the question for classifying its answer type: ",
                "Represent the query for classifying what kind of answer it asks for: ",
                "Represent the question for clustering by answer type: ",
                "Represent the question for grouping by the kind of answer it expects: ",
                "Represent the query for answer type classification: ",
            ),
            max_examples=6_000, description="TREC question classification train (6 coarse answer types)",
        ),
        TaskSpec(
            "banking77", "classification",
            (
                "Represent the bank customer query for classifying its intent: ",
                "Represent the banking question for intent classification: ",
                "Represent the customer message for clustering by intent: ",
                "Represent the online banking query for classifying the user's intent: ",
            ),
            max_examples=10_000, description="Banking77 train (77 intents)",
        ),
        TaskSpec(
            "stsb", "symmetric",
            (
                "Represent the sentence for retrieving semantically similar sentences: ",
                "Represent the text for semantic textual similarity: ",
                "Represent the sentence for finding sentences with the same meaning: ",
            ),
            max_examples=5_000, description="STS-B train pairs with score >= 4",
        ),
        TaskSpec(
            "mrpc", "symmetric",
            (
                "Represent the news sentence for retrieving paraphrases: ",
                "Represent the sentence for paraphrase identification: ",
                "Represent the news text for finding sentences with the same meaning: ",
            ),
            max_examples=5_000, description="MRPC train paraphrase pairs",
        ),
        TaskSpec(
            "qqp", "symmetric",
            (
                "Represent the Quora question for retrieving duplicate questions: ",
                "Represent the question for duplicate question detection: ",
                "Represent the forum question for finding questions that ask the same thing: ",
            ),
            max_examples=10_000, description="QQP duplicate question pairs (BiMPM dev+test partition)",
        ),
        TaskSpec(
            "rte", "symmetric",
            (
                "Represent the news passage for retrieving entailed statements: ",
                "Represent the text for recognizing textual entailment: ",
                "Represent the sentence for finding statements it implies: ",
            ),
            max_examples=5_000, description="GLUE RTE train entailment pairs",
        ),
        TaskSpec(
            "cad_snli", "symmetric",
            (
                "Represent the image caption for retrieving entailed sentences: ",
                "Represent the scene description for natural language inference: ",
                "Represent the sentence for finding sentences it implies: ",
            ),
            max_examples=5_000,
            description="CAD-SNLI train: (premise, entailment, contradiction of the same premise)",
        ),
        TaskSpec(
            "wikiqa", "asymmetric",
            (
                "Represent the Wikipedia question for retrieving supporting documents: ",
                "Represent the question for retrieving answer sentences: ",
                "Represent the factoid question for retrieving a passage that answers it: ",
            ),
            doc_instructions=(
                "Represent the Wikipedia document for retrieval: ",
                "Represent the Wikipedia sentence for retrieval: ",
                "Represent the encyclopedia passage for answering questions: ",
            ),
            max_examples=5_000,
            description="WikiQA train: (question, correct sentence, incorrect sentence of the same page)",
        ),
        TaskSpec(
            "sentiment_x", "crossed",
            (
                "Represent the text for classifying its sentiment: ",
                "Represent the sentence for classifying sentiment as positive or negative: ",
                "Represent the review or post for sentiment classification: ",
                "Represent the text for clustering by sentiment: ",
            ),
            max_examples=8_000,
            description="crossed: SST-2 reviews and emotion tweets by sentiment (joy/love positive; sadness, "
                        "anger, fear negative); positives from the other source, negatives from the same one",
        ),
        TaskSpec(
            "topic_x", "crossed",
            (
                "Represent the text for classifying its topic: ",
                "Represent the sentence for classifying what it is about: ",
                "Represent the text for classifying its category: ",
                "Represent the document for clustering by topic: ",
                "Represent the review, post or article for classifying its topic: ",
                "Represent the review or news text for classifying its category: ",
            ),
            max_examples=8_000,
            description="crossed: AG News topics, movie reviews (SST-2), banking queries and personal posts "
                        "(emotion) by topic; positives of another sentiment, negatives of the same one",
        ),
        TaskSpec(
            "question_topic_x", "crossed",
            (
                "Represent the question for classifying what it is about: ",
                "Represent the query for topic classification: ",
                "Represent the question for clustering by subject: ",
                "Represent the user question for classifying its topic: ",
            ),
            max_examples=1_600,
            description="crossed with TREC's answer types: TREC questions by the topic in their fine label "
                        "(animals, food, medicine, sports, geography, creative works, ...) and banking queries",
        ),
        # v2 (issue 15): two-label sets read from the "Added later" files; phrasings 4 and 5 of each are
        # held out of configs/instructor-mini-v2.json, to score phrasings the model never saw
        TaskSpec(
            "reviews_category_x", "crossed",
            (
                "Represent the product review for classifying its product category: ",
                "Represent the review for classifying what kind of product it is about: ",
                "Represent the customer review for clustering by product category: ",
                "Represent the Amazon review for classifying the type of product: ",
                "Represent the review for grouping by the kind of product reviewed: ",
                "Represent the product review for product category classification: ",
            ),
            max_examples=8_000, source="reviews", label="category", other="sentiment",
            description="crossed: MDSD and FDU-MTL reviews by product category (13); positives of the other "
                        "sentiment, hard negatives of the same sentiment",
        ),
        TaskSpec(
            "reviews_sentiment_x", "crossed",
            (
                "Represent the product review for classifying its sentiment: ",
                "Represent the review for classifying whether the customer liked the product: ",
                "Represent the customer review for clustering by sentiment: ",
                "Represent the Amazon review for classifying it as positive or negative: ",
                "Represent the review for grouping by the opinion it expresses: ",
                "Represent the product review for sentiment analysis: ",
            ),
            max_examples=8_000, source="reviews", label="sentiment", other="category", twin="reviews_category_x",
            description="crossed twin of reviews_category_x: the same anchors by sentiment, its positives as "
                        "hard negatives and its hard negatives as positives",
        ),
        TaskSpec(
            "questions_topic_x", "crossed",
            (
                "Represent the question for classifying its topic: ",
                "Represent the user request for classifying its domain: ",
                "Represent the question for clustering by topic: ",
                "Represent the question title for classifying the technology it is about: ",
                "Represent the question for grouping by what it is about: ",
                "Represent the query for classifying its subject area: ",
            ),
            max_examples=6_000, source="questions", label="topic",
            description="CLINC150 requests by domain (10) and StackOverflow titles by tag (20)",
        ),
        TaskSpec(
            "topics_x", "crossed",
            (
                "Represent the document for classifying its topic: ",
                "Represent the news story or encyclopedia article for classifying its subject: ",
                "Represent the text for clustering by topic: ",
                "Represent the article for classifying what it is about: ",
                "Represent the passage for grouping by subject: ",
                "Represent the document for topic categorization: ",
            ),
            max_examples=6_000, source="topics", label="topic", other="place",
            description="crossed: Reuters stories with one topic (positives from another place, negatives from "
                        "the same place) and DBpedia-14 abstracts by class",
        ),
    )
}

# the tasks instructor-mini v1 was trained on (configs/instructor-mini.json), which the v2 tasks above and
# trec's phrasings 4-5 must not change
V1_TASKS = ("sst2", "emotion", "ag_news", "trec", "banking77", "stsb", "mrpc", "qqp", "rte", "cad_snli", "wikiqa",
            "sentiment_x", "topic_x", "question_topic_x")
# what ``datasets=None`` trains on: v1's tasks and phrasings, so that configs/instructor-mini.json still
# reproduces instructor-mini (v2 names its tasks in configs/instructor-mini-v2.json)
DEFAULT_DATASETS: dict[str, dict[str, object]] = {**{name: {} for name in V1_TASKS}, "trec": {"phrasings": [0, 1, 2, 3]}}

LABELED_SETS = tuple(name for name, spec in TASKS.items() if spec.kind == "classification")

# Crossed tasks pool texts of several labeled sets and label them by the task's property (``label``) while
# another property (``other``) varies: the same text belongs to different groups under different
# instructions, which is what teaches a model to read the task objective in an instruction rather than
# only its domain words. Per source: the task label (a fixed value or a map of the source label), and the
# other property (a map of the source label, the source's name, or None when unknown).
_SENTIMENT_OF = {"sst2": {"negative": "negative", "positive": "positive"},
                 "emotion": {"joy": "positive", "love": "positive", "sadness": "negative", "anger": "negative",
                             "fear": "negative"}}
CROSSED_SOURCES: dict[str, dict[str, tuple[str | dict[str, str], str | dict[str, str] | None]]] = {
    "sentiment_x": {"sst2": (_SENTIMENT_OF["sst2"], "sst2"), "emotion": (_SENTIMENT_OF["emotion"], "emotion")},
    "topic_x": {"ag_news": ({"World": "world news", "Sports": "sports", "Business": "business",
                             "Sci/Tech": "science and technology"}, None),
                "sst2": ("movies", _SENTIMENT_OF["sst2"]), "banking77": ("banking", None),
                "emotion": ("personal life", _SENTIMENT_OF["emotion"])},
    # questions of one answer type (ENTY, LOC) split by topic: TREC's own task groups them the other way
    "question_topic_x": {"trec_fine": ({"ENTY:animal": "animals", "ENTY:food": "food", "ENTY:dismed": "medicine",
                                        "ENTY:sport": "sports", "ENTY:cremat": "books, films and music",
                                        "ENTY:event": "history and events", "ENTY:veh": "vehicles",
                                        "ENTY:plant": "plants", "ENTY:religion": "religion",
                                        "ENTY:techmeth": "technology", "ENTY:product": "technology",
                                        "LOC:country": "geography", "LOC:city": "geography",
                                        "LOC:state": "geography", "LOC:mount": "geography"}, None),
                         "banking77": ("banking", None)},
}


def all_training_instructions(datasets: Iterable[str] = V1_TASKS,
                              heldout_phrasings: Mapping[str, Iterable[int]] | None = None) -> set[str]:
    """Every instruction string a mixture of ``datasets`` trains with, less ``heldout_phrasings`` (default:
    instructor-mini v1's, to mark evaluation instructions as seen)."""
    heldout = {"trec": (4, 5)} if heldout_phrasings is None else heldout_phrasings
    out = set()
    for name in datasets:
        spec = TASKS[name]
        skip = set(heldout.get(name, ()))
        for k, ins in enumerate(spec.instructions):
            if k not in skip:
                out |= {ins, *spec.doc_instructions[k:k + 1]}
    return out


# ---------------------------------------------------------------------------------------------------
# Splits


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip()


def is_heldout(text: str, permille: int = HELDOUT_PERMILLE, salt: str = "") -> bool:
    """Deterministic held-out membership: md5 of ``salt`` + the normalised text, bucketed into 1000."""
    digest = hashlib.md5((salt + normalise(text)).encode("utf-8")).hexdigest()
    return int(digest[:8], 16) % 1000 < permille


def _split(frame: pd.DataFrame, split: str, key: str, permille: int) -> pd.DataFrame:
    if split not in ("train", "dev"):
        raise ValueError(f"split must be 'train' or 'dev', not {split!r}")
    held = frame[key].map(lambda t: is_heldout(t, permille))
    return frame[held if split == "dev" else ~held].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------------
# Readers: one per raw file format, each returning a clean DataFrame.

_AG_ESCAPES = ((" #39;", "'"), ("#39;", "'"), (" quot;", ' "'), ("quot;", '"'), ("\\$", "$"), ("#36;", "$"),
               (" amp;", " &"), ("amp;", "&"), ("\\", " "))


def _clean_ag(text: str) -> str:
    for old, new in _AG_ESCAPES:
        text = text.replace(old, new)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def _tsv(path: Path, header: bool = True, names: list[str] | None = None) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", header=0 if header else None, names=names, quoting=csv.QUOTE_NONE,
                       dtype=str, keep_default_na=False, encoding="utf-8-sig", on_bad_lines="skip")


def _labeled_raw(name: str, data_dir: Path, split: str, permille: int) -> pd.DataFrame:
    """Columns ``text`` and ``label`` of a classification set's train file, or of its dev split."""
    if name == "emotion":
        file = data_dir / "emotion" / ("val.txt" if split == "dev" else "train.txt")
        rows = [line.rsplit(";", 1) for line in file.read_text(encoding="utf-8").splitlines() if ";" in line]
        return pd.DataFrame(rows, columns=["text", "label"])
    if name == "sst2":
        frame = _tsv(data_dir / "sst2" / "train.tsv").rename(columns={"sentence": "text"})
        frame["text"] = frame["text"].str.strip()
        frame = frame[frame["text"].str.split().str.len() >= 5]
        frame["label"] = frame["label"].map({"0": "negative", "1": "positive"})
    elif name == "ag_news":
        frame = _tsv(data_dir / "ag_news" / "train_subset_alps.tsv", header=False, names=["text", "label"])
        frame["text"] = frame["text"].map(_clean_ag)
    elif name in ("trec", "trec_fine"):  # coarse answer type (ABBR, DESC, ...) or the fine tag (ENTY:food)
        lines = (data_dir / "trec" / "train_5500.label").read_text(encoding="latin-1").splitlines()
        rows = []
        for line in lines:
            tag, _, question = line.partition(" ")
            rows.append((question.strip(), tag if name == "trec_fine" else tag.split(":")[0]))
        frame = pd.DataFrame(rows, columns=["text", "label"])
    elif name == "banking77":
        frame = pd.read_csv(data_dir / "banking77" / "train.csv", dtype=str, keep_default_na=False)
        frame = frame.rename(columns={"category": "label"})
        frame["text"] = frame["text"].str.replace(r"\s+", " ", regex=True)
    else:
        raise ValueError(f"Unknown labeled set {name!r}; known: {', '.join(LABELED_SETS)}")
    return _split(frame, split, "text", permille)


def labeled_split(name: str, split: str = "train", data_dir: str | Path | None = None,
                  permille: int = HELDOUT_PERMILLE) -> pd.DataFrame:
    """``text``/``label`` of one classification set: ``"train"``, or ``"dev"`` (official dev split where the
    set has one, else the hash-held-out part). Blank texts and exact duplicates are dropped."""
    frame = _labeled_raw(name, Path(data_dir or default_data_dir()), split, permille)
    frame = frame[["text", "label"]].astype(str)
    frame["text"] = frame["text"].str.strip()
    frame = frame[(frame["text"] != "") & (frame["label"] != "")]
    return frame.drop_duplicates("text").reset_index(drop=True)


def stsb_split(split: str = "train", data_dir: str | Path | None = None) -> pd.DataFrame:
    """STS-B ``sentence1``/``sentence2``/``score`` (0-5); ``"dev"`` is the official dev file."""
    file = Path(data_dir or default_data_dir()) / "stsb" / ("sts-dev.csv" if split == "dev" else "sts-train.csv")
    rows = []
    for line in file.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 7:
            rows.append((parts[5].strip(), parts[6].strip(), float(parts[4])))
    return pd.DataFrame(rows, columns=["sentence1", "sentence2", "score"])


# Two-label sets from SOURCES.md "Added later" (JSON lines): every text carries the label its task groups by
# and, where known, a second property (reviews: category and sentiment; Reuters: topic and place).
CROSSED_SETS = ("reviews", "questions", "topics")
CROSSED_DEV_PERMILLE = 100  # 10 % of their texts, chosen by a seeded hash of the text, are never trained on
_REVIEW_CATEGORIES = {"books": "books", "dvd": "movies", "video": "movies", "electronics": "electronics",
                      "kitchen": "kitchen", "apparel": "apparel", "baby": "baby products",
                      "camera_photo": "camera and photo", "health_personal_care": "health and personal care",
                      "magazines": "magazines", "music": "music", "software": "software",
                      "sports_outdoors": "sports and outdoors", "toys_games": "toys and games"}
_MIN_TOPIC_DOCS = 40  # Reuters topics with fewer single-topic stories are left out


def _jsonl(path: Path) -> pd.DataFrame:
    with path.open(encoding="utf-8") as fh:
        return pd.DataFrame([json.loads(line) for line in fh if line.strip()])


def _crossed_raw(name: str, data_dir: Path) -> pd.DataFrame:
    if name == "reviews":  # MDSD's dvd and FDU-MTL's video are both movies (SOURCES.md's caveat)
        parts = [_jsonl(data_dir / "reviews_by_category" / f) for f in
                 ("mdsd_sorted_acl_reviews.jsonl", "fdumtl_amazon10_train.jsonl")]
        frame = pd.concat([p[["text", "domain", "sentiment"]] for p in parts], ignore_index=True)
        return frame.assign(category=frame["domain"].map(_REVIEW_CATEGORIES))[["text", "category", "sentiment"]]
    if name == "questions":
        clinc = _jsonl(data_dir / "questions_by_topic" / "clinc150_train_domain.jsonl")
        stack = _jsonl(data_dir / "questions_by_topic" / "stackoverflow_titles_20tags.jsonl")
        return pd.concat([clinc.assign(topic=clinc["domain"].str.replace("_", " "))[["text", "topic"]],
                          stack.assign(topic=stack["tag"])[["text", "topic"]]], ignore_index=True)
    if name == "topics":
        reuters = _jsonl(data_dir / "topics" / "reuters21578_modapte_train_topics_places.jsonl")
        reuters = reuters[reuters["topics"].map(len) == 1]
        reuters = reuters.assign(topic=reuters["topics"].str[0],
                                 place=reuters["places"].map(lambda p: p[0] if len(p) else ""))
        counts = reuters["topic"].value_counts()
        reuters = reuters[reuters["topic"].map(counts) >= _MIN_TOPIC_DOCS]
        dbpedia = _jsonl(data_dir / "topics" / "dbpedia14_train_sample1000pc.jsonl")
        return pd.concat([reuters[["text", "topic", "place"]],
                          dbpedia.assign(topic=dbpedia["label"], place="")[["text", "topic", "place"]]],
                         ignore_index=True)
    raise ValueError(f"Unknown crossed set {name!r}; known: {', '.join(CROSSED_SETS)}")


def crossed_split(name: str, split: str = "train", data_dir: str | Path | None = None,
                  permille: int = CROSSED_DEV_PERMILLE, seed: int = 0) -> pd.DataFrame:
    """A two-label set of :data:`CROSSED_SETS` (``text`` and its label columns), ``"train"`` or the held-out
    ``"dev"`` part: texts whose md5 salted with ``seed`` falls in the lowest ``permille`` buckets. Split by
    text, so a text is in one part only, under every task that reads the set. Blank and duplicate texts
    are dropped."""
    if split not in ("train", "dev"):
        raise ValueError(f"split must be 'train' or 'dev', not {split!r}")
    frame = _crossed_raw(name, Path(data_dir or default_data_dir())).fillna("")
    frame["text"] = frame["text"].astype(str).str.strip()
    frame = frame[frame["text"] != ""].drop_duplicates("text")
    held = frame["text"].map(lambda t: is_heldout(t, permille, salt=f"crossed-dev-{seed}:"))
    return frame[held if split == "dev" else ~held].reset_index(drop=True)


def _pairs_raw(name: str, data_dir: Path) -> list[tuple[str, ...]]:
    """Symmetric/asymmetric sets as tuples ``(anchor, positive)`` or ``(anchor, positive, negative)``."""
    if name == "stsb":
        frame = stsb_split("train", data_dir)
        return [(a, b) for a, b, s in frame.itertuples(index=False) if s >= 4.0]
    if name == "mrpc":
        frame = _tsv(data_dir / "mrpc" / "msr_paraphrase_train_minus_heldout.txt")
        return [(r["#1 String"], r["#2 String"]) for _, r in frame.iterrows() if r["Quality"].strip() == "1"]
    if name == "qqp":
        frame = _tsv(data_dir / "qqp" / "quora_bimpm_pairs_minus_heldout.tsv", header=False,
                     names=["label", "q1", "q2", "pair_id"])
        return [(q1, q2) for label, q1, q2, _ in frame.itertuples(index=False) if label.strip() == "1"]
    if name == "rte":
        frame = _tsv(data_dir / "nli" / "rte_train.tsv")
        return [(s1, s2) for s1, s2, lab in zip(frame.sentence1, frame.sentence2, frame.label) if lab == "entailment"]
    if name == "cad_snli":
        frame = _tsv(data_dir / "nli" / "cad_snli_all_combined_train_minus_heldout.tsv")
        by_premise: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for s1, s2, lab in zip(frame.sentence1, frame.sentence2, frame.gold_label):
            by_premise[s1.strip()][lab].append(s2.strip())
        out = []
        for premise, hyps in by_premise.items():
            for i, ent in enumerate(hyps.get("entailment", [])):
                contra = hyps.get("contradiction", [])
                out.append((premise, ent, contra[i % len(contra)]) if contra else (premise, ent))
        return out
    if name == "wikiqa":
        frame = _tsv(data_dir / "wikiqa" / "WikiQA-train.tsv")
        out = []
        for _, group in frame.groupby("QuestionID", sort=False):
            question = group["Question"].iloc[0].strip()
            right = [s.strip() for s in group.loc[group["Label"].str.strip() == "1", "Sentence"]]
            wrong = [s.strip() for s in group.loc[group["Label"].str.strip() == "0", "Sentence"]]
            for i, answer in enumerate(right):
                out.append((question, answer, wrong[i % len(wrong)]) if wrong else (question, answer))
        return out
    raise ValueError(f"Unknown pair set {name!r}")


def pair_split(name: str, split: str = "train", data_dir: str | Path | None = None,
               permille: int = HELDOUT_PERMILLE) -> list[tuple[str, ...]]:
    """Pairs/triplets of a symmetric or asymmetric set. STS-B train is all train (its dev is a separate
    file); the others are split by the hash of their first text."""
    rows = [tuple(t.strip() for t in row) for row in _pairs_raw(name, Path(data_dir or default_data_dir()))]
    rows = [row for row in rows if all(row) and row[0] != row[1]]
    if name == "stsb":
        return rows if split == "train" else []
    keep_heldout = split == "dev"
    return [row for row in rows if is_heldout(row[0], permille) == keep_heldout]


