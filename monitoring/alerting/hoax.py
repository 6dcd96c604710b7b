"""Hoax spread: the same claim posted by many distinct authors within a window.

Copy-paste campaigns edit each copy a little: case, emoji, hashtags, appended links, slang
spellings, a few swapped words. Each text is reduced to its **claim key** (:func:`claim_tokens`):
the words only (URLs, @handles, hashtags, emoji and punctuation dropped), lower-cased, number
and letter-repeat spellings undone and slang mapped to the formal word with the scorer's
dictionaries (``gak`` -> ``tidak``, ``yg`` -> ``yang``), repeated letters collapsed. Its
shingles are the words and word pairs, signed with a MinHash (``datasketch``, 128
permutations, fixed seed: deterministic) and indexed by locality-sensitive hashing, so a new
mention meets only the few earlier ones likely to be near copies. It joins the cluster of
the most similar earlier mention whose estimated Jaccard similarity reaches the threshold, or
starts its own cluster.

A cluster alerts once, when its members still inside the window come from ``min_authors``
distinct authors; later copies join the open alert (live: merge). Members older than the window
leave the index, so a cluster that stops spreading is forgotten and memory stays bounded.

:func:`hash_values` signs a batch of texts at once (numpy over datasketch's own hash function
and permutations: the values of ``MinHash.update_batch``), :func:`band_hashes` gives the LSH
band hashes of signatures as 64-bit integers, the band's index mixed in: what the live layer
stores (tenant, hash, latest mention, time) so clusters span workers and survive restarts.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any, cast

import numpy as np
from datasketch import MinHash, MinHashLSH
from datasketch.minhash import (
    _SCHEME_DTYPES,
    _SCHEME_LEGACY,
    _SCHEME_WIDTHS,
    _fmix,
    _max_hash,
    _mersenne_prime,
)

from .mentions import MentionEvent
from .types import (
    Alert,
    MentionRef,
    check_sensitivity,
    check_severity,
    iso,
    score_from_ratio,
    severity_from_score,
)

NUM_PERM = 128
SEED = 20260301
MIN_TOKENS = 6  # shorter texts are too generic to call copies of one claim
# (Jaccard threshold, distinct authors) per sensitivity
HOAX_PRESETS: dict[str, tuple[float, int]] = {
    "low": (0.6, 5),
    "medium": (0.5, 3),
    "high": (0.4, 3),
}
_REPEATS = re.compile(r"(.)\1+")
# A cluster whose first copy is older than the window has been circulating all along (a
# slogan, a common question, a syndicated headline): it alerts only when its share of the
# tenant's mentions inside the window reaches this many times its share before (a new cluster
# has no "before" and alerts on its authors alone).
CHATTER_RATIO = 3.0
VOLUME_KEEP = timedelta(days=30)  # hourly mention counts kept for that comparison (offline)

_resources: Any = None
_resources_lock = threading.Lock()


def _res() -> Any:
    global _resources
    if _resources is None:
        with _resources_lock:
            if _resources is None:
                from monitoring.scoring.normalize import Resources

                _resources = Resources()
    return _resources


# token text -> its claim words (``_claim_words``); bounded like the scorer's form cache
_WORD_PARTS: dict[str, tuple[str, ...]] = {}
_WORD_PARTS_MAX = 500_000


def _claim_words(text: str) -> tuple[str, ...]:
    """One word token's claim words: lower-cased, its word form, slang mapped to the formal
    word (also after collapsing repeated letters), letter repeats collapsed."""
    word = text.lower().strip("'*$")
    if not word:
        return ()
    res = _res()
    form = res.word_form(word)
    mapped = res.id_slang_t.get(form) or res.en_slang_t.get(form)
    if mapped is None:
        collapsed = _REPEATS.sub(r"\1", form)
        mapped = res.id_slang_t.get(collapsed) or res.en_slang_t.get(collapsed) or (form,)
    out = []
    for part in mapped:
        part = _REPEATS.sub(r"\1", part)
        if part and any(ch.isalnum() for ch in part):
            out.append(part)
    return tuple(out)


# whitespace-free piece of a text -> its claim words (``claim_tokens``); bounded like the
# scorer's ``Resources.chunk_cache``
_PIECE_WORDS: dict[str, tuple[str, ...]] = {}
_PIECE_WORDS_MAX = 200_000


def claim_tokens(text: str) -> list[str]:
    """The words of ``text`` as a claim key (see the module docstring).

    No token holds white space and the tokenizer treats white space as either end of the text
    (``normalize.tokens_and_forms``), so a text's word tokens are those of its whitespace-free
    pieces (``str.split``: the white space of the regular expressions' ``\\s``), in order; and a
    word's claim words depend on the word alone. Pieces recur from text to text (words,
    handles, links): each one's claim words are worked out once per process
    (``_PIECE_WORDS``), each distinct word's mapping too (``_claim_words``: the slang and
    word-form lookups were half the cost of a signature)."""
    cache = _PIECE_WORDS
    out: list[str] = []
    for piece in text.split():
        words = cache.get(piece)
        if words is None:
            words = _piece_words(piece)
            if len(cache) < _PIECE_WORDS_MAX:
                cache[piece] = words
        out += words
    return out


def _piece_words(piece: str) -> tuple[str, ...]:
    """The claim words of one piece of text, token by token."""
    from monitoring.scoring.normalize import tokenize

    cache = _WORD_PARTS
    out: list[str] = []
    for token in tokenize(piece):
        if token.kind != "word":
            continue
        parts = cache.get(token.text)
        if parts is None:
            parts = _claim_words(token.text)
            if len(cache) < _WORD_PARTS_MAX:
                cache[token.text] = parts
        out.extend(parts)
    return tuple(out)


def shingles(tokens: list[str]) -> set[bytes]:
    """Words and word pairs."""
    grams = {t.encode() for t in tokens}
    grams.update(f"{a} {b}".encode() for a, b in pairwise(tokens))
    return grams


_blank: MinHash | None = None


def _blank_minhash() -> MinHash:
    """An empty MinHash of ``NUM_PERM`` permutations of seed ``SEED``, made once per process:
    datasketch draws the permutations from the seed on every ``MinHash()``, and ``copy()``
    shares them (same hash values, no redrawing per text)."""
    global _blank
    if _blank is None:
        _blank = MinHash(num_perm=NUM_PERM, seed=SEED)
    return _blank


def hash_values(texts: Sequence[str]) -> list[np.ndarray | None]:
    """The MinHash hash values of each text's claim key (None when it is too short to be a
    claim), all texts at once: datasketch's own hash function per shingle, then its
    permutations and the minimum per text as numpy operations over the whole batch. The values
    are those of ``MinHash.update_batch`` on each text (``tests/alerting/test_hoax_signature.py``)
    without its per-text call overhead. A claim key signed before in this process (copies of
    one post, or edits that only change case, emoji, links, tags or spellings) takes the values
    it got then (``_SIGNED``); the arrays returned are read-only."""
    out: list[np.ndarray | None] = [None] * len(texts)
    signed = _SIGNED
    todo: dict[tuple[str, ...], list[int]] = {}  # claim key -> positions of the texts to sign
    for position, text in enumerate(texts):
        tokens = claim_tokens(text)
        if len(tokens) < MIN_TOKENS:
            continue
        key = tuple(tokens)
        known = signed.get(key)
        if known is not None:
            out[position] = known
            continue
        waiting = todo.get(key)
        if waiting is None:
            todo[key] = [position]
        else:
            waiting.append(position)
    batch: list[tuple[int, set[bytes]]] = []  # (position, shingles) of the texts to sign
    size = 0
    for key, positions in todo.items():
        grams = shingles(list(key))
        batch.append((positions[0], grams))
        size += len(grams)
        if size >= _BATCH_SHINGLES:
            _sign_batch(batch, out)
            batch, size = [], 0
    if batch:
        _sign_batch(batch, out)
    for key, positions in todo.items():
        values = cast(np.ndarray, out[positions[0]])
        values.flags.writeable = False
        for position in positions[1:]:
            out[position] = values
        if len(signed) < _SIGNED_MAX:
            signed[key] = values
    return out


# claim key -> its hash values (``hash_values``); about 1.3 KiB an entry
_SIGNED: dict[tuple[str, ...], np.ndarray] = {}
_SIGNED_MAX = 10_000


# Shingles per numpy step: x NUM_PERM values (512 KiB of 32-bit ones) stay in the CPU's cache
# through the permutation and the minimum (a step of 8,192 took about 40 % longer).
_BATCH_SHINGLES = 1024

# shingle -> datasketch's hash of it (a SHA-1 per call): words and common pairs recur from text
# to text. Bounded like ``_WORD_PARTS`` (about 150 bytes an entry).
_GRAM_HASHES: dict[bytes, int] = {}
_GRAM_HASHES_MAX = 200_000


def _gram_hashes(
    batch: list[tuple[int, set[bytes]]], hashfunc: Callable[[bytes], int]
) -> list[int]:
    """The hash of every shingle of the batch, in order (``hashfunc``'s own values)."""
    cache = _GRAM_HASHES
    hashes: list[int] = []
    append = hashes.append
    for _, grams in batch:
        for gram in grams:
            value = cache.get(gram)
            if value is None:
                value = hashfunc(gram)
                if len(cache) < _GRAM_HASHES_MAX:
                    cache[gram] = value
            append(value)
    return hashes


def _sign_batch(batch: list[tuple[int, set[bytes]]], out: list[np.ndarray | None]) -> None:
    """Sign one batch of texts (their positions and shingles) into ``out``: the shingles of all
    of them permuted in one array, the minimum per text by ``reduceat`` over their runs."""
    blank = _blank_minhash()
    hashes = _gram_hashes(batch, blank.hashfunc)
    a, b = blank.permutations
    if blank.scheme == _SCHEME_LEGACY:
        hv = np.array(hashes, dtype=np.uint64).reshape(-1, 1)
        permuted = np.bitwise_and((hv * a + b) % _mersenne_prime, _max_hash)
    else:
        hv = np.array(hashes, dtype=_SCHEME_DTYPES[blank.scheme]).reshape(-1, 1)
        permuted = _fmix(hv, _SCHEME_WIDTHS[blank.scheme]) * a
        permuted += b  # in place: no second array of the batch's size
    starts = np.cumsum([0] + [len(grams) for _, grams in batch[:-1]])
    values = np.minimum(np.minimum.reduceat(permuted, starts, axis=0), blank.hashvalues)
    for (position, _), row in zip(batch, values, strict=True):
        out[position] = row


def signature(text: str) -> MinHash | None:
    """The MinHash of a text's claim key; None when it is too short to be a claim."""
    values = hash_values([text])[0]
    if values is None:
        return None
    minhash = _blank_minhash().copy()
    minhash.hashvalues = values.copy()  # its own: a MinHash may be updated
    return minhash


_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_BAND_SALT = np.uint64(0x5167A9)


def _mix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finalizer: a bijection of 64-bit values that spreads every input bit."""
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


def band_hashes(values: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """The LSH band hashes of signatures (one row of ``NUM_PERM`` hash values each): an array
    of ``bands`` signed 64-bit hashes per row (for a bigint column). The band's index is mixed
    into its hash, so one hash names one band's values (the live table keeps one row per
    hash). Computed for every row and band at once; the stored signatures
    (``HoaxMember.signature``, unsigned 64-bit) give the same hashes as fresh ones."""
    flat = np.asarray(values, dtype=np.uint64).reshape(len(values), -1)
    matrix = flat[:, : bands * rows].reshape(len(values), bands, rows)
    out = np.broadcast_to(
        _mix64(np.arange(bands, dtype=np.uint64) + _BAND_SALT), (len(values), bands)
    ).copy()
    for row in range(rows):
        out = _mix64(out ^ matrix[:, :, row])
    return out.view(np.int64)


@dataclass(frozen=True)
class HoaxConfig:
    sensitivity: str = "medium"
    window: timedelta = timedelta(hours=24)
    severity: str | None = None
    threshold: float | None = None  # Jaccard; None: from the sensitivity
    min_authors: int | None = None  # None: from the sensitivity
    rule: str = "hoax-spread"

    def __post_init__(self) -> None:
        check_sensitivity(self.sensitivity)
        check_severity(self.severity)
        if self.window <= timedelta(0):
            raise ValueError("window must be a positive duration")

    @property
    def jaccard(self) -> float:
        return self.threshold if self.threshold is not None else HOAX_PRESETS[self.sensitivity][0]

    @property
    def authors_needed(self) -> int:
        if self.min_authors is not None:
            return self.min_authors
        return HOAX_PRESETS[self.sensitivity][1]


@dataclass
class Cluster:
    cluster_id: str
    first: MentionEvent
    members: list[MentionEvent] = field(default_factory=list)
    active: deque[MentionEvent] = field(default_factory=deque)  # members inside the window
    alerted: bool = False

    def active_authors(self) -> dict[str, MentionEvent]:
        """Each distinct author among the active members, with their first post."""
        out: dict[str, MentionEvent] = {}
        for member in self.active:
            out.setdefault(member.author_key, member)
        return out

    def authors(self) -> list[str]:
        seen: dict[str, str] = {}
        for member in self.members:
            seen.setdefault(member.author_key, member.author)
        return list(seen.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "cluster_id": self.cluster_id,
            "external_ids": [m.external_id for m in self.members],
            "mentions": [m.ref.to_dict() for m in self.members],
            "authors": self.authors(),
            "first_poster": self.first.author,
            "first_at": iso(self.first.published_at),
        }


class HoaxSpread:
    """The hoax-spread rule over one tenant's stream of mentions, in published order."""

    def __init__(self, config: HoaxConfig) -> None:
        self.config = config
        self.lsh = MinHashLSH(threshold=config.jaccard, num_perm=NUM_PERM)
        self.signatures: dict[int, MinHash] = {}
        self.cluster_of: dict[int, Cluster] = {}
        self.clusters: list[Cluster] = []
        self.order: deque[tuple[datetime, int, MentionEvent]] = deque()
        self.next_key = 0
        self.volume: dict[datetime, int] = {}  # every observed mention per hour

    def observe(self, event: MentionEvent) -> Alert | None:
        self._prune(event.published_at)
        hour = event.published_at.replace(minute=0, second=0, microsecond=0)
        self.volume[hour] = self.volume.get(hour, 0) + 1
        minhash = signature(event.text)
        if minhash is None:
            return None
        best: tuple[bool, float, int] | None = None
        for key in self.lsh.query(minhash):
            similarity = minhash.jaccard(self.signatures[key])
            if similarity < self.config.jaccard:
                continue
            # A copy that reaches a grown cluster joins it rather than pairing with a lone
            # earlier post: one campaign stays one cluster (one alert) however it was edited.
            grown = len(self.cluster_of[key].members) > 1
            if best is None or (grown, similarity, -key) > (best[0], best[1], -best[2]):
                best = (grown, similarity, key)
        key = self.next_key
        self.next_key += 1
        if best is None:
            cluster = Cluster(f"{event.platform}:{event.external_id}", event)
            self.clusters.append(cluster)
        else:
            cluster = self.cluster_of[best[2]]
        cluster.members.append(event)
        cluster.active.append(event)
        self.cluster_of[key] = cluster
        self.signatures[key] = minhash
        self.lsh.insert(key, minhash)
        self.order.append((event.published_at, key, event))
        authors = cluster.active_authors()
        if cluster.alerted or len(authors) < self.config.authors_needed:
            return None
        if not self._spreading(cluster, event.published_at):
            return None
        cluster.alerted = True
        return self._alert(cluster, event, authors)

    def _mentions_between(self, start: datetime, end: datetime) -> int:
        return sum(n for hour, n in self.volume.items() if start <= hour < end)

    def _spreading(self, cluster: Cluster, now: datetime) -> bool:
        """A new cluster spreads; an old one only when it outgrows its usual share
        (:func:`outgrows_chatter`)."""
        window_start = now - self.config.window
        if cluster.first.published_at >= window_start:
            return True
        active = len(cluster.active)
        return outgrows_chatter(
            recent=active,
            recent_total=self._mentions_between(window_start, now + timedelta(hours=1)),
            earlier=len(cluster.members) - active,
            earlier_total=self._mentions_between(cluster.first.published_at, window_start),
        )

    def _prune(self, now: datetime) -> None:
        if len(self.volume) > VOLUME_KEEP / timedelta(hours=1) + 24:
            oldest = now - VOLUME_KEEP
            for hour in [h for h in self.volume if h < oldest]:
                del self.volume[hour]
        horizon = now - self.config.window
        while self.order and self.order[0][0] < horizon:
            _, key, event = self.order.popleft()
            self.lsh.remove(key)
            del self.signatures[key]
            cluster = self.cluster_of.pop(key)
            if cluster.active and cluster.active[0] is event:
                cluster.active.popleft()

    def reported_clusters(self, min_authors: int | None = None) -> list[Cluster]:
        """Every cluster that ever had ``min_authors`` (default: the rule's) distinct authors,
        in order of birth."""
        needed = self.config.authors_needed if min_authors is None else min_authors
        return [c for c in self.clusters if len(c.authors()) >= needed]

    def _alert(
        self, cluster: Cluster, event: MentionEvent, authors: dict[str, MentionEvent]
    ) -> Alert:
        config = self.config
        start = cluster.active[0].published_at
        hours = max((event.published_at - start).total_seconds() / 3600, 0.0)
        count = len(authors)
        snippet = " ".join(cluster.first.text.split())
        snippet = snippet if len(snippet) <= 140 else snippet[:137] + "..."
        explanation = (
            f"The same claim was posted by {count} distinct accounts within {hours:.1f} hours "
            f"(first by {cluster.first.author or 'an unknown author'} at "
            f"{iso(cluster.first.published_at)}; the rule fires at {config.authors_needed}): "
            f'"{snippet}"'
        )
        score = score_from_ratio(count, config.authors_needed)
        links = sorted({d for m in cluster.members for d in m.domains})
        low = sorted({d for m in cluster.members for d in m.low_credibility})
        return Alert(
            rule=config.rule,
            at=event.published_at,
            window_start=start,
            window_end=event.published_at,
            observed=float(count),
            baseline=1.0,
            threshold=float(config.authors_needed),
            explanation=explanation,
            severity=config.severity or severity_from_score(score),
            dedupe_key=f"{config.rule}:{cluster.cluster_id}",
            score=score,
            subject={
                "cluster": {
                    "cluster_id": cluster.cluster_id,
                    "first_poster": cluster.first.author,
                    "authors": [m.author for m in authors.values()],
                    "links": links,
                    "low_credibility_links": low,
                }
            },
            mentions=[MentionRef(m.platform, m.external_id, m.author) for m in cluster.members],
            details={"spread": _spread(cluster)},
        )


def outgrows_chatter(*, recent: int, recent_total: int, earlier: int, earlier_total: int) -> bool:
    """Whether a cluster that was already circulating before the window spreads now: its copies
    make up at least ``CHATTER_RATIO`` times the share of the tenant's mentions they made up
    before (the same test live and offline)."""
    if earlier <= 0 or earlier_total <= 0:
        return True
    recent_share = recent / max(recent_total, recent, 1)
    earlier_share = earlier / max(earlier_total, earlier)
    return recent_share >= CHATTER_RATIO * earlier_share


def _spread(cluster: Cluster) -> list[dict[str, Any]]:
    """Members per hour since the first post."""
    counts: dict[str, int] = {}
    for member in cluster.members:
        hour = member.published_at.replace(minute=0, second=0, microsecond=0)
        counts[iso(hour)] = counts.get(iso(hour), 0) + 1
    return [{"hour": hour, "mentions": n} for hour, n in sorted(counts.items())]
