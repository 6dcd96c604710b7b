"""The Indonesian catalogue stays honest (config/messages.py, docs/i18n.md): every string the
code wraps for translation has an Indonesian translation, with the same placeholders, and the
committed .mo is the compiled .po. Fix a failure with `make messages` and translate what it
lists as untranslated."""

from __future__ import annotations

import re

from babel.messages.mofile import read_mo
from django.utils import translation

from config import messages

PLACEHOLDER = re.compile(r"%\((\w+)\)[sdrg]|%[sdrg]")


def _key(message_id: object) -> object:
    return message_id if isinstance(message_id, str) else tuple(message_id)  # type: ignore[arg-type]


def _strings(message: object) -> tuple[str, ...]:
    string = message.string  # type: ignore[attr-defined]
    return tuple(string) if isinstance(string, tuple | list) else (string,)


def test_every_wrapped_string_has_an_indonesian_translation() -> None:
    by_key = {(m.context, _key(m.id)): m for m in messages.read_catalog() if m.id}
    missing = []
    for context, msgid in messages.extracted():
        found = by_key.get((context, _key(msgid)))
        if found is None or found.fuzzy or not all(_strings(found)):
            missing.append(msgid)
    assert not missing, f"untranslated (run `make messages`, then translate): {missing}"


def test_translations_keep_their_placeholders() -> None:
    for message in messages.read_catalog():
        if not message.id:
            continue
        source = message.id if isinstance(message.id, str) else message.id[-1]
        for text in _strings(message):
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(source)), (
                message.id,
                text,
            )


def test_the_committed_mo_is_the_compiled_po() -> None:
    with messages.MO_PATH.open("rb") as compiled:
        committed = {(m.context, _key(m.id)): _strings(m) for m in read_mo(compiled) if m.id}
    expected = {
        (m.context, _key(m.id)): _strings(m)
        for m in messages.read_catalog()
        if m.id and not m.fuzzy and all(_strings(m))
    }
    assert committed == expected, "django.mo is stale: run `make messages`"
    assert messages.MO_PATH.read_bytes() == messages.compiled(messages.read_catalog())


def test_django_reads_the_catalogue() -> None:
    with translation.override("id"):
        assert translation.gettext("No such tenant.") == "Tenant tidak ditemukan."
        assert translation.ngettext(
            "The link works once, for %(hours)s hour (until %(expires)s).",
            "The link works once, for %(hours)s hours (until %(expires)s).",
            72,
        ).startswith("Tautan ini hanya berlaku sekali")
    with translation.override("en"):
        assert translation.gettext("No such tenant.") == "No such tenant."
