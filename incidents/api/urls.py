"""URLs of the incidents app, mounted under ``/api/v1/`` by ``config/urls.py``."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from incidents.api import evaluation, replies, views
from incidents.statements.api import urls as statement_urls

TENANT = "tenants/<slug:tenant_slug>/"

router = SimpleRouter()
router.register("incidents", views.IncidentViewSet, basename="incident")
router.register("incident-team", views.IncidentMemberViewSet, basename="incident-member")
router.register("incident-tasks", views.IncidentTaskViewSet, basename="incident-task")
router.register("incident-links", views.IncidentLinkViewSet, basename="incident-link")
router.register("incident-timeline", views.TimelineEntryViewSet, basename="timeline-entry")
router.register("incident-playbooks", views.IncidentPlaybookViewSet, basename="incident-playbook")
router.register("incident-advice", views.ResponseAdviceViewSet, basename="response-advice")
router.register(
    "incident-severity-policies", views.SeverityPolicyViewSet, basename="severity-policy"
)
router.register("incident-role-policies", views.RolePolicyViewSet, basename="role-policy")
router.register("incident-reviews", evaluation.ReviewViewSet, basename="review")
router.register("incident-review-lessons", evaluation.LessonViewSet, basename="review-lesson")
router.register("incident-review-actions", evaluation.ActionItemViewSet, basename="review-action")
router.register("incident-review-feedback", evaluation.FeedbackViewSet, basename="review-feedback")
router.register("client-reports", evaluation.ClientReportViewSet, basename="client-report")
router.register(
    "report-subscriptions", evaluation.SubscriptionViewSet, basename="report-subscription"
)
router.register("replies", replies.ReplyViewSet, basename="reply")

urlpatterns = [
    *statement_urls.urlpatterns,
    path(TENANT, include(router.urls)),
    path(
        TENANT + "incident-figures/", views.IncidentFiguresView.as_view(), name="incident-figures"
    ),
    path(
        TENANT + "consistency-check/",
        replies.ConsistencyCheckView.as_view(),
        name="consistency-check",
    ),
    path(
        TENANT + "reply-suggestions/",
        replies.ReplySuggestionsView.as_view(),
        name="reply-suggestions",
    ),
]
