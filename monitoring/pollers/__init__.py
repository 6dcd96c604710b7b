"""Pollers that bring mentions in from public sources: RSS/Atom feeds and
Mastodon hashtag timelines or searches.

They are plain functions; every request goes through ``tenants.outbound`` (the
SSRF-safe client, which reads its allowlist and ports from the settings). The
caller keeps the per-source state (ETag, Last-Modified, Mastodon ``since_id``, failure count),
schedules the next poll with :func:`next_poll_delay` and hands the items to
ingestion.
"""

from .backoff import next_poll_delay
from .base import Author, Engagement, MentionItem, PollError, PollResult, strip_html
from .mastodon import poll_mastodon
from .rss import poll_feed

__all__ = [
    "Author",
    "Engagement",
    "MentionItem",
    "PollError",
    "PollResult",
    "next_poll_delay",
    "poll_feed",
    "poll_mastodon",
    "strip_html",
]
