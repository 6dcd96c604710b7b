"""Routes that bring mentions in (mounted under /api/v1/)."""

from django.urls import path

from monitoring.api import ingest

urlpatterns = [
    path("tenants/<slug:tenant_slug>/ingest/", ingest.IngestView.as_view(), name="ingest"),
    path(
        "tenants/<slug:tenant_slug>/sources/<int:source_id>/webhook/",
        ingest.WebhookView.as_view(),
        name="source-webhook",
    ),
    path(
        "tenants/<slug:tenant_slug>/sources/<int:source_id>/upload/",
        ingest.UploadView.as_view(),
        name="source-upload",
    ),
]
