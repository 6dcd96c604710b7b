"""Every command README.md shows works as written on a fresh clone.

The commands are the lines of the README's ``sh`` code blocks, the ``command`` column of its
tables and the ``make …`` commands quoted in its text. Each is checked by the first rule below
that applies; the first three are the documented exceptions to running it (``NOT_RUN``):

* ``make TARGET``: builds, serves, tests or rewrites files for minutes, so the target must exist
  and its recipe must expand (``make -n TARGET``); CI runs ``make lint`` and ``make test`` anyway.
* ``curl`` lines need the server ``make run`` starts: the same requests (method, path, headers,
  body) go through Django's test client against the demo data ``make run`` loads, in README
  order; a placeholder token (``…``) is replaced by the token the previous answer returned, and
  every answer must be a success.
* benchmark scripts run for minutes against real workers: the script must exist and define every
  flag the README passes.
* every other line runs exactly as written with ``bash`` in a scratch folder laid out like a clone
  after ``make run`` (``.venv/`` and ``manage.py`` linked, the demo tenant in the database), with
  neither ``SECRET_KEY`` nor ``DEBUG`` set; each must exit 0 and its ``--output`` file must hold
  scored JSON lines (with ``--tenant``, including the tenant's tracked terms).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

NOT_RUN = {
    "make": "make targets build, serve, test or rewrite files: checked with `make -n`",
    "curl": "needs the running server: replayed through Django's test client on the demo data",
    "benchmark": "runs for minutes on real workers: the script and its flags must exist",
}


def readme_commands() -> list[str]:
    """The README's commands, in order of appearance (code blocks first, then tables, then text)."""
    text = README.read_text(encoding="utf-8")
    commands: list[str] = []
    for block in re.findall(r"^```(?:sh|bash|shell)\n(.*?)^```", text, re.S | re.M):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                commands.append(line)
    prose = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    for table in re.findall(r"(?:^\|.*\|\n)+", prose, re.M):
        rows = [[cell.strip() for cell in row.strip("|").split("|")] for row in table.splitlines()]
        if "command" in rows[0]:
            column = rows[0].index("command")
            commands += [m for row in rows[2:] for m in re.findall(r"`([^`]+)`", row[column])]
    commands += re.findall(r"`(make [a-z][\w-]*[^`]*)`", prose)
    return list(dict.fromkeys(commands))  # each once, first appearance first


def kind(command: str) -> str:
    words = shlex.split(command, comments=True)
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", words[0]):
        words = words[1:]  # leading VAR=value assignments
    if words[0] == "make":
        return "make"
    if words[0] == "curl":
        return "curl"
    if any(w.startswith("benchmarks/") and w.endswith(".py") for w in words):
        return "benchmark"
    return "run"


def of_kind(name: str) -> list[str]:
    return [c for c in readme_commands() if kind(c) == name]


def test_the_readme_commands_are_found_and_each_is_checked() -> None:
    commands = readme_commands()
    kinds = {kind(c) for c in commands}
    assert kinds <= {*NOT_RUN, "run"}
    # the ones this issue was about are among them
    assert any(c.startswith(".venv/bin/python manage.py score") for c in of_kind("run"))
    assert {"make run", "make test"} <= {" ".join(c.split()[:2]) for c in of_kind("make")}
    assert len(of_kind("curl")) >= 2 and len(of_kind("benchmark")) >= 4


@pytest.mark.parametrize("command", of_kind("make"))
def test_make_targets_exist(command: str) -> None:
    target = shlex.split(command, comments=True)[1]
    dry_run = subprocess.run(
        ["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert dry_run.returncode == 0, dry_run.stderr


@pytest.mark.parametrize("command", of_kind("benchmark"))
def test_benchmark_scripts_and_flags_exist(command: str) -> None:
    words = shlex.split(command, comments=True)
    script = next(w for w in words if w.startswith("benchmarks/"))
    source = (ROOT / script).read_text(encoding="utf-8")
    for flag in (w for w in words if w.startswith("--")):
        assert f'"{flag}"' in source, f"{script} has no {flag} option"


def curl_request(command: str) -> dict[str, Any]:
    words = shlex.split(command, comments=True)[1:]
    request: dict[str, Any] = {"method": "GET", "headers": {}, "data": None, "url": None}
    while words:
        word = words.pop(0)
        if word == "-X":
            request["method"] = words.pop(0)
        elif word == "-H":
            name, _, value = words.pop(0).partition(":")
            request["headers"][name.strip().lower()] = value.strip()
        elif word == "-d":
            request["data"] = words.pop(0)
            if request["method"] == "GET":
                request["method"] = "POST"
        elif word.startswith("-"):
            assert word == "-s", f"curl option {word} is not understood by this test"
        else:
            request["url"] = word
    return request


def test_curl_walkthrough_works_on_the_demo_data(db: Any) -> None:
    call_command("seed_demo", "--mentions", "0", stdout=open(os.devnull, "w"))  # noqa: SIM115
    client = Client()
    token = None
    for command in of_kind("curl"):
        request = curl_request(command)
        assert request["url"].startswith("localhost:8000/"), request["url"]
        path = request["url"][len("localhost:8000") :]
        headers = dict(request["headers"])
        content_type = headers.pop("content-type", "application/octet-stream")
        if "…" in headers.get("authorization", ""):
            assert token, "a placeholder token before any token was issued"
            headers["authorization"] = re.sub(r"\S*…", token, headers["authorization"])
        response = client.generic(
            request["method"],
            path,
            data=request["data"] or "",
            content_type=content_type,
            headers=headers,
        )
        assert response.status_code < 300, (command, response.status_code, response.content)
        token = response.json().get("token", token)


def database_url() -> str:
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}:{db['PASSWORD']}@/{db['NAME']}"
        f"?host={db['HOST']}&port={db['PORT']}"
    )


def clean_environment(**extra: str) -> dict[str, str]:
    """This machine's environment without the settings a fresh clone would not have."""
    dropped = {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE", "DATABASE_URL"}
    kept = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("SIGAP_")}
    return {**kept, **extra}


def scratch_clone(path: Path) -> Path:
    """A folder laid out like the clone for the README's relative paths."""
    venv = ROOT / ".venv" if (ROOT / ".venv").is_dir() else Path(sys.prefix)
    (path / ".venv").symlink_to(venv, target_is_directory=True)
    (path / "manage.py").symlink_to(ROOT / "manage.py")
    return path


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_other_commands_run_exactly_as_written(tmp_path: Path) -> None:
    from monitoring.demo import ensure_setup
    from tenants.models import Tenant

    call_command("seed_demo", "--mentions", "0", stdout=open(os.devnull, "w"))  # noqa: SIM115
    ensure_setup(Tenant.objects.get(slug="kopi-senja"))
    clone = scratch_clone(tmp_path)
    environment = clean_environment(DATABASE_URL=database_url())
    commands = of_kind("run")
    assert commands
    for command in commands:
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=clone,
            env=environment,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, (command, done.stderr[-2000:])
        words = shlex.split(command, comments=True)
        if "--output" in words:
            lines = (clone / words[words.index("--output") + 1]).read_text().splitlines()
            scored = [json.loads(line) for line in lines]
            assert scored and all("scorer_version" in item for item in scored)
            if "--tenant" in words:  # the tenant's tracked terms are found
                assert any(e["type"] == "term" for item in scored for e in item["entities"])
