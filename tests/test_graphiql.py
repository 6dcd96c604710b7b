"""The GraphiQL page is served offline: it names no other host, and every script and
stylesheet it loads is a static file of an installed package (graphene-django-graphiql-static),
served here (also after collectstatic's hashed, compressed storage has processed them, as in
production)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.management import call_command
from django.test import Client, RequestFactory, override_settings

from config.graphql import graphiql_html

PACKAGE_STATIC = "graphene_django_graphiql_static/"
# The files the page loads: GraphiQL 2 and its explorer plugin, React 17 (the package's).
LOADED = 6


class References(HTMLParser):
    """Every ``src`` and ``href`` of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in {"src", "href"} and value]


def references(html: str) -> list[str]:
    parser = References()
    parser.feed(html)
    return parser.urls


def graphiql_page(client: Client) -> str:
    response = client.get("/graphql/", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


def test_the_page_names_no_other_host(db: Any) -> None:
    html = graphiql_page(Client())
    assert (
        "unpkg.com" not in html
        and "cdn" not in html.lower()
        and "//" not in html.replace("// ", "")
    )
    urls = references(html)
    loaded = [url for url in urls if not url.startswith("data:")]  # the inline favicon
    assert len(loaded) == LOADED
    for url in loaded:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, url
        assert parts.path.startswith(f"/static/{PACKAGE_STATIC}"), url


def test_the_page_sends_the_csrf_token(db: Any) -> None:
    client = Client()
    html = graphiql_page(client)
    token = client.cookies["csrftoken"].value
    assert 'id="sigap-csrf-token"' in html and '"X-CSRFToken": csrfToken' in html
    assert len(token) == 32


def test_every_file_the_page_loads_is_served(db: Any) -> None:
    client = Client()
    for url in references(graphiql_page(client)):
        if url.startswith("data:"):
            continue
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        assert len(body) > 500, url


def test_the_hashed_production_storage_serves_them_too(tmp_path: Path) -> None:
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "config.storage.StaticStorage"},
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        call_command("collectstatic", "--noinput", verbosity=0)
        from django.contrib.staticfiles.storage import staticfiles_storage

        staticfiles_storage._setup()  # type: ignore[attr-defined]  # the overridden backend
        html = graphiql_html(RequestFactory().get("/graphql/"))
    for url in references(html):
        if url.startswith("data:"):
            continue
        name = url.removeprefix("/static/")
        plain = name.rsplit(".", 2)
        assert len(plain) == 3 and len(plain[1]) == 12, url  # the hashed name, not the plain one
        assert (tmp_path / name).is_file(), url  # a hashed name collectstatic wrote
        assert (tmp_path / f"{name}.gz").is_file(), url  # compressed for WhiteNoise
