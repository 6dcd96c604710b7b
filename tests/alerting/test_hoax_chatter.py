"""Hoax spread against a claim's usual pace: a phrase that keeps circulating at its usual share
of the tenant's mentions (a slogan, a common question) stays quiet however long it lasts; the
same phrase suddenly copied far above that share alerts (``hoax.outgrows_chatter``). And one
campaign edited two ways stays one cluster, one alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitoring.alerting.hoax import CHATTER_RATIO, HoaxConfig, HoaxSpread, outgrows_chatter
from monitoring.alerting.mentions import MentionEvent

T0 = datetime(2026, 3, 2, tzinfo=UTC)
PHRASE = "ada yang tahu kopi senja cabang dago buka sampai jam berapa malam ini"


def mention(n: int, at: datetime, text: str, author: str) -> MentionEvent:
    return MentionEvent(
        platform="x", external_id=f"m{n}", published_at=at, text=text, author=author
    )


def replay(copies: list[datetime], hours: int) -> list[tuple[datetime, float]]:
    """Background chatter (one short post every 10 minutes: counted, never a claim) with
    copies of ``PHRASE`` at ``copies``; returns (time, authors) of each alert."""
    events = [
        mention(i, T0 + timedelta(minutes=10 * i), f"halo {i}", f"bg{i}") for i in range(hours * 6)
    ]
    events += [mention(100_000 + k, at, PHRASE, f"fan{k}") for k, at in enumerate(sorted(copies))]
    events.sort(key=lambda e: (e.published_at, e.external_id))
    detector = HoaxSpread(HoaxConfig(sensitivity="medium"))
    fired = []
    for event in events:
        alert = detector.observe(event)
        if alert is not None:
            fired.append((alert.at, alert.observed))
    return fired


def test_a_phrase_circulating_at_its_usual_pace_stays_quiet() -> None:
    # two copies a day (13 hours apart) for five days: never three authors in a window while
    # the cluster is new, and later three in a window is its usual share, not a spread
    steady = [T0 + timedelta(hours=1 + 13 * k) for k in range(9)]
    extra = [T0 + timedelta(hours=110)]  # one more: three authors in the last 24 hours
    assert replay(steady + extra, hours=120) == []


def test_the_same_phrase_copied_far_above_its_usual_share_alerts_once() -> None:
    steady = [T0 + timedelta(hours=1 + 13 * k) for k in range(9)]
    burst = [T0 + timedelta(hours=110, minutes=5 * k) for k in range(8)]
    fired = replay(steady + burst, hours=120)
    assert len(fired) == 1
    at, authors = fired[0]
    assert T0 + timedelta(hours=110) <= at < T0 + timedelta(hours=111)
    assert authors >= 3


def test_a_new_claim_alerts_on_its_authors_alone() -> None:
    fired = replay([T0 + timedelta(hours=50, minutes=k) for k in range(3)], hours=60)
    assert [authors for _, authors in fired] == [3.0]


def test_outgrows_chatter_compares_shares() -> None:
    # 2 of 100 before, 6 of 100 now: three times the share
    assert outgrows_chatter(recent=6, recent_total=100, earlier=2, earlier_total=100)
    assert not outgrows_chatter(recent=5, recent_total=100, earlier=2, earlier_total=100)
    # the tenant's volume tripled with it: the same share, no spread
    assert not outgrows_chatter(recent=6, recent_total=300, earlier=2, earlier_total=100)
    assert outgrows_chatter(recent=3, recent_total=10, earlier=0, earlier_total=50)
    assert CHATTER_RATIO == 3.0


CLAIM = (
    "beredar kabar bank lestari akan dibekukan ojk minggu depan segera tarik semua tabungan "
    "kalian sebelum terlambat"
)
# Edited far from the claim (estimated Jaccard 0.29 with it: not a copy of it on its own)...
FAR_EDIT = (
    "info terbaru bank lestari katanya mau dibekukan ojk bulan depan buruan ambil semua "
    "tabungan kalian sebelum terlambat"
)
# ...and a copy between the two, closer to the lone far edit (0.68) than to the claim (0.54).
BETWEEN = (
    "info terbaru bank lestari katanya mau dibekukan ojk minggu depan segera tarik semua "
    "tabungan kalian sebelum terlambat"
)


def test_a_campaign_edited_two_ways_stays_one_cluster_and_one_alert() -> None:
    """A copy that reaches a grown cluster joins it rather than pairing with a lone earlier
    post: otherwise the copies after the lone far edit would form a second cluster of the same
    campaign, and a second alert."""
    texts = [CLAIM] * 3 + [FAR_EDIT] + [BETWEEN] * 3
    detector = HoaxSpread(HoaxConfig(sensitivity="medium"))
    fired = []
    for n, text in enumerate(texts):
        event = mention(n, T0 + timedelta(minutes=n), text, f"akun{n}")
        alert = detector.observe(event)
        if alert is not None:
            fired.append(alert.dedupe_key)
    assert fired == ["hoax-spread:x:m0"]
    grown = [c for c in detector.clusters if len(c.members) > 1]
    assert [(c.cluster_id, len(c.members)) for c in grown] == [("x:m0", 6)]
