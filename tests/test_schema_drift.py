"""The committed API contracts match the code. Refresh them with `make schema`."""

from __future__ import annotations

from typing import Any

from tenants.management.commands.export_schemas import (
    GRAPHQL_PATH,
    OPENAPI_PATH,
    graphql_text,
    openapi_text,
)


def test_openapi_yaml_is_current(db: Any) -> None:
    assert OPENAPI_PATH.read_text() == openapi_text(), "openapi.yaml drifted: run `make schema`"


def test_schema_graphql_is_current() -> None:
    assert GRAPHQL_PATH.read_text() == graphql_text(), "schema.graphql drifted: run `make schema`"


def test_schema_and_docs_are_served(client: Any, db: Any) -> None:
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"/static/drf_spectacular_sidecar/" in docs.content  # served locally, no CDN
