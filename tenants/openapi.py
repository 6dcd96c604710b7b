"""OpenAPI descriptions of Sigap's two credential schemes (loaded by ``TenantsConfig.ready``)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.authentication.BearerTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal token from POST /api/v1/auth/tokens/.",
        }


class TenantApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.authentication.TenantApiKeyAuthentication"
    name = "tenantApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "'Api-Key <key>': a tenant's machine key; it may only ingest.",
        }
