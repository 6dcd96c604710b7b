"""Languages and time zones (tenants.i18n, docs/i18n.md): Indonesian unless the user or their
tenant chose English; error codes never change with the language; times in the admin and in
e-mails are in the tenant's zone with its abbreviation; the API stays in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from tenants import i18n, services
from tenants.models import Tenant
from tenants.roles import Role
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.monitoring.factories import MentionFactory
from tests.tenants.test_invitations import Inbox, invite, smtp  # noqa: F401 - the SMTP fixture

WHEN = datetime(2026, 12, 1, 7, 5, tzinfo=UTC)  # 14.05 WIB, 15.05 WITA, 16.05 WIT


def staff_client(tenant: Tenant, **fields: Any) -> Client:
    user = UserFactory(agency=tenant.agency, is_agency_admin=True, is_staff=True, **fields)
    client = Client()
    client.force_login(user)
    return client


# --- the rule ---------------------------------------------------------------------------------


def test_language_rule_user_then_tenant_then_indonesian(db: Any) -> None:
    english_tenant = TenantFactory(default_language="en")
    assert i18n.language_for() == "id"
    assert i18n.language_for(tenant=english_tenant) == "en"
    assert i18n.language_for(user=UserFactory(language=""), tenant=english_tenant) == "en"
    assert i18n.language_for(user=UserFactory(language="id"), tenant=english_tenant) == "id"
    assert i18n.language_for(user=UserFactory(language="en")) == "en"


@pytest.mark.parametrize(
    ("zone", "abbreviation", "clock"),
    [
        ("Asia/Jakarta", "WIB", "14.05"),
        ("Asia/Makassar", "WITA", "15.05"),
        ("Asia/Jayapura", "WIT", "16.05"),
    ],
)
def test_times_show_the_tenant_zone(db: Any, zone: str, abbreviation: str, clock: str) -> None:
    tenant = TenantFactory(time_zone=zone)
    assert i18n.zone_abbreviation(WHEN, i18n.zone_for(tenant=tenant)) == abbreviation
    with translation.override("id"):
        assert i18n.local_time(WHEN, tenant=tenant) == f"1 Des. 2026, {clock} {abbreviation}"
    with translation.override("en"):
        assert i18n.local_time(WHEN, tenant=tenant).endswith(f" {abbreviation}")


def test_default_zone_is_wib(db: Any) -> None:
    assert i18n.zone_abbreviation(WHEN, i18n.zone_for()) == "WIB"


# --- tenant and user settings -----------------------------------------------------------------


def test_an_unknown_time_zone_is_refused_with_a_field_error(
    api: Any, tenant: Tenant, members: dict[str, Any]
) -> None:
    client = api(members["admin"])
    answer = client.patch(
        f"/api/v1/tenants/{tenant.slug}/", {"time_zone": "Asia/Bandung"}, format="json"
    )
    assert answer.status_code == 400, answer.content
    (error,) = answer.json()["errors"]
    assert error["attr"] == "time_zone"
    assert "Asia/Bandung" in error["detail"]
    for zone in ("Asia/Makassar", "Asia/Jayapura", "Asia/Jakarta"):
        answer = client.patch(f"/api/v1/tenants/{tenant.slug}/", {"time_zone": zone}, format="json")
        assert answer.status_code == 200 and answer.json()["time_zone"] == zone
    with pytest.raises(Exception) as refused:
        services.update_tenant(tenant=tenant, time_zone="Mars/Olympus")
    assert "time_zone" in refused.value.message_dict  # type: ignore[attr-defined]


def test_a_user_chooses_a_language_through_the_api(api: Any, members: dict[str, Any]) -> None:
    client = api(members["analyst"])
    assert client.get("/api/v1/me/").json()["language"] == ""
    chosen = client.patch("/api/v1/me/", {"language": "en"}, format="json")
    assert chosen.status_code == 200 and chosen.json()["language"] == "en"
    members["analyst"].refresh_from_db()
    assert members["analyst"].language == "en"
    refused = client.patch("/api/v1/me/", {"language": "fr"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["attr"] == "language"
    assert client.patch("/api/v1/me/", {"email": "x@y.test"}, format="json").status_code == 400


def test_graphql_shows_the_language_settings(
    gql: Any, tenant: Tenant, members: dict[str, Any]
) -> None:
    body = gql(
        '{ me { language } tenant(slug: "kopi-senja") { default_language time_zone } }',
        user=members["admin"],
    )
    assert body["data"] == {
        "me": {"language": ""},
        "tenant": {"default_language": "id", "time_zone": "Asia/Jakarta"},
    }


# --- the API: human text translated, codes stable ---------------------------------------------


def test_api_error_in_indonesian_with_the_same_code(
    api: Any, tenant: Tenant, members: dict[str, Any]
) -> None:
    client = api(members["analyst"])
    path = f"/api/v1/tenants/{tenant.slug}/api-keys/"
    indonesian = client.get(path)
    assert indonesian.status_code == 403
    assert indonesian["Content-Language"] == "id"
    (error,) = indonesian.json()["errors"]
    assert error["code"] == "missing_capability"
    assert error["detail"] == "Peran Anda di tenant ini tidak mengizinkan 'api_keys.manage'."

    members["analyst"].language = "en"
    members["analyst"].save(update_fields=["language"])
    english = client.get(path)
    assert english["Content-Language"] == "en"
    (error,) = english.json()["errors"]
    assert error["code"] == "missing_capability"
    assert error["detail"] == "Your role in this tenant does not allow 'api_keys.manage'."


def test_graphql_error_in_the_users_language_with_the_same_code(
    gql: Any, members: dict[str, Any]
) -> None:
    query = '{ tenant(slug: "no-such-tenant") { slug } }'
    (error,) = gql(query, user=members["analyst"])["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert error["message"] == "Tenant tidak ditemukan."
    members["analyst"].language = "en"
    members["analyst"].save(update_fields=["language"])
    (error,) = gql(query, user=members["analyst"])["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert error["message"] == "No such tenant."


def test_tenant_default_applies_when_the_user_has_none(
    api: Any, tenant: Tenant, members: dict[str, Any]
) -> None:
    tenant.default_language = "en"
    tenant.save(update_fields=["default_language"])
    answer = api(members["analyst"]).get(f"/api/v1/tenants/{tenant.slug}/api-keys/")
    assert answer["Content-Language"] == "en"
    assert answer.json()["errors"][0]["detail"].startswith("Your role in this tenant")
    # Outside any tenant nothing says English: Indonesian.
    anonymous = api(None).get("/api/v1/me/")
    assert anonymous["Content-Language"] == "id"
    assert anonymous.json()["errors"][0]["code"] == "not_authenticated"


def test_the_api_answers_times_in_utc(api: Any, tenant: Tenant, members: dict[str, Any]) -> None:
    tenant.time_zone = "Asia/Jayapura"
    tenant.save(update_fields=["time_zone"])
    MentionFactory(tenant=tenant, published_at=WHEN)
    row = api(members["analyst"]).get(f"/api/v1/tenants/{tenant.slug}/mentions/").json()
    assert row["results"][0]["published_at"] == "2026-12-01T07:05:00Z"


# --- the admin --------------------------------------------------------------------------------


def test_admin_in_indonesian_by_default(tenant: Tenant) -> None:
    page = staff_client(tenant).get("/admin/tenants/membership/")
    assert page.status_code == 200
    assert page["Content-Language"] == "id"
    assert "Pilih keanggotaan untuk diubah" in page.content.decode()


def test_admin_in_english_for_a_user_who_chose_it(tenant: Tenant) -> None:
    page = staff_client(tenant, language="en").get("/admin/tenants/membership/")
    assert page["Content-Language"] == "en"
    assert "Select membership to change" in page.content.decode()


def test_admin_follows_the_tenants_default_when_the_user_has_none(tenant: Tenant) -> None:
    tenant.default_language = "en"
    tenant.save(update_fields=["default_language"])
    client = staff_client(tenant)
    assert (
        "Select membership to change" in client.get("/admin/tenants/membership/").content.decode()
    )
    chosen = staff_client(tenant, language="id")
    assert "Pilih keanggotaan" in chosen.get("/admin/tenants/membership/").content.decode()


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        ("Asia/Jakarta", "1 Des. 2026, 14.05 WIB"),
        ("Asia/Makassar", "1 Des. 2026, 15.05 WITA"),
        ("Asia/Jayapura", "1 Des. 2026, 16.05 WIT"),
    ],
)
def test_admin_times_in_the_tenant_zone(tenant: Tenant, zone: str, shown: str) -> None:
    tenant.time_zone = zone
    tenant.save(update_fields=["time_zone"])
    mention = MentionFactory(tenant=tenant, published_at=WHEN)
    client = staff_client(tenant)
    detail = client.get(f"/admin/monitoring/mention/{mention.pk}/change/").content.decode()
    assert shown in detail
    listed = client.get("/admin/monitoring/mention/", {"tenant": str(tenant.pk)})
    assert shown in listed.content.decode()


def test_admin_search_finds_a_word_of_a_post(tenant: Tenant) -> None:
    MentionFactory(tenant=tenant, text="Pelayanan kasir lambat sekali hari ini", author_handle="a1")
    MentionFactory(tenant=tenant, text="Kopinya enak, tempatnya nyaman", author_handle="b2")
    client = staff_client(tenant)
    page = client.get("/admin/monitoring/mention/", {"q": "kasir"}).content.decode()
    assert "Pelayanan kasir" in page and "Kopinya enak" not in page
    phrase = client.get("/admin/monitoring/mention/", {"q": '"tempatnya nyaman" -kasir'})
    assert "Kopinya enak" in phrase.content.decode()
    by_author = client.get("/admin/monitoring/mention/", {"q": "@B2"}).content.decode()
    assert "Kopinya enak" in by_author and "Pelayanan kasir" not in by_author


@pytest.mark.django_db(transaction=True)
def test_admin_search_uses_the_full_text_index() -> None:
    """The admin's search is the API's: the same ``@@`` on the ``search`` tsvector, which the
    GIN index ``mention_search`` answers. (Row-level security keeps PostgreSQL from using it
    for the application role: ``@@`` is not a leakproof operator, so under a policy the
    planner walks the tenant's btree and filters; docs/i18n.md.)"""
    from django.contrib.admin import site
    from django.db import connection

    from monitoring import selectors
    from monitoring.admin import MentionAdmin
    from monitoring.models import Mention
    from tenants import rls

    term = '"kasir lambat" -enak'
    api_sql = str(selectors.search_mentions(Mention.objects.all(), term).query)
    admin = MentionAdmin(Mention, site)
    found, _duplicates = admin.get_search_results(None, Mention.objects.all(), term)  # type: ignore[arg-type]
    assert str(found.query) == api_sql
    assert "websearch_to_tsquery" in api_sql and "@@" in api_sql
    rows = selectors.search_mentions(Mention.objects.all(), "kasir")
    sql, params = rows.query.sql_with_params()
    with (
        rls.owner_connection("test: the plan of the full-text search"),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(line for (line,) in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
    assert "mention_search" in plan, plan


# --- e-mails ----------------------------------------------------------------------------------


def test_invitation_email_in_indonesian_with_the_zone(
    api: Any,
    tenant: Tenant,
    members: dict[str, Any],
    smtp: Inbox,  # noqa: F811
) -> None:
    tenant.time_zone = "Asia/Makassar"
    tenant.save(update_fields=["time_zone"])
    assert invite(api(members["admin"]), tenant, "baru@brand.test").status_code == 202
    message = smtp.take("baru@brand.test")
    assert message["Subject"] == "Anda diundang ke Kopi Senja di Sigap"
    body = message.get_content()
    assert "mengundang Anda ke Kopi Senja di Sigap, sebagai Analis." in body
    assert "selama 72 jam (sampai " in body and " WITA)." in body


def test_invitation_email_in_the_recipients_language(
    api: Any,
    tenant: Tenant,
    members: dict[str, Any],
    smtp: Inbox,  # noqa: F811
) -> None:
    person = UserFactory(email="english@kopi.test", agency=tenant.agency, language="en")
    person.set_unusable_password()
    person.save()
    MembershipFactory(tenant=tenant, user=person, role=Role.ANALYST)
    assert invite(api(members["admin"]), tenant, person.email).status_code == 202
    message = smtp.take(person.email)
    assert message["Subject"] == "You are invited to Kopi Senja on Sigap"
    assert " WIB)." in message.get_content()


def test_requests_leave_no_language_behind(api: Any, members: dict[str, Any]) -> None:
    members["analyst"].language = "en"
    members["analyst"].save(update_fields=["language"])
    assert api(members["analyst"]).get("/api/v1/me/")["Content-Language"] == "en"
    assert translation.get_language() == "id"
    assert timezone.get_current_timezone_name() == "UTC"
