"""URLs of statements, crisis mode and stakeholders, included by ``incidents/api/urls.py``."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from incidents.statements.api import views

TENANT = "tenants/<slug:tenant_slug>/"

router = SimpleRouter()
router.register(
    "statement-templates", views.StatementTemplateViewSet, basename="statement-template"
)
router.register("approval-workflows", views.ApprovalWorkflowViewSet, basename="approval-workflow")
router.register("approval-steps", views.ApprovalStepViewSet, basename="approval-step")
router.register("statements", views.StatementViewSet, basename="statement")
router.register("statement-versions", views.StatementVersionViewSet, basename="statement-version")
router.register(
    "statement-approvals", views.StatementApprovalViewSet, basename="statement-approval"
)
router.register("publish-records", views.PublishRecordViewSet, basename="publish-record")
router.register("crisis-mode", views.CrisisModeViewSet, basename="crisis-mode")
router.register("stakeholders", views.StakeholderViewSet, basename="stakeholder")
router.register(
    "stakeholder-interactions", views.InteractionViewSet, basename="stakeholder-interaction"
)
router.register("rights-of-reply", views.RightOfReplyViewSet, basename="right-of-reply")

urlpatterns = [
    path(TENANT, include(router.urls)),
    path(
        TENANT + "agency-statement-templates/",
        views.AgencyStatementTemplateListView.as_view(),
        name="agency-statement-templates",
    ),
]
