"""Bad input is a clear 4xx, never a 500; errors say what went wrong, never how.

Regression tests for the outside test's findings, all through HTTP: the request guard (JSON
depth, numbers, NUL and lone surrogates in bodies, query parameters and headers), strict query
parameters, credentials and webhook timestamps, CSV uploads, and the 500 answer (no traceback,
no debug page, a request id to quote).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from monitoring.models import IngestBatch, Source
from tenants import services as tenant_services
from tests.conftest import PASSWORD, token_for
from tests.monitoring.test_pipeline import item
from tests.webhooks import post_hook

DEEP = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 5_000 + "1" + "}" * 5_000
HUGE_INT = "9" * 5_000


def assert_error(response: Any, status: int, code: str, attr: str | None = None) -> None:
    """One error in the API's standard shape, with this code and attr."""
    assert response.status_code == status, response.content
    body = response.json()
    assert body["type"] in ("validation_error", "client_error")
    assert [(e["code"], e["attr"]) for e in body["errors"]] == [(code, attr)], body


def post_json(client: Any, path: str, body: str, **headers: Any) -> Any:
    return client.post(path, body, content_type="application/json", **headers)


# --- JSON bodies: every JSON endpoint, signed in or not ---------------------------------------


def json_endpoints(tenant: Any, members: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    admin = {"HTTP_AUTHORIZATION": f"Bearer {token_for(members['admin'])}"}
    return [
        ("/api/v1/auth/tokens/", {}),  # sign-in, anonymous
        ("/graphql/", {}),  # anonymous
        ("/graphql/", admin),
        (f"/api/v1/tenants/{tenant.slug}/queries/", admin),
        (f"/api/v1/tenants/{tenant.slug}/sources/", admin),
    ]


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["deep-array", "deep-object"])
def test_deeply_nested_json_is_400_everywhere(
    client: Client, tenant: Any, members: dict[str, Any], body: str
) -> None:
    for path, headers in json_endpoints(tenant, members):
        assert_error(post_json(client, path, body, **headers), 400, "nested_too_deeply")


@pytest.mark.parametrize(
    ("literal", "code"),
    [
        ("NaN", "invalid_number"),
        ("-Infinity", "invalid_number"),
        (HUGE_INT, "number_too_large"),
        ("18446744073709551616", "number_too_large"),  # 2**64
        ("1e400", "number_too_large"),  # overflows a double
    ],
)
def test_numbers_no_column_can_hold_are_400_naming_the_field(
    client: Client, tenant: Any, members: dict[str, Any], literal: str, code: str
) -> None:
    graphql = '{"query": "{ __typename }", "variables": {"n": ' + literal + "}}"
    assert_error(post_json(client, "/graphql/", graphql), 400, code, "variables.n")
    sign_in = '{"email": "a@b.test", "password": "x", "extra": [1, ' + literal + "]}"
    assert_error(post_json(client, "/api/v1/auth/tokens/", sign_in), 400, code, "extra.1")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token_for(members['admin'])}"}
    source = '{"name": "feed", "kind": "rss", "poll_interval_s": ' + literal + "}"
    response = post_json(client, f"/api/v1/tenants/{tenant.slug}/sources/", source, **headers)
    assert_error(response, 400, code, "poll_interval_s")


@pytest.mark.parametrize(
    ("escape", "code"),
    [("\\u0000", "null_characters_not_allowed"), ("\\ud800", "surrogate_characters_not_allowed")],
)
def test_nul_and_lone_surrogates_in_json_strings_are_400(
    client: Client, tenant: Any, members: dict[str, Any], escape: str, code: str
) -> None:
    query = (
        '{"query": "query($s: String!) { tenant(slug: $s) { name } }", "variables": {"s": "%s"}}'
    )
    response = post_json(client, "/graphql/", query % escape)
    assert_error(response, 400, code, "variables.s")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token_for(members['admin'])}"}
    source = '{"name": "feed", "kind": "rss", "config": {"url": "https://e.test/", "%s": 1}}'
    response = post_json(
        client, f"/api/v1/tenants/{tenant.slug}/sources/", source % escape, **headers
    )
    assert_error(response, 400, code, "config")
    assert not Source.objects.exists()


def test_nul_in_a_graphql_string_literal_is_bad_user_input(client: Client, db: Any) -> None:
    query = json.dumps({"query": '{ tenant(slug: "kopi\\u0000") { name } }'})
    body = post_json(client, "/graphql/", query).json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert "PostgreSQL" not in json.dumps(body)


def test_a_body_that_is_not_json_is_400_on_graphql(client: Client, db: Any) -> None:
    response = client.post("/graphql/", b"\xff\xfe{", content_type="application/json")
    assert_error(response, 400, "parse_error")


# --- query parameters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["1e30", "99999999999999999999999", "\u0661\u0662\u0663", "1.5", " 7"]
)
def test_integer_query_parameters_are_strict(
    api: Any, tenant: Any, members: dict[str, Any], value: str
) -> None:
    client = api(members["admin"])
    base = f"/api/v1/tenants/{tenant.slug}"
    for path, name in [
        (f"{base}/mentions/", "query"),
        (f"{base}/mentions/", "min_risk"),
        (f"{base}/mentions/", "page_size"),
        (f"{base}/batches/", "source"),
        (f"{base}/batches/", "page"),
        (f"{base}/queries/", "page_size"),
        ("/api/v1/tenants/", "page"),
    ]:
        assert_error(client.get(path, {name: value}), 400, "invalid", name)


def test_page_and_page_size_out_of_range_are_400(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    client = api(members["admin"])
    url = f"/api/v1/tenants/{tenant.slug}/queries/"
    assert_error(client.get(url, {"page_size": "0"}), 400, "invalid", "page_size")
    assert_error(client.get(url, {"page_size": "501"}), 400, "invalid", "page_size")
    assert_error(client.get(url, {"page": "0"}), 400, "invalid", "page")
    assert client.get(url, {"page": "1", "page_size": "500"}).status_code == 200
    assert client.get(url, {"page": "last"}).status_code == 200


def test_a_cursor_naming_an_id_beyond_bigint_is_400(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    import base64

    cursor = base64.urlsafe_b64encode(b"2026-01-01T00:00:00+00:00|" + b"9" * 30 + b"|n").decode()
    response = api(members["admin"]).get(
        f"/api/v1/tenants/{tenant.slug}/mentions/", {"cursor": cursor}
    )
    assert_error(response, 400, "invalid_cursor", "cursor")


def test_nul_in_a_query_parameter_is_400_naming_it(
    client: Client, admin_client: Client, tenant: Any
) -> None:
    assert_error(
        client.get("/api/v1/tenants/", {"q": "kopi\x00"}), 400, "null_characters_not_allowed", "q"
    )
    response = admin_client.get("/admin/tenants/user/", {"q": "\x00"})
    assert_error(response, 400, "null_characters_not_allowed", "q")


# --- headers and credentials ------------------------------------------------------------------


@pytest.mark.parametrize("header", ["Bearer abc\x00.x", "Api-Key abc\x00.x"])
def test_nul_in_credentials_is_400_not_500(client: Client, tenant: Any, header: str) -> None:
    for path in ("/api/v1/me/", "/graphql/", f"/api/v1/tenants/{tenant.slug}/ingest/"):
        response = post_json(client, path, "{}", HTTP_AUTHORIZATION=header)
        assert_error(response, 400, "null_characters_not_allowed")


@pytest.mark.parametrize("header", ["Bearer abc%00.x", "Api-Key abc%00.x", "Bearer é.x"])
def test_malformed_token_or_key_ids_are_401(client: Client, tenant: Any, header: str) -> None:
    response = post_json(
        client, f"/api/v1/tenants/{tenant.slug}/ingest/", "[]", HTTP_AUTHORIZATION=header
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "authentication_failed"


@pytest.mark.parametrize("stamp", ["\u0661\u0667" + "\u0660" * 8, "²³", "9" * 5_000, "+1700000000"])
def test_webhook_timestamp_takes_ascii_digits_only(client: Client, tenant: Any, stamp: str) -> None:
    source = Source.objects.create(tenant=tenant, kind="webhook", name="hook")
    body = json.dumps([item(1)]).encode()
    response = post_hook(client, source, body, ts=stamp)
    assert response.status_code == 401
    assert "Unix seconds" in response.json()["errors"][0]["detail"]


def test_webhook_with_ascii_timestamp_still_works(client: Client, tenant: Any) -> None:
    source = Source.objects.create(tenant=tenant, kind="webhook", name="hook")
    body = json.dumps([item(1)]).encode()
    stamp = str(int(time.time()))
    response = post_hook(client, source, body, ts=stamp)
    assert response.status_code == 202


# --- the ingest API: one bad item is refused alone --------------------------------------------


def test_ingest_refuses_unstorable_values_item_by_item(client: Client, tenant: Any) -> None:
    _, key = tenant_services.create_api_key(tenant=tenant, name="crawler")
    good = json.dumps(item(1))
    bad = [
        ('"engagement": {"likes": NaN}', "engagement.likes"),
        ('"engagement": {"views": ' + HUGE_INT + "}", "engagement.views"),
        ('"engagement": {"shares": 1e400}', "engagement.shares"),
        ('"raw": {"note": "a\\u0000b"}', "raw.note"),
        ('"text": "kopi \\ud800"', "text"),
        ('"author": {"handle": "\\udfff"}', "author.handle"),
    ]
    items = [good]
    for n, (fragment, _) in enumerate(bad, start=2):
        base = item(n)
        name = fragment.split('"')[1]
        base.pop(name, None)
        items.append(json.dumps(base)[:-1] + ", " + fragment + "}")
    response = client.post(
        f"/api/v1/tenants/{tenant.slug}/ingest/",
        "[" + ",".join(items) + "]",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {key}",
    )
    assert response.status_code == 202, response.content
    data = response.json()
    assert data["accepted"] == 1
    assert [(r["index"], r["field"]) for r in data["rejected"]] == [
        (n, field) for n, (_, field) in enumerate(bad, start=1)
    ]


def test_ingest_refuses_too_deep_bodies_as_a_whole(client: Client, tenant: Any) -> None:
    _, key = tenant_services.create_api_key(tenant=tenant, name="crawler")
    response = client.post(
        f"/api/v1/tenants/{tenant.slug}/ingest/",
        DEEP,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {key}",
    )
    assert_error(response, 400, "nested_too_deeply")
    assert not IngestBatch.objects.exists()


# --- CSV uploads ------------------------------------------------------------------------------

MAPPING = json.dumps(
    {"text": "text", "external_id": "id", "platform": "=x", "published_at": "=2026-11-20 08:00"}
)


def upload(api: Any, members: dict[str, Any], tenant: Any, data: bytes) -> Any:
    source = Source.objects.get_or_create(tenant=tenant, kind="upload", name="Export")[0]
    return api(members["analyst"]).post(
        f"/api/v1/tenants/{tenant.slug}/sources/{source.pk}/upload/",
        {"file": SimpleUploadedFile("export.csv", data), "mapping": MAPPING},
    )


@pytest.mark.parametrize(
    "data",
    [
        b"id,text\r1,kopi enak\r2,kopi mantap\r",  # bare CR line ends (old Mac, some exports)
        "id,text\n1,kopi enak\n2,kopi mantap\n".encode("utf-16"),  # Excel "Unicode text"
        b"\xef\xbb\xbfid,text\n1,kopi enak\n2,kopi mantap\n",  # UTF-8 with a BOM
    ],
    ids=["bare-cr", "utf-16-bom", "utf-8-bom"],
)
def test_csv_exports_in_common_encodings_are_read(
    api: Any, tenant: Any, members: dict[str, Any], data: bytes
) -> None:
    response = upload(api, members, tenant, data)
    assert response.status_code == 202, response.content
    assert response.json() == {
        "batch_id": response.json()["batch_id"],
        "accepted": 2,
        "rejected": [],
    }


def test_ragged_csv_rows_are_refused_alone(api: Any, tenant: Any, members: dict[str, Any]) -> None:
    data = b"id,text,note\n1,kopi enak,a\n2,kopi,b,extra,more\n3\n4,kopi mantap,c\n"
    response = upload(api, members, tenant, data)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["accepted"] == 2
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [(1, ""), (2, "")]
    assert body["rejected"][0]["message"] == "Line 3 has 5 fields; the header has 3."


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"id,text\n1," + b"a" * 200_000 + b"\n", "cannot be read as CSV"),
        (b"", "no header row"),
        (b"\xff\xfei", "not UTF-8"),
        (b"id,text\n1,caf\xe9\n", "not UTF-8"),
    ],
    ids=["huge-field", "empty", "bad-utf16", "latin-1"],
)
def test_unreadable_csv_files_are_400_naming_file(
    api: Any, tenant: Any, members: dict[str, Any], data: bytes, message: str
) -> None:
    response = upload(api, members, tenant, data)
    assert_error(response, 400, "invalid", "file")
    assert message in response.json()["errors"][0]["detail"]


# --- server errors: what, never how -----------------------------------------------------------


def break_table(name: str) -> None:
    """Every query of table ``name`` fails in the database from now on (as after a botched
    migration): a temporary view of the same name, without its columns, hides the table (the
    temporary schema comes first in the search path). The view goes with the test's transaction;
    the application role may create it (it may not alter the owner's tables)."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY VIEW {name} AS SELECT 1 AS broken")


@pytest.fixture
def broken_users_table(db: Any) -> None:
    """Every sign-in fails in the database (the users table is broken)."""
    break_table("tenants_user")


def assert_server_error(response: Any) -> None:
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["type"] == "server_error"
    assert body["errors"] == [
        {
            "code": "error",
            # An anonymous caller reads the default language, Indonesian (docs/i18n.md).
            "detail": (
                "Terjadi kesalahan di server; sebutkan ID permintaan saat Anda melaporkannya."
            ),
            "attr": None,
        }
    ]
    assert body["request_id"] and body["request_id"] == response["X-Request-Id"]
    text = response.content.decode()
    assert "Traceback" not in text and "tenants_user" not in text and ".py" not in text


SIGN_IN = json.dumps({"email": "admin@kopi.test", "password": PASSWORD})


def test_a_server_error_is_json_with_a_request_id(
    broken_users_table: None, client: Client, caplog: Any
) -> None:
    response = post_json(client, "/api/v1/auth/tokens/", SIGN_IN)
    assert_server_error(response)
    logged = [r for r in caplog.records if r.name == "sigap.error"]
    assert logged and logged[0].request_id == response["X-Request-Id"]
    assert logged[0].exc_info is not None  # the traceback is in the log, not in the answer


def test_with_debug_on_anonymous_callers_never_see_the_debug_page(
    broken_users_table: None, client: Client, settings: Any
) -> None:
    settings.DEBUG = True
    assert_server_error(post_json(client, "/api/v1/auth/tokens/", SIGN_IN))


def test_the_caller_request_id_is_echoed_only_when_well_formed(client: Client) -> None:
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-Id"] == "abc-123"
    forged = client.get("/healthz", HTTP_X_REQUEST_ID="a\nb")["X-Request-Id"]
    assert forged != "a\nb" and len(forged) == 32


def test_graphql_masks_database_errors_and_gives_the_request_id(
    client: Client, tenant: Any, members: dict[str, Any]
) -> None:
    token = token_for(members["admin"])
    break_table("monitoring_mention")
    response = post_json(
        client,
        "/graphql/",
        json.dumps({"query": '{ mentions(slug: "kopi-senja") { id } }'}),
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["message"] == "Unexpected error."
    assert error["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "request_id": response["X-Request-Id"],
    }
    assert "monitoring_mention" not in response.content.decode()


def test_graphql_keeps_intended_errors(client: Client, tenant: Any) -> None:
    response = post_json(
        client, "/graphql/", json.dumps({"query": '{ tenant(slug: "kopi-senja") { name } }'})
    )
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


def test_with_debug_on_a_signed_in_superuser_still_gets_the_debug_page(
    admin_user: Any, settings: Any
) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    break_table("tenants_membership")
    settings.DEBUG = True
    response = client.get("/api/v1/me/", HTTP_ACCEPT="text/html")
    assert response.status_code == 500
    assert "tenants_membership" in response.content.decode()  # Django's technical page
