"""Offline evaluation of triage: For you with "not for me" negatives and after a cold
start, keywords and TL;DRs against references built from the shared data, and the
annotation stage's cost per paper.

Parts (``--parts``, default all):

- **foryou**: the bundled quick-start corpus and ``bench/recommend.py``'s simulated users
  (title-pattern topics and prolific authors; positives from before a 30-day window, the
  topic's papers inside it held out). Each user first sees today's SVM top 10 and marks
  every non-relevant paper there "not for me" (as a reader dismissing what is off-topic);
  the list is then ranked again (a) hiding those papers only, (b) with them as explicit
  negatives at weight 1, ``NEGATIVE_WEIGHT`` and 20. Precision@10 of the second list.
- **coldstart**: precision@10 after a 20-entry library import (10 entries matched to
  stored papers, 10 kept as vectors) vs after 2 upvotes, same users.
- **keywords**: ``../shared/data/arxiv`` papers; the reference is the paper's own title
  (held out: keywords are extracted from the abstract alone). A predicted phrase is right
  when all its word stems are title stems; recall is the share of the title's content
  stems the five phrases cover. Baseline: the abstract's top-5 words by TF-IDF. (The
  daily-papers records here carry no ``ai_keywords``; where a record has them they are
  used as the reference instead, exact phrase match.)
- **tldr**: the chosen sentence vs the abstract's first sentence, scored against the
  title (the authors' own one-line statement of the paper) by ROUGE-L F1 on stems, and
  against ``ai_summary`` where a record has one.
- **cost**: milliseconds per paper of the annotation stage (document frequencies,
  keywords, TL;DR) vs embedding the same papers with the configured model: the daily
  sync's growth is their ratio (must stay under 20%).

Run:  python bench/triage.py [--limit 2000] [--parts keywords,tldr,cost,foryou,coldstart]
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import numpy as np

from _machine import Machine, add_machine_arguments
from paperfeed.config import Settings
from paperfeed.index.annotations import (
    BOUNDARY_WORDS,
    batch_frequencies,
    choose_tldr,
    extract_keywords,
    folded_words,
    sentences,
    trim,
)
from paperfeed.index.embedder import embedding_text, load_configured_embedder
from paperfeed.index.tokenizer import STOP_WORDS, stem
from paperfeed.ingest import clean_text
from paperfeed.search.recommending import NEGATIVE_WEIGHT, WINDOW_DAYS, rank_window

ROOT = Path(__file__).resolve().parents[1]
ARXIV = ROOT.parent / "shared" / "data" / "arxiv"
PARTS = ("keywords", "tldr", "cost", "foryou", "coldstart")


def load_papers(limit: int, skip: int) -> list[tuple[str, str]]:
    """(title, abstract), cleaned, of ``limit`` papers of a month's file after ``skip``
    (the TL;DR's two weights were tuned on its first 400)."""
    papers = []
    path = sorted(ARXIV.glob("arxiv_*.jsonl.gz"))[-3]
    with gzip.open(path, "rt") as lines:
        for number, line in enumerate(lines):
            if number < skip:
                continue
            record = json.loads(line)
            if record.get("title") and record.get("abstract"):
                papers.append((clean_text(record["title"]), clean_text(record["abstract"])))
            if len(papers) >= limit:
                break
    return papers


def stems(text: str) -> set[str]:
    return {stem(word) for word in folded_words(text) if word not in BOUNDARY_WORDS}


def tfidf_top(
    abstract: str, frequency: Callable[[str], tuple[int, int]], count: int = 5
) -> list[str]:
    """The baseline: the abstract's ``count`` words of highest tf * idf."""
    counts = Counter(
        word for word in folded_words(abstract) if word not in STOP_WORDS and len(word) > 1
    )
    scored = {}
    for word, tf in counts.items():
        df, documents = frequency(stem(word))
        scored[word] = tf * math.log(1 + (documents - df + 0.5) / (df + 0.5))
    return sorted(scored, key=lambda word: -scored[word])[:count]


def keyword_scores(predicted: list[str], title: str) -> tuple[float, float]:
    wanted = stems(title)
    if not wanted or not predicted:
        return 0.0, 0.0
    right = sum(1 for phrase in predicted if stems(phrase) and stems(phrase) <= wanted)
    covered = set().union(*(stems(phrase) for phrase in predicted)) & wanted
    return right / len(predicted), len(covered) / len(wanted)


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 (C.-Y. Lin, 2004) over stemmed words."""
    a = [stem(word) for word in folded_words(candidate)]
    b = [stem(word) for word in folded_words(reference)]
    if not a or not b:
        return 0.0
    previous = [0] * (len(b) + 1)
    for word in a:
        current = [0]
        for index, other in enumerate(b):
            current.append(
                previous[index] + 1 if word == other else max(previous[index + 1], current[-1])
            )
        previous = current
    lcs = previous[-1]
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(a), lcs / len(b)
    return 2 * precision * recall / (precision + recall)


def part_keywords(papers: list[tuple[str, str]]) -> None:
    frequency = batch_frequencies(abstract for _, abstract in papers)
    totals = {"ours": [0.0, 0.0], "tf-idf top-5 words": [0.0, 0.0]}
    for title, abstract in papers:
        for name, predicted in (
            ("ours", extract_keywords("", abstract, frequency)),
            ("tf-idf top-5 words", tfidf_top(abstract, frequency)),
        ):
            precision, recall = keyword_scores(predicted, title)
            totals[name][0] += precision
            totals[name][1] += recall
    print(f"\n## Keywords vs held-out titles ({len(papers)} papers)")
    print("| extractor | precision@5 | recall@5 |\n|---|---|---|")
    for name, (precision, recall) in totals.items():
        print(f"| {name} | {precision / len(papers):.3f} | {recall / len(papers):.3f} |")


def part_tldr(papers: list[tuple[str, str]]) -> None:
    frequency = batch_frequencies(f"{t} {a}" for t, a in papers)
    ours = first = 0.0
    same = 0
    for title, abstract in papers:
        # the title is the reference here, so the TL;DR is chosen without it
        chosen = choose_tldr("", abstract, frequency)
        opening = trim(sentences(abstract)[0])
        ours += rouge_l(chosen, title)
        first += rouge_l(opening, title)
        same += chosen == opening
    print(f"\n## TL;DR vs the title, ROUGE-L F1 ({len(papers)} papers)")
    print("| sentence | ROUGE-L F1 |\n|---|---|")
    print(f"| ours (lexical centrality) | {ours / len(papers):.3f} |")
    print(f"| first sentence | {first / len(papers):.3f} |")
    print(f"ours picked the first sentence for {same / len(papers):.0%} of papers")


def part_cost(papers: list[tuple[str, str]], settings: Settings) -> None:
    started = time.perf_counter()
    frequency = batch_frequencies(f"{t} {a}" for t, a in papers)
    for title, abstract in papers:
        extract_keywords(title, abstract, frequency)
        choose_tldr(title, abstract, frequency)
    annotate = (time.perf_counter() - started) / len(papers) * 1000
    embedder = load_configured_embedder(settings)
    sample = papers[: min(len(papers), 512)]
    started = time.perf_counter()
    embedder.embed([embedding_text(t, a) for t, a in sample])
    embed = (time.perf_counter() - started) / len(sample) * 1000
    print(f"\n## Cost per paper ({len(papers)} annotated, {len(sample)} embedded)")
    print("| stage | ms per paper |\n|---|---|")
    print(f"| keywords + TL;DR | {annotate:.2f} |")
    print(f"| embedding ({embedder.name}) | {embed:.2f} |")
    print(f"annotation adds {annotate / embed:.1%} to the embedding stage's time")
    print(
        f"a corpus the size of the quick start's (9,877 papers) takes ~{annotate * 9877 / 1000:.0f}"
        " s to annotate (the quick start imports the bundle's annotations instead)"
    )


def part_foryou(parts: set[str], draws: int, quick: bool, generator: random.Random) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from recommend import KEYWORDS, author_topics, number, prepare, window_ends

    store, engine = prepare()
    assert engine.vectors is not None
    papers = [paper for batch in store.iter_papers() for paper in batch]
    embedded = set(engine.vectors.keys.tolist())
    papers = [paper for paper in papers if paper.key in embedded]
    topics: dict[str, Callable[..., bool]] = {
        name: (lambda compiled: lambda p: bool(compiled.search(p.title)))(
            re.compile(pattern, re.IGNORECASE)
        )
        for name, pattern in KEYWORDS.items()
    }
    authors = author_topics(papers, 6)
    ends = window_ends("2025-06", "2026-08")
    if quick:
        ends = ends[-2:]
        topics = dict(list(topics.items())[:3])
        authors = dict(list(authors.items())[:20])
    weights = (1.0, NEGATIVE_WEIGHT, 20.0)
    methods = ["svm (today)", "hide marked only"] + [f"svm + negatives w={w:g}" for w in weights]
    totals: dict[str, float] = dict.fromkeys(methods, 0.0)
    cold = {"2 upvotes": 0.0, "20-entry import": 0.0}
    users = cold_users = 0
    for end in ends:
        start = end - timedelta(days=WINDOW_DAYS - 1)
        window = (number(start), number(end))
        inside = [p for p in papers if window[0] <= engine.dates[p.key] <= window[1]]
        before = [p for p in papers if engine.dates[p.key] < window[0]]
        for is_topic in list(topics.values()) + list(authors.values()):
            relevant = {p.key for p in inside if is_topic(p)}
            history = [p.key for p in before if is_topic(p)]
            if len(relevant) < 3 or len(history) < 20:
                continue
            for _ in range(draws):
                positives = generator.sample(history, 5)
                first = rank_window(engine.vectors, engine.dates, positives, window, "svm")
                top = first.keys[:10].tolist()
                marked = [key for key in top if key not in relevant]
                if "foryou" in parts:
                    users += 1
                    totals["svm (today)"] += len(set(top) & relevant) / 10
                    hidden = [key for key in first.keys.tolist() if key not in marked][:10]
                    totals["hide marked only"] += len(set(hidden) & relevant) / 10
                    for weight in weights:
                        again = rank_window(
                            engine.vectors,
                            engine.dates,
                            positives,
                            window,
                            "svm",
                            negative_keys=marked,
                            negative_weight=weight,
                        )
                        name = f"svm + negatives w={weight:g}"
                        totals[name] += len(set(again.keys[:10].tolist()) & relevant) / 10
                if "coldstart" in parts:
                    cold_users += 1
                    library = generator.sample(history, 20)
                    rows = np.flatnonzero(np.isin(engine.vectors.keys, library[10:]))
                    extra = np.asarray(engine.vectors.vectors[rows], np.float32)
                    imported = rank_window(
                        engine.vectors, engine.dates, library[:10], window, extra_positives=extra
                    )
                    upvoted = rank_window(engine.vectors, engine.dates, library[:2], window)
                    cold["20-entry import"] += len(set(imported.keys[:10].tolist()) & relevant) / 10
                    cold["2 upvotes"] += len(set(upvoted.keys[:10].tolist()) & relevant) / 10
        print(f"  window ending {end}: done", file=sys.stderr)
    if users:
        print(f'\n## For you with "not for me" ({users} simulated users, 5 positives each)')
        print("| ranking | precision@10 |\n|---|---|")
        for name in methods:
            print(f"| {name} | {totals[name] / users:.3f} |")
    if cold_users:
        print(f"\n## Cold start ({cold_users} simulated users)")
        print("| seeded by | precision@10 |\n|---|---|")
        for name, total in cold.items():
            print(f"| {name} | {total / cold_users:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=2000, help="papers for keywords/tldr/cost")
    parser.add_argument("--skip", type=int, default=1000, help="papers of the file skipped")
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--draws", type=int, default=1, help="users per topic and window")
    parser.add_argument("--quick", action="store_true", help="2 windows, fewer users")
    parser.add_argument("--seed", type=int, default=7)
    add_machine_arguments(parser)
    options = parser.parse_args()
    parts = set(options.parts.split(","))
    unknown = parts - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s) {', '.join(sorted(unknown))} (expected {', '.join(PARTS)})")
    machine = Machine.check(options)
    settings = Settings.from_environment()
    papers = (
        load_papers(options.limit, options.skip) if parts & {"keywords", "tldr", "cost"} else []
    )
    if "keywords" in parts:
        part_keywords(papers)
    if "tldr" in parts:
        part_tldr(papers)
    if "cost" in parts:
        part_cost(papers, settings)
    if parts & {"foryou", "coldstart"}:
        part_foryou(parts, options.draws, options.quick, random.Random(options.seed))
    machine.report()


if __name__ == "__main__":
    main()
