"""Static files in production: WhiteNoise's compressed storage with hashed names, which leaves
``sourceMappingURL`` comments alone.

Django's hashed storage rewrites each ``sourceMappingURL`` to the map's hashed name and refuses
to collect a file whose map is missing. Packaged bundles (GraphiQL's, from
``graphene-django-graphiql-static``) name maps they do not ship; maps are never served, so the
comments stay as written and every other reference (``url()``, ``@import``) is still hashed.
"""

from __future__ import annotations

from typing import Any

from whitenoise.storage import CompressedManifestStaticFilesStorage


def _without_source_maps(patterns: Any) -> tuple[Any, ...]:
    kept = []
    for extension, rules in patterns:
        rules = tuple(
            rule
            for rule in rules
            if "sourceMappingURL" not in (rule[0] if isinstance(rule, tuple) else rule)
        )
        if rules:
            kept.append((extension, rules))
    return tuple(kept)


class StaticStorage(CompressedManifestStaticFilesStorage):  # type: ignore[misc]  # untyped
    patterns = _without_source_maps(CompressedManifestStaticFilesStorage.patterns)
