"""The import contracts in pyproject.toml (checked by ``lint-imports`` in ``make lint``) keep up
with the code: every feature app's ``api`` and ``graphql`` module is protected, so that no sibling
app may import it."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FEATURE_APPS = ("monitoring", "incidents", "playbooks")
INTERFACES = ("api", "graphql")


def contracts() -> list[dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["importlinter"]["contracts"]


def test_every_feature_app_interface_is_protected_from_its_siblings() -> None:
    protected = {
        module: set(contract["allowed_importers"])
        for contract in contracts()
        if contract["type"] == "protected"
        for module in contract["protected_modules"]
    }
    for app in FEATURE_APPS:
        for interface in INTERFACES:
            module = f"{app}.{interface}"
            exists = (ROOT / app / interface).is_dir() or (ROOT / app / f"{interface}.py").exists()
            if exists:
                assert protected.get(module) == {app, "config"}, (
                    f"add a protected contract for {module} (allowed importers: {app}, config)"
                )


def test_the_layers_follow_the_readme() -> None:
    (layers,) = (c["layers"] for c in contracts() if c["type"] == "layers")
    assert layers == ["config", "incidents", "monitoring | playbooks", "tenants"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`tenants ← monitoring ← incidents`, `incidents → playbooks → tenants`;" in readme
    assert "`lint-imports` in `make lint` enforces both" in readme
