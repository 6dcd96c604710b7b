from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Agencies and tenants"

    def ready(self) -> None:
        from tenants import audit, openapi  # noqa: F401 - registers the OpenAPI schemes

        audit.register_models()
