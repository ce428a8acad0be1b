"""Query sets of bench/quality.py, made from the shared data only, deterministically.

- ``keyword_queries``: for seeded sample papers, 2-4 technical terms or short noun phrases
  describing the paper as an author's keyword list would ("sparse autoencoders, residual
  stream, steering"), most from the abstract, never the title verbatim; target = the paper.
- ``known_item_queries``: the three rarest title words, and the full title.
- ``coauthor_cases``: papers with at least one other paper sharing two authors (the
  similar-papers check: those papers are the relevant ones).
- ``nonsense_queries``: random letter strings, for calibrating the relevance floor.

Every set is split into train and test by a seeded hash of the paper id, so tuning on
train never sees a test paper.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from paperfeed.index.lexical import LexicalIndex
from paperfeed.index.tokenizer import STOP_WORDS, fold, tokenize
from paperfeed.models import StoredPaper

# Words that end a keyword: besides the stop words, the scaffolding of abstract prose.
_BREAK_TEXT = (
    "we our us which while where when whose who what how than from via using based show "
    "shows shown propose proposes proposed present presents introduce introduces novel new "
    "paper work study approach approaches method methods framework results achieve achieves "
    "achieving significantly significant existing recent also can may both each other more "
    "most many several various however furthermore moreover first second third two three one "
    "its it this these those such across between over under without within through thus "
    "therefore further has have had been being do does did not only well often large small "
    "high low better best state art demonstrate demonstrates experiments extensive "
    "outperforms outperform performance improve improves improved improving task tasks data "
    "model models problem problems due like about whatever put forward towards toward upon "
    "among against beyond despite yet remarkable investigate why findings motivate encourage "
    "future essential explore explored provide provides initial including still used rather "
    "all complete perform highlight fresh insights diverse support supports same any own "
    "total during multiple subsequent corresponding enhance enhances strengthened concrete "
    "latest advancements identify five four fact inside key crucial critical effective "
    "efficient strong robust simple comprehensive challenging superior competitive notable "
    "substantial potential promising great remains leading leverage leverages leveraging "
    "enable enables enabling specific specifically particular general overall given make "
    "makes address addresses aim aims allow allows current prior previous typically usually "
    "even much little less lack limited wide widely range set sets number evaluate evaluated "
    "evaluation benchmark benchmarks experimental analysis built build builds larger smaller "
    "off held self demonstrated rapid growth researchers immediate endeavoring "
)
BREAK_WORDS = STOP_WORDS | frozenset(_BREAK_TEXT.split())
_RUN_SPLIT = re.compile(r"[.,;:!?()\[\]{}\"“”]|\s-\s|\s–\s")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]*[A-Za-z0-9]|[A-Za-z]")
_URL = re.compile(r"https?://\S+|www\.\S+|\S+\.(?:com|org|io|net)\S*")


@dataclass(frozen=True)
class Case:
    """One query, the paper(s) it should find, and its split."""

    kind: str
    text: str
    targets: frozenset[str]
    split: str


def split_of(arxiv_id: str, seed: int, train_share: float = 0.6) -> str:
    digest = hashlib.sha256(f"{seed}:{arxiv_id}".encode()).digest()
    return "train" if digest[0] / 256 < train_share else "test"


def _phrases(text: str) -> Iterable[list[str]]:
    """Runs of content words between punctuation and break words."""
    text = _URL.sub(" . ", text)
    for chunk in _RUN_SPLIT.split(text):
        run: list[str] = []
        for word in _WORD.findall(chunk):
            folded = fold(word)
            if (
                folded in BREAK_WORDS
                or folded.endswith("ly")
                or folded.isdigit()
                or (len(word) < 3 and not word.isupper())
            ):
                if run:
                    yield run
                run = []
            else:
                run.append(word)
        if run:
            yield run


def _grams(paper: StoredPaper) -> dict[str, str]:
    """The paper's 1-3 word phrases: index terms joined -> the words as written."""
    grams: dict[str, str] = {}
    for run in _phrases(f"{paper.title}. {paper.abstract}"):
        terms = [" ".join(tokenize(word)) for word in run]
        for size in (1, 2, 3):
            for start in range(len(run) - size + 1):
                part = terms[start : start + size]
                if all(part) and all(" " not in term for term in part):
                    key = " ".join(part)
                    if key not in grams:
                        words = run[start : start + size]
                        grams[key] = " ".join(w if w.isupper() else w.lower() for w in words)
    return grams


def phrase_frequencies(papers: dict[int, StoredPaper]) -> Counter[str]:
    """In how many papers each 1-3 word phrase occurs (words adjacent)."""
    counts: Counter[str] = Counter()
    for paper in papers.values():
        counts.update(_grams(paper).keys())
    return counts


def keyword_candidates(
    paper: StoredPaper, frequencies: Counter[str], total: int
) -> list[tuple[float, str]]:
    """Scored phrases of the paper that other papers use too (a field's terms, not
    this abstract's turns of phrase), best first."""
    title_terms = set(tokenize(paper.title))
    text = f"{paper.title}. {paper.abstract}"
    uses: Counter[str] = Counter()
    for run in _phrases(text):
        terms = [" ".join(tokenize(word)) for word in run]
        for size in (1, 2, 3):
            for start in range(len(run) - size + 1):
                uses[" ".join(terms[start : start + size])] += 1
    scored = []
    for key, shown in _grams(paper).items():
        terms = key.split()
        frequency = frequencies.get(key, 0)
        # used by 3+ papers (a term of the field), by at most 5% (not generic)
        if frequency < 3 or frequency > 0.05 * total:
            continue
        if len(terms) == 1 and uses[key] < 2 and key not in title_terms:
            continue  # a single word must matter to the paper
        cohesion = 1.0
        if len(terms) > 1:
            # how often the rarest word comes in this phrase: "entity linking" sticks
            # together, "remarkable potential" does not
            cohesion = frequency / max(1, min(frequencies.get(term, 1) for term in terms))
            if cohesion < 0.15:
                continue
        elif frequency > 0.03 * total:
            continue
        in_title = all(term in title_terms for term in terms)
        # not the rarest words first: an author lists the field's usual terms, so
        # rarity counts only weakly (the square root of the idf)
        idf = math.sqrt(min(8.0, math.log(total / frequency))) * math.sqrt(cohesion)
        length_bonus = {1: 1.0, 2: 1.5, 3: 1.2}[len(terms)]
        weight = min(uses[key], 3) * idf * length_bonus * (0.7 if in_title else 1.0)
        scored.append((weight, shown))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return scored


def keyword_query(
    paper: StoredPaper, frequencies: Counter[str], total: int, rng: random.Random
) -> str | None:
    """An author-style keyword list for ``paper``, or None when it has too few."""
    candidates = keyword_candidates(paper, frequencies, total)[:10]
    title_terms = set(tokenize(paper.title))
    wanted = rng.choice((2, 3, 3, 4))
    chosen: list[str] = []
    used: set[str] = set()
    title_only = 0
    pool = list(candidates)
    while pool and len(chosen) < wanted:
        index = rng.choices(range(len(pool)), weights=[score for score, _ in pool])[0]
        _, phrase = pool.pop(index)
        terms = set(tokenize(phrase))
        if terms & used:
            continue  # overlapping keywords ("diffusion", "diffusion models") read oddly
        if terms <= title_terms:
            if title_only:
                continue  # at most one keyword straight from the title
            title_only += 1
        chosen.append(phrase)
        used |= terms
    if len(chosen) < 2:
        return None
    if " ".join(tokenize(", ".join(chosen))) == " ".join(tokenize(paper.title)):
        return None  # the title verbatim
    return ", ".join(chosen)


def sample_papers(papers: dict[int, StoredPaper], count: int, seed: int) -> list[StoredPaper]:
    keys = sorted(papers)
    random.Random(seed).shuffle(keys)
    return [papers[key] for key in keys[:count] if papers[key].title and papers[key].abstract]


def keyword_queries(papers: dict[int, StoredPaper], count: int, seed: int = 11) -> list[Case]:
    rng = random.Random(seed)
    frequencies = phrase_frequencies(papers)
    cases = []
    for paper in sample_papers(papers, count * 2, seed):
        text = keyword_query(paper, frequencies, len(papers), rng)
        if text is not None:
            cases.append(
                Case("keywords", text, frozenset([paper.arxiv_id]), split_of(paper.arxiv_id, seed))
            )
        if len(cases) == count:
            break
    return cases


def known_item_queries(
    papers: dict[int, StoredPaper], lexical: LexicalIndex, count: int, seed: int = 7
) -> list[Case]:
    """The three rarest title words (by document frequency), and the full title."""
    cases = []
    for paper in sample_papers(papers, count * 2, seed):
        words = [word for word in paper.title.replace(":", " ").split() if tokenize(word)]
        words.sort(key=lambda word: len(lexical.keys_with(tokenize(word)[0])))
        if len(words) < 3:
            continue
        split = split_of(paper.arxiv_id, seed)
        target = frozenset([paper.arxiv_id])
        cases.append(Case("3 rare title words", " ".join(words[:3]), target, split))
        cases.append(Case("full title", paper.title.replace('"', ""), target, split))
        if len(cases) >= count * 2:
            break
    return cases


def coauthor_cases(papers: dict[int, StoredPaper], count: int, seed: int = 5) -> list[Case]:
    """Papers sharing two or more authors with the query paper are its relevant ones."""
    by_author: dict[str, set[int]] = {}
    for key, paper in papers.items():
        for name in paper.authors:
            by_author.setdefault(fold(name).strip(), set()).add(key)
    cases = []
    for paper in sample_papers(papers, len(papers), seed):
        shared: dict[int, int] = {}
        for name in paper.authors:
            for other in by_author.get(fold(name).strip(), ()):
                if other != paper.key:
                    shared[other] = shared.get(other, 0) + 1
        related = frozenset(papers[key].arxiv_id for key, n in shared.items() if n >= 2)
        if related:
            cases.append(
                Case("co-authored", paper.arxiv_id, related, split_of(paper.arxiv_id, seed))
            )
        if len(cases) == count:
            break
    return cases


def nonsense_queries(count: int, seed: int = 3) -> list[str]:
    """Strings of 2-4 pronounceable non-words ("qzxwv flurble snark" style)."""
    rng = random.Random(seed)
    consonants, vowels = "bcdfghjklmnpqrstvwxz", "aeiouy"
    queries = []
    for _ in range(count):
        words = []
        for _ in range(rng.choice((2, 3, 3, 4))):
            length = rng.randint(4, 8)
            words.append(
                "".join(rng.choice(consonants if i % 2 == 0 else vowels) for i in range(length))
            )
        queries.append(" ".join(words))
    return queries
