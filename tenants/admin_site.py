"""The Sigap admin site: branded, its index split into what analysts use and the internals.

It is Django's default admin site (``tenants.admin_apps.SigapAdminConfig.default_site``), so
every ``admin.register`` lands here. The index lists, above the models, the overview pages the
user may open: the start page of each of their tenants and their agency's page
(``tenants.overview``, docs/admin.md). Models whose ``ModelAdmin`` says ``internal = True``
(rows the pipeline writes: batches, chunks, deliveries, rollups, the outbox) and the apps of
``INTERNAL_APPS`` (task queue, sign-in attempts, audit log, groups) follow in a section of their
own, below, in the index and in the navigation sidebar.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from tenants.admin_mixins import admin_tenants, is_admin_user
from tenants.models import Agency

# Apps that are machinery, not an analyst's work: every model of theirs is internal.
INTERNAL_APPS = frozenset({"django_q", "axes", "auditlog", "auth"})
# How many tenants and agencies the index links to by name (the rest: the tenant list).
INDEX_LINKS = 30


class SigapAdminSite(admin.AdminSite):
    site_header = _("Sigap")
    site_title = _("Sigap admin")
    index_title = _("Overview")
    index_template = "admin/sigap/index.html"

    def is_internal(self, model: type[Model]) -> bool:
        """Whether ``model`` belongs in the internals section."""
        if model._meta.app_label in INTERNAL_APPS:
            return True
        return bool(getattr(self._registry.get(model), "internal", False))

    def split_app_list(
        self, app_list: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(the apps with the everyday models, the apps with the internal ones): an app with
        both shows in both, each time with its share of models."""
        everyday: list[dict[str, Any]] = []
        internal: list[dict[str, Any]] = []
        for app in app_list:
            front = [row for row in app["models"] if not self.is_internal(row["model"])]
            back = [row for row in app["models"] if self.is_internal(row["model"])]
            if front:
                everyday.append({**app, "models": front})
            if back:
                name = app["name"] if not front else _("%(app)s: internals") % {"app": app["name"]}
                internal.append({**app, "models": back, "name": name, "sigap_internal": True})
        return everyday, internal

    def get_app_list(
        self, request: HttpRequest, app_label: str | None = None
    ) -> list[dict[str, Any]]:
        app_list = super().get_app_list(request, app_label)
        if app_label is not None:
            return app_list  # one app's own page: all of its models
        everyday, internal = self.split_app_list(app_list)
        return everyday + internal

    def index(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        app_list = self.get_app_list(request)
        user = request.user
        tenants: list[Any] = []
        agencies: list[Agency] = []
        if is_admin_user(user):
            tenants = list(
                admin_tenants(user).select_related("agency").order_by("name")[: INDEX_LINKS + 1]
            )
            if user.is_superuser:
                agencies = list(Agency.objects.order_by("name")[: INDEX_LINKS + 1])
            else:
                agencies = list(Agency.objects.filter(pk=getattr(user, "agency_id", 0) or 0))
        context = {
            "everyday_apps": [app for app in app_list if not app.get("sigap_internal")],
            "internal_apps": [app for app in app_list if app.get("sigap_internal")],
            "overview_tenants": tenants[:INDEX_LINKS],
            "more_tenants": len(tenants) > INDEX_LINKS,
            "overview_agencies": agencies[:INDEX_LINKS],
            "more_agencies": len(agencies) > INDEX_LINKS,
            **(extra_context or {}),
        }
        return super().index(request, context)
