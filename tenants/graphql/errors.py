"""The errors GraphQL answers on purpose, each with ``extensions.code``.

``UNAUTHENTICATED`` (no or bad credentials), ``NOT_FOUND`` (a tenant or object the caller
cannot see, whether or not it exists), ``FORBIDDEN`` (a role without the capability) and
``BAD_USER_INPUT`` (with ``extensions.field``: an argument or a service's field error).
``config.graphql`` passes these through unmasked (``EXPECTED_ERROR_CODES``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from graphql import GraphQLError

EXPECTED_ERROR_CODES = frozenset({"UNAUTHENTICATED", "NOT_FOUND", "FORBIDDEN", "BAD_USER_INPUT"})


def unauthenticated(message: str | None = None) -> GraphQLError:
    return GraphQLError(
        message or _("Authentication required."), extensions={"code": "UNAUTHENTICATED"}
    )


def not_found(message: str | None = None) -> GraphQLError:
    return GraphQLError(message or _("No such tenant."), extensions={"code": "NOT_FOUND"})


def forbidden(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "FORBIDDEN"})


def bad_input(message: str, field: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT", "field": field})


def from_validation_error(exc: DjangoValidationError) -> GraphQLError:
    """A service's ``ValidationError`` as BAD_USER_INPUT naming its first field."""
    if hasattr(exc, "error_dict"):
        field, errors = next(iter(exc.error_dict.items()))
        message = errors[0].messages[0] if errors else str(exc)
    else:
        field, message = NON_FIELD_ERRORS, exc.messages[0]
    name = "" if field == NON_FIELD_ERRORS else field
    return bad_input(f"{name}: {message}" if name else message, name)


@contextmanager
def service_errors() -> Iterator[None]:
    """Run a service call; its ``ValidationError`` becomes BAD_USER_INPUT."""
    try:
        yield
    except DjangoValidationError as exc:
        raise from_validation_error(exc) from None


def validated(serializer: Any) -> dict[str, Any]:
    """The validated arguments of a parameter serializer (``tenants.api.params``), or
    BAD_USER_INPUT naming the first bad one."""
    if not serializer.is_valid():
        field, messages = next(iter(serializer.errors.items()))
        detail = messages[0] if isinstance(messages, list) else messages
        if isinstance(detail, dict):  # a nested error, e.g. one item of a list
            detail = next(iter(detail.values()))
        raise bad_input(f"{field}: {detail}", field)
    return dict(serializer.validated_data)
