"""Keywords and a one-line TL;DR for a paper, made offline from its title and abstract.

**Keywords** are short noun phrases picked the way keyphrase extractors without a
part-of-speech tagger do (RAKE, S. Rose et al., "Automatic keyword extraction from
individual documents", 2010): the text is cut at stop words and punctuation, and every
1–3 word run inside a piece is a candidate. Each candidate is scored by TF-IDF over its
words' stems (document frequencies from the batch being annotated, or the lexical index),

    score(p) = mean_{w in p} tf(w) * idf(w) * (1 + 0.25 (|p| - 1)) * (1.5 if p is in the title)

(the length bonus only for a phrase seen twice or in the title),

so specific multi-word phrases and title phrases rise, and the top five are chosen by
maximal marginal relevance (J. Carbonell and J. Goldstein, SIGIR 1998) with stem overlap
as the redundancy: ``lambda * score - (1 - lambda) * max_overlap(p, chosen)``. It is
lexical only: keywords and TL;DR together cost ~2.5 ms a paper on a 2-core AMD EPYC, a
tenth of embedding it (``bench/triage.py --parts cost``), where scoring candidates
against the MiniLM embedding would mean embedding ~30 phrases a paper (more than the
paper's own embedding), past the 20% the daily sync may grow by.

**TL;DR**: the abstract's most representative sentence by lexical centrality — the
sentence whose TF-IDF vector is closest (cosine) to the whole abstract's plus the
title's (the centroid summariser of D. Radev et al., 2004) — weighted by two classic
extractive cues (H. P. Edmundson, "New methods in automatic extracting", JACM 1969): a
lead bonus ``1 + LEAD_BONUS / position`` and ``CUE_BONUS`` for a sentence that states
the contribution ("we propose", "in this paper"); trimmed to ``TLDR_CHARS`` at a word
boundary. ``bench/triage.py`` scores it against the first sentence.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from operator import itemgetter

from paperfeed.index.tokenizer import STOP_WORDS, fold_word, stem

KEYWORDS_SHOWN = 5
TLDR_CHARS = 200
MAX_PHRASE_WORDS = 3
MMR_LAMBDA = 0.7
# tuned on 400 papers of one arXiv month (bench/triage.py reads others): ROUGE-L F1 vs
# the title 0.158 (centrality alone) -> 0.203, first sentence 0.166
LEAD_BONUS = 0.5
CUE_BONUS = 1.5
# Bumped when the keywords or TL;DR a text gives change: every paper is annotated again.
# They follow the tokenizer's folding: bump this with ``tokenizer.TOKENIZER_VERSION``.
# 2: Greek letters folded to their names (tokenizer 3), which changed the keywords or
# TL;DR of 28 of the quick-start bundle's 9,877 papers.
ANNOTATOR_VERSION = 2

# Beyond the index's stop words: function words and the verbs and fillers of abstracts
# ("we propose", "extensive experiments show") that never make a keyword by themselves.
BOUNDARY_WORDS = STOP_WORDS | frozenset(
    """
    about above across after again against all also although among amongst any
    approach approaches based because been before being below between both can could
    demonstrate demonstrates demonstrated do does done during each effective
    effectively either enable enables enabling especially even existing experiment
    experiments extensive finally first from further furthermore has have having here
    high how however i its itself just large less like made make makes many may method
    methods might more moreover most much must new novel now often only other others
    our ours over paper particular per perform performance present presents previous
    propose proposed proposes provide provides recent recently remain remains respectively
    result results same several should show shown shows significant significantly since so
    some specifically state-of-the-art still strong study than thanks them themselves
    this those three through thus two up upon us use used uses using various very via
    was we well were what when where whether which while who whose why within without
    work works would yet you your achieve achieves achieving across addition additionally
    allows able introduce introduces leverage leverages leveraging outperform outperforms
    task tasks model models problem problems challenge challenges framework frameworks
    one often different better best key important simple given
    """.split()  # noqa: SIM905 (a word list reads better as text)
)
_TOKEN = re.compile(r"[^\W_](?:[\w'’-]*[^\W_])?|[.,;:!?()\[\]{}\"“”]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[“\"])")
_MATH = re.compile(r"\$[^$]*\$")
_CUE = re.compile(
    r"\b(?:we|this paper|this work|here we)\s+(?:propose|introduce|present|develop|design"
    r"|build|release)|\bin this (?:paper|work)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Annotation:
    """What the annotator made for one paper."""

    keywords: tuple[str, ...]
    tldr: str


DocumentFrequency = Callable[[str], tuple[int, int]]  # stem -> (df, documents)


def batch_frequencies(texts: Iterable[str]) -> DocumentFrequency:
    """Document frequencies of stems over ``texts`` (the papers annotated together)."""
    counts: Counter[str] = Counter()
    documents = 0
    for text in texts:
        documents += 1
        counts.update({stem(word) for word in folded_words(text)})
    return lambda term: (counts.get(term, 0), documents)


def folded_words(text: str) -> list[str]:
    """The folded words of ``text`` (inline ``$math$`` dropped), stop words kept."""
    return [word for word in map(fold_word, _TOKEN.findall(_MATH.sub(" ", text))) if word]


def _idf(frequency: DocumentFrequency, term: str) -> float:
    # BM25's smoothed idf (Robertson & Zaragoza 2009), floored at a small positive value
    df, documents = frequency(term)
    return math.log(1.0 + (documents - df + 0.5) / (df + 0.5))


def _remembered_idf(frequency: DocumentFrequency) -> Callable[[str], float]:
    """``_idf(frequency, term)`` computed once a term for one paper (its sentences repeat
    the abstract's terms)."""
    known: dict[str, float] = {}

    def idf(term: str) -> float:
        value = known.get(term)
        if value is None:
            value = known[term] = _idf(frequency, term)
        return value

    return idf


def _pieces(text: str) -> list[list[str]]:
    """Runs of surface words between stop words and punctuation."""
    pieces: list[list[str]] = []
    current: list[str] = []
    for token in _TOKEN.findall(_MATH.sub(" . ", text)):
        possessive = token[-2:] in ("'s", "’s")
        if possessive:
            token = token[:-2]  # "SC's loss" is two pieces: the phrase ends at the owner
        folded = fold_word(token)
        if not folded[0].isalnum() or folded in BOUNDARY_WORDS or not _content(folded):
            if current:
                pieces.append(current)
            current = []
            continue
        current.append(token)
        if possessive:
            pieces.append(current)
            current = []
    if current:
        pieces.append(current)
    return pieces


def _content(word: str) -> bool:
    """A word that may be part of a keyword: not a bare number, longer than one letter."""
    stripped = word.replace("-", "")
    return len(stripped) > 1 and not stripped.isdigit()


def _display_word(word: str) -> str:
    # acronyms and names with inner capitals keep their case ("LLM", "GPT-4", "LoRA")
    return word if any(map(str.isupper, word[1:])) else word.lower()


def extract_keywords(
    title: str, abstract: str, frequency: DocumentFrequency, count: int = KEYWORDS_SHOWN
) -> list[str]:
    """The paper's ``count`` best keyphrases, best first (see the module docstring).

    Args:
        title: the cleaned title.
        abstract: the cleaned abstract.
        frequency: document frequencies of stems (``batch_frequencies`` or the index's).
        count: how many to return.
    """
    term_counts: Counter[str] = Counter(stem(word) for word in folded_words(f"{title} {abstract}"))
    title_stems = {stem(word) for word in folded_words(title)}
    surfaces: dict[tuple[str, ...], dict[str, int]] = {}  # phrase -> its spellings, counted
    occurrences: Counter[tuple[str, ...]] = Counter()
    in_title: set[tuple[str, ...]] = set()
    for source, text in (("title", title), ("abstract", abstract)):
        for piece in _pieces(text):
            # each word folded, stemmed and shown once, not once per phrase it is in
            piece_stems = [stem(fold_word(word)) for word in piece]
            piece_shown = [_display_word(word) for word in piece]
            for size in range(1, MAX_PHRASE_WORDS + 1):
                for start in range(len(piece) - size + 1):
                    stems = tuple(piece_stems[start : start + size])
                    occurrences[stems] += 1
                    spelled = " ".join(piece_shown[start : start + size])
                    spellings = surfaces.get(stems)
                    if spellings is None:
                        surfaces[stems] = {spelled: 1}
                    else:
                        spellings[spelled] = spellings.get(spelled, 0) + 1
                    if source == "title":
                        in_title.add(stems)
    if not occurrences:
        return []
    weights = {term: tf * _idf(frequency, term) for term, tf in term_counts.items()}
    scored: dict[tuple[str, ...], float] = {}
    for stems, seen in occurrences.items():
        if len(set(stems)) < len(stems):
            continue  # "model model": a run of a repeated word
        base = sum(weights.get(term, 0.0) for term in stems) / len(stems)
        length = 1.0 + 0.25 * (len(stems) - 1)
        if len(stems) > 1 and seen == 1 and stems not in in_title:
            # met once, outside the title: more often a chance neighbourhood ("components
            # targeting") than a term, so no bonus for its length (bench/triage.py: held-out
            # title precision@5 0.289 -> 0.341, recall@5 0.327 -> 0.304)
            length = 1.0
        title_bonus = 1.5 if stems in in_title else 1.0
        # a phrase seen more than once as a whole is a unit, not a chance neighbourhood
        repeat = 1.0 + 0.2 * min(seen - 1, 3) if len(stems) > 1 else 1.0
        if len(stems) == 1 and stems[0] not in title_stems and term_counts[stems[0]] < 2:
            length *= 0.8  # a lone word mentioned once rarely names the paper
        scored[stems] = base * length * title_bonus * repeat
    chosen = _diverse(scored, count)
    # the most frequent spelling, the first seen among equals (as Counter.most_common)
    return [max(surfaces[stems].items(), key=itemgetter(1))[0] for stems in chosen]


def _diverse(scored: Mapping[tuple[str, ...], float], count: int) -> list[tuple[str, ...]]:
    """Maximal marginal relevance over the best candidates, stem overlap as redundancy."""
    pool = sorted(scored, key=lambda stems: (-scored[stems], stems))[: count * 8]
    if not pool:
        return []
    top = scored[pool[0]] or 1.0
    stem_sets = {stems: frozenset(stems) for stems in pool}
    # each candidate's largest overlap with a chosen phrase, and whether a chosen phrase
    # holds all its stems, kept up to date as phrases are chosen
    overlap = dict.fromkeys(pool, 0.0)
    inside_chosen = dict.fromkeys(pool, False)
    chosen: list[tuple[str, ...]] = []
    while pool and len(chosen) < count:
        best_value, best = -math.inf, pool[0]
        for stems in pool:
            if overlap[stems] >= 0.5 and inside_chosen[stems]:
                continue  # already said by a longer phrase
            value = MMR_LAMBDA * scored[stems] / top - (1 - MMR_LAMBDA) * overlap[stems]
            if value > best_value:
                best_value, best = value, stems
        if best_value == -math.inf:
            break
        chosen.append(best)
        pool.remove(best)
        best_set = stem_sets[best]
        for stems in pool:
            own = stem_sets[stems]
            overlap[stems] = max(overlap[stems], len(own & best_set) / len(own | best_set))
            inside_chosen[stems] = inside_chosen[stems] or own <= best_set
    return chosen


def sentences(abstract: str) -> list[str]:
    """The abstract's sentences (a full stop, ! or ? followed by a capital or digit)."""
    return [part.strip() for part in _SENTENCE_END.split(abstract.strip()) if part.strip()]


def trim(text: str, limit: int = TLDR_CHARS) -> str:
    """``text`` cut at the last word boundary before ``limit`` characters, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:—-")
    return cut + "…"


def choose_tldr(title: str, abstract: str, frequency: DocumentFrequency) -> str:
    """The abstract's most central sentence, trimmed (the first one when it is a single
    sentence; "" when there is no abstract)."""
    parts = sentences(abstract)
    if not parts:
        return ""
    if len(parts) == 1:
        return trim(parts[0])

    idf = _remembered_idf(frequency)

    def vector(text: str) -> dict[str, float]:
        counts = Counter(stem(word) for word in folded_words(text) if word not in STOP_WORDS)
        return {term: tf * idf(term) for term, tf in counts.items()}

    whole = vector(abstract)
    for term, weight in vector(title).items():
        whole[term] = whole.get(term, 0.0) + weight
    whole_norm = math.sqrt(sum(value * value for value in whole.values())) or 1.0

    def centrality(index: int) -> float:
        sentence = parts[index]
        own = vector(sentence)
        norm = math.sqrt(sum(value * value for value in own.values()))
        if norm == 0.0 or len(sentence.split()) < 6:
            return -1.0  # "Code is available." and the like
        cosine = sum(weight * whole.get(term, 0.0) for term, weight in own.items()) / (
            norm * whole_norm
        )
        cue = CUE_BONUS if _CUE.search(sentence) else 1.0
        return cosine * (1.0 + LEAD_BONUS / (index + 1)) * cue

    best = max(range(len(parts)), key=lambda index: (centrality(index), -index))
    return trim(parts[best])


def annotate(title: str, abstract: str, frequency: DocumentFrequency) -> Annotation:
    """Keywords and TL;DR of one paper."""
    return Annotation(
        keywords=tuple(extract_keywords(title, abstract, frequency)),
        tldr=choose_tldr(title, abstract, frequency),
    )
