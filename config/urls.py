from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import health
from config.graphql import graphql_view
from tenants import views as tenant_views

api_v1 = [
    path("", include("tenants.api.urls")),
    path("", include("monitoring.api.ingest_urls")),
    path("", include("monitoring.api.urls")),
    path("", include("incidents.api.urls")),
    path("", include("playbooks.api.urls")),
]

# An exception outside any view (DEBUG off) answers the API's 500 body with the request id.
handler500 = "config.errors.server_error"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("graphql/", graphql_view, name="graphql"),
    # The invitation link's page (GET shows, POST accepts); the token is redacted in logs.
    path("invitations/<int:pk>/<str:token>/", tenant_views.invitation, name="invitation"),
    # A notification's action link (GET shows, POST acts once); the token is redacted in logs.
    path("act/<int:tenant_id>/<str:token>/", tenant_views.action_link, name="action-link"),
]
