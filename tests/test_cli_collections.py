"""`paperfeed collections` driven in-process, as an operator would type it."""

from __future__ import annotations

from pathlib import Path

import bibtexparser
import pytest
from click.testing import CliRunner

from paperfeed import collections as lists
from paperfeed.cli import main
from paperfeed.config import Settings
from paperfeed.store import Store
from paperfeed.store.accounts import insert_user
from paperfeed.store.loading import ingest_sources

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _run(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(arguments))
    return result.exit_code, result.stdout, result.stderr


def test_import_list_and_export(tmp_path: Path) -> None:
    store = Store(Settings.from_environment().database_url)
    ingest_sources(
        store, [FIXTURES / "site_daily_papers.jsonl"], "daily-papers-flat", show_progress=False
    )
    ada = insert_user(store, "ada@example.org", "Ada", "not-a-real-hash")
    reading = lists.create_collection(store, ada, "Reading group")
    store.close()

    bib = str(FIXTURES / "zotero_export.bib")
    code, out, _ = _run("collections", "import", str(reading.id), bib, "--user", "Ada@Example.org")
    assert code == 3  # some entries matched no stored paper: listed, the rest added
    assert "7 entries (bibtex): added 4, already there 0, not matched 3" in out
    assert "not matched: vaswani_attention_2023: arXiv paper 1706.03762 is not stored" in out
    code, out, _ = _run("collections", "list", "ada@example.org")
    assert code == 0 and out == f"{reading.id}\tReading group\t4 papers\tprivate\n"

    code, out, _ = _run("collections", "export", str(reading.id))
    assert code == 0
    assert {entry["eprint"] for entry in bibtexparser.parse_string(out).entries} == {
        "2608.19880",
        "2608.10615",
        "2608.08888",
        "2608.13430",
    }
    target = tmp_path / "reading.ris"
    code, _, err = _run(
        "collections", "export", str(reading.id), "--format", "ris", "-o", str(target)
    )
    assert code == 0 and "wrote 4 papers" in err and target.read_text().count("ER  -") == 4

    not_bib = tmp_path / "letter.txt"
    not_bib.write_text("Dear colleague, no references here.")
    code, _, err = _run(
        "collections", "import", str(reading.id), str(not_bib), "--user", "ada@example.org"
    )
    assert code == 2 and "no BibTeX entries" in err
    code, _, err = _run("collections", "import", "999", bib, "--user", "ada@example.org")
    assert code == 1 and "no collection 999" in err
    code, _, err = _run("collections", "list", "nobody@example.org")
    assert code == 1 and "no account for 'nobody@example.org'" in err
    code, _, err = _run("collections", "export", str(reading.id), "--format", "docx")
    assert code == 2 and "docx" in err


def test_an_export_to_a_path_that_cannot_be_written_names_it(tmp_path: Path) -> None:
    store = Store(Settings.from_environment().database_url)
    reading = lists.create_collection(
        store, insert_user(store, "ada@example.org", "Ada", "not-a-real-hash"), "Reading"
    )
    store.close()
    missing = tmp_path / "no-such-folder" / "x.bib"
    code, _, err = _run("collections", "export", str(reading.id), "-o", str(missing))
    assert code == 1 and "Traceback" not in err
    assert f"cannot write {missing}: No such file or directory" in err
    code, _, err = _run("collections", "export", str(reading.id), "-o", str(tmp_path))
    assert code == 2 and "Traceback" not in err  # a folder is a bad option value
    assert f"'--output' / '-o': File '{tmp_path}' is a directory" in err


def test_an_export_to_dash_goes_to_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(Settings.from_environment().database_url)
    reading = lists.create_collection(
        store, insert_user(store, "ada@example.org", "Ada", "not-a-real-hash"), "Reading"
    )
    store.close()
    monkeypatch.chdir(tmp_path)
    code, out, _ = _run("collections", "export", str(reading.id), "--format", "json", "-o", "-")
    assert code == 0 and '"name": "Reading"' in out
    assert not (tmp_path / "-").exists()  # it wrote a file named '-'
