"""The SSRF-safe outbound client (``tenants.outbound``) against real local servers.

Tests that fetch allowlist exactly one local server's ``host:port``; the blocking tests run with
an empty allowlist (and the server's port allowed, so the *address* is what refuses) and check
that the server never saw a request.
"""

from __future__ import annotations

import gzip
import ipaddress
import zlib
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from tenants import outbound
from tenants.outbound import ADDRESS_BLOCKED, OutboundBlocked, OutboundError
from tests.pollers.conftest import LocalServer, local_server


@pytest.fixture(autouse=True)
def english() -> Any:
    """The refusals are asserted in English here; their Indonesian is in the catalogue
    (tests/test_i18n_catalogue.py)."""
    with translation.override("en"):
        yield


INTERNAL = [
    "127.0.0.1",
    "127.255.255.254",
    "0.0.0.0",  # noqa: S104 - an address to refuse, not one to bind
    "0.1.2.3",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "100.64.0.1",
    "100.100.100.200",
    "169.254.169.254",
    "169.254.0.1",
    "192.0.0.170",
    "198.18.0.1",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.2.1",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",
    "fec0::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "::127.0.0.1",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::1",
    "2002:7f00:1::",
    "2002:a9fe:a9fe::1",
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo with client 127.0.0.1
    "2001:db8::1",
    "100::1",
]
PUBLIC = ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001:82a::200e"]


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses_are_not_public(address: str) -> None:
    assert not outbound.is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_public(address: str) -> None:
    assert outbound.is_public_address(ipaddress.ip_address(address))


def _port(server: LocalServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


@pytest.fixture
def no_allowlist(settings: Any) -> Any:
    settings.SIGAP_OUTBOUND_ALLOWLIST = []
    return settings


def test_allowlisted_server_is_fetched(settings: Any) -> None:
    with local_server() as server:
        settings.SIGAP_OUTBOUND_ALLOWLIST = [server.base_url.removeprefix("http://")]
        server.serve_responder("/halo", lambda req: (200, {"X-Seen": req.path}, b"halo"))
        response = outbound.get(server.url("/halo#fragment-is-never-sent"))
    assert (response.status, response.body, response.headers["X-Seen"]) == (200, b"halo", "/halo")
    assert response.url == server.url("/halo")


def test_empty_allowlist_blocks_the_loopback_server(no_allowlist: Any) -> None:
    with local_server() as server:
        no_allowlist.SIGAP_OUTBOUND_PORTS = [_port(server)]
        server.serve_responder("/feed", lambda req: (200, {}, b"secret"))
        with pytest.raises(OutboundBlocked) as info:
            outbound.get(server.url("/feed"))
        assert server.hits("/feed") == []
    assert info.value.message == ADDRESS_BLOCKED and not info.value.retryable


@pytest.mark.parametrize("host", ["localhost", "[::1]", "127.1", "2130706433", "0x7f.0.0.1"])
def test_names_and_spellings_of_loopback_are_blocked(no_allowlist: Any, host: str) -> None:
    """``localhost`` is resolved for real (127.0.0.1 or ::1) and the resolved address refused;
    numeric spellings that the resolver turns into 127.0.0.1 are refused the same way."""
    with local_server() as server:
        port = _port(server)
        no_allowlist.SIGAP_OUTBOUND_PORTS = [port]
        server.serve_responder("/feed", lambda req: (200, {}, b"secret"))
        with pytest.raises(OutboundBlocked, match=ADDRESS_BLOCKED):
            outbound.get(f"http://{host}:{port}/feed")
        assert server.hits("/feed") == []


def test_allowlist_matches_the_host_as_written(settings: Any) -> None:
    """Allowing 127.0.0.1:PORT does not allow another name for it (``localhost:PORT``)."""
    with local_server() as server:
        port = _port(server)
        settings.SIGAP_OUTBOUND_ALLOWLIST = [f"127.0.0.1:{port}"]
        settings.SIGAP_OUTBOUND_PORTS = [port]
        with pytest.raises(OutboundBlocked, match=ADDRESS_BLOCKED):
            outbound.get(f"http://localhost:{port}/feed")
        assert server.hits("/feed") == []


def test_redirect_to_loopback_is_blocked(settings: Any) -> None:
    """An allowlisted server redirecting to 127.0.0.1 (another port, allowed as a port) or to
    ``localhost`` on its own port: every hop is checked like the first."""
    with local_server() as public, local_server() as internal:
        settings.SIGAP_OUTBOUND_ALLOWLIST = [public.base_url.removeprefix("http://")]
        settings.SIGAP_OUTBOUND_PORTS = [_port(internal), _port(public)]
        internal.serve_responder("/admin", lambda req: (200, {}, b"internal data"))
        public.serve_responder(
            "/to-ip", lambda req: (302, {"Location": internal.url("/admin")}, b"")
        )
        public.serve_responder(
            "/to-name",
            lambda req: (301, {"Location": f"http://localhost:{_port(public)}/x"}, b""),
        )
        public.serve_responder(
            "/to-metadata",
            lambda req: (307, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
        )
        for path in ("/to-ip", "/to-name", "/to-metadata"):
            with pytest.raises(OutboundBlocked) as info:
                outbound.get(public.url(path), timeout=3)
            assert info.value.message == ADDRESS_BLOCKED
            assert len(public.hits(path)) == 1
        assert internal.hits("/admin") == [] and public.hits("/x") == []


def test_redirects_are_followed_and_bounded(settings: Any) -> None:
    with local_server() as server:
        settings.SIGAP_OUTBOUND_ALLOWLIST = [server.base_url.removeprefix("http://")]
        server.serve_responder("/a", lambda req: (301, {"Location": "/b"}, b""))
        server.serve_responder("/b", lambda req: (308, {"Location": server.url("/c")}, b""))
        server.serve_responder("/c", lambda req: (200, {}, b"end"))
        server.serve_responder("/loop", lambda req: (302, {"Location": "/loop"}, b""))
        response = outbound.get(server.url("/a"))
        assert (response.status, response.body, response.url) == (200, b"end", server.url("/c"))
        with pytest.raises(OutboundError, match="too many redirects") as info:
            outbound.get(server.url("/loop"), max_redirects=3)
        assert len(server.hits("/loop")) == 4 and not info.value.retryable


def test_credentials_are_dropped_on_a_cross_origin_redirect(settings: Any) -> None:
    with local_server() as first, local_server() as second:
        settings.SIGAP_OUTBOUND_ALLOWLIST = [
            first.base_url.removeprefix("http://"),
            second.base_url.removeprefix("http://"),
        ]
        first.serve_responder("/go", lambda req: (302, {"Location": second.url("/land")}, b""))
        second.serve_responder("/land", lambda req: (200, {}, b"ok"))
        outbound.get(first.url("/go"), headers={"Authorization": "Bearer t0ken"})
        assert first.hits("/go")[0].headers["authorization"] == "Bearer t0ken"
        assert "authorization" not in second.hits("/land")[0].headers


def test_host_header_keeps_the_name(settings: Any) -> None:
    """The socket goes to the checked address; the Host header is still the URL's name."""
    with local_server() as server:
        port = _port(server)
        settings.SIGAP_OUTBOUND_ALLOWLIST = [f"localhost:{port}"]
        server.serve_responder("/h", lambda req: (200, {}, req.headers["host"].encode()))
        assert outbound.get(f"http://localhost:{port}/h").body == f"localhost:{port}".encode()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "unsupported URL scheme"),
        ("gopher://example.com/", "unsupported URL scheme"),
        ("http://user:pw@example.com/", "credentials"),
        ("http://user@example.com/", "credentials"),
        ("http://example.com:8080/", "port 8080 not allowed"),
        ("http://example.com:22/", "port 22 not allowed"),
        ("http:///nohost", "no host"),
        ("http://exa mple.com/", "not a valid URL"),
        ("http://example.com:99999/", "not a valid URL"),
    ],
)
def test_url_rules(no_allowlist: Any, url: str, message: str) -> None:
    with pytest.raises(OutboundBlocked, match=message) as info:
        outbound.get(url)
    assert info.value.message.startswith("blocked: ")


def test_body_is_capped(settings: Any) -> None:
    with local_server() as server:
        settings.SIGAP_OUTBOUND_ALLOWLIST = [server.base_url.removeprefix("http://")]
        server.serve_responder("/big", lambda req: (200, {}, b"x" * 5000))
        server.serve_responder(
            "/bomb",
            lambda req: (200, {"Content-Encoding": "gzip"}, gzip.compress(b"\0" * 2_000_000)),
        )
        with pytest.raises(OutboundError, match="larger than 1000 bytes"):
            outbound.get(server.url("/big"), max_bytes=1000)
        with pytest.raises(OutboundError, match="larger than 1000000 bytes") as info:
            outbound.get(server.url("/bomb"), max_bytes=1_000_000)
        assert not info.value.retryable
        assert len(outbound.get(server.url("/bomb"), max_bytes=3_000_000).body) == 2_000_000


def test_deflate_is_decoded_both_ways() -> None:
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    deflated = raw.compress(b"halo") + raw.flush()
    assert outbound._decode(deflated, "deflate", 100) == b"halo"
    assert outbound._decode(zlib.compress(b"halo"), "deflate", 100) == b"halo"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://[::1]/",
        "http://169.254.169.254/latest/",
        "http://10.0.0.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fd00:ec2::254]/",
        "http://localhost/",
        "http://api.localhost/",
        "http://user:pw@example.com/",
        "https://example.com:8443/",
        "ftp://example.com/",
    ],
)
def test_save_time_validator_refuses(no_allowlist: Any, url: str) -> None:
    with pytest.raises(ValidationError):
        outbound.validate_outbound_url(url)


def test_save_time_validator_honours_the_allowlist(settings: Any) -> None:
    settings.SIGAP_OUTBOUND_ALLOWLIST = ["10.0.0.5:8080", "feeds.internal:8443"]
    outbound.validate_outbound_url("http://10.0.0.5:8080/rss")
    outbound.validate_outbound_url("https://feeds.internal:8443/rss")
    outbound.validate_outbound_url("https://example.com/rss")
    with pytest.raises(ValidationError):
        outbound.validate_outbound_url("http://10.0.0.5/rss")


def test_redact_url() -> None:
    assert (
        outbound.redact_url("https://u:p@feeds.example/x?y=1") == "https://***@feeds.example/x?y=1"
    )
    assert outbound.redact_url("https://feeds.example/x") == "https://feeds.example/x"
