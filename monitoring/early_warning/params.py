"""Kind-specific settings of an alert rule (``AlertRule.params``), checked for every writer.

Pure Python (no models): ``AlertRule.clean`` calls :func:`validate_params`. Each kind accepts
only the keys listed in ``PARAMS``; an unknown key or a bad value is a ``ValidationError`` keyed
by ``params`` whose message names the key.
"""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_KEYWORDS = 100
MAX_KEYWORD_CHARS = 100

# kind -> {key: description}
PARAMS: dict[str, dict[str, str]] = {
    "spike": {},
    "negative-surge": {},
    "provocation-burst": {},
    "owned-account": {},
    "hoax-spread": {"min_authors": "distinct authors a cluster needs (2 or more)"},
    "influential-author": {"min_followers": "followers an author needs (0 or more)"},
    "trigger-keywords": {"keywords": "the words or phrases to watch (1 to 100)"},
    "velocity": {
        "min_rate": "engagements an hour a mention must reach (more than 0)",
        "ratio": "how many times its earlier rate (1 or more)",
    },
}


def _error(message: str) -> ValidationError:
    return ValidationError({"params": ValidationError(message, code="invalid_params")})


def _integer(params: dict[str, Any], key: str, minimum: int) -> None:
    value = params[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _error(
            _("'%(key)s' must be a whole number of at least %(min)d.")
            % {"key": key, "min": minimum}
        )


def _number(params: dict[str, Any], key: str, minimum: float, strict: bool) -> None:
    value = params[key]
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < minimum or (strict and value == minimum):
        raise _error(
            _("'%(key)s' must be a number %(op)s %(min)g.")
            % {"key": key, "op": _("above") if strict else _("of at least"), "min": minimum}
        )


def validate_params(kind: str, params: object) -> dict[str, Any]:
    """The normalised params of a rule of ``kind``; ``ValidationError`` keyed by ``params``."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise _error(_("Must be a JSON object."))
    allowed = PARAMS.get(kind)
    if allowed is None:
        return dict(params)  # the kind's own field error says what is wrong
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise _error(
            _("Unknown keys for a %(kind)s rule: %(keys)s.")
            % {"kind": kind, "keys": ", ".join(unknown)}
        )
    out = dict(params)
    if kind == "trigger-keywords":
        words = out.get("keywords")
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise _error(_("'keywords' must be a list of words or phrases."))
        cleaned: list[str] = []
        for word in words:
            word = " ".join(word.split())
            if word and word.lower() not in {w.lower() for w in cleaned}:
                cleaned.append(word)
        if not cleaned or len(cleaned) > MAX_KEYWORDS:
            raise _error(
                _("'keywords' must hold 1 to %(max)d words or phrases.") % {"max": MAX_KEYWORDS}
            )
        if any(len(w) > MAX_KEYWORD_CHARS for w in cleaned):
            raise _error(
                _("Each keyword has at most %(max)d characters.") % {"max": MAX_KEYWORD_CHARS}
            )
        out["keywords"] = cleaned
    if "min_authors" in out:
        _integer(out, "min_authors", 2)
    if "min_followers" in out:
        _integer(out, "min_followers", 0)
    if "min_rate" in out:
        _number(out, "min_rate", 0, strict=True)
    if "ratio" in out:
        _number(out, "ratio", 1, strict=False)
    return out
