"""Personal tokens: sign-in, use, listing, revocation, expiry and lockout."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from tenants.models import PersonalToken
from tests.conftest import PASSWORD
from tests.factories import UserFactory

URL = "/api/v1/auth/tokens/"


@pytest.fixture
def person(db: Any) -> Any:
    return UserFactory(email="ayu@example.test")


def sign_in(client: APIClient, email: str, password: str, **extra: Any) -> Any:
    return client.post(URL, {"email": email, "password": password, **extra}, format="json")


def test_sign_in_returns_a_token_shown_once(person: Any) -> None:
    response = sign_in(APIClient(), "Ayu@Example.test", PASSWORD, name="laptop")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "token", "name", "created_at", "expires_at"}
    assert body["name"] == "laptop"
    assert body["token"].startswith(body["id"] + ".")
    stored = PersonalToken.objects.get(prefix=body["id"])
    assert body["token"].split(".", 1)[1] not in stored.hashed_key  # only a hash is kept
    me = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert me.status_code == 200 and me.json()["email"] == "ayu@example.test"
    listed = APIClient().get(URL, HTTP_AUTHORIZATION=f"Bearer {body['token']}").json()
    assert listed["count"] == 1 and "token" not in listed["results"][0]


def test_wrong_password_is_401_naming_no_secret(person: Any) -> None:
    response = sign_in(APIClient(), "ayu@example.test", "nope")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "invalid_credentials"


@pytest.mark.parametrize(
    ("payload", "attr", "code"),
    [
        ({"password": PASSWORD}, "email", "required"),
        ({"email": "not-an-email", "password": PASSWORD}, "email", "invalid"),
        ({"email": "ayu@example.test"}, "password", "required"),
        (
            {"email": "ayu@example.test", "password": PASSWORD, "name": "x" * 51},
            "name",
            "max_length",
        ),
        (
            {"email": "ayu@example.test", "password": PASSWORD, "scope": "all"},
            "scope",
            "unknown_field",
        ),
    ],
)
def test_bad_sign_in_payloads_name_the_field(
    person: Any, payload: Any, attr: str, code: str
) -> None:
    response = APIClient().post(URL, payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert (attr, code) in {(e["attr"], e["code"]) for e in body["errors"]}


def test_malformed_json_is_400(person: Any) -> None:
    response = APIClient().post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "parse_error"


def test_lockout_after_repeated_failures(person: Any) -> None:
    client = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "ayu@example.test", "wrong").status_code == 401
    assert sign_in(client, "ayu@example.test", "wrong").status_code == 429
    locked = sign_in(client, "ayu@example.test", PASSWORD)  # even the right password now
    assert locked.status_code == 429
    assert locked.json()["errors"][0]["code"] == "locked_out"
    assert "token" not in locked.json()


def test_revoked_and_expired_tokens_are_refused(person: Any) -> None:
    client = APIClient()
    body = sign_in(client, "ayu@example.test", PASSWORD).json()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {body['token']}"}
    assert client.delete(f"{URL}{body['id']}/", **auth).status_code == 204
    refused = client.get("/api/v1/me/", **auth)
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["detail"] == "Invalid or revoked token."

    body = sign_in(client, "ayu@example.test", PASSWORD).json()
    PersonalToken.objects.filter(prefix=body["id"]).update(
        expiry_date=timezone.now() - timedelta(seconds=1)
    )
    expired = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert expired.status_code == 401
    assert expired.json()["errors"][0]["detail"] == "This token has expired."


def test_malformed_bearer_header_is_401(db: Any) -> None:
    response = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer a b")
    assert response.status_code == 401
    response = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer nodot")
    assert response.status_code == 401


def test_owner_cannot_revoke_someone_elses_token(person: Any, api: Any) -> None:
    theirs = sign_in(APIClient(), "ayu@example.test", PASSWORD).json()
    stranger = UserFactory()
    response = api(stranger).delete(f"{URL}{theirs['id']}/")
    assert response.status_code == 404
    assert not PersonalToken.objects.get(prefix=theirs["id"]).revoked


def test_session_login_works_for_the_browsable_api(client: Any, person: Any) -> None:
    request = RequestFactory().get("/")
    assert client.login(request=request, username="ayu@example.test", password=PASSWORD)
    assert client.get("/api/v1/me/").status_code == 200
