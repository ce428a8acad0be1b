"""``paperfeed search`` and ``paperfeed similar``: hybrid search and similar papers from
the shell, as text or JSON."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable
from typing import Any

import click

from paperfeed.cli.common import open_engine
from paperfeed.models import Hit, SearchResults

_MARK = re.compile(r"<mark>(.*?)</mark>")


def _plain_snippet(snippet: str, color: bool) -> str:
    import html

    if color:
        marked = _MARK.sub(
            lambda match: click.style(match.group(1), bold=True, fg="yellow"), snippet
        )
    else:
        marked = _MARK.sub(lambda match: f"*{match.group(1)}*", snippet)
    return html.unescape(marked)


def hit_to_json(hit: Hit) -> dict[str, Any]:
    """The JSON shape of a hit, shared by ``search --json`` and ``--batch``."""
    from paperfeed.search.snippets import plain_snippet

    paper = hit.paper
    snippet, marks = plain_snippet(hit.snippet) if hit.snippet else (None, [])
    return {
        "id": paper.arxiv_id,
        "title": paper.title,
        "authors": paper.authors,
        "author_count": len(paper.authors),
        "organization": paper.organization,
        "date": paper.date,
        "categories": paper.categories,
        "upvotes": paper.upvotes,
        "score": round(hit.score, 6),
        "snippet": snippet,  # plain text: the marked words are at ``marks``
        "marks": [list(span) for span in marks],
        "matched_terms": list(hit.matched_terms),
        "found_by": hit.found_by,
        "lexical_rank": hit.lexical_rank,
        "semantic_rank": hit.semantic_rank,
        "keywords": paper.shown_keywords,
        "tldr": paper.shown_tldr or "",
    }


def _print_hit(position: int, hit: Hit, color: bool) -> None:
    paper = hit.paper
    authors = paper.organization or (
        ", ".join(paper.authors[:3])
        + (f" +{len(paper.authors) - 3}" if len(paper.authors) > 3 else "")
    )
    title = paper.title or "(untitled)"
    click.echo(
        click.style(f"{position:>3}. {title}", bold=True) if color else f"{position:>3}. {title}"
    )
    details = [paper.arxiv_id, paper.date or "no date", authors or "unknown authors"]
    if paper.upvotes is not None:
        details.append(f"▲ {paper.upvotes}")
    click.echo("     " + " · ".join(details))
    why = f"found by {hit.found_by}"
    if hit.matched_terms:
        why += "; matched " + ", ".join(hit.matched_terms)
    click.echo(f"     {why}; score {hit.score:.4f}")
    if hit.snippet:
        click.echo("     " + _plain_snippet(hit.snippet, color))


def _batch_record(text: str, found: SearchResults | None, error: str | None) -> dict[str, Any]:
    """One ``--batch`` output line; a failed query keeps its place, with its ``error``."""
    record: dict[str, Any] = {
        "query": text,
        "total": found.total if found else 0,
        "close_match": found.close_match if found else False,
        "hits": [hit_to_json(hit) for hit in found.hits] if found else [],
        "notes": list(found.notes) if found else ([] if error else ["empty query"]),
    }
    if error is not None:
        record["error"] = error
    return record


def _run_batch(lines: Iterable[bytes], run: Callable[[str], SearchResults]) -> tuple[int, int]:
    """Write one JSON line per query line, a failed one included.

    Returns:
        How many queries failed, and how many there were.
    """
    from paperfeed.search import SearchError

    failed = number = 0
    for number, raw in enumerate(lines, start=1):
        try:
            text = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as error:
            # the query cannot be read, so its line stands for it: the caller still gets
            # one output line per input line, in order
            failed += 1
            message = f"line {number} is not UTF-8 (byte 0x{raw[error.start]:02x})"
            record = _batch_record(raw.decode("utf-8", "replace").rstrip("\r\n"), None, message)
            sys.stdout.write(json.dumps(record) + "\n")
            continue
        try:
            found = run(text) if text.strip() else None
        except SearchError as error:
            failed += 1
            sys.stdout.write(json.dumps(_batch_record(text, None, str(error))) + "\n")
            continue
        sys.stdout.write(json.dumps(_batch_record(text, found, None)) + "\n")
    return failed, number


def _nothing_shown(results: SearchResults, offset: int) -> str:
    """Why a page has no hits: nothing matches, or the offset skipped every hit."""
    if not results.close_match or results.total == 0 or offset < results.pageable:
        return "no papers match"
    if results.pageable < results.total:  # paging reaches the ranked candidates only
        return (
            f"--offset {offset:,} is past the last of the {results.pageable:,} ranked results "
            f"({results.total:,}{'' if results.total_exact else '+'} match; narrow the query)"
        )
    return f"--offset {offset:,} is past the last of {results.total:,} results"


def _query_of(words: tuple[str, ...]) -> str | None:
    """The query typed as shell words: one word as it is (``"KL divergence"``), several
    joined (``KL divergence -survey``), a word the shell unquoted around spaces quoted
    again as the phrase it was (``diffusion "classifier-free guidance"``).

    Raises:
        click.NoSuchOption: for a word like ``--limt``: a mistyped option, not a query.
    """
    if not words:
        return None
    for word in words:
        if word.startswith("--") and len(word) > 2:
            raise click.NoSuchOption(word.split("=")[0])
    if len(words) == 1:
        return words[0]
    return " ".join(
        f'"{word}"' if any(space.isspace() for space in word) and '"' not in word else word
        for word in words
    )


# a query may start with an exclusion ("-video diffusion"): a word that begins with "-"
# is left to the query rather than refused as an unknown option
@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("query", nargs=-1)
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option("--offset", default=0, type=click.IntRange(min=0), help="Skip this many hits.")
@click.option("--sort", default="relevance", type=click.Choice(["relevance", "date", "upvotes"]))
@click.option("--since", help="Only papers dated on or after (YYYY[-MM[-DD]]).")
@click.option("--until", help="Only papers dated on or before (YYYY[-MM[-DD]]).")
@click.option("--category", "categories", multiple=True, help="e.g. cs.LG (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.option(
    "--batch",
    type=click.File("rb"),
    help="Read one query per line (- for stdin); write one JSON line of hits per query.",
)
def search(
    query: tuple[str, ...],
    limit: int,
    offset: int,
    sort: str,
    since: str | None,
    until: str | None,
    categories: tuple[str, ...],
    as_json: bool,
    batch: Any,
) -> None:
    """Search papers: words, "phrases", -exclude, ti: au: abs: cat: since: until:."""
    from paperfeed.search import SearchError, parse_query

    typed = _query_of(query)
    if (typed is None) == (batch is None):
        raise click.UsageError("give a QUERY or --batch FILE (not both)")
    # a bad option value is a usage error (exit 2), named by its option, before any work
    for option, filters in (
        ("--since", {"since": since}),
        ("--until", {"until": until}),
        ("--category", {"categories": categories}),
    ):
        try:
            parse_query("").with_filters(**filters)
        except SearchError as error:
            raise click.BadParameter(str(error), param_hint=f"'{option}'") from None
    try:
        parse_query("").with_filters(categories, since, until)
    except SearchError as error:
        raise click.UsageError(str(error)) from None
    engine = open_engine()

    def run(text: str) -> SearchResults:
        # parsed once, here; the typed options merge into the parsed query
        parsed = parse_query(text).with_filters(categories, since, until)
        found: SearchResults = engine.search(parsed, limit=limit, offset=offset, sort=sort)
        return found

    if batch is not None:
        failed, total = _run_batch(batch, run)
        if failed:
            raise click.ClickException(
                f"{failed} of {total} queries failed (their lines carry an 'error')"
            )
        return
    try:
        results = run(typed or "")
    except SearchError as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(
            json.dumps(
                {
                    "query": results.query,
                    "total": results.total,
                    "total_exact": results.total_exact,
                    "ranked": results.pageable,
                    "offset": results.offset,
                    "close_match": results.close_match,
                    "notes": list(results.notes),
                    "hits": [hit_to_json(hit) for hit in results.hits],
                },
                indent=1,
            )
        )
        return
    for note in results.notes:
        click.echo(f"note: {note}", err=True)
    if not results.hits:
        click.echo(_nothing_shown(results, offset))
        return
    if not results.close_match:
        click.echo("no close match; the nearest papers by meaning:")
        for position, hit in enumerate(results.hits, start=1):
            _print_hit(position, hit, sys.stdout.isatty())
        return
    color = sys.stdout.isatty()
    counted = f"{results.total:,}{'' if results.total_exact else '+'}"
    noun = "result" if results.total == 1 and results.total_exact else "results"
    click.echo(f"{counted} {noun}; showing {offset + 1}–{offset + len(results.hits)}")
    for position, hit in enumerate(results.hits, start=offset + 1):
        _print_hit(position, hit, color)


@click.command()
@click.argument("arxiv_id", required=False)
@click.option("--text", help="Find papers like this pasted abstract instead of an id.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def similar(arxiv_id: str | None, text: str | None, limit: int, as_json: bool) -> None:
    """Papers similar to ARXIV_ID (or to --text)."""
    from paperfeed.ingest import normalize_paper_id
    from paperfeed.search import SearchError
    from paperfeed.search.results import far_from_text_note

    if (arxiv_id is None) == (text is None):
        raise click.UsageError("give an ARXIV_ID or --text (not both)")
    engine = open_engine()
    try:
        if arxiv_id is not None:
            normalized = normalize_paper_id(arxiv_id)
            if normalized is None:
                raise click.BadParameter(
                    f"{arxiv_id!r} is not an arXiv id or a DOI", param_hint="'ARXIV_ID'"
                )
            hits = engine.similar(normalized, limit)
        else:
            hits = engine.similar_to_text(text or "", limit)
    except SearchError as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps([hit_to_json(hit) for hit in hits], indent=1))
        return
    far = far_from_text_note(hits, engine.settings.min_similarity)
    if far is not None:
        click.echo(f"note: {far}", err=True)
        click.echo("no close match; the nearest papers by meaning:")
    color = sys.stdout.isatty()
    for position, hit in enumerate(hits, start=1):
        _print_hit(position, hit, color)
