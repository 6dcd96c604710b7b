"""Step 0, input check: which inputs can be scored at all.

:func:`check_text` returns the text to score or raises :class:`ScoringError` with a stable
``code`` (``missing_text``, ``invalid_text``, ``invalid_encoding``, ``text_too_large``,
``binary_content``); the scorer reports that code for the item and goes on with the batch.
"""

from __future__ import annotations

import re
from typing import Any

MAX_TEXT_BYTES = 100_000
_BAD_CHARS = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")


class ScoringError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_text(text: Any) -> str:
    """Return the text to score, or raise :class:`ScoringError` for unusable input."""
    if text is None:
        raise ScoringError("missing_text", "no text given")
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ScoringError(
                "invalid_encoding", f"text is not valid UTF-8: {exc.reason}"
            ) from exc
    if not isinstance(text, str):
        raise ScoringError("invalid_text", f"text must be a string, got {type(text).__name__}")
    if len(text) > MAX_TEXT_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
        raise ScoringError("text_too_large", f"text is larger than {MAX_TEXT_BYTES} bytes")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ScoringError("invalid_encoding", "text contains unpaired surrogates") from exc
    if "\x00" in text:
        raise ScoringError("binary_content", "text contains NUL bytes (binary data)")
    if _BAD_CHARS.search(text):
        bad = len(_BAD_CHARS.findall(text))
        if bad > 8 and bad / len(text) > 0.1:
            raise ScoringError("binary_content", "text looks like binary or mis-decoded data")
    return text
