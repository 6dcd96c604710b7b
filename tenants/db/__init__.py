"""Sigap's database backend: Django's PostgreSQL backend with a schema editor that puts the tenant
in every key of a tenant table (``tenants.db.schema``). ``config/settings.py`` selects it with
``DATABASES["default"]["ENGINE"] = "tenants.db"``, so every migration, old or new, goes through
it."""
