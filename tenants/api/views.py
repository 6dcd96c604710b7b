"""REST endpoints of the tenants app: tokens, me, tenants, members and API keys."""

from __future__ import annotations

from typing import Any

from axes.exceptions import AxesBackendPermissionDenied
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, mixins, permissions, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from tenants import access, i18n, services
from tenants.api import errors
from tenants.api.base import AuthenticatedViewMixin, TenantScopedViewSet
from tenants.api.serializers import (
    ApiKeySerializer,
    InvitationSerializer,
    IssuedApiKeySerializer,
    IssuedTokenSerializer,
    MemberInviteSerializer,
    MemberRoleSerializer,
    MembershipSerializer,
    MeSerializer,
    MeUpdateSerializer,
    TenantCreateSerializer,
    TenantSerializer,
    TenantUpdateSerializer,
    TokenCreateSerializer,
    TokenSerializer,
    raise_as_drf,
)
from tenants.filtersets import MembershipFilterSet, TenantFilterSet
from tenants.models import Invitation, Membership, PersonalToken, Tenant, TenantApiKey, User
from tenants.roles import Cap


class TooManyAttempts(exceptions.Throttled):
    default_detail = gettext_lazy(errors.LOCKED_OUT.detail)
    default_code = errors.LOCKED_OUT.code


@extend_schema(tags=["auth"])
class TokenViewSet(
    AuthenticatedViewMixin,
    mixins.ListModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Personal API tokens. Create one with an email and password; list and revoke your own."""

    serializer_class = TokenSerializer
    lookup_field = "prefix"
    lookup_url_kwarg = "id"
    error_codes = {"create": (errors.INVALID_CREDENTIALS, errors.LOCKED_OUT)}

    def get_permissions(self) -> list[permissions.BasePermission]:
        if self.action == "create":
            return [permissions.AllowAny()]
        return [permissions.IsAuthenticated()]

    def get_queryset(self) -> QuerySet[PersonalToken]:
        user = self.request.user
        if not isinstance(user, User):
            return PersonalToken.objects.none()
        return PersonalToken.objects.filter(user=user, revoked=False)

    @extend_schema(request=TokenCreateSerializer, responses={201: IssuedTokenSerializer})
    def create(self, request: Request) -> Response:
        payload = TokenCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            user = authenticate(
                request._request, username=data["email"].lower(), password=data["password"]
            )
        except AxesBackendPermissionDenied:
            raise TooManyAttempts() from None
        if getattr(request._request, "axes_locked_out", False):
            raise TooManyAttempts()
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed(
                _(errors.INVALID_CREDENTIALS.detail), code=errors.INVALID_CREDENTIALS.code
            )
        token, secret = services.issue_token(user=user, name=data.get("name", ""))
        token.token = secret  # type: ignore[attr-defined]
        return Response(IssuedTokenSerializer(token).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: PersonalToken) -> None:
        services.revoke(instance)


@extend_schema(tags=["auth"])
class MeView(AuthenticatedViewMixin, generics.RetrieveAPIView):  # type: ignore[type-arg]
    """The signed-in user and their memberships. PATCH changes their own name and language
    (``id`` or ``en``; empty follows each tenant's default language)."""

    serializer_class = MeSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self) -> User:
        user = self.request.user
        if not isinstance(user, User):
            raise exceptions.PermissionDenied(_("Only people have a profile."))
        return user

    @extend_schema(request=MeUpdateSerializer, responses=MeSerializer)
    def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = self.get_object()
        payload = MeUpdateSerializer(user, data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        try:
            user = services.update_profile(user=user, **payload.validated_data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        i18n.activate(user=user)
        return Response(MeSerializer(user).data)


@extend_schema(tags=["tenants"])
class TenantListView(AuthenticatedViewMixin, generics.ListCreateAPIView):  # type: ignore[type-arg]
    """The tenants the caller can see. Agency admins create tenants in their agency."""

    serializer_class = TenantSerializer
    filterset_class = TenantFilterSet
    ordering_fields = ("name", "slug", "created_at")

    def get_queryset(self) -> QuerySet[Tenant]:
        return access.visible_tenants(self.request.user).select_related("agency")

    @extend_schema(request=TenantCreateSerializer, responses={201: TenantSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = request.user
        if not (isinstance(user, User) and user.is_agency_admin and user.agency is not None):
            raise exceptions.PermissionDenied(_("Only agency admins create tenants."))
        serializer = TenantCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            tenant = services.create_tenant(agency=user.agency, **serializer.validated_data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(TenantSerializer(tenant).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["tenants"])
class TenantDetailViewSet(TenantScopedViewSet):
    """One tenant. Admins change its name, time zone, language and status."""

    queryset = Tenant.objects.all()
    serializer_class = TenantSerializer
    capabilities = {
        "retrieve": Cap.VIEW_TENANT,
        "partial_update": Cap.MANAGE_TENANT,
    }

    def retrieve(self, request: Request, tenant_slug: str) -> Response:
        return Response(TenantSerializer(self.tenant).data)

    @extend_schema(request=TenantUpdateSerializer, responses=TenantSerializer)
    def partial_update(self, request: Request, tenant_slug: str) -> Response:
        serializer = TenantUpdateSerializer(self.tenant, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            tenant = services.update_tenant(tenant=self.tenant, **serializer.validated_data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(TenantSerializer(tenant).data)


@extend_schema(tags=["members"])
class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Members of a tenant. Admins invite people (a pending invitation, the same answer for
    every address; the person joins through the e-mailed link), change their role and remove
    them; a tenant always keeps at least one admin."""

    queryset = Membership.objects.all()
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilterSet
    ordering_fields = ("created_at", "role", "user__email")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    error_codes = {
        "create": (errors.ALREADY_MEMBER,),
        "partial_update": (errors.ROLE_REFUSED,),
        "destroy": (errors.LAST_ADMIN,),
    }
    capabilities = {
        "list": Cap.VIEW_MEMBERS,
        "retrieve": Cap.VIEW_MEMBERS,
        "create": Cap.MANAGE_MEMBERS,
        "partial_update": Cap.MANAGE_MEMBERS,
        "destroy": Cap.MANAGE_MEMBERS,
    }

    def scope_queryset(self, queryset: QuerySet[Membership]) -> QuerySet[Membership]:
        return queryset.select_related("user")

    @extend_schema(request=MemberInviteSerializer, responses={202: InvitationSerializer})
    def create(self, request: Request, tenant_slug: str) -> Response:
        """Invite an address: 202 with the pending invitation, whether the address has an
        account or not; an e-mail goes to the address. Inviting it again sends a new link."""
        payload = MemberInviteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            invitation = services.invite_member(
                tenant=self.tenant, invited_by=request.user, **payload.validated_data
            )
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=MemberRoleSerializer, responses=MembershipSerializer)
    def partial_update(self, request: Request, tenant_slug: str, pk: str) -> Response:
        membership = self.get_object()
        # A PATCH names only what changes: without a role it changes nothing.
        payload = MemberRoleSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        role = payload.validated_data.get("role")
        try:
            if role is not None:
                services.change_role(membership=membership, role=role)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(MembershipSerializer(membership).data)

    def destroy(self, request: Request, tenant_slug: str, pk: str) -> Response:
        membership = self.get_object()
        try:
            services.remove_member(membership=membership)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["members"])
class InvitationViewSet(mixins.ListModelMixin, TenantScopedViewSet):
    """The tenant's invitations, newest first: pending, accepted and expired. Admins withdraw a
    pending one (its link stops working)."""

    queryset = Invitation.objects.all()
    serializer_class = InvitationSerializer
    ordering_fields = ("created_at", "email")
    http_method_names = ["get", "delete", "head", "options"]
    error_codes = {"destroy": (errors.INVITATION_ACCEPTED,)}
    capabilities = {
        "list": Cap.MANAGE_MEMBERS,
        "destroy": Cap.MANAGE_MEMBERS,
    }

    def destroy(self, request: Request, tenant_slug: str, pk: str) -> Response:
        try:
            services.revoke_invitation(invitation=self.get_object())
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["api keys"])
class TenantApiKeyViewSet(mixins.ListModelMixin, TenantScopedViewSet):
    """Machine keys for ingestion into this tenant. The key is shown once, at creation."""

    queryset = TenantApiKey.objects.all()
    serializer_class = ApiKeySerializer
    lookup_field = "prefix"
    lookup_url_kwarg = "id"
    capabilities = {
        "list": Cap.MANAGE_API_KEYS,
        "create": Cap.MANAGE_API_KEYS,
        "destroy": Cap.MANAGE_API_KEYS,
    }

    def scope_queryset(self, queryset: QuerySet[TenantApiKey]) -> QuerySet[TenantApiKey]:
        return queryset.filter(revoked=False)

    @extend_schema(responses={201: IssuedApiKeySerializer})
    def create(self, request: Request, tenant_slug: str) -> Response:
        payload = ApiKeySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            key, secret = services.create_api_key(
                tenant=self.tenant,
                name=payload.validated_data["name"],
                created_by=request.user,
                expires_at=payload.validated_data.get("expiry_date"),
            )
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        key.key = secret  # type: ignore[attr-defined]
        return Response(IssuedApiKeySerializer(key).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, tenant_slug: str, id: str) -> Response:
        services.revoke(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
