"""URLs of the playbooks app, mounted under ``/api/v1/`` by ``config/urls.py``."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from playbooks.api import views

router = SimpleRouter()
router.register("playbooks", views.PlaybookViewSet, basename="playbook")

urlpatterns = [path("tenants/<slug:tenant_slug>/", include(router.urls))]
