from django.urls import include, path
from rest_framework.routers import SimpleRouter

from tenants.api import notify, views

auth_router = SimpleRouter()
auth_router.register("auth/tokens", views.TokenViewSet, basename="token")

tenant_router = SimpleRouter()
tenant_router.register("members", views.MembershipViewSet, basename="member")
tenant_router.register("invitations", views.InvitationViewSet, basename="invitation")
tenant_router.register("api-keys", views.TenantApiKeyViewSet, basename="api-key")
tenant_router.register("channels", notify.ChannelViewSet, basename="channel")
tenant_router.register("deliveries", notify.DeliveryViewSet, basename="delivery")
tenant_router.register("on-call-shifts", notify.OnCallShiftViewSet, basename="on-call-shift")
tenant_router.register("quiet-hours", notify.QuietHoursViewSet, basename="quiet-hours")

urlpatterns = [
    path("", include(auth_router.urls)),
    path("me/", views.MeView.as_view(), name="me"),
    path("tenants/", views.TenantListView.as_view(), name="tenant-list"),
    path(
        "tenants/<slug:tenant_slug>/",
        views.TenantDetailViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="tenant-detail",
    ),
    path("tenants/<slug:tenant_slug>/", include(tenant_router.urls)),
]
