"""openapi.yaml documents every error the server answers on purpose, and the server refuses what
the schema refuses.

- Each operation documents every code its view and serializers declare (``tenants.api.errors``,
  the registry the raise sites use), with an example body; 400 codes under the field they name.
- Real answers (a missing capability, a suspended tenant, wrong credentials, a lock-out, bad
  report periods, bad uploads, a last admin, unknown fields) are valid against the operation's
  documented schema for their status.
- Request bodies refuse unknown fields (``additionalProperties: false``) and values of another
  JSON type than documented (``"name": 0``): 400 naming the field, never a coerced value.
"""

from __future__ import annotations

import copy
import io
from typing import Any

import jsonschema
import pytest
from django.conf import settings
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.plumbing import ComponentRegistry
from drf_spectacular.settings import spectacular_settings

from monitoring.models import MonitoredQuery, Source
from tenants.api import errors
from tenants.api.errors import ErrorCode
from tenants.models import Tenant
from tests.openapi_spec import openapi_spec

SPEC: dict[str, Any] = openapi_spec()
SCHEMAS: dict[str, Any] = SPEC["components"]["schemas"]


def deref(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def declared_codes() -> list[tuple[str, str, dict[str, Any], tuple[ErrorCode, ...]]]:
    """(path, method, operation, codes its view and serializers declare), from the same
    declarations the schema generator reads."""
    generator = SchemaGenerator()  # type: ignore[no-untyped-call]
    generator._initialise_endpoints()  # type: ignore[no-untyped-call]
    found = []
    for path, path_regex, method, view in generator._get_paths_and_endpoints():  # type: ignore[no-untyped-call]
        operation = SPEC["paths"].get(path, {}).get(method.lower())
        if operation is None:
            continue
        view.request = spectacular_settings.GET_MOCK_REQUEST(method, path, view, None)
        schema = view.schema
        schema.registry, schema.path, schema.path_regex = ComponentRegistry(), path, path_regex
        schema.path_prefix, schema.method = "^/api/", method.upper()
        found.append((path, method.lower(), operation, schema.declared_error_codes()))
    return found


DECLARED = declared_codes()


def codes_in(enum_holder: dict[str, Any]) -> list[str]:
    return list(deref(enum_holder)["enum"])


def documents(operation: dict[str, Any], error: ErrorCode) -> bool:
    response = operation["responses"].get(str(error.status))
    if response is None:
        return False
    content = response["content"]["application/json"]
    bodies = [example["value"] for example in content.get("examples", {}).values()]
    if not any(body["errors"][0]["code"] == error.code for body in bodies):
        return False
    schema = deref(content["schema"])
    alternatives = [deref(option) for option in schema.get("oneOf", [schema])]
    if error.status != 400:
        (only,) = alternatives
        return error.code in codes_in(
            deref(only["properties"]["errors"]["items"])["properties"]["code"]
        )
    if error.attr is None:
        items = [deref(a["properties"]["errors"]["items"]) for a in alternatives]
        return any(
            "code" in item["properties"] and error.code in codes_in(item["properties"]["code"])
            for item in items
            if "oneOf" not in item
        )
    (validation,) = [
        a for a in alternatives if "oneOf" in deref(a["properties"]["errors"]["items"])
    ]
    by_field = deref(validation["properties"]["errors"]["items"])["oneOf"]
    if error == errors.UNKNOWN_FIELD:
        return {"$ref": "#/components/schemas/UnknownFieldErrorComponent"} in by_field
    for option in map(deref, by_field):
        if option["properties"]["attr"].get("enum") == [error.attr]:
            return error.code in option["properties"]["code"]["enum"]
    return False


def test_every_operation_documents_every_code_it_declares() -> None:
    missing = [
        f"{method.upper()} {path}: {error.status} {error.code} ({error.attr})"
        for path, method, operation, codes in DECLARED
        for error in codes
        if not documents(operation, error)
    ]
    assert not missing, "\n".join(missing)


def test_the_registry_reaches_the_operations_that_answer_it() -> None:
    by_operation = {(path, method): codes for path, method, _, codes in DECLARED}
    tenant = "/api/v1/tenants/{tenant_slug}"

    def codes(path: str, method: str) -> set[str]:
        return {f"{e.status} {e.code} {e.attr or ''}".strip() for e in by_operation[path, method]}

    members = codes(f"{tenant}/members/", "post")
    assert {"403 missing_capability", "403 tenant_suspended", "400 unknown_field *"} <= members
    assert "400 invalid email" in members
    # A suspended tenant can still be read: reads do not document the suspension.
    assert "403 tenant_suspended" not in codes(f"{tenant}/members/", "get")
    assert "400 invalid role" in codes(f"{tenant}/members/{{id}}/", "patch")
    assert "400 invalid detail" in codes(f"{tenant}/members/{{id}}/", "delete")
    assert {"401 invalid_credentials", "429 locked_out"} <= codes("/api/v1/auth/tokens/", "post")
    volume = codes(f"{tenant}/metrics/volume/", "get")
    assert {"400 invalid_period since", "400 period_too_long since"} <= volume
    assert {"400 invalid_time_zone tz", "400 not_found query"} <= volume
    upload = codes(f"{tenant}/sources/{{source_id}}/upload/", "post")
    assert {"400 invalid file", "400 invalid format", "400 invalid mapping"} <= upload
    assert {"400 parse_error", "400 too_many_items"} <= codes(f"{tenant}/ingest/", "post")
    webhook = codes(f"{tenant}/sources/{{source_id}}/webhook/", "post")
    assert {"403 source_paused", "409 replayed_signature"} <= webhook


def test_json_request_bodies_refuse_unknown_fields_in_the_schema() -> None:
    loose = []
    for path, methods in SPEC["paths"].items():
        for method, operation in methods.items():
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if schema is None:
                continue
            options = [deref(option) for option in deref(schema).get("oneOf", [schema])]
            for option in options:
                target = (
                    deref(option.get("items", option)) if option.get("type") == "array" else option
                )
                if (
                    target.get("type") == "object"
                    and target.get("additionalProperties") is not False
                ):
                    loose.append(f"{method.upper()} {path}")
    assert not loose, loose


# --- the server's answers against the schema ---------------------------------------------------


def openapi_to_jsonschema(schema: Any) -> Any:
    """OpenAPI 3.0's ``nullable`` as JSON Schema's ``null`` type."""
    if isinstance(schema, list):
        return [openapi_to_jsonschema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: openapi_to_jsonschema(value) for key, value in schema.items()}
    if converted.pop("nullable", False):
        if "type" in converted:
            converted["type"] = [converted["type"], "null"]
        if "enum" in converted:
            converted["enum"] = [*converted["enum"], None]
        if "$ref" in converted or "allOf" in converted or "oneOf" in converted:
            converted = {"anyOf": [converted, {"type": "null"}]}
    converted.pop("discriminator", None)
    return converted


def assert_documented(path: str, method: str, response: Any) -> dict[str, Any]:
    operation = SPEC["paths"][path][method]
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, f"{response.status_code} is not documented for {path}"
    schema = documented["content"]["application/json"]["schema"]
    root = openapi_to_jsonschema({**copy.deepcopy(schema), "components": SPEC["components"]})
    body = response.json()
    jsonschema.validate(body, root)
    return dict(body)


TENANT = "/api/v1/tenants/{tenant_slug}"


def test_refusals_are_answered_as_documented(
    api: Any, tenant: Tenant, members: dict[str, Any]
) -> None:
    base = f"/api/v1/tenants/{tenant.slug}"
    analyst, admin = api(members["analyst"]), api(members["admin"])
    # The documented examples are the server's English text: this tenant works in English.
    Tenant.objects.filter(pk=tenant.pk).update(default_language="en")

    answer = analyst.post(f"{base}/members/", {"email": "x@y.test", "role": "analyst"}, "json")
    assert answer.status_code == 403
    body = assert_documented(f"{TENANT}/members/", "post", answer)
    assert body["errors"][0]["code"] == errors.MISSING_CAPABILITY.code

    answer = admin.post(f"{base}/queries/", {"name": "q", "query": "kopi", "extra": 1}, "json")
    body = assert_documented(f"{TENANT}/queries/", "post", answer)
    assert body["errors"][0] == {
        "code": "unknown_field",
        "detail": errors.UNKNOWN_FIELD.detail,
        "attr": "extra",
    }

    answer = admin.get(
        f"{base}/metrics/volume/", {"since": "2026-11-02T00:00Z", "until": "2026-11-01T00:00Z"}
    )
    body = assert_documented(f"{TENANT}/metrics/volume/", "get", answer)
    assert (body["errors"][0]["attr"], body["errors"][0]["code"]) == ("since", "invalid_period")
    answer = admin.get(f"{base}/metrics/volume/", {"tz": "Mars/Base"})
    body = assert_documented(f"{TENANT}/metrics/volume/", "get", answer)
    assert (body["errors"][0]["attr"], body["errors"][0]["code"]) == ("tz", "invalid_time_zone")
    answer = admin.get(f"{base}/metrics/volume/", {"since": "2020-01-01T00:00Z"})
    body = assert_documented(f"{TENANT}/metrics/volume/", "get", answer)
    assert body["errors"][0]["code"] == "period_too_long"

    source = Source.objects.create(tenant=tenant, kind="upload", name="Export")
    upload = f"{TENANT}/sources/{{source_id}}/upload/"
    for form, attr in (
        ({"file": io.BytesIO(b"a,b\n")}, "format"),
        ({"file": io.BytesIO(b""), "format": "csv"}, "file"),
        ({"file": io.BytesIO(b"a\n1\n"), "format": "csv", "mapping": '{"text": "X"}'}, "mapping"),
    ):
        answer = admin.post(f"{base}/sources/{source.pk}/upload/", form, format="multipart")
        body = assert_documented(upload, "post", answer)
        assert body["errors"][0]["attr"] == attr, body

    only_admin = members["admin"].memberships.get(tenant=tenant)
    answer = admin.patch(f"{base}/members/{only_admin.pk}/", {"role": "analyst"}, "json")
    body = assert_documented(f"{TENANT}/members/{{id}}/", "patch", answer)
    assert body["errors"][0]["attr"] == "role"
    answer = admin.delete(f"{base}/members/{only_admin.pk}/")
    body = assert_documented(f"{TENANT}/members/{{id}}/", "delete", answer)
    assert body["errors"][0]["attr"] == "detail"

    Tenant.objects.filter(pk=tenant.pk).update(status=Tenant.Status.SUSPENDED)
    answer = admin.post(f"{base}/queries/", {"name": "q", "query": "kopi"}, "json")
    body = assert_documented(f"{TENANT}/queries/", "post", answer)
    assert body["errors"][0]["code"] == errors.TENANT_SUSPENDED.code


def test_sign_in_refusals_are_answered_as_documented(api: Any, members: dict[str, Any]) -> None:
    client, path = api(None), "/api/v1/auth/tokens/"
    wrong = {"email": members["analyst"].email, "password": "not the password"}
    answer = client.post(path, wrong, "json")
    body = assert_documented(path, "post", answer)
    assert body["errors"][0]["code"] == errors.INVALID_CREDENTIALS.code
    for _ in range(settings.AXES_FAILURE_LIMIT):
        answer = client.post(path, wrong, "json")
    assert answer.status_code == 429
    body = assert_documented(path, "post", answer)
    assert body["errors"][0]["code"] == errors.LOCKED_OUT.code


# --- no coercion -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "resource", "body", "attr", "code"),
    [
        ("post", "queries", {"name": 0, "query": "kopi"}, "name", "invalid"),
        ("post", "queries", {"name": "q", "query": ["kopi"]}, "query", "invalid"),
        (
            "post",
            "queries",
            {"name": "q", "query": "kopi", "is_active": "true"},
            "is_active",
            "invalid",
        ),
        ("post", "queries", {"name": "q", "query": "kopi", "is_active": 0}, "is_active", "invalid"),
        (
            "post",
            "queries",
            {"name": "q", "query": "kopi", "platforms": "x"},
            "platforms",
            "not_a_list",
        ),
        (
            "post",
            "queries",
            {"name": "q", "query": "kopi", "languages": [1]},
            "languages.0",
            "invalid",
        ),
        (
            "post",
            "sources",
            {"name": "s", "kind": "upload", "poll_interval_s": "600"},
            "poll_interval_s",
            "invalid",
        ),
        (
            "post",
            "sources",
            {"name": "s", "kind": "upload", "poll_interval_s": True},
            "poll_interval_s",
            "invalid",
        ),
        (
            "post",
            "lexicon",
            {"phrase": "basi", "label": "product_safety", "weight": "0.5"},
            "weight",
            "invalid",
        ),
        ("post", "members", {"email": "a@b.test", "role": 0}, "role", "invalid_choice"),
        ("post", "members", {"email": 1, "role": "analyst"}, "email", "invalid"),
        ("post", "api-keys", {"name": 0}, "name", "invalid"),
        ("post", "mentions/bulk-triage", {"ids": ["1"], "status": "reviewed"}, "ids.0", "invalid"),
        ("post", "mentions/bulk-triage", {"ids": [True], "status": "reviewed"}, "ids.0", "invalid"),
        (
            "post",
            "mentions/bulk-triage",
            {"ids": [1], "assignee": "5"},
            "assignee",
            "incorrect_type",
        ),
        ("patch", "", {"name": 0}, "name", "invalid"),
    ],
)
def test_values_of_another_type_are_refused_naming_the_field(
    api: Any,
    tenant: Tenant,
    members: dict[str, Any],
    method: str,
    resource: str,
    body: dict[str, Any],
    attr: str,
    code: str,
) -> None:
    url = f"/api/v1/tenants/{tenant.slug}/" + (f"{resource}/" if resource else "")
    answer = getattr(api(members["admin"]), method)(url, body, format="json")
    assert answer.status_code == 400, answer.content
    assert {"attr": attr, "code": code} in [
        {"attr": error["attr"], "code": error["code"]} for error in answer.json()["errors"]
    ], answer.json()
    assert not MonitoredQuery.objects.filter(name="0").exists()


def test_token_requests_take_strings_only(api: Any, members: dict[str, Any]) -> None:
    answer = api(None).post(
        "/api/v1/auth/tokens/", {"email": members["admin"].email, "password": 12345678}, "json"
    )
    assert answer.status_code == 400
    assert [(e["attr"], e["code"]) for e in answer.json()["errors"]] == [("password", "invalid")]
