"""Accounts hardening (issue 7): the takeover path through invitations and the admin, audited
password and flag changes, tokens ending with the password, no expired keys, and answers that do
not tell which accounts exist."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.test import Client
from django.utils import timezone

from tenants.models import Membership, PersonalToken, TenantApiKey, TimingSafeKeyGenerator, User
from tenants.roles import Role
from tests.conftest import PASSWORD, error_codes
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.monitoring.factories import MentionFactory

NEW_PASSWORD = "a-brand-new-passphrase-42"


def invite(client: Any, tenant: Any, email: str, role: str) -> Any:
    return client.post(
        f"/api/v1/tenants/{tenant.slug}/members/", {"email": email, "role": role}, format="json"
    )


def admin_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def root(db: Any) -> User:
    """The platform superuser: no agency, no membership."""
    # Notices to it are asserted in English: the recipient's own language (docs/i18n.md).
    return UserFactory(email="root@platform.test", is_superuser=True, is_staff=True, language="en")


@pytest.fixture
def agency_admin(tenant: Any) -> User:
    return UserFactory(
        email="boss@kopi.test",
        agency=tenant.agency,
        is_agency_admin=True,
        is_staff=True,
        language="en",
    )


# --- invitations ---------------------------------------------------------------------------


@pytest.mark.parametrize("inviter", ["tenant admin", "agency admin"])
@pytest.mark.parametrize("role", [Role.CLIENT, Role.ANALYST, Role.ADMIN])
def test_nobody_invites_the_platform_superuser(
    api: Any,
    tenant: Any,
    members: dict[str, Any],
    agency_admin: User,
    root: User,
    inviter: str,
    role: str,
) -> None:
    """The answer is the pending invitation any address gets; the superuser gets a notice
    without a link, and never a membership (see test_invitations.py for the link itself)."""
    client = api(members["admin"] if inviter == "tenant admin" else agency_admin)
    response = invite(client, tenant, "ROOT@platform.test", role)
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending"
    assert not Membership.objects.filter(user=root).exists()
    [notice] = mail.outbox
    assert notice.to == ["root@platform.test"]
    assert "/invitations/" not in notice.body and "cannot join" in notice.body


def test_invite_answers_look_the_same_whoever_the_account_is(
    api: Any, tenant: Any, other_tenant: Any, members: dict[str, Any], outsider: User, root: User
) -> None:
    platform_staff = UserFactory(email="ops@platform.test", is_staff=True)
    their_client = UserFactory(email="cfo@bank.test")
    MembershipFactory(tenant=other_tenant, user=their_client, role=Role.CLIENT)
    sister = TenantFactory(agency=tenant.agency)
    our_other_client = UserFactory(email="owner@sister.test")
    MembershipFactory(tenant=sister, user=our_other_client, role=Role.CLIENT)
    free_client = UserFactory(email="free@client.test")
    client = api(members["admin"])
    bodies = {
        who: invite(client, tenant, email, role)
        for who, email, role in [
            ("superuser", root.email, Role.CLIENT),
            ("platform staff", platform_staff.email, Role.CLIENT),
            ("another agency's staff", outsider.email, Role.ANALYST),
            ("another agency's client", their_client.email, Role.CLIENT),
            ("a client of another tenant", our_other_client.email, Role.CLIENT),
            ("a client as analyst", free_client.email, Role.ANALYST),
            ("a new address", "nobody@new.test", Role.ANALYST),
        ]
    }
    # Only what the inviter typed and the clock differ: same status, same fields.
    shapes = {
        who: (response.status_code, tuple(response.json()), response.json()["status"])
        for who, response in bodies.items()
    }
    assert set(shapes.values()) == {(202, shapes["a new address"][1], "pending")}
    refused = [root, platform_staff, outsider, their_client, our_other_client, free_client]
    assert not Membership.objects.filter(tenant=tenant, user__in=refused).exists()
    assert sorted(len(m.to) for m in mail.outbox) == [1] * len(bodies)  # one e-mail each


def test_own_staff_free_clients_and_new_people_are_invited(
    api: Any, tenant: Any, members: dict[str, Any], agency_admin: User
) -> None:
    colleague = UserFactory(email="colleague@kopi.test", agency=tenant.agency)
    free_client = UserFactory(email="free@client.test")
    client = api(agency_admin)
    for email, role in [
        (colleague.email, Role.ANALYST),
        (free_client.email, Role.CLIENT),
        ("new@brand.test", Role.CLIENT),
    ]:
        response = invite(client, tenant, email, role)
        assert response.status_code == 202, response.content
        assert response.json()["email"] == email
    # Each got a link (the page and acceptance: test_invitations.py).
    assert sorted(m.to[0] for m in mail.outbox if "/invitations/" in m.body) == [
        "colleague@kopi.test",
        "free@client.test",
        "new@brand.test",
    ]
    assert not User.objects.filter(email="new@brand.test").exists()  # made when accepted


# --- the admin: never another agency's people, never the superuser --------------------------


def test_agency_admin_cannot_see_or_edit_accounts_it_does_not_own(
    tenant: Any,
    other_tenant: Any,
    members: dict[str, Any],
    agency_admin: User,
    root: User,
    outsider: User,
) -> None:
    # Memberships written around the rules (as the old invitation allowed, or a superuser did).
    platform_staff = UserFactory(email="ops@platform.test", is_staff=True)
    shared_client = UserFactory(email="shared@client.test")
    MembershipFactory(tenant=other_tenant, user=shared_client, role=Role.CLIENT)
    for user in (root, platform_staff, outsider, shared_client):
        MembershipFactory(tenant=tenant, user=user, role=Role.CLIENT)
    client = admin_client(agency_admin)
    listing = client.get("/admin/tenants/user/?q=")
    assert listing.status_code == 200
    assert members["client"].email.encode() in listing.content  # its own client: listed
    for user in (root, platform_staff, outsider, shared_client):
        before = User.objects.get(pk=user.pk).password
        assert user.email.encode() not in listing.content
        assert client.get(f"/admin/tenants/user/{user.pk}/change/").status_code == 302
        assert client.get(f"/admin/tenants/user/{user.pk}/password/").status_code == 404
        posted = client.post(
            f"/admin/tenants/user/{user.pk}/password/",
            {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
        )
        assert posted.status_code == 404
        changed = client.post(
            f"/admin/tenants/user/{user.pk}/change/",
            {"email": user.email, "full_name": "Mine now", "is_active": "on"},
        )
        assert changed.status_code == 302
        fresh = User.objects.get(pk=user.pk)
        assert fresh.password == before and fresh.full_name != "Mine now"
    assert client.get(f"/admin/tenants/user/{members['client'].pk}/password/").status_code == 200


def test_admin_password_change_is_audited_and_ends_the_tokens(
    api: Any, tenant: Any, members: dict[str, Any], agency_admin: User
) -> None:
    person = members["client"]
    bearer = api(person)
    assert bearer.get("/api/v1/me/").status_code == 200
    response = admin_client(agency_admin).post(
        f"/admin/tenants/user/{person.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD) and person.password_changed_at is not None
    entry = LogEntry.objects.get_for_object(person).latest("timestamp")
    assert entry.actor == agency_admin
    assert "password_changed_at" in entry.changes_dict
    dump = json.dumps([e.changes for e in LogEntry.objects.get_for_object(person)])
    assert person.password not in dump and '"password"' not in dump
    assert bearer.get("/api/v1/me/").status_code == 401
    assert not PersonalToken.objects.filter(user=person, revoked=False).exists()


def test_staff_and_superuser_changes_in_the_admin_are_audited(tenant: Any, root: User) -> None:
    person = UserFactory(email="helper@kopi.test", agency=tenant.agency)
    response = admin_client(root).post(
        f"/admin/tenants/user/{person.pk}/change/",
        {
            "email": person.email,
            "full_name": person.full_name,
            "agency": tenant.agency.pk,
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
        },
    )
    assert response.status_code == 302, response.content
    entry = LogEntry.objects.get_for_object(person).latest("timestamp")
    assert entry.actor == root
    assert entry.changes_dict["is_staff"] == ["False", "True"]
    assert entry.changes_dict["is_superuser"] == ["False", "True"]


# --- tokens end with the password -------------------------------------------------------------


def test_a_password_set_in_code_ends_every_token(api: Any, members: dict[str, Any]) -> None:
    person = members["analyst"]
    first, second = api(person), api(person)
    assert first.get("/api/v1/me/").status_code == 200
    person = User.objects.get(pk=person.pk)
    person.set_password(NEW_PASSWORD)
    person.save()
    assert first.get("/api/v1/me/").status_code == 401
    assert second.get("/api/v1/me/").status_code == 401
    third = api(person)
    person.set_unusable_password()
    person.save(update_fields=["password"])
    assert third.get("/api/v1/me/").status_code == 401
    entries = LogEntry.objects.get_for_object(person)
    assert sum("password_changed_at" in e.changes_dict for e in entries) >= 2


def test_a_hash_upgrade_at_sign_in_keeps_the_tokens(api: Any, members: dict[str, Any]) -> None:
    person = members["analyst"]
    bearer = api(person)
    weak = make_password(PASSWORD, salt="ab", hasher="md5")  # a salt too short: upgraded
    User.objects.filter(pk=person.pk).update(password=weak, password_changed_at=None)
    signed_in = api().post(
        "/api/v1/auth/tokens/", {"email": person.email, "password": PASSWORD}, format="json"
    )
    assert signed_in.status_code == 201, signed_in.content
    person.refresh_from_db()
    assert person.password != weak and person.password_changed_at is None
    assert bearer.get("/api/v1/me/").status_code == 200


# --- machine keys ---------------------------------------------------------------------------


def test_a_machine_key_cannot_be_born_expired_over_rest(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    client = api(members["admin"])
    url = f"/api/v1/tenants/{tenant.slug}/api-keys/"
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    refused = client.post(url, {"name": "late", "expires_at": past}, format="json")
    assert refused.status_code == 400, refused.content
    assert refused.json()["errors"][0]["attr"] == "expires_at"
    assert not TenantApiKey.objects.filter(name="late").exists()
    future = (timezone.now() + timedelta(days=30)).isoformat()
    assert client.post(url, {"name": "ok", "expires_at": future}, format="json").status_code == 201


def test_a_machine_key_cannot_be_born_expired_in_the_admin(tenant: Any, agency_admin: User) -> None:
    client = admin_client(agency_admin)
    # The admin shows and reads times in the tenant's zone (WIB here): the form is filled so.
    past = timezone.localtime(timezone.now() - timedelta(days=1), ZoneInfo(tenant.time_zone))
    refused = client.post(
        "/admin/tenants/tenantapikey/add/",
        {
            "name": "late",
            "tenant": tenant.pk,
            "expiry_date_0": past.strftime("%Y-%m-%d"),
            "expiry_date_1": past.strftime("%H:%M:%S"),
        },
    )
    assert refused.status_code == 200
    assert "expiry_date" in refused.context["adminform"].form.errors
    assert not TenantApiKey.objects.filter(name="late").exists()
    # A key that expired later can still be revoked: its unchanged expiry is not re-checked.
    key, _ = TenantApiKey.objects.create_key(
        tenant=tenant, name="old", expiry_date=past.replace(microsecond=0)
    )
    revoked = client.post(
        f"/admin/tenants/tenantapikey/{key.pk}/change/",
        {
            "name": "old",
            "expiry_date_0": past.strftime("%Y-%m-%d"),
            "expiry_date_1": past.strftime("%H:%M:%S"),
            "revoked": "on",
        },
    )
    assert revoked.status_code == 302, revoked.content
    assert TenantApiKey.objects.get(pk=key.pk).revoked


def test_keys_are_verified_timing_safe(api: Any, tenant: Any, members: dict[str, Any]) -> None:
    assert isinstance(PersonalToken.objects.key_generator, TimingSafeKeyGenerator)
    assert isinstance(TenantApiKey.objects.key_generator, TimingSafeKeyGenerator)
    client = api(members["admin"])
    assert client.get("/api/v1/me/").status_code == 200
    secret = client._credentials["HTTP_AUTHORIZATION"].split(" ", 1)[1]
    prefix, _, rest = secret.partition(".")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {prefix}.{rest[::-1]}")
    assert client.get("/api/v1/me/").status_code == 401


# --- triage assignee ids --------------------------------------------------------------------


def test_assignee_ids_do_not_tell_which_accounts_exist(
    api: Any, gql: Any, tenant: Any, members: dict[str, Any], outsider: User
) -> None:
    mention = MentionFactory(tenant=tenant)
    missing = User.objects.order_by("-pk").first().pk + 1000  # type: ignore[union-attr]
    client = api(members["analyst"])
    url = f"/api/v1/tenants/{tenant.slug}/mentions/{mention.pk}/"
    rest = [client.patch(url, {"assignee": pk}, format="json") for pk in (missing, outsider.pk)]
    assert [r.status_code for r in rest] == [400, 400]
    assert rest[0].json() == rest[1].json()
    assert rest[0].json()["errors"][0]["attr"] == "assignee"
    query = """mutation($slug: String!, $id: ID!, $assignee: ID) {
      update_mention_triage(slug: $slug, id: $id, assignee_id: $assignee) { id }
    }"""
    answers = [
        gql(
            query,
            user=members["analyst"],
            variables={"slug": tenant.slug, "id": str(mention.pk), "assignee": str(pk)},
        )
        for pk in (missing, outsider.pk)
    ]
    assert error_codes(answers[0]) == ["BAD_USER_INPUT"]
    strip = [{k: v for k, v in a["errors"][0].items() if k != "locations"} for a in answers]
    assert strip[0] == strip[1] and strip[0]["extensions"]["field"] == "assignee"
    mention.refresh_from_db()
    assert mention.assignee is None


def test_the_tenant_page_cannot_add_the_superuser_as_a_member(
    tenant: Any, agency_admin: User, root: User
) -> None:
    response = admin_client(agency_admin).post(
        f"/admin/tenants/tenant/{tenant.pk}/change/",
        {
            "agency": tenant.agency.pk,
            "slug": tenant.slug,
            "name": tenant.name,
            "time_zone": tenant.time_zone,
            "default_language": tenant.default_language,
            "status": tenant.status,
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
            "memberships-0-user": root.pk,
            "memberships-0-role": Role.CLIENT,
        },
    )
    assert response.status_code == 200  # the form again, with an error
    assert not Membership.objects.filter(user=root).exists()
