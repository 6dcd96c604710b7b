"""URLs of the playbooks app, mounted under ``/api/v1/`` by ``config/urls.py``."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from playbooks.api import views

router = SimpleRouter()
router.register("playbooks", views.PlaybookViewSet, basename="playbook")
router.register("canned-answers", views.CannedAnswerViewSet, basename="canned-answer")
router.register("answer-widget", views.AnswerWidgetViewSet, basename="answer-widget")

TENANT = "tenants/<slug:tenant_slug>/"

urlpatterns = [
    path(TENANT, include(router.urls)),
    # Public (config.public): authenticated by the publishable widget key.
    path(TENANT + "widget/answers/", views.WidgetAnswersView.as_view(), name="widget-answers"),
]
