"""The error codes the REST API answers on purpose beyond DRF's own, in one registry.

Each ``ErrorCode`` is raised by the server (the raise sites name the constant, not a string)
and documented by the OpenAPI schema (``tenants.openapi.SigapAutoSchema``) from the same
constant: its status, its ``code``, the field it names (``attr``) and an example ``detail``.
Which operation may answer which code is declared where the behaviour lives:

- a view's ``error_codes``, a mapping of action (viewsets) or HTTP method (``APIView``) to the
  codes, ``"*"`` for every operation; base classes' declarations are inherited
  (``TenantScopedMixin`` declares the capability and suspension refusals);
- a request or query-parameter serializer's ``error_codes``, a tuple of the codes its
  ``validate`` methods and validators raise (``PeriodSerializer``'s period checks).

``tests/test_openapi_errors.py`` walks the generated schema and checks that each operation
documents every code its view and serializers declare, with an example body.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_noop


@dataclass(frozen=True)
class ErrorCode:
    status: int
    code: str
    # An example of the answer's ``detail`` (the server's text, in English). The details raised
    # as they are are marked with gettext_noop: their raise sites translate them (gettext).
    detail: str
    attr: str | None = None  # the field named (400); None for a refusal of the whole request

    @property
    def type(self) -> str:
        if self.status == 400 and self.attr is not None:
            return "validation_error"
        return "server_error" if self.status >= 500 else "client_error"

    def body(self) -> dict[str, Any]:
        """The error body this code is answered with."""
        return {
            "type": self.type,
            "errors": [{"code": self.code, "detail": self.detail, "attr": self.attr}],
        }


# --- 401, 403, 409, 429 -----------------------------------------------------------------------
INVALID_CREDENTIALS = ErrorCode(
    401, "invalid_credentials", gettext_noop("Wrong email or password.")
)
MISSING_CAPABILITY = ErrorCode(
    403, "missing_capability", "Your role in this tenant does not allow 'manage_members'."
)
TENANT_SUSPENDED = ErrorCode(
    403, "tenant_suspended", gettext_noop("This tenant is suspended; it is read-only.")
)
SOURCE_PAUSED = ErrorCode(403, "source_paused", gettext_noop("This source is paused."))
REPLAYED_SIGNATURE = ErrorCode(
    409,
    "replayed_signature",
    "This signature was already used for another delivery; sign every delivery anew with the "
    "current timestamp.",
)
LOCKED_OUT = ErrorCode(
    429, "locked_out", gettext_noop("Too many failed sign-in attempts; try again later.")
)

# --- 400: request bodies ----------------------------------------------------------------------
# ``attr`` is the unknown field's own name (any name the request schema does not declare).
UNKNOWN_FIELD = ErrorCode(400, "unknown_field", gettext_noop("Unknown field."), attr="*")

# --- 400: bodies that cannot be read as a whole (``type: client_error``, no field) ----------
BODY_UNREADABLE = ErrorCode(
    400, "parse_error", "Invalid JSON at line 1, column 2: Expecting value."
)
TOO_MANY_ITEMS = ErrorCode(400, "too_many_items", "At most 10000 items per request.")
NESTED_TOO_DEEPLY = ErrorCode(
    400, "nested_too_deeply", "JSON may nest arrays and objects at most 64 levels deep."
)

# --- 400: list pages (tenants.api.pagination) -------------------------------------------------
BAD_PAGE = ErrorCode(400, "invalid", "Must be a whole number from 1 to 1000000000.", attr="page")
BAD_PAGE_SIZE = ErrorCode(400, "invalid", "Must be a whole number from 1 to 500.", attr="page_size")
BAD_CURSOR = ErrorCode(400, "invalid_cursor", "Invalid cursor.", attr="cursor")
UNKNOWN_ORDERING = ErrorCode(400, "invalid_choice", "Unknown ordering 'x'.", attr="ordering")

# --- 400: report periods (tenants.api.params, monitoring.params) -----------------------------
INVALID_PERIOD = ErrorCode(400, "invalid_period", "Must be before 'until'.", attr="since")
PERIOD_TOO_LONG = ErrorCode(
    400, "period_too_long", "The period may not exceed 366 days.", attr="since"
)
INVALID_TIME_ZONE = ErrorCode(
    400, "invalid_time_zone", "'Mars/Base' is not a known IANA time zone.", attr="tz"
)
NO_SUCH_QUERY = ErrorCode(
    400, "not_found", gettext_noop("No such query in this tenant."), attr="query"
)

# --- 400: model rules a service applies (monitoring.models, tenants.models) -------------------
INVALID_QUERY = ErrorCode(
    400, "invalid_query", "unbalanced parenthesis: '(' is never closed (position 7)", attr="query"
)
INVALID_CONFIG = ErrorCode(400, "invalid_config", "Unknown keys for rss: 'x'.", attr="config")
URL_BLOCKED = ErrorCode(
    400, "url_blocked", "Url: address not allowed: 127.0.0.1 (loopback).", attr="config"
)
TENANT_TIME_ZONE = ErrorCode(
    400, "invalid_time_zone", "'Mars/Base' is not a known IANA time zone.", attr="time_zone"
)

# --- 400: uploads (monitoring.uploads.UploadError names the field) ---------------------------
UPLOAD_FILE = ErrorCode(400, "invalid", "The CSV file has no header row.", attr="file")
UPLOAD_FORMAT = ErrorCode(
    400, "invalid", "Name the format (csv, json or ndjson) or use that file suffix.", attr="format"
)
UPLOAD_MAPPING = ErrorCode(400, "invalid", "Column 'Content' is not in the file.", attr="mapping")

# --- 400: members (tenants.services; raise_as_drf answers code ``invalid``) ------------------
ALREADY_MEMBER = ErrorCode(
    400, "invalid", "This person is already a member of this tenant.", attr="email"
)
ROLE_REFUSED = ErrorCode(400, "invalid", "A tenant must keep at least one admin.", attr="role")
LAST_ADMIN = ErrorCode(400, "invalid", "A tenant must keep at least one admin.", attr="detail")
INVITATION_ACCEPTED = ErrorCode(
    400, "invalid", "An accepted invitation cannot be withdrawn.", attr="detail"
)

REGISTRY: tuple[ErrorCode, ...] = tuple(
    value for value in list(globals().values()) if isinstance(value, ErrorCode)
)


def codes_by_status() -> dict[int, list[str]]:
    """Every registered code of each status, for answers that name no field (the codes of
    400 answers naming a field are documented per operation and field)."""
    found: dict[int, list[str]] = {}
    for error in REGISTRY:
        if error.attr is None and error.code not in found.setdefault(error.status, []):
            found[error.status].append(error.code)
    return found


def _unique(codes: Iterable[ErrorCode]) -> tuple[ErrorCode, ...]:
    return tuple(dict.fromkeys(codes))


def tenant_unique(field: str) -> ErrorCode:
    """The refusal of a value another row of the tenant holds (``tenants.writes``: the last
    field of a tenant-wide unique constraint)."""
    return ErrorCode(400, "unique", "This tenant already has one with this name.", attr=field)


def declared_by_class(klass: type) -> tuple[ErrorCode, ...]:
    """A serializer's (or paginator's) ``error_codes``, its bases' included."""
    return _unique(
        code for base in reversed(klass.__mro__) for code in base.__dict__.get("error_codes", ())
    )


def declared_by_view(view: Any, action: str) -> tuple[ErrorCode, ...]:
    """The codes a view declares for ``action`` (a viewset action or an HTTP method, lower
    case), its bases' declarations included, less those ``view.may_answer`` rules out."""
    codes: list[ErrorCode] = []
    for base in reversed(type(view).__mro__):
        declared: Mapping[str, Iterable[ErrorCode]] = base.__dict__.get("error_codes", {})
        codes += [*declared.get("*", ()), *declared.get(action, ())]
    may_answer = getattr(view, "may_answer", None)
    return _unique(code for code in codes if may_answer is None or may_answer(code, action))
