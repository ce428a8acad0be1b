"""A bounded schemathesis run: the OpenAPI document against the running server.

Every operation in ``/api/openapi.json`` is called with generated requests (loopback
only, a few examples each) and each answer is checked against the document: declared
status codes, content types and bodies, ``Allow`` on OPTIONS and 405, schema-valid
requests accepted (``positive_data_acceptance``), schema-invalid ones refused
(``negative_data_rejection``: an empty ``date=``, ``week=`` or ``q=`` used to pass), no
5xx. The negative phase leaves unknown query parameters alone (the hooks): the site
ignores those on purpose, since clients such as ``huggingface_hub`` send paging and
sort parameters of the original site.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from paperfeed.accounts import create_api_token
from paperfeed.store.accounts import insert_user
from running_site import Site

pytestmark = pytest.mark.schemathesis
MAX_EXAMPLES = 8


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_openapi_document_is_true_to_the_server(site: Site, tmp_path: Path) -> None:
    executable = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if executable is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[dev]')")
    # signed in, so the collection and comment operations are exercised past their 401
    # (``name: null`` on a collection was refused where the document allowed it)
    user = insert_user(site.store, "schemathesis@example.org", "Schemathesis", "no-hash")
    token = create_api_token(site.store, user)
    environment = dict(os.environ)
    environment["SCHEMATHESIS_HOOKS"] = "schemathesis_hooks"
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parent), environment.get("PYTHONPATH", "")]
    )
    result = subprocess.run(
        [
            executable,
            "--no-color",
            "--config-file",
            str(Path(__file__).resolve().parent / "schemathesis.toml"),
            "run",
            f"{site.url}/api/openapi.json",
            "--mode",
            "all",  # every check (schemathesis.toml) on positive and negative data
            "--header",
            f"Authorization: Bearer {token}",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--workers",
            "1",
            "--seed",
            "20261201",
            "--report-dir",
            str(tmp_path / "report"),
        ],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert "12 selected" in result.stdout or "selected" in result.stdout
