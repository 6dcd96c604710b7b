"""Invitations end to end, through a real SMTP server: the e-mail carries a link whose page
changes nothing on GET, sets the password and joins on POST once, stops working after 72 hours,
accepts only its own invitation's token, and never shows its token in a log line. Inviting
answers the same whatever the address is."""

from __future__ import annotations

import email
import email.policy
import io
import logging
import re
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.core import mail
from django.test import Client, override_settings
from django.utils import timezone

from config.request_context import RedactSecretsFilter, RequestIdFilter
from tenants import invitations, services
from tenants.models import Invitation, Membership, User
from tenants.roles import Role
from tests.factories import MembershipFactory, UserFactory

NEW_PASSWORD = "senja-sore-di-pantai-42"
LINK = re.compile(r"(http://\S+)(/invitations/(\d+)/([^/\s]+)/)")


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def take(self, to: str) -> email.message.EmailMessage:
        with self.lock:
            found = [m for m in self.messages if m["To"] == to]
            assert len(found) == 1, [m["To"] for m in self.messages]
            self.messages.remove(found[0])
        return found[0]


@pytest.fixture(autouse=True)
def english_tenant(tenant: Any) -> None:
    """The e-mails and pages here are asserted in English: the tenant's default language says
    so (Indonesian, the default, is tested in tests/tenants/test_i18n.py)."""
    tenant.default_language = "en"
    tenant.save(update_fields=["default_language"])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[Inbox]:
    """A real SMTP server on 127.0.0.1, and Django sending through it (SMTP backend)."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=controller.port,
            EMAIL_USE_TLS=False,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
            EMAIL_TIMEOUT=10,
            SIGAP_PUBLIC_URL="http://sigap.test",
        ):
            yield inbox
    finally:
        controller.stop()


def invite(client: Any, tenant: Any, address: str, role: str = Role.ANALYST) -> Any:
    return client.post(
        f"/api/v1/tenants/{tenant.slug}/members/", {"email": address, "role": role}, format="json"
    )


def link_in(message: email.message.EmailMessage) -> tuple[str, int, str]:
    """The path, invitation id and token of the link in an e-mail."""
    body = message.get_content()
    found = LINK.search(body)
    assert found, body
    assert found.group(1) == "http://sigap.test"
    return found.group(2), int(found.group(3)), found.group(4)


def csrf_of(page: Any) -> str:
    found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content)
    assert found, page.content[:500]
    return found.group(1).decode()


def post_password(browser: Client, path: str, password: str = NEW_PASSWORD) -> Any:
    form = browser.get(path)
    token = csrf_of(form) if form.status_code == 200 else "none"
    return browser.post(
        path, {"csrfmiddlewaretoken": token, "password1": password, "password2": password}
    )


# --- end to end, through the SMTP server ----------------------------------------------------


def test_invitation_link_sets_the_password_once(
    api: Any, tenant: Any, members: dict[str, Any], smtp: Inbox
) -> None:
    answer = invite(api(members["admin"]), tenant, "New.Person@Brand.test")
    assert answer.status_code == 202, answer.content
    assert answer.json()["status"] == "pending"
    assert answer.json()["email"] == "new.person@brand.test"

    message = smtp.take("new.person@brand.test")
    assert message["Subject"] == "You are invited to Kopi Senja on Sigap"
    assert "ask your administrator" not in message.get_content().lower()
    assert "72 hours" in message.get_content()
    path, invitation_id, _ = link_in(message)
    assert invitation_id == answer.json()["id"]

    browser = Client(enforce_csrf_checks=True)
    shown = browser.get(path)
    assert shown.status_code == 200
    assert b"Kopi Senja" in shown.content and b'type="password"' in shown.content
    assert shown["Cache-Control"].startswith("max-age=0") and "no-store" in shown["Cache-Control"]
    assert shown["Referrer-Policy"] == "no-referrer"
    # A GET changes nothing: no account, no membership, the invitation still pending.
    browser.get(path)
    assert not User.objects.filter(email="new.person@brand.test").exists()
    assert Invitation.objects.get(pk=invitation_id).status == "pending"

    no_csrf = Client(enforce_csrf_checks=True).post(
        path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert no_csrf.status_code == 403
    assert not User.objects.filter(email="new.person@brand.test").exists()

    joined = post_password(browser, path)
    assert joined.status_code == 200, joined.content
    assert b"Welcome to Kopi Senja" in joined.content
    person = User.objects.get(email="new.person@brand.test")
    assert person.check_password(NEW_PASSWORD)
    assert person.agency == tenant.agency  # staff of the agency for every role but client
    assert Membership.objects.get(tenant=tenant, user=person).role == Role.ANALYST
    assert Invitation.objects.get(pk=invitation_id).status == "accepted"
    signed_in = api(None).post(
        "/api/v1/auth/tokens/",
        {"email": "new.person@brand.test", "password": NEW_PASSWORD},
        format="json",
    )
    assert signed_in.status_code == 201

    # The same browser posts the same form again (its CSRF cookie and token still good).
    again = browser.post(
        path,
        {
            "csrfmiddlewaretoken": csrf_of(shown),
            "password1": "another-passphrase-77",
            "password2": "another-passphrase-77",
        },
    )
    assert again.status_code == 404
    # A link that does not work says nothing about its invitation, its language included:
    # the default language (Indonesian).
    assert "Tautan undangan ini tidak berlaku" in again.content.decode()
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)
    assert Client().get(path).status_code == 404


def test_an_expired_link_is_refused(
    api: Any, tenant: Any, members: dict[str, Any], smtp: Inbox
) -> None:
    sent_at = timezone.now()
    assert invite(api(members["admin"]), tenant, "late@brand.test").status_code == 202
    path, _, _ = link_in(smtp.take("late@brand.test"))
    with time_machine.travel(sent_at + timedelta(hours=71, minutes=59), tick=False):
        assert Client().get(path).status_code == 200
    with time_machine.travel(sent_at + timedelta(hours=72, minutes=1), tick=False):
        assert Client().get(path).status_code == 404
        assert post_password(Client(), path).status_code == 404
        listed = api(members["admin"]).get(f"/api/v1/tenants/{tenant.slug}/invitations/")
        assert listed.json()["results"][0]["status"] == "expired"
    assert not User.objects.filter(email="late@brand.test").exists()


def test_a_token_works_only_for_its_own_invitation(
    api: Any, tenant: Any, members: dict[str, Any], smtp: Inbox
) -> None:
    client = api(members["admin"])
    invite(client, tenant, "first@brand.test")
    invite(client, tenant, "second@brand.test")
    _, first_id, first_token = link_in(smtp.take("first@brand.test"))
    _, second_id, second_token = link_in(smtp.take("second@brand.test"))
    for pk, token in [(first_id, second_token), (second_id, first_token)]:
        path = f"/invitations/{pk}/{token}/"
        assert Client().get(path).status_code == 404
        assert post_password(Client(), path).status_code == 404
    assert Client().get(f"/invitations/{first_id}/{first_token[:-1]}x/").status_code == 404
    assert Client().get(f"/invitations/{first_id}/{first_token}/").status_code == 200
    assert not User.objects.filter(email__in=["first@brand.test", "second@brand.test"]).exists()


def test_the_answer_is_the_same_for_every_address(
    api: Any, tenant: Any, other_tenant: Any, members: dict[str, Any], outsider: Any, smtp: Inbox
) -> None:
    """A new address, an own colleague, the platform superuser and another agency's staff:
    one answer, one e-mail each; only the ones who may join get a link."""
    root = UserFactory(email="root@platform.test", is_superuser=True, is_staff=True)
    colleague = UserFactory(email="colleague@kopi.test", agency=tenant.agency)
    client = api(members["admin"])
    answers = {}
    for address in ["nobody@brand.test", colleague.email, root.email, outsider.email]:
        response = invite(client, tenant, address)
        assert response.status_code == 202, response.content
        body = response.json()
        answers[address] = (tuple(sorted(body)), body["status"], body["role"], body["accepted_at"])
    assert len(set(answers.values())) == 1
    for address in ["nobody@brand.test", colleague.email]:
        link_in(smtp.take(address))
    for address in [root.email, outsider.email]:
        notice = smtp.take(address)
        assert not LINK.search(notice.get_content())
        assert "cannot join" in notice.get_content()
    assert not Membership.objects.filter(tenant=tenant, user__in=[root, outsider]).exists()
    # Even with a link made by hand, the refused account cannot join.
    refused = Invitation.objects.get(tenant=tenant, email=root.email)
    path = f"/invitations/{refused.pk}/{invitations.make_token(refused)}/"
    assert Client().get(path).status_code == 403
    assert Client().post(path, {}).status_code == 403
    assert not Membership.objects.filter(user=root).exists()


# --- the rules around the link --------------------------------------------------------------


def test_an_existing_account_joins_without_choosing_a_password(
    tenant: Any, members: dict[str, Any]
) -> None:
    colleague = UserFactory(email="colleague@kopi.test", agency=tenant.agency)
    before = colleague.password
    invitation = services.invite_member(tenant=tenant, email=colleague.email, role=Role.RESPONDER)
    path = LINK.search(mail.outbox[-1].body).group(2)  # type: ignore[union-attr]
    page = Client().get(path)
    assert page.status_code == 200 and b'type="password"' not in page.content
    assert not Membership.objects.filter(tenant=tenant, user=colleague).exists()
    assert Client().post(path, {}).status_code == 200
    assert Membership.objects.get(tenant=tenant, user=colleague).role == Role.RESPONDER
    colleague.refresh_from_db()
    assert colleague.password == before
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None


def test_a_second_invitation_still_works_after_the_first_set_the_password(
    tenant: Any, members: dict[str, Any]
) -> None:
    sister = type(tenant).objects.create(agency=tenant.agency, slug="sister", name="Sister")
    services.invite_member(tenant=tenant, email="both@kopi.test", role=Role.ANALYST)
    services.invite_member(tenant=sister, email="both@kopi.test", role=Role.APPROVER)
    first, second = (LINK.search(m.body).group(2) for m in mail.outbox[-2:])  # type: ignore[union-attr]
    assert post_password(Client(), first).status_code == 200
    assert Client().post(second, {}).status_code == 200  # no password asked any more
    person = User.objects.get(email="both@kopi.test")
    assert {m.tenant.slug: m.role for m in person.memberships.all()} == {
        "kopi-senja": Role.ANALYST,
        "sister": Role.APPROVER,
    }


def test_weak_or_differing_passwords_are_refused_and_the_link_stays(
    tenant: Any, members: dict[str, Any]
) -> None:
    services.invite_member(tenant=tenant, email="weak@brand.test", role=Role.CLIENT)
    path = LINK.search(mail.outbox[-1].body).group(2)  # type: ignore[union-attr]
    weak = Client().post(path, {"password1": "123", "password2": "123"})
    assert weak.status_code == 400 and b"too short" in weak.content
    differ = Client().post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"})
    assert differ.status_code == 400 and b"differ" in differ.content
    assert not User.objects.filter(email="weak@brand.test").exists()
    assert post_password(Client(), path).status_code == 200
    person = User.objects.get(email="weak@brand.test")
    assert person.agency is None and person.memberships.get().role == Role.CLIENT


def test_inviting_again_replaces_the_link_and_members_are_refused(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    client = api(members["admin"])
    invite(client, tenant, "twice@brand.test")
    old = LINK.search(mail.outbox[-1].body).group(2)  # type: ignore[union-attr]
    invite(client, tenant, "twice@brand.test")
    new = LINK.search(mail.outbox[-1].body).group(2)  # type: ignore[union-attr]
    assert Client().get(old).status_code == 404
    assert Client().get(new).status_code == 200
    assert Invitation.objects.filter(email="twice@brand.test").count() == 1
    member = invite(client, tenant, members["analyst"].email)
    assert member.status_code == 400
    assert member.json()["errors"][0]["attr"] == "email"


def test_a_member_without_a_password_gets_a_link_to_choose_one(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    """Accounts made by the old invitation had no password ("ask your administrator")."""
    person = members["responder"]
    person.set_unusable_password()
    person.save()
    assert invite(api(members["admin"]), tenant, person.email).status_code == 202
    path = LINK.search(mail.outbox[-1].body).group(2)  # type: ignore[union-attr]
    assert post_password(Client(), path).status_code == 200
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)
    assert Membership.objects.get(tenant=tenant, user=person).role == Role.RESPONDER


def test_invitations_are_listed_and_withdrawn_by_admins_only(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    admin = api(members["admin"])
    invite(admin, tenant, "maybe@brand.test")
    path = LINK.search(mail.outbox[-1].body).group(2)  # type: ignore[union-attr]
    url = f"/api/v1/tenants/{tenant.slug}/invitations/"
    listed = admin.get(url).json()["results"]
    assert [(i["email"], i["status"]) for i in listed] == [("maybe@brand.test", "pending")]
    assert api(members["analyst"]).get(url).status_code == 403
    assert admin.delete(f"{url}{listed[0]['id']}/").status_code == 204
    assert Client().get(path).status_code == 404
    assert admin.get(url).json()["count"] == 0


def test_admin_added_account_without_password_gets_a_link(tenant: Any) -> None:
    person = UserFactory(email="nopass@kopi.test", agency=tenant.agency)
    person.set_unusable_password()
    person.save()
    services.add_member(tenant=tenant, user=person, role=Role.ANALYST)
    assert Membership.objects.filter(tenant=tenant, user=person).exists()
    path = LINK.search(mail.outbox[-1].body).group(2)  # type: ignore[union-attr]
    assert post_password(Client(), path).status_code == 200
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)


def test_the_token_never_reaches_a_log_line(tenant: Any, members: dict[str, Any]) -> None:
    """Through the logging configuration's console filters: the request log (GET, POST, a
    refused CSRF POST, an unknown token) and Django's own loggers write the path redacted."""
    invitation = services.invite_member(tenant=tenant, email="quiet@brand.test", role="analyst")
    found = LINK.search(mail.outbox[-1].body)
    assert found is not None
    path, token = found.group(2), found.group(4)
    assert invitations.check_token(invitation, token)
    console = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RedactSecretsFilter) for f in h.filters)
    )
    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    capture.setFormatter(console.formatter)
    for found in console.filters:
        capture.addFilter(found)
    root = logging.getLogger()
    level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        Client().get(path)
        Client(enforce_csrf_checks=True).post(path, {"password1": "x", "password2": "x"})
        Client().post(path, {"password1": "x", "password2": "y"})
        Client().get(path.replace(token, token[:-2] + "zz"))
        post_password(Client(), path)
    finally:
        root.removeHandler(capture)
        root.setLevel(level)
    written = stream.getvalue()
    assert f"/invitations/{invitation.pk}/[redacted]/" in written
    assert token not in written and token[:-2] not in written
    assert "Forbidden (CSRF" in written  # Django's CSRF logger wrote its line, redacted
    assert "WSGIRequest: POST '/invitations/" in written  # its ``request`` extra too
    assert {RequestIdFilter, RedactSecretsFilter} <= {type(f) for f in console.filters}


def test_no_page_for_other_methods(tenant: Any) -> None:
    invitation = services.invite_member(tenant=tenant, email="x@brand.test", role=Role.CLIENT)
    path = f"/invitations/{invitation.pk}/{invitations.make_token(invitation)}/"
    assert Client().put(path).status_code == 405
    assert Client().delete(path).status_code == 405
    assert Invitation.objects.get(pk=invitation.pk).accepted_at is None


def test_memberships_still_follow_the_rules_at_acceptance(tenant: Any, other_tenant: Any) -> None:
    """A free client invited here who joined another tenant meanwhile cannot accept."""
    person = UserFactory(email="fickle@client.test")
    invitation = services.invite_member(tenant=tenant, email=person.email, role=Role.CLIENT)
    MembershipFactory(tenant=other_tenant, user=person, role=Role.CLIENT)
    path = f"/invitations/{invitation.pk}/{invitations.make_token(invitation)}/"
    assert Client().post(path, {}).status_code == 403
    assert not Membership.objects.filter(tenant=tenant, user=person).exists()


def test_the_admin_invites_by_address_like_the_api(tenant: Any, other_tenant: Any) -> None:
    boss = UserFactory(
        email="boss@kopi.test", agency=tenant.agency, is_agency_admin=True, is_staff=True
    )
    admin = Client()
    admin.force_login(boss)
    added = admin.post(
        "/admin/tenants/invitation/add/",
        {"tenant": tenant.pk, "email": "Someone@Brand.test", "role": Role.CLIENT},
    )
    assert added.status_code == 302, added.content
    invitation = Invitation.objects.get(tenant=tenant)
    assert invitation.email == "someone@brand.test" and invitation.status == "pending"
    assert mail.outbox[-1].to == ["someone@brand.test"] and "/invitations/" in mail.outbox[-1].body
    Invitation.objects.create(tenant=other_tenant, email="theirs@bank.test", role=Role.CLIENT)
    listing = admin.get("/admin/tenants/invitation/")
    assert b"someone@brand.test" in listing.content and b"theirs@bank.test" not in listing.content
    refused = admin.post(
        "/admin/tenants/invitation/add/",
        {"tenant": other_tenant.pk, "email": "x@brand.test", "role": Role.CLIENT},
    )
    assert refused.status_code == 200  # another agency's tenant is not a choice
    assert not Invitation.objects.filter(email="x@brand.test").exists()
    withdrawn = admin.post(f"/admin/tenants/invitation/{invitation.pk}/delete/", {"post": "yes"})
    assert withdrawn.status_code == 302
    assert not Invitation.objects.filter(pk=invitation.pk).exists()
