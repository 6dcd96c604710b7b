"""The committed ``openapi.yaml``, parsed once per test process.

The file is large (about 3 MB): PyYAML's pure-Python parser takes 10-30 s over it, its libyaml
parser (``CSafeLoader``, in PyYAML's wheels) a few seconds. Every test that reads the committed
contract shares this one parse; it must not change what it gets (copy before changing).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

OPENAPI_PATH = Path(__file__).resolve().parents[1] / "openapi.yaml"
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=1)
def openapi_spec() -> dict[str, Any]:
    """The parsed ``openapi.yaml`` (the same object for every caller: read only)."""
    spec: dict[str, Any] = yaml.load(OPENAPI_PATH.read_text(), Loader=SafeLoader)  # noqa: S506 - a safe loader
    return spec
