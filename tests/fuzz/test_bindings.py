"""The Schemathesis run (``run_schemathesis.py``) binds every id in a path to a real object of
its tenant; a new endpoint with an id must say which kind of object it names."""

from __future__ import annotations

from tests.fuzz.run_schemathesis import PATH_KINDS
from tests.openapi_spec import openapi_spec


def test_every_path_with_an_id_is_bound() -> None:
    paths = openapi_spec()["paths"]
    with_ids = {
        path.removeprefix("/api/v1")
        for path in paths
        if set(part.strip("{}") for part in path.split("/") if part.startswith("{"))
        - {"tenant_slug"}
    }
    assert with_ids == set(PATH_KINDS)
