"""CLI conventions, driven as a user types them: a bad option value is a usage error
(exit 2), an ingest that stored nothing says so and fails, a truncated ``.gz`` says
exactly what was stored, and ``search --json`` carries plain text, never HTML."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperfeed.cli import main
from paperfeed.config import Settings
from paperfeed.store import Store

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _run(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(arguments))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--since", "garbage"], "'--since': since 'garbage' is not a date"),
        (["--until", "2025-13"], "'--until': until '2025-13' is not a date"),
        # the shape is right but the calendar has no such day: it was taken as 2025-03-02
        (["--since", "2025-02-30"], "since '2025-02-30' is not a date (February 2025 has no"),
        (["--category", "cs LG"], "'--category': category 'cs LG' is not a category name"),
        (["--since", "2025-06", "--until", "2025-01"], "since 2025-06-01 is after until"),
    ],
)
def test_a_bad_option_value_is_a_usage_error(options: list[str], named: str) -> None:
    code, _, err = _run("search", "diffusion", *options)
    assert code == 2, err  # click's usage error, as for an unknown option
    assert named in err and "Traceback" not in err


def _records(count: int) -> list[dict[str, object]]:
    words = ["graph", "diffusion", "sparse", "transformer", "kernel", "token", "agent", "robot"]
    rng = random.Random(7)  # random words compress poorly: a cut falls mid-file
    return [
        {
            "id": f"2601.{number:05d}",
            "title": f"Paper {number}",
            "abstract": " ".join(rng.choice(words) + str(rng.randrange(10**6)) for _ in range(40)),
            "authors": ["A. Writer"],
            "daily_date": "2026-01-05",
        }
        for number in range(count)
    ]


def test_an_ingest_whose_every_record_is_rejected_fails(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "not-an-id", "title": "x"}\n{"title": "no id"}\n')
    code, out, err = _run("ingest", "--quiet", "--format", "daily-papers-flat", str(bad))
    assert code == 1
    assert "rejected 2" in out and "every record was rejected (2): nothing was stored" in err
    # some stored, some rejected: a success that reports the rejections
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(bad.read_text() + json.dumps(_records(1)[0]) + "\n")
    code, out, _ = _run("ingest", "--quiet", "--format", "daily-papers-flat", str(mixed))
    assert code == 0 and "added 1" in out and "rejected 2" in out


def test_a_truncated_gz_says_what_was_stored(tmp_path: Path, settings: Settings) -> None:
    lines = "".join(json.dumps(record) + "\n" for record in _records(2600)).encode()
    whole = gzip.compress(lines)
    small = tmp_path / "small.jsonl.gz"
    small.write_bytes(gzip.compress(lines[:20_000])[:-40])
    code, _, err = _run("ingest", "--quiet", "--format", "daily-papers-flat", str(small))
    assert code == 1 and "small.jsonl.gz" in err and err.rstrip().endswith("nothing was stored")
    # the same without --format: telling the format used to fail on the damage first,
    # saying neither where the file ends nor what was stored
    code, _, err = _run("ingest", "--quiet", str(small))
    assert code == 1 and "small.jsonl.gz' after line" in err
    assert err.rstrip().endswith("nothing was stored")
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) * 9 // 10])  # ~2,340 records readable
    code, _, err = _run("ingest", "--quiet", "--format", "daily-papers-flat", str(cut))
    assert code == 1 and "Traceback" not in err
    assert "stored before it: added 2000, updated 0, unchanged 0" in err  # two batches
    assert Store(settings.database_url).count_papers() == 2000


def test_search_json_has_plain_snippets_with_mark_offsets() -> None:
    for source in ("cli_arxiv_sample.jsonl", "cli_daily_sample.jsonl"):
        assert _run("ingest", "--quiet", str(FIXTURES / source))[0] == 0
    assert _run("index", "--quiet")[0] == 0
    code, out, _ = _run("search", "flower pollination", "--json", "--limit", "3")
    assert code == 0
    hits = json.loads(out)["hits"]
    assert hits and all(set(hit) >= {"snippet", "marks"} for hit in hits)
    marked = [hit["snippet"][start:end].lower() for hit in hits for start, end in hit["marks"]]
    assert {"flower", "pollination"} <= set(marked)
    for hit in hits:
        assert "<" not in hit["snippet"] and "&amp;" not in hit["snippet"]


def test_a_database_file_that_is_not_sqlite_is_named_by_every_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_sqlite = tmp_path / "papers.jsonl"
    not_sqlite.write_text(json.dumps(_records(1)[0]) + "\n")
    Store(f"sqlite:///{tmp_path / 'whole.db'}").close()
    truncated = tmp_path / "truncated.db"
    truncated.write_bytes((tmp_path / "whole.db").read_bytes()[:5000])
    for database, reason in ((not_sqlite, "file is not a database"),
                             (truncated, "database disk image is malformed")):  # fmt: skip
        url = f"sqlite:///{database}"
        monkeypatch.setenv("PAPERFEED_DATABASE_URL", url)
        for command in (["stats"], ["search", "x"], ["users", "list"], ["migrate"]):
            code, _, err = _run(*command)
            assert code == 1 and "Traceback" not in err, (command, err)
            assert err.startswith("Error: cannot open database ") and url in err, (command, err)
            assert err.endswith(f": {reason}\n") and err.count("\n") == 1, (command, err)
        code, _, err = _run("backup", str(tmp_path / "backup"))
        assert code == 1 and f"cannot read the database {url}: {reason}" in err
    assert not (tmp_path / "backup").exists()
    monkeypatch.setenv("PAPERFEED_DATABASE_URL", f"sqlite:///{not_sqlite}/paperfeed.db")
    code, _, err = _run("stats")
    assert code == 1 and f"{str(not_sqlite)!r} is a file, not a folder" in err


def test_a_home_that_is_a_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a_file = tmp_path / "home.txt"
    a_file.write_text("not a folder")
    monkeypatch.setenv("PAPERFEED_HOME", str(a_file))
    for command in (["stats"], ["users", "list"], ["restore", str(tmp_path)]):
        code, _, err = _run(*command)
        assert code == 1 and "Traceback" not in err, (command, err)
        assert err == f"Error: PAPERFEED_HOME={str(a_file)!r} is a file, not a folder\n"
    assert a_file.read_text() == "not a folder"


def test_a_file_without_an_id_column_shows_a_short_preview_of_its_columns(
    tmp_path: Path,
) -> None:
    # what a tarball or a JSON document forced to be a CSV looks like: a huge "header"
    wide = tmp_path / "wide.csv"
    names = [f"column{number:03d}_" + "x" * 100 for number in range(500)]
    wide.write_text(",".join(names) + "\n" + ",".join("v" for _ in names) + "\n")
    code, _, err = _run("ingest", "--quiet", "--format", "abstract-dataset", str(wide))
    assert code == 1 and "Traceback" not in err
    assert len(err) < 1000, len(err)
    assert "has no 'arxiv_id' or 'id' column (columns: column000_xxx" in err
    assert "column009_" in err and "column010_" not in err and "and 490 more)" in err
    assert "x" * 41 not in err  # each name cut short


def _dataset_csv(rows: int) -> list[str]:
    return ["arxiv_id,title,abstract\n"] + [
        f"2601.{number:05d},Paper {number},Words of abstract {number}\n"
        for number in range(1, rows + 1)
    ]


def test_a_quote_that_never_closes_in_a_csv_is_refused_naming_its_line(
    tmp_path: Path, settings: Settings
) -> None:
    lines = _dataset_csv(100)
    lines[10] = '2601.00010,Paper 10,"A stray quote opens this abstract\n'  # row 10, line 11
    stray = tmp_path / "stray.csv"
    stray.write_text("".join(lines))
    code, out, err = _run("ingest", "--quiet", "--format", "abstract-dataset", str(stray))
    assert code == 1 and "Traceback" not in err
    assert "the row on line 11 opens a quoted field" in err and "never closes" in err
    assert err.rstrip().endswith("nothing was stored")
    assert Store(settings.database_url).count_papers() == 0
    # a quoted field over several lines that closes on the file's last byte is fine
    closed = tmp_path / "closed.csv"
    closed.write_text("".join(_dataset_csv(3)) + '2601.00004,Paper 4,"two\nlines"')
    code, out, err = _run("ingest", "--quiet", "--format", "abstract-dataset", str(closed))
    assert code == 0 and "added 4, updated 0, unchanged 0, rejected 0" in out, err


def test_a_bad_byte_in_a_csv_is_named_by_its_own_line(tmp_path: Path) -> None:
    two = tmp_path / "two.csv"
    two.write_bytes(b"arxiv_id,abstract\n2601.00001,caf\xe9 au lait\n")
    code, _, err = _run("ingest", "--quiet", "--format", "abstract-dataset", str(two))
    assert code == 1 and "Traceback" not in err
    assert f"cannot read '{two}' at line 2: 'utf-8' codec can't decode byte 0xe9" in err
    lines = [line.encode() for line in _dataset_csv(5000)]
    lines[4000] = lines[4000].replace(b"Words", b"W\xe9rds")  # line 4001, far past a chunk
    far = tmp_path / "far.csv"
    far.write_bytes(b"".join(lines))
    code, _, err = _run("ingest", "--quiet", "--format", "abstract-dataset", str(far))
    assert code == 1 and f"cannot read '{far}' at line 4001: " in err
    assert "stored before it: added 3000" in err  # the batches before the bad line
    # a byte-order mark and \r\n or \r line ends read as before
    for ending in (b"\r\n", b"\r"):
        marked = tmp_path / "marked.csv"
        marked.write_bytes(b"\xef\xbb\xbf" + ending.join(line.rstrip(b"\n") for line in lines[:4]))
        code, out, err = _run("ingest", "--quiet", "--format", "abstract-dataset", str(marked))
        assert code == 0 and "rejected 0" in out, err


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("PAPERFEED_TITLE_WEIGHT", "-2", "PAPERFEED_TITLE_WEIGHT='-2' must not be negative"),
        ("PAPERFEED_PAGE_CACHE_SECONDS", "-1", "PAPERFEED_PAGE_CACHE_SECONDS='-1' must not be"),
        ("PAPERFEED_SYNC_DELAY_SECONDS", "-3", "PAPERFEED_SYNC_DELAY_SECONDS='-3' must not be"),
        ("PAPERFEED_SYNC_BACKOFF_SECONDS", "-1", "PAPERFEED_SYNC_BACKOFF_SECONDS='-1' must not"),
        ("PAPERFEED_ARXIV_API_URL", "ftp://x", "PAPERFEED_ARXIV_API_URL='ftp://x' is not an http"),
        ("PAPERFEED_SMTP_SECURITY", "SSL", "PAPERFEED_SMTP_SECURITY='SSL' is not one of"),
        ("PAPERFEED_FUSION", "bm25", "PAPERFEED_FUSION='bm25' is not one of calibrated,"),
    ],
)
def test_a_bad_setting_is_refused_naming_it_as_set(
    name: str, value: str, named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)
    code, _, err = _run("stats")
    assert code == 1 and named in err and "Traceback" not in err, err


def test_choices_are_read_in_any_case_as_the_sign_up_policy_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # PAPERFEED_SIGNUP=Invite was taken while PAPERFEED_FUSION=RRF was refused
    monkeypatch.setenv("PAPERFEED_FUSION", "RRF")
    monkeypatch.setenv("PAPERFEED_SIGNUP", "Invite")
    settings = Settings.from_environment()
    assert (settings.fusion, settings.signup) == ("rrf", "invite")


def test_an_index_dir_that_is_a_file_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a_file = tmp_path / "index.txt"
    a_file.write_text("not a folder")
    monkeypatch.setenv("PAPERFEED_INDEX_DIR", str(a_file))
    for command in (["stats"], ["search", "diffusion"], ["index", "--no-embed"]):
        code, _, err = _run(*command)
        assert code == 1 and "Traceback" not in err, (command, err)
        assert f"PAPERFEED_INDEX_DIR={str(a_file)!r} is a file, not a folder" in err
    assert a_file.read_text() == "not a folder"


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (["sync"], "nor a line per page or wait"),
        (["sync"], "sync [OPTIONS] [SOURCE] Fetch new papers"),  # the SOURCE the text names
        (["sync"], "SOURCE is arxiv, arxiv-listing, daily-papers, biorxiv or medrxiv"),
        (["similar"], "--json One JSON document on stdout."),
        (["stats"], "--json One JSON document on stdout."),
        (["collections", "export"], "[default: bibtex]"),
        (["collections", "import"], "auto: told apart by the file's content. [default: auto]"),
        (["digest", "send"], "or with --period weekly this ISO week"),
        (["users", "invite"], "Days the link stays valid, at most 3650"),
    ],
)
def test_each_option_says_what_it_does(command: list[str], says: str) -> None:
    code, out, _ = _run(*command, "--help")
    assert code == 0 and says in " ".join(out.split()), out


def test_a_bad_embedding_model_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    for spec, problem in (
        ("bogus", "unknown embedder spec 'bogus'"),
        ("onnx:/nonexistent", "embedding model file not found"),
    ):
        monkeypatch.setenv("PAPERFEED_EMBED_MODEL", spec)
        code, _, err = _run("index", "--quiet")
        assert code == 1 and "Traceback" not in err, err
        assert f"PAPERFEED_EMBED_MODEL={spec!r}: {problem}" in err, err
