"""The GraphQL schema (per-app queries merged here) and its HTTP view at ``/graphql/``.

Errors say what, never how: the answers given on purpose (``extensions.code`` in
``EXPECTED_ERROR_CODES``) and errors about the document itself (syntax, validation, variable
types) pass unchanged; any other error raised while resolving a field (a database or codec
message, a bug) is logged with its traceback under the request id and reaches the caller as
"Unexpected error." with ``extensions: {code: "INTERNAL_SERVER_ERROR", request_id}``. String
literals in the document holding a NUL character or a lone surrogate are refused as
``BAD_USER_INPUT`` before anything runs (JSON variables are checked by
``config.middleware.JsonBodyGuardMiddleware``).

The GraphiQL page (a browser's GET) is Sigap's own template (``config/templates/graphiql/``),
written for the GraphiQL 2 bundle that the pip package ``graphene-django-graphiql-static`` ships
as static files (like Swagger UI from ``drf-spectacular-sidecar``): every script and stylesheet
comes from this server, so it works offline and names no other host. Its fetcher sends the
CSRF token (session callers); a bearer token can be added in its headers editor.
"""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.template.loader import render_to_string
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from graphql import GraphQLError, StringValueNode, ValidationRule
from rest_framework.exceptions import AuthenticationFailed
from strawberry.django.views import GraphQLView
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry_django.optimizer import DjangoOptimizerExtension

from incidents.graphql.evaluation import EvaluationMutation, EvaluationQuery
from incidents.graphql.replies import RepliesMutation, RepliesQuery
from incidents.graphql.schema import IncidentsMutation, IncidentsQuery
from incidents.statements.graphql.schema import StatementsMutation, StatementsQuery
from monitoring.graphql.alerts import AlertsMutation, AlertsQuery
from monitoring.graphql.classifier import ClassifierMutation, ClassifierQuery
from monitoring.graphql.escalation import EscalationMutation, EscalationQuery
from monitoring.graphql.schema import MonitoringMutation, MonitoringQuery
from playbooks.graphql.schema import CannedAnswersMutation, CannedAnswersQuery, PlaybooksQuery
from tenants import i18n, jsonguard
from tenants.audit import attach_actor
from tenants.authentication import user_for_token
from tenants.graphql.context import SigapContext
from tenants.graphql.errors import EXPECTED_ERROR_CODES
from tenants.graphql.notify import NotifyMutation, NotifyQuery
from tenants.graphql.scalars import SCALARS
from tenants.graphql.schema import TenantsQuery
from tenants.throttling import graphql_refusal, throttled_message

Query = merge_types(
    "Query",
    (
        TenantsQuery,
        MonitoringQuery,
        AlertsQuery,
        ClassifierQuery,
        IncidentsQuery,
        RepliesQuery,
        StatementsQuery,
        EvaluationQuery,
        PlaybooksQuery,
        CannedAnswersQuery,
        NotifyQuery,
        EscalationQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        MonitoringMutation,
        AlertsMutation,
        ClassifierMutation,
        IncidentsMutation,
        RepliesMutation,
        CannedAnswersMutation,
        StatementsMutation,
        EvaluationMutation,
        NotifyMutation,
        EscalationMutation,
    ),
)


logger = logging.getLogger("sigap.graphql")


def _is_expected(error: GraphQLError) -> bool:
    """An answer given on purpose, or an error about the document (it has no path)."""
    return (error.extensions or {}).get("code") in EXPECTED_ERROR_CODES or not error.path


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        request = getattr(getattr(execution_context, "context", None), "request", None)
        for error in errors:
            if _is_expected(error):
                continue
            logger.error(
                "GraphQL error at %s",
                ".".join(str(part) for part in error.path or ()),
                exc_info=error.original_error or error,
                extra={"request_id": getattr(request, "request_id", None)},
            )


class MaskUnexpectedErrors(MaskErrors):
    """Replaces each unexpected error with "Unexpected error." and the request id."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: not _is_expected(error))

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request = getattr(self.execution_context.context, "request", None)
        return GraphQLError(
            message=self.error_message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={
                "code": "INTERNAL_SERVER_ERROR",
                "request_id": getattr(request, "request_id", None),
            },
        )


class StorableStrings(ValidationRule):
    """String literals must be storable: no NUL character, no lone surrogate."""

    def enter_string_value(self, node: StringValueNode, *args: Any) -> None:
        found = jsonguard.string_problem(node.value)
        if found:
            self.report_error(GraphQLError(found[1], node, extensions={"code": "BAD_USER_INPUT"}))


schema = Schema(
    query=Query,
    mutation=Mutation,
    config=StrawberryConfig(auto_camel_case=False, scalar_map={**SCALARS}),
    extensions=[
        lambda: QueryDepthLimiter(max_depth=settings.GRAPHQL_MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=settings.GRAPHQL_MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=settings.GRAPHQL_MAX_TOKENS),
        lambda: AddValidationRules([StorableStrings]),
        MaskUnexpectedErrors,
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


GRAPHIQL_TEMPLATE = "graphiql/page.html"


def graphiql_html(request: HttpRequest) -> str:
    """The GraphiQL page, every file it loads one of this server's static files."""
    return render_to_string(GRAPHIQL_TEMPLATE, {"csrf_value": get_token(request)}, request=request)


class SigapGraphQLView(GraphQLView[SigapContext, None]):
    """Accepts ``Authorization: Bearer <token>`` like REST, or the session with a CSRF token.
    Throttled like REST (``tenants.throttling``): per user, anonymous callers per client IP."""

    allow_queries_via_get = False

    def render_graphql_ide(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse(graphiql_html(request))

    def get_context(self, request: HttpRequest, response: Any) -> SigapContext:
        return SigapContext(request=request, response=response)

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
            request.auth_error = gettext("GraphQL accepts 'Authorization: Bearer <token>' only.")  # type: ignore[attr-defined]
        attach_actor(request.user)  # the audit log's actor (the middleware saw no bearer token)
        i18n.activate(user=request.user)  # the first tenant resolved may refine it
        wait_s = graphql_refusal(request)
        if wait_s is not None:
            return throttled(wait_s)
        if not header and request.method == "POST" and request.user.is_authenticated:
            # Session callers must prove the request comes from our own pages.
            csrf = CsrfViewMiddleware(lambda r: None)  # type: ignore[arg-type]
            reason = csrf.process_view(request, None, (), {})  # type: ignore[arg-type]
            if reason is not None:
                return reason
        return super().dispatch(request, *args, **kwargs)


graphql_view = csrf_exempt(SigapGraphQLView.as_view(schema=schema, allow_queries_via_get=False))
