"""The GraphQL schema (per-app queries merged here) and its HTTP view at ``/graphql/``.

Errors say what, never how: the answers given on purpose (``extensions.code`` in
``EXPECTED_ERROR_CODES``) and errors about the document itself (syntax, validation, variable
types) pass unchanged; any other error raised while resolving a field (a database or codec
message, a bug) is logged with its traceback under the request id and reaches the caller as
"Unexpected error." with ``extensions: {code: "INTERNAL_SERVER_ERROR", request_id}``. String
literals in the document holding a NUL character or a lone surrogate are refused as
``BAD_USER_INPUT`` before anything runs (JSON variables are checked by
``config.middleware.JsonBodyGuardMiddleware``).

The GraphiQL page (a browser's GET) is strawberry's own, with every script and stylesheet
served by Sigap from ``config/static/graphiql/`` (vendored from npm, licences beside them)
instead of a public CDN: it works offline and names no other host.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import strawberry
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.templatetags.static import static
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
from strawberry.http.ides import get_graphql_ide_html
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry_django.optimizer import DjangoOptimizerExtension

from incidents.graphql.schema import IncidentsQuery
from monitoring.graphql.schema import MonitoringMutation, MonitoringQuery
from tenants import jsonguard
from tenants.audit import attach_actor
from tenants.authentication import user_for_token
from tenants.graphql.context import SigapContext
from tenants.graphql.errors import EXPECTED_ERROR_CODES
from tenants.graphql.scalars import SCALARS
from tenants.graphql.schema import TenantsQuery
from tenants.throttling import graphql_refusal, throttled_message

Query = merge_types("Query", (TenantsQuery, MonitoringQuery, IncidentsQuery))
Mutation = merge_types("Mutation", (MonitoringMutation,))


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


# strawberry's GraphiQL page loads these from unpkg.com; Sigap serves its own copies (the static
# files under config/static/graphiql/, see the README there).
VENDORED_ASSETS = {
    "https://unpkg.com/react@18.2.0/umd/react.production.min.js": (
        "graphiql/react-18.2.0/react.production.min.js"
    ),
    "https://unpkg.com/react-dom@18.2.0/umd/react-dom.production.min.js": (
        "graphiql/react-dom-18.2.0/react-dom.production.min.js"
    ),
    "https://unpkg.com/js-cookie@3.0.5/dist/js.cookie.min.js": (
        "graphiql/js-cookie-3.0.5/js.cookie.min.js"
    ),
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.css": "graphiql/graphiql-3.8.3/graphiql.min.css",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.js": "graphiql/graphiql-3.8.3/graphiql.min.js",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/style.css": (
        "graphiql/plugin-explorer-1.0.2/style.css"
    ),
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/index.umd.js": (
        "graphiql/plugin-explorer-1.0.2/index.umd.js"
    ),
}


def graphiql_html() -> str:
    """strawberry's GraphiQL page with each CDN address replaced by Sigap's static copy. The
    ``integrity`` and ``crossorigin`` attributes pinned the CDN's files; the copies come from
    this server (and the hashed static storage rewrites them), so both go."""
    html = get_graphql_ide_html(graphql_ide="graphiql")
    for url, name in VENDORED_ASSETS.items():
        html = html.replace(f'"{url}"', f'"{static(name)}"')
    html = re.sub(r"\s+integrity=\"[^\"]*\"", "", html)
    return re.sub(r"\s+crossorigin(?=[\s>])", "", html)


class SigapGraphQLView(GraphQLView[SigapContext, None]):
    """Accepts ``Authorization: Bearer <token>`` like REST, or the session with a CSRF token.
    Throttled like REST (``tenants.throttling``): per user, anonymous callers per client IP."""

    allow_queries_via_get = False

    def render_graphql_ide(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse(graphiql_html())

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
            request.auth_error = "GraphQL accepts 'Authorization: Bearer <token>' only."  # type: ignore[attr-defined]
        attach_actor(request.user)  # the audit log's actor (the middleware saw no bearer token)
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
