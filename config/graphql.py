"""The GraphQL schema (per-app queries merged here) and its HTTP view at ``/graphql/``."""

from __future__ import annotations

from typing import Any

import strawberry
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import AuthenticationFailed
from strawberry.django.views import GraphQLView
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry_django.optimizer import DjangoOptimizerExtension

from monitoring.graphql.schema import MonitoringMutation, MonitoringQuery
from monitoring.graphql.types import SCALARS as MONITORING_SCALARS
from tenants.authentication import user_for_token
from tenants.graphql.schema import TenantsQuery
from tenants.throttling import graphql_refusal, throttled_message

Query = merge_types("Query", (TenantsQuery, MonitoringQuery))
Mutation = merge_types("Mutation", (MonitoringMutation,))

# Answers the API gives on purpose; they are not server errors and are not logged as such.
EXPECTED_ERROR_CODES = {"UNAUTHENTICATED", "NOT_FOUND", "FORBIDDEN", "BAD_USER_INPUT"}


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        unexpected = [
            error
            for error in errors
            if (error.extensions or {}).get("code") not in EXPECTED_ERROR_CODES
        ]
        super().process_errors(unexpected, execution_context)


schema = Schema(
    query=Query,
    mutation=Mutation,
    config=StrawberryConfig(auto_camel_case=False, scalar_map={**MONITORING_SCALARS}),
    extensions=[
        lambda: QueryDepthLimiter(max_depth=settings.GRAPHQL_MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=settings.GRAPHQL_MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=settings.GRAPHQL_MAX_TOKENS),
        lambda: DjangoOptimizerExtension(prefetch_custom_queryset=True),
    ],
)


def throttled(wait_s: int) -> JsonResponse:
    """429 with ``Retry-After`` and a GraphQL error whose ``extensions.code`` is THROTTLED."""
    error = {
        "message": throttled_message(wait_s),
        "extensions": {"code": "THROTTLED", "retry_after": wait_s},
    }
    response = JsonResponse({"data": None, "errors": [error]}, status=429)
    response["Retry-After"] = str(wait_s)
    return response


class SigapGraphQLView(GraphQLView):
    """Accepts ``Authorization: Bearer <token>`` like REST, or the session with a CSRF token.
    Throttled like REST (``tenants.throttling``): per user, anonymous callers per client IP."""

    allow_queries_via_get = False

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        header = request.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() == "bearer":
            from django.contrib.auth.models import AnonymousUser

            try:
                request.user = user_for_token(secret.strip())
            except AuthenticationFailed as exc:
                request.user = AnonymousUser()
                request.auth_error = str(exc.detail)  # type: ignore[attr-defined]
        elif header:
            from django.contrib.auth.models import AnonymousUser

            request.user = AnonymousUser()
            request.auth_error = "GraphQL accepts 'Authorization: Bearer <token>' only."  # type: ignore[attr-defined]
        wait_s = graphql_refusal(request)
        if wait_s is not None:
            return throttled(wait_s)
        if not header and request.method == "POST" and request.user.is_authenticated:
            # Session callers must prove the request comes from our own pages.
            csrf = CsrfViewMiddleware(lambda r: None)  # type: ignore[arg-type,return-value]
            reason = csrf.process_view(request, None, (), {})  # type: ignore[arg-type]
            if reason is not None:
                return reason
        return super().dispatch(request, *args, **kwargs)


graphql_view = csrf_exempt(SigapGraphQLView.as_view(schema=schema, allow_queries_via_get=False))
