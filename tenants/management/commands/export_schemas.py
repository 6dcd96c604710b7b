"""Write the committed API contracts: ``openapi.yaml`` and ``schema.graphql``.

``tests/test_schema_drift.py`` fails when either differs from what the code produces.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import translation

from tenants.management.base import ScopedCommand

OPENAPI_PATH = Path(settings.BASE_DIR) / "openapi.yaml"
GRAPHQL_PATH = Path(settings.BASE_DIR) / "schema.graphql"


def openapi_text() -> str:
    """The OpenAPI contract, in English (labels and help texts are translatable)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiYamlRenderer

    with translation.override("en"):
        schema = SchemaGenerator().get_schema(request=None, public=True)  # type: ignore[no-untyped-call]
        rendered: bytes = OpenApiYamlRenderer().render(schema, renderer_context={})  # type: ignore[no-untyped-call]
    return rendered.decode()


def graphql_text() -> str:
    """The GraphQL contract, in English (``tenants.graphql.types.public_type``)."""
    from config.graphql import schema

    with translation.override("en"):
        return schema.as_str() + "\n"


class Command(ScopedCommand):
    help = "Export openapi.yaml and schema.graphql at the repository root."

    def handle(self, *args: Any, **options: Any) -> None:
        OPENAPI_PATH.write_text(openapi_text())
        GRAPHQL_PATH.write_text(graphql_text())
        self.stdout.write(f"wrote {OPENAPI_PATH.name} and {GRAPHQL_PATH.name}")
