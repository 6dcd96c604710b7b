"""URLs of the monitoring app, mounted under ``/api/v1/`` by ``config/urls.py``.

Keep ``urlpatterns`` a plain list: ingest and webhook routes (``monitoring.api.ingest``) are
appended to it below the management and read routes.
"""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from monitoring.api import alerts, escalation, views

TENANT = "tenants/<slug:tenant_slug>/"

router = SimpleRouter()
router.register("queries", views.MonitoredQueryViewSet, basename="query")
router.register("sources", views.SourceViewSet, basename="source")
router.register("terms", views.TrackedTermViewSet, basename="term")
router.register("lexicon", views.LexiconEntryViewSet, basename="lexicon-entry")
router.register(
    "low-credibility-domains",
    views.LowCredibilityDomainViewSet,
    basename="low-credibility-domain",
)
router.register("batches", views.IngestBatchViewSet, basename="batch")
router.register("mentions", views.MentionViewSet, basename="mention")
router.register("alert-rules", alerts.AlertRuleViewSet, basename="alert-rule")
router.register("alerts", alerts.AlertViewSet, basename="alert")
router.register("hoax-clusters", alerts.HoaxClusterViewSet, basename="hoax-cluster")
router.register("owned-accounts", alerts.OwnedAccountViewSet, basename="owned-account")
router.register(
    "escalation-policies", escalation.EscalationPolicyViewSet, basename="escalation-policy"
)

metrics = [
    path("metrics/volume/", views.VolumeView.as_view(), name="metrics-volume"),
    path(
        "metrics/share-of-voice/",
        views.ShareOfVoiceView.as_view(),
        name="metrics-share-of-voice",
    ),
    path("metrics/top-authors/", views.TopAuthorsView.as_view(), name="metrics-top-authors"),
    path("metrics/top-hashtags/", views.TopHashtagsView.as_view(), name="metrics-top-hashtags"),
    path("metrics/top-terms/", views.TopTermsView.as_view(), name="metrics-top-terms"),
]

# Management, reads and metrics.
urlpatterns = [
    path(TENANT, include(router.urls)),
    path(TENANT, include(metrics)),
]

# Ingest and webhooks live in monitoring.api.ingest_urls; more routes may be appended here.
