"""The one way Sigap makes HTTP requests to URLs that tenants give it (feeds, Mastodon servers,
notification channels and signed outbound webhooks). Nothing else may open outbound
connections to such URLs.

What it guarantees, for :func:`get` and every redirect it follows, and for :func:`post` (which
never follows a redirect):

* the URL is ``http`` or ``https``, names a host, carries no credentials (``user:pass@``), and
  uses port 80 or 443 or a port listed in ``SIGAP_OUTBOUND_PORTS``; the fragment is never sent;
* the host name is resolved once per request, and every address it resolves to must be a public
  unicast address: loopback, private, shared (CGNAT), link-local (cloud metadata such as
  ``169.254.169.254``), unique-local (``fd00:ec2::254``), multicast, reserved and unspecified
  addresses are refused, also when embedded in IPv4-mapped/-compatible, NAT64, 6to4 or Teredo
  IPv6 addresses. The socket is then opened to the address that was checked (the ``Host``
  header, TLS SNI and certificate check keep the name), so a DNS answer that changes between
  the check and the connection (DNS rebinding) cannot reach another address;
* ``host:port`` pairs listed in ``SIGAP_OUTBOUND_ALLOWLIST`` skip the port and address rules
  (self-hosters reaching an internal feed); they match the host exactly as written in the URL;
* redirects are followed here, never by a library: at most ``max_redirects``, each hop checked
  as the first, ``Authorization`` and ``Cookie`` dropped when the origin changes;
* one deadline bounds the whole exchange (connect, waiting, every body read) and the body is
  capped at ``max_bytes``, also after undoing gzip/deflate;
* proxies from the environment are never used (they would bypass the address check).

A refusal raises :class:`OutboundBlocked` whose message starts with ``blocked:`` and never names
the internal address; other failures raise :class:`OutboundError` with ``retryable`` set.
:func:`validate_outbound_url` is the save-time check (a Django validator) of the same URL rules,
with literal IP addresses checked too; the connect-time check stays the real wall.
"""

from __future__ import annotations

import ipaddress
import socket
import time
import urllib.parse
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

__all__ = [
    "ADDRESS_BLOCKED",
    "DEFAULT_PORTS",
    "OutboundBlocked",
    "OutboundError",
    "OutboundResponse",
    "get",
    "is_public_address",
    "post",
    "redact_url",
    "validate_outbound_url",
]

ADDRESS_BLOCKED = "blocked: address not allowed"
DEFAULT_PORTS = frozenset({80, 443})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
MAX_RESPONSE_BYTES = 10 * 1024 * 1024
_CHUNK = 64 * 1024
_SENSITIVE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})

# Networks that are never a public destination, beyond what ``ipaddress`` already flags.
_ALWAYS_BLOCKED = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network"
        "100.64.0.0/10",  # shared address space (CGNAT; Alibaba metadata 100.100.100.200)
        "169.254.0.0/16",  # link-local, cloud metadata 169.254.169.254
        "192.0.0.0/24",  # IETF protocol assignments
        "198.18.0.0/15",  # benchmarking
        "224.0.0.0/3",  # multicast and the reserved 240/4, broadcast
        "64:ff9b:1::/48",  # local-use NAT64
        "fc00::/7",  # unique local, AWS metadata fd00:ec2::254
        "fe80::/10",  # link-local
        "fec0::/10",  # deprecated site-local
        "ff00::/8",  # multicast
        "2001:db8::/32",  # documentation
        "100::/64",  # discard-only
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class OutboundError(Exception):
    """An outbound request failed. ``retryable``: trying again later may succeed without
    anyone changing the URL (timeouts, connection failures)."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


class OutboundBlocked(OutboundError):
    """The URL or an address it resolves to is not allowed. Never retryable."""

    def __init__(self, message: str = ADDRESS_BLOCKED) -> None:
        super().__init__(message, retryable=False)


@dataclass(frozen=True, slots=True)
class OutboundResponse:
    """The final response (after redirects): any status, 304 and errors included."""

    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes
    url: str


@dataclass(frozen=True, slots=True)
class _Target:
    scheme: str
    host: str  # as written, lower case, without brackets
    port: int
    request_target: str  # path and query
    url: str  # without fragment

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 80 if self.scheme == "http" else 443
        return host if self.port == default else f"{host}:{self.port}"

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)


# --- policy ----------------------------------------------------------------------------------


def _allowlist() -> frozenset[tuple[str, int]]:
    entries: set[tuple[str, int]] = set()
    for entry in getattr(settings, "SIGAP_OUTBOUND_ALLOWLIST", ()):
        host, sep, port = str(entry).strip().lower().rpartition(":")
        if sep and port.isdigit() and host:
            entries.add((host.strip("[]"), int(port)))
    return frozenset(entries)


def _allowed_ports() -> frozenset[int]:
    extra = {int(p) for p in getattr(settings, "SIGAP_OUTBOUND_PORTS", ()) if str(p).isdigit()}
    return DEFAULT_PORTS | extra


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries and that routing may end up reaching."""
    found: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True only for a global unicast address that is no known internal or special range."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return False
        embedded = _embedded_ipv4(address)
        if embedded:
            return all(is_public_address(v4) for v4 in embedded)
    if any(address in net for net in _ALWAYS_BLOCKED if net.version == address.version):
        return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _literal_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _parse(url: str) -> _Target:
    """The URL rules that need no DNS: scheme, host, credentials, port."""
    if not isinstance(url, str) or any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise OutboundBlocked(_("blocked: not a valid URL"))
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError:
        raise OutboundBlocked(_("blocked: not a valid URL")) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise OutboundBlocked(
            _("blocked: unsupported URL scheme %(scheme)r, only http and https")
            % {"scheme": scheme}
        )
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise OutboundBlocked(_("blocked: credentials in URLs are not allowed"))
    if not host:
        raise OutboundBlocked(_("blocked: the URL names no host"))
    try:
        host = host.encode("idna").decode("ascii").lower() if not _literal_ip(host) else host
    except UnicodeError:
        raise OutboundBlocked(_("blocked: not a valid host name")) from None
    port = port or (80 if scheme == "http" else 443)
    if (host, port) not in _allowlist() and port not in _allowed_ports():
        raise OutboundBlocked(_("blocked: port %(port)s not allowed") % {"port": port})
    path = parts.path or "/"
    request_target = f"{path}?{parts.query}" if parts.query else path
    target = _Target(scheme, host, port, request_target, "")
    clean = urllib.parse.urlunsplit((scheme, target.host_header, parts.path, parts.query, ""))
    return _Target(scheme, host, port, request_target, clean)


def _resolve(target: _Target, deadline: float) -> list[str]:
    """The addresses to connect to, every one of them checked."""
    checked = (target.host, target.port) not in _allowlist()
    literal = _literal_ip(target.host)
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise OutboundError(
                _("cannot resolve host %(host)s") % {"host": target.host}, retryable=True
            ) from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if time.monotonic() > deadline:
            raise OutboundError(
                _("timed out resolving %(host)s") % {"host": target.host}, retryable=True
            )
    if not addresses:
        raise OutboundError(
            _("cannot resolve host %(host)s") % {"host": target.host}, retryable=True
        )
    if checked:
        for address in addresses:
            ip = _literal_ip(address.split("%", 1)[0])
            if ip is None or "%" in address or not is_public_address(ip):
                raise OutboundBlocked()
    return addresses


def validate_outbound_url(value: Any) -> None:
    """Save-time check (a Django validator): the rules of :func:`get` that need no DNS, and
    literal or ``localhost`` hosts refused unless allowlisted. Raises ``ValidationError``."""
    try:
        target = _parse(value)
    except OutboundBlocked as exc:
        message = exc.message.removeprefix("blocked: ")
        raise ValidationError(message[:1].upper() + message[1:] + ".", code="url_blocked") from None
    if (target.host, target.port) in _allowlist():
        return
    literal = _literal_ip(target.host)
    if (literal is not None and not is_public_address(literal)) or (
        target.host == "localhost" or target.host.endswith(".localhost")
    ):
        raise ValidationError(
            _("This address is not allowed: internal, private and loopback hosts are refused."),
            code="url_blocked",
        )


def redact_url(url: str) -> str:
    """``url`` with any ``user:password@`` replaced by ``***@`` (for display)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"***@{host}"))


# --- transport -------------------------------------------------------------------------------


def _remaining(deadline: float, timeout: float, url: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise OutboundError(
            _("timed out after %(timeout)gs fetching %(url)s") % {"timeout": timeout, "url": url},
            retryable=True,
        )
    return left


def _pool(target: _Target, address: str, left: float) -> urllib3.HTTPConnectionPool:
    timeout = urllib3.Timeout(connect=left, read=left)
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            address,
            target.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    return urllib3.HTTPConnectionPool(
        address, target.port, timeout=timeout, retries=False, maxsize=1
    )


def _decode(body: bytes, encoding: str | None, max_bytes: int) -> bytes:
    """Undo gzip/deflate content encoding, refusing to inflate past ``max_bytes``."""
    encoding = (encoding or "").strip().lower()
    if encoding in ("gzip", "x-gzip"):
        wbits = 16 + zlib.MAX_WBITS
    elif encoding == "deflate":
        wbits = zlib.MAX_WBITS if body[:1] == b"\x78" else -zlib.MAX_WBITS  # zlib or raw
    else:
        return body
    inflater = zlib.decompressobj(wbits)
    out = inflater.decompress(body, max_bytes + 1)
    if len(out) > max_bytes:
        raise OutboundError(
            _("decompressed response is larger than %(max)s bytes") % {"max": max_bytes},
            retryable=False,
        )
    return out


def _exchange(
    target: _Target,
    headers: dict[str, str],
    *,
    deadline: float,
    timeout: float,
    max_bytes: int,
    method: str = "GET",
    body: bytes | None = None,
) -> OutboundResponse:
    """One request to one checked target: no redirect handling."""
    addresses = _resolve(target, deadline)
    last_error: Exception | None = None
    for address in addresses:
        left = _remaining(deadline, timeout, target.url)
        pool = _pool(target, address, left)
        try:
            response = pool.urlopen(
                method,
                target.request_target,
                body=body,
                headers={**headers, "Host": target.host_header},
                redirect=False,
                retries=False,
                preload_content=False,
                decode_content=False,
                assert_same_host=False,
            )
        except (NewConnectionError, ConnectTimeoutError) as exc:
            last_error = exc  # try the next checked address
            pool.close()
            continue
        except ReadTimeoutError as exc:
            pool.close()
            raise OutboundError(
                _("timed out after %(timeout)gs fetching %(url)s")
                % {"timeout": timeout, "url": target.url},
                retryable=True,
            ) from exc
        except SSLError as exc:
            pool.close()
            raise OutboundError(
                _("TLS failure talking to %(url)s") % {"url": target.url}, retryable=True
            ) from exc
        except HTTPError as exc:
            pool.close()
            raise OutboundError(
                _("connection to %(url)s failed") % {"url": target.url}, retryable=True
            ) from exc
        try:
            body = _read_body(response, deadline, timeout, max_bytes, target.url)
        finally:
            response.release_conn()
            pool.close()
        return OutboundResponse(
            status=response.status,
            reason=response.reason or "",
            headers=response.headers,
            body=body,
            url=target.url,
        )
    # NewConnectionError derives from ConnectTimeoutError: a refusal is not a timeout.
    if isinstance(last_error, ConnectTimeoutError) and not isinstance(
        last_error, NewConnectionError
    ):
        raise OutboundError(
            _("timed out after %(timeout)gs fetching %(url)s")
            % {"timeout": timeout, "url": target.url},
            retryable=True,
        ) from last_error
    raise OutboundError(
        _("cannot reach %(url)s: connection failed") % {"url": target.url}, retryable=True
    ) from last_error


def _read_body(
    response: urllib3.BaseHTTPResponse, deadline: float, timeout: float, max_bytes: int, url: str
) -> bytes:
    if response.status in REDIRECT_STATUSES or response.status == 304:
        return b""
    chunks: list[bytes] = []
    size = 0
    sock = getattr(getattr(response, "connection", None), "sock", None)
    try:
        while True:
            left = _remaining(deadline, timeout, url)
            if sock is not None:
                sock.settimeout(left)  # each read waits at most what is left of the deadline
            chunk = response.read1(_CHUNK, decode_content=False)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise OutboundError(
                    _("response from %(url)s is larger than %(max)s bytes")
                    % {"url": url, "max": max_bytes},
                    retryable=False,
                )
            chunks.append(chunk)
    except (ReadTimeoutError, TimeoutError) as exc:
        raise OutboundError(
            _("timed out after %(timeout)gs reading %(url)s") % {"timeout": timeout, "url": url},
            retryable=True,
        ) from exc
    except (ProtocolError, HTTPError, ConnectionError) as exc:
        raise OutboundError(
            _("connection to %(url)s failed while reading") % {"url": url}, retryable=True
        ) from exc
    try:
        return _decode(b"".join(chunks), response.headers.get("Content-Encoding"), max_bytes)
    except zlib.error as exc:
        raise OutboundError(
            _("corrupt compressed response from %(url)s") % {"url": url}, retryable=True
        ) from exc


def get(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10,
    max_bytes: int = MAX_RESPONSE_BYTES,
    max_redirects: int = MAX_REDIRECTS,
) -> OutboundResponse:
    """GET ``url`` under the rules in this module's docstring and return the final response,
    whatever its status (``304`` and errors included). ``timeout`` bounds the whole exchange,
    redirects included. Raises :class:`OutboundBlocked` or :class:`OutboundError`."""
    deadline = time.monotonic() + timeout
    sent = {"Accept-Encoding": "gzip, deflate", **(headers or {})}
    sent = {name: value for name, value in sent.items() if name.lower() != "host"}
    target = _parse(url)
    for _hop in range(max_redirects + 1):
        response = _exchange(target, sent, deadline=deadline, timeout=timeout, max_bytes=max_bytes)
        location = response.headers.get("Location")
        if response.status not in REDIRECT_STATUSES or not location:
            return response
        following = _parse(urllib.parse.urljoin(target.url, location.strip()))
        if following.origin != target.origin:
            sent = {k: v for k, v in sent.items() if k.lower() not in _SENSITIVE_HEADERS}
        target = following
    raise OutboundError(
        _("too many redirects (more than %(count)s) from %(url)s")
        % {"count": max_redirects, "url": url},
        retryable=False,
    )


def post(
    url: str,
    *,
    body: bytes,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10,
    max_bytes: int = 1024 * 1024,
) -> OutboundResponse:
    """POST ``body`` to ``url`` under the rules of :func:`get` (notification channels, signed
    webhooks). Redirects are never followed: a POST is not replayed elsewhere, the redirect
    answer is returned as it is. Raises :class:`OutboundBlocked` or :class:`OutboundError`;
    a failure after the request may have reached the receiver is ``retryable`` like any other,
    so callers send an idempotency key where the receiver honours one."""
    deadline = time.monotonic() + timeout
    sent = {name: value for name, value in (headers or {}).items() if name.lower() != "host"}
    target = _parse(url)
    return _exchange(
        target,
        sent,
        deadline=deadline,
        timeout=timeout,
        max_bytes=max_bytes,
        method="POST",
        body=body,
    )
