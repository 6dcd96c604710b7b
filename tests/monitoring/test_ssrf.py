"""SSRF through RSS and Mastodon sources, over HTTP: internal, credentialed and odd URLs are
refused when a source is saved (REST and admin share the model's rule), a stored one is refused
when polled (the source shows ``blocked: address not allowed``, nothing is fetched or stored),
and credentials in stored URLs are never shown to readers."""

from __future__ import annotations

from typing import Any

import pytest

from monitoring import polling
from monitoring.models import Mention, Source
from tenants.outbound import ADDRESS_BLOCKED
from tests.pollers.conftest import (
    LocalServer,
    fixture_server,  # noqa: F401 - the local HTTP server fixture
    local_server,
)

RSS = "application/rss+xml"


def sources_url(tenant: Any, pk: Any = None) -> str:
    base = f"/api/v1/tenants/{tenant.slug}/sources/"
    return f"{base}{pk}/" if pk is not None else base


def _port(server: LocalServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


REFUSED_URLS = [
    "http://127.0.0.1/",
    "http://127.0.0.1:8000/feed",
    "http://[::1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "http://192.168.0.10/rss",
    "http://172.16.0.1/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://[fd00:ec2::254]/",
    "http://[fe80::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://localhost/",
    "http://user:pw@example.com/",
    "https://token@example.com/feed",
    "http://example.com:6379/",
    "ftp://example.com/feed",
]


@pytest.mark.parametrize("bad", REFUSED_URLS)
def test_rss_source_with_an_internal_or_credentialed_url_is_refused(
    api: Any, tenant: Any, members: dict[str, Any], settings: Any, bad: str
) -> None:
    settings.SIGAP_OUTBOUND_ALLOWLIST = []
    response = api(members["admin"]).post(
        sources_url(tenant), {"name": "S", "kind": "rss", "config": {"url": bad}}, format="json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["attr"] == "config"
    assert not Source.objects.for_tenant(tenant).exists()


@pytest.mark.parametrize(
    "base_url",
    [
        *REFUSED_URLS[:6],
        "https://mastodon.example/api/v1/accounts/1#",
        "https://mastodon.example/#",
        "https://mastodon.example/some/path",
        "https://mastodon.example/?q=1",
    ],
)
def test_mastodon_source_needs_a_bare_public_server(
    api: Any, tenant: Any, members: dict[str, Any], settings: Any, base_url: str
) -> None:
    settings.SIGAP_OUTBOUND_ALLOWLIST = []
    response = api(members["admin"]).post(
        sources_url(tenant),
        {"name": "M", "kind": "mastodon", "config": {"base_url": base_url, "hashtag": "kopi"}},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["attr"] == "config"


def test_changing_a_source_to_an_internal_url_is_refused(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    client = api(members["admin"])
    created = client.post(
        sources_url(tenant),
        {"name": "S", "kind": "rss", "config": {"url": "https://berita.example/rss"}},
        format="json",
    )
    assert created.status_code == 201
    patched = client.patch(
        sources_url(tenant, created.json()["id"]),
        {"config": {"url": "http://169.254.169.254/"}},
        format="json",
    )
    assert patched.status_code == 400 and patched.json()["errors"][0]["attr"] == "config"


def test_allowlisted_internal_feed_is_accepted(
    api: Any, tenant: Any, members: dict[str, Any], settings: Any
) -> None:
    settings.SIGAP_OUTBOUND_ALLOWLIST = ["10.0.0.5:8080"]
    response = api(members["admin"]).post(
        sources_url(tenant),
        {"name": "Intranet", "kind": "rss", "config": {"url": "http://10.0.0.5:8080/rss"}},
        format="json",
    )
    assert response.status_code == 201, response.content


def test_admin_refuses_an_internal_url(client: Any, tenant: Any, settings: Any) -> None:
    from tenants.models import User

    settings.SIGAP_OUTBOUND_ALLOWLIST = []
    root = User.objects.create_superuser(
        email="root@sigap.test", password="pw-root-123", language="en"
    )
    client.force_login(root)
    response = client.post(
        "/admin/monitoring/source/add/",
        {
            "tenant": tenant.pk,
            "name": "Metadata",
            "kind": "rss",
            "status": "active",
            "config": '{"url": "http://169.254.169.254/latest/"}',
            "poll_interval_s": 300,
            "_save": "Save",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert "not allowed" in response.content.decode()
    assert not Source.objects.filter(name="Metadata").exists()


# --- polling: the connect-time wall ------------------------------------------------------------


def _stored_rss(tenant: Any, url: str) -> Source:
    """A source saved before the rule existed (the model's validation is not run here)."""
    return Source.objects.create(tenant=tenant, kind="rss", name="Lama", config={"url": url})


def test_poll_of_a_name_resolving_to_loopback_is_blocked(
    api: Any, tenant: Any, members: dict[str, Any], settings: Any
) -> None:
    settings.SIGAP_OUTBOUND_ALLOWLIST = []
    with local_server() as internal:
        settings.SIGAP_OUTBOUND_PORTS = [_port(internal)]
        internal.serve_file("/feed.xml", "rss_berita.xml", RSS)
        source = _stored_rss(tenant, f"http://localhost:{_port(internal)}/feed.xml")
        result = polling.poll_source(tenant.pk, source.pk)
        assert internal.hits("/feed.xml") == []
    assert result["error"] == ADDRESS_BLOCKED
    detail = api(members["client"]).get(sources_url(tenant, source.pk)).json()
    assert detail["last_error"] == ADDRESS_BLOCKED and detail["consecutive_failures"] == 1
    assert not Mention.objects.for_tenant(tenant).exists()


def test_poll_following_a_redirect_to_loopback_is_blocked(
    api: Any,
    tenant: Any,
    members: dict[str, Any],
    settings: Any,
    fixture_server: LocalServer,  # noqa: F811
) -> None:
    with local_server() as internal:
        settings.SIGAP_OUTBOUND_PORTS = [_port(internal)]
        internal.serve_file("/feed.xml", "rss_berita.xml", RSS)
        url = fixture_server.serve_responder(
            "/moved", lambda req: (302, {"Location": internal.url("/feed.xml")}, b"")
        )
        source = _stored_rss(tenant, url)
        result = polling.poll_source(tenant.pk, source.pk)
        assert internal.hits("/feed.xml") == [] and len(fixture_server.hits("/moved")) == 1
    assert result["error"] == ADDRESS_BLOCKED
    detail = api(members["client"]).get(sources_url(tenant, source.pk)).json()
    assert detail["last_error"] == ADDRESS_BLOCKED
    mentions = api(members["client"]).get(f"/api/v1/tenants/{tenant.slug}/mentions/").json()
    assert mentions["results"] == []


def test_poll_of_a_stored_credentialed_url_is_blocked(tenant: Any, settings: Any) -> None:
    settings.SIGAP_OUTBOUND_ALLOWLIST = []
    source = _stored_rss(tenant, "http://user:pw@example.invalid/feed")
    tenant.default_language = "en"  # the error is kept in the tenant's language
    tenant.save(update_fields=["default_language"])
    result = polling.poll_source(tenant.pk, source.pk)
    assert result["error"] == "blocked: credentials in URLs are not allowed"


def test_mastodon_fragment_cannot_reach_another_path(
    tenant: Any,
    fixture_server: LocalServer,  # noqa: F811
) -> None:
    fixture_server.serve_responder("/private", lambda req: (200, {}, b"[]"))
    source = Source.objects.create(
        tenant=tenant,
        kind="mastodon",
        name="Masto",
        config={"base_url": f"{fixture_server.base_url}/private#", "hashtag": "banjir"},
    )
    result = polling.poll_source(tenant.pk, source.pk)
    assert "scheme and host only" in result["error"]
    assert fixture_server.hits("/private") == []


# --- credentials are never shown ----------------------------------------------------------------


def test_credentials_in_stored_urls_are_masked_for_readers(
    api: Any, gql: Any, tenant: Any, members: dict[str, Any]
) -> None:
    source = _stored_rss(tenant, "https://reader:hunter2@feeds.example/rss?x=1")
    viewer = api(members["client"])
    detail = viewer.get(sources_url(tenant, source.pk))
    listed = viewer.get(sources_url(tenant))
    assert detail.json()["config"] == {"url": "https://***@feeds.example/rss?x=1"}
    assert "hunter2" not in detail.content.decode() and "hunter2" not in listed.content.decode()
    body = gql(
        "query($slug: String!) { sources(slug: $slug) { name config } }",
        members["client"],
        {"slug": tenant.slug},
    )
    assert body["data"]["sources"][0]["config"] == {"url": "https://***@feeds.example/rss?x=1"}
