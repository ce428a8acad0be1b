"""The deployment files: compose.yaml (parsed with PyYAML), the Dockerfile (checked line by
line), the systemd units (``systemd-analyze verify``), and, in the ``docker`` tier, the
image built and started with a real Docker daemon."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml

from http_clients import http_get
from running_site import free_port

ROOT = Path(__file__).resolve().parents[1]
CONFIG = (ROOT / "src" / "paperfeed" / "config.py").read_text()
# read at import: the autouse home fixture clears PAPERFEED_* variables before each test
DOCKER_BASE = os.environ.get("PAPERFEED_DOCKER_BASE", "python:3.11-slim-bookworm")


def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of each Dockerfile instruction, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    found = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            instruction, _, arguments = line.strip().partition(" ")
            found.append((instruction.upper(), arguments.strip()))
    return found


def test_compose_runs_postgres_with_pgvector_and_the_schedules() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    db, site = compose["services"]["db"], compose["services"]["paperfeed"]
    assert db["image"].startswith("pgvector/pgvector:")
    assert "pg_isready" in db["healthcheck"]["test"]
    assert site["depends_on"]["db"]["condition"] == "service_healthy"
    assert site["build"] == "."
    environment = site["environment"]
    assert environment["PAPERFEED_DATABASE_URL"].startswith("postgresql://paperfeed:")
    assert "@db:5432/paperfeed" in environment["PAPERFEED_DATABASE_URL"]
    assert environment["PAPERFEED_VECTOR_BACKEND"] == "pgvector"
    assert "PAPERFEED_SYNC_INTERVAL_MINUTES" in environment
    assert "PAPERFEED_DIGEST_HOUR" in environment
    for name in environment:  # every setting named is one paperfeed reads
        assert f'"{name}"' in CONFIG, name
    assert any(volume.endswith(":/var/lib/paperfeed") for volume in site["volumes"])
    assert site["ports"] == ["127.0.0.1:8000:8000"]  # the proxy in front, not the world
    assert set(compose["volumes"]) == {"db", "home"}


def test_compose_config_validates_and_demands_the_secrets() -> None:
    """``docker-compose config`` (Compose's own validation and interpolation), when a
    Compose is installed; it needs no daemon and no images."""
    program = shutil.which("docker-compose")
    if program is None:
        pytest.skip("docker-compose is not installed")
    environment = {key: value for key, value in os.environ.items() if "PAPERFEED" not in key}
    with_secrets = {**environment, "POSTGRES_PASSWORD": "pw", "PAPERFEED_SECRET_KEY": "key"}
    done = subprocess.run(
        [program, "-f", str(ROOT / "compose.yaml"), "config"],
        capture_output=True,
        text=True,
        env=with_secrets,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)
    url = resolved["services"]["paperfeed"]["environment"]["PAPERFEED_DATABASE_URL"]
    assert url == "postgresql://paperfeed:pw@db:5432/paperfeed"
    missing = subprocess.run(
        [program, "-f", str(ROOT / "compose.yaml"), "config"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
    )
    assert missing.returncode != 0 and "set POSTGRES_PASSWORD in .env" in missing.stderr


def test_dockerfile_is_multi_stage_unprivileged_with_model_and_healthcheck() -> None:
    instructions = _dockerfile()
    stages = [arguments for instruction, arguments in instructions if instruction == "FROM"]
    assert len(stages) == 2 and stages[0].endswith(" AS build")
    final = instructions[
        max(i for i, (instruction, _) in enumerate(instructions) if instruction == "FROM") :
    ]
    users = [arguments for instruction, arguments in final if instruction == "USER"]
    assert users and users[-1] not in ("root", "0")
    copies = [arguments for instruction, arguments in final if instruction == "COPY"]
    assert copies == ["--from=build /opt/paperfeed /opt/paperfeed"]
    [healthcheck] = [arguments for instruction, arguments in final if instruction == "HEALTHCHECK"]
    assert "http://127.0.0.1:8000/healthz" in healthcheck
    [command] = [arguments for instruction, arguments in final if instruction == "CMD"]
    assert '"serve", "--host", "0.0.0.0", "--port", "8000"' in command
    # the model is package data, so pip install puts it in the image
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"data/**/*"' in pyproject
    assert any((ROOT / "src" / "paperfeed" / "data" / "models" / "minilm").iterdir())
    # every file the package reads at run time is package data (a wheel has nothing else)
    for folder in ("web/templates", "web/static", "digest/templates"):
        assert f'"{folder}/*"' in pyproject, folder
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "src" not in ignored and "tests" in ignored


def test_systemd_units_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    program = tmp_path / "bin" / "paperfeed"  # stands in for the installed command
    program.parent.mkdir()
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    names = ["paperfeed.service", "paperfeed-sync.service", "paperfeed-sync.timer"]
    for name in names:
        text = (ROOT / "deploy" / "systemd" / name).read_text()
        (tmp_path / name).write_text(text.replace("/opt/paperfeed/bin/paperfeed", str(program)))
    done = subprocess.run(
        [analyze, "verify", *[str(tmp_path / name) for name in names]],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr
    service = (ROOT / "deploy" / "systemd" / "paperfeed.service").read_text()
    assert "User=paperfeed" in service and "serve --host 127.0.0.1" in service
    sync = (ROOT / "deploy" / "systemd" / "paperfeed-sync.service").read_text()
    assert "Type=oneshot" in sync and "paperfeed sync --quiet" in sync
    assert "Persistent=true" in (ROOT / "deploy" / "systemd" / "paperfeed-sync.timer").read_text()


@pytest.mark.docker
def test_the_image_builds_and_serves_healthz(tmp_path: Path) -> None:
    """Needs a running Docker daemon and the base image (PAPERFEED_DOCKER_BASE, default
    python:3.11-slim-bookworm) pullable or present."""
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "info"], capture_output=True).returncode:
        pytest.skip("no Docker daemon")
    base = DOCKER_BASE
    tag = "paperfeed-test:latest"
    build = subprocess.run(
        [docker, "build", "--network", "host", "--build-arg", f"PYTHON_IMAGE={base}",
         "-t", tag, str(ROOT)],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-3000:]
    user = subprocess.run(
        [docker, "image", "inspect", "--format", "{{.Config.User}}", tag],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert user == "paperfeed"
    port = free_port()
    name = f"paperfeed-test-{os.getpid()}"
    subprocess.run(
        [docker, "run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8000",
         "-e", "PAPERFEED_EMBED_MODEL=minilm", tag],
        check=True,
        capture_output=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                answer = http_get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                if answer.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the container did not answer /healthz"
            time.sleep(1)
        assert answer.json() == {"status": "ok"}
        assert http_get(f"http://127.0.0.1:{port}/readyz", timeout=10).status_code == 200
        health = ""
        while time.monotonic() < deadline and health != "healthy":
            health = subprocess.run(
                [docker, "inspect", "--format", "{{.State.Health.Status}}", name],
                capture_output=True,
                text=True,
            ).stdout.strip()
            time.sleep(2)
        assert health == "healthy"
        model = subprocess.run(
            [docker, "exec", name, "python3", "-c",
             "from paperfeed.index.embedder import load_embedder; "
             "print(load_embedder('minilm').embed(['attention is all you need']).shape)"],
            capture_output=True,
            text=True,
        )  # fmt: skip
        assert model.returncode == 0 and "(1, 384)" in model.stdout, model.stderr[-2000:]
    finally:
        subprocess.run([docker, "rm", "-f", name], capture_output=True)
