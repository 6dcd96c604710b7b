"""The Indonesian catalogue: extract, update and compile with Babel, no GNU gettext.

``make messages`` (``python -m config.messages``) finds every string wrapped for translation in
the project's Python code (``_``, ``gettext``, ``gettext_lazy``, ``ngettext``, ``pgettext``...)
and templates (``{% translate %}``, ``{% blocktranslate %}``, read through Django's own
``templatize``, as ``makemessages`` does), updates ``config/locale/id/LC_MESSAGES/django.po`` (new
strings arrive untranslated, strings no longer used are dropped, translations are kept) and
compiles ``django.mo`` beside it. Both files are committed: nothing is compiled at install or
run time. ``tests/test_i18n_catalogue.py`` fails when a wrapped string has no Indonesian
translation or the ``.mo`` differs from the ``.po``. Babel is a development dependency only.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("config", "tenants", "monitoring", "incidents", "playbooks")
LOCALE_DIR = ROOT / "config" / "locale"
PO_PATH = LOCALE_DIR / "id" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")
KEYWORDS: dict[str, Any] = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
TEMPLATE_SUFFIXES = (".html", ".txt")


def _files() -> Iterator[Path]:
    for name in SOURCES:
        for path in sorted((ROOT / name).rglob("*")):
            if not path.is_file() or "migrations" in path.parts or "static" in path.parts:
                continue
            if path.suffix == ".py" or (
                path.suffix in TEMPLATE_SUFFIXES and "templates" in path.parts
            ):
                yield path


def _msgid(func: str, message: Any) -> Any:
    """Babel hands the call's string arguments; keep those the keyword's spec names."""
    spec = KEYWORDS.get(func)
    if spec is None:
        value = message[0] if isinstance(message, tuple) else message
        return value or None
    args = message if isinstance(message, tuple) else (message,)
    if func.startswith("np"):
        singular, plural = args[1], args[2]
        return (singular, plural) if singular and plural else None
    if func.startswith("p"):
        return args[1] or None
    singular, plural = args[0], args[1] if len(args) > 1 else None
    return (singular, plural) if singular and plural else None


def _context_of(func: str, message: Any) -> str | None:
    if func.startswith(("p", "np")):
        args = message if isinstance(message, tuple) else (message,)
        return args[0] or None
    return None


def extracted() -> dict[tuple[str | None, Any], list[tuple[str, int]]]:
    """(context, msgid) of every wrapped string, with where it is used."""
    from babel.messages.extract import extract_python
    from django.utils.translation.template import templatize

    found: dict[tuple[str | None, Any], list[tuple[str, int]]] = {}
    for path in _files():
        text = path.read_text(encoding="utf-8")
        if path.suffix != ".py":
            text = templatize(text, origin=str(path))
        source = io.BytesIO(text.encode("utf-8"))
        relative = path.relative_to(ROOT).as_posix()
        for lineno, func, message, _comments in extract_python(
            source, KEYWORDS, [], {"encoding": "utf-8"}
        ):
            msgid = _msgid(str(func), message)
            if msgid is None:
                continue
            context = _context_of(str(func), message)
            found.setdefault((context, msgid), []).append((relative, lineno))
    return found


def template_catalog() -> Any:
    from babel.messages.catalog import Catalog

    catalog = Catalog(locale="id", project="Sigap", domain="django")
    for (context, msgid), places in sorted(
        extracted().items(), key=lambda item: (item[1][0], str(item[0]))
    ):
        catalog.add(msgid, locations=places, context=context)
    return catalog


def read_catalog(path: Path = PO_PATH) -> Any:
    from babel.messages.pofile import read_po

    with path.open("rb") as source:
        return read_po(source, locale="id", domain="django")


def write_catalog(catalog: Any, path: Path = PO_PATH) -> None:
    from babel.messages.pofile import write_po

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as target:
        write_po(
            target,
            catalog,
            width=100,
            include_lineno=False,
            ignore_obsolete=True,
            omit_header=False,
        )


def compiled(catalog: Any) -> bytes:
    from babel.messages.mofile import write_mo

    target = io.BytesIO()
    write_mo(target, catalog, use_fuzzy=False)
    return target.getvalue()


def update() -> Any:
    """The catalogue with every wrapped string: translations kept, new ones empty."""
    template = template_catalog()
    if PO_PATH.exists():
        catalog = read_catalog()
        template.creation_date = catalog.creation_date  # no churn in the header
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
    else:
        catalog = template
    catalog.header_comment = "# Indonesian catalogue of Sigap. Update with `make messages`."
    catalog.language_team = "Sigap"
    catalog.fuzzy = False
    return catalog


def untranslated(catalog: Any) -> list[str]:
    """Msgids without a complete, non-fuzzy Indonesian translation."""
    missing = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def main(argv: list[str]) -> int:
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    catalog = update()
    write_catalog(catalog)
    catalog = read_catalog()
    MO_PATH.write_bytes(compiled(catalog))
    missing = untranslated(catalog)
    print(f"{PO_PATH.relative_to(ROOT)}: {len(catalog)} strings, {len(missing)} untranslated")
    for msgid in missing:
        print(f"  untranslated: {msgid!r}")
    return 0


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "1")
    raise SystemExit(main(sys.argv[1:]))
