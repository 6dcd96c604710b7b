from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Agencies and tenants"

    def ready(self) -> None:
        from django.core import checks

        from tenants import audit, crypto, openapi  # noqa: F401 - registers the OpenAPI schemes

        checks.register(crypto.check_encryption_keys, checks.Tags.security)
        audit.register_models()
