"""A path that matches no route answers the API's error shape with 404, with or without DEBUG;
404s that views give (DRF's, the admin's) keep their own answers."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

NOWHERE = ["/api/v1/no-such-thing/", "/api/v2/", "/nothing-here", "/api/v1/tenants/x/y/z/w/"]


def assert_json_404(response: Any) -> None:
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "type": "client_error",
        "errors": [
            # An anonymous caller reads the default language, Indonesian (docs/i18n.md).
            {"code": "not_found", "detail": "Tidak ada apa pun di alamat ini.", "attr": None}
        ],
    }
    assert response["X-Request-Id"]


@pytest.mark.parametrize("path", NOWHERE)
def test_unknown_paths_answer_the_json_error_shape(db: Any, path: str) -> None:
    assert_json_404(Client().get(path))


@pytest.mark.parametrize("path", NOWHERE)
def test_no_technical_404_page_with_debug_on(db: Any, path: str) -> None:
    with override_settings(DEBUG=True):
        response = Client().post(path, data="{}", content_type="application/json")
    assert b"<html" not in response.content.lower()
    assert_json_404(response)


def test_a_view_404_keeps_its_own_answer(api: Any, members: dict[str, Any]) -> None:
    """DRF's own 404 (an object the caller cannot see) is not replaced."""
    response = api(members["admin"]).get("/api/v1/tenants/no-such-tenant/")
    assert response.status_code == 404
    assert response.json()["type"] == "client_error"
    assert response.json()["errors"][0]["code"] == "not_found"


def test_a_missing_slash_still_redirects(db: Any) -> None:
    response = Client().get("/api/v1/me")
    assert response.status_code == 301
    assert response["Location"] == "/api/v1/me/"
