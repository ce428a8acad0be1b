"""Plain records passed between the layers. Imports nothing of ours."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Paper:
    """One paper as a source describes it; ``None`` means "this source does not say".

    ``arxiv_id`` is normalised (no version, no ``arXiv:`` prefix). ``title`` and
    ``abstract`` are the raw source text; cleaned copies are made by the store.
    Dates are ISO ``YYYY-MM-DD`` strings.
    """

    arxiv_id: str
    title: str | None = None
    abstract: str | None = None
    authors: list[str] | None = None
    categories: list[str] | None = None
    comment: str | None = None
    published: str | None = None
    first_listed: str | None = None
    daily_date: str | None = None
    upvotes: int | None = None
    num_comments: int | None = None
    organization: str | None = None
    submitted_by: str | None = None
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    doi: str | None = None
    journal_ref: str | None = None
    sources: list[str] = field(default_factory=list)
    license: str | None = None  # a license URL, as arXiv gives it
    updated: str | None = None  # when the latest version was submitted (arXiv)
    # the source's own description of its submitter and organisation (daily-papers API);
    # about the accounts, not the paper: two records of one paper compare equal without it
    accounts: list[SourceAccount] = field(default_factory=list, compare=False)
    ai_summary: str | None = None  # the source's own one-line summary (daily-papers API)
    ai_keywords: list[str] | None = None  # the source's own keywords (daily-papers API)
    # a guess at ``published`` (a bioRxiv DOI's date, from a later version's record):
    # stored only while the paper has no ``published``; the first version's own date wins
    published_estimate: str | None = None


@dataclass(frozen=True)
class SourceAccount:
    """A user or organisation as a source describes it (``fullname``, ``avatarUrl``, ...).

    ``kind`` is "user" (``name`` is the handle papers' ``submitted_by`` holds) or
    "organization" (``name`` is the display name papers' ``organization`` holds)."""

    kind: str
    name: str
    profile: dict[str, object]


@dataclass(frozen=True)
class Rejection:
    """A source record that could not be turned into a ``Paper``, and why."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass(slots=True)
class StoredPaper:
    """A paper as the store holds it: merged over sources, with cleaned text.

    Slots: with more than 30 fields an instance's ``__dict__`` is a full dict (CPython
    shares keys only up to 30), keys and values, which the garbage collector walked for
    every paper a cached page holds."""

    key: int
    arxiv_id: str
    title: str
    abstract: str
    title_raw: str
    abstract_raw: str
    authors: list[str]
    categories: list[str]
    comment: str | None
    published: str | None
    first_listed: str | None
    daily_date: str | None
    upvotes: int | None
    num_comments: int | None
    organization: str | None
    submitted_by: str | None
    github_repo: str | None
    github_stars: int | None
    project_page: str | None
    doi: str | None
    journal_ref: str | None
    sources: list[str]
    content_hash: str
    change_sequence: int
    license: str | None = None
    updated: str | None = None
    withdrawn_on: str | None = None  # the harvest that said arXiv deleted the record
    ai_summary: str | None = None  # the source's own (daily-papers API), passed on unchanged
    ai_keywords: list[str] | None = None
    keywords: list[str] = field(default_factory=list)  # ours, made at index time
    tldr: str | None = None  # ours: the abstract's most representative sentence, trimmed

    @property
    def shown_keywords(self) -> list[str]:
        """The keywords shown and served: the source's own where it gives some, else ours."""
        return list(self.ai_keywords) if self.ai_keywords else list(self.keywords)

    @property
    def shown_title(self) -> str:
        """The title, or for a paper known by its id and abstract alone (an ``(arxiv_id,
        abstract)`` dataset) its id, so its card and page have a heading and a link."""
        if self.title:
            return self.title
        scheme = "doi" if self.arxiv_id.startswith("10.") else "arXiv"
        return f"{scheme}:{self.arxiv_id}"

    @property
    def shown_tldr(self) -> str | None:
        """The one-line summary shown and served: the source's own, else ours."""
        return self.ai_summary or self.tldr

    @property
    def date(self) -> str | None:
        """The date shown for the paper: daily date, else first listing, else publication."""
        return self.daily_date or self.first_listed or self.published


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result, with what a person needs to judge it. Immutable: cached
    results are shared between callers (``dataclasses.replace`` makes a changed copy)."""

    paper: StoredPaper
    score: float
    snippet: str
    matched_terms: tuple[str, ...]
    found_by: str  # "lexical", "semantic", "both" or "identifier"
    lexical_rank: int | None = None
    semantic_rank: int | None = None
    similarity: float | None = None  # cosine of query and paper vectors, when both exist


@dataclass(frozen=True)
class SearchResults:
    """A page of hits plus what the caller should know about how they were found.

    ``total`` counts the papers that match; when nothing does (``close_match`` false),
    it is 0 and ``hits`` holds at most a few nearest papers by meaning, with a note.
    """

    query: str
    hits: list[Hit]  # each caller gets its own list (the cached page is never shared)
    total: int
    offset: int
    notes: list[str] = field(default_factory=list)
    close_match: bool = True
    # ``total`` counts every matching paper, past the ranked candidates; when it cannot
    # be counted (a quoted phrase over more than the candidates) it is a lower bound
    total_exact: bool = True
    ranked: int | None = None  # hits reachable by paging (None: ``total``)

    @property
    def pageable(self) -> int:
        """How many hits paging can reach (the ranked candidates, at most ``total``)."""
        return self.total if self.ranked is None else min(self.ranked, self.total)
