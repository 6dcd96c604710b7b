"""OpenAPI descriptions of Sigap's two credential schemes (loaded by ``TenantsConfig.ready``)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "tenants.authentication.BearerTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal token from POST /api/v1/auth/tokens/.",
        }


class TenantApiKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "tenants.authentication.TenantApiKeyAuthentication"
    name = "tenantApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "'Api-Key <key>': a tenant's machine key; it may only ingest.",
        }


def document_request_id(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: a 500 body also carries the ``request_id`` to quote
    (``config.errors.server_error_response``)."""
    schema = result.get("components", {}).get("schemas", {}).get("ErrorResponse500")
    if schema is not None:
        schema["properties"]["request_id"] = {
            "type": "string",
            "description": "The request id (also in the X-Request-Id header) to quote.",
        }
    return result
