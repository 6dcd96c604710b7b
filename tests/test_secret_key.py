"""``SECRET_KEY`` with ``DEBUG`` off: what serves or may sign refuses to start without it, and
``manage.py score`` (which signs nothing) runs without it (config/startup.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from config.startup import command_requires_secret_key, require_secret_key_for_command

ROOT = Path(__file__).resolve().parents[1]
REFUSAL = "SECRET_KEY must be set when DEBUG is off"


def fresh_environment() -> dict[str, str]:
    """This machine's environment without SECRET_KEY, DEBUG and the test settings."""
    dropped = {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}
    return {k: v for k, v in os.environ.items() if k not in dropped}


@pytest.mark.parametrize("name", ["runserver", "serve", "qcluster", "migrate", "createsuperuser"])
def test_serving_and_other_commands_need_the_key(name: str) -> None:
    assert command_requires_secret_key(name)


@pytest.mark.parametrize("name", ["score", "backtest-rule", "help", "--help", "--version"])
def test_score_and_help_do_not(name: str) -> None:
    assert not command_requires_secret_key(name)


def test_the_rule_applies_only_with_debug_off_and_no_key() -> None:
    with override_settings(DEBUG=False, SECRET_KEY=""):
        for name in ("serve", "runserver", "qcluster"):
            with pytest.raises(ImproperlyConfigured, match=REFUSAL):
                require_secret_key_for_command(["manage.py", name])
        require_secret_key_for_command(["manage.py", "score", "--input", "-", "--output", "-"])
    with override_settings(DEBUG=False, SECRET_KEY="set-in-the-environment"):
        require_secret_key_for_command(["manage.py", "serve"])
    with override_settings(DEBUG=True, SECRET_KEY=""):
        require_secret_key_for_command(["manage.py", "serve"])


@pytest.mark.slow
def test_manage_py_serve_refuses_to_start_without_the_key() -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", "serve", "--addr", "127.0.0.1:0"],
        cwd=ROOT,
        env=fresh_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert REFUSAL in done.stderr
    assert "Sigap on http" not in done.stdout  # neither the server nor the workers started


@pytest.mark.slow
def test_the_wsgi_application_refuses_to_load_without_the_key() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import config.wsgi"],
        cwd=ROOT,
        env=fresh_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert f"ImproperlyConfigured: {REFUSAL}" in done.stderr


@pytest.mark.slow
def test_score_runs_without_the_key_and_without_debug() -> None:
    post = {"id": "1", "text": "pelayanannya goblok banget #boikot"}
    done = subprocess.run(
        [sys.executable, "manage.py", "score", "--input", "-", "--output", "-"],
        cwd=ROOT,
        env=fresh_environment(),
        input=json.dumps(post) + "\n",
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    scored = json.loads(done.stdout)
    assert scored["id"] == "1" and scored["provocation"]["score"] >= 0.5
