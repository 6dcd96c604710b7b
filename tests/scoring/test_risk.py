"""Ordering properties of the documented risk score."""

from hypothesis import given
from hypothesis import strategies as st

from monitoring.scoring import ScoreInput, get_scorer, risk_score

HOSTILE = "Pelayanan @tokoabc goblok, bangsat! #boikot sebarkan sampai viral"


def test_big_account_outranks_small_account_for_same_hostile_text():
    scorer = get_scorer()
    big, small = scorer.score_batch(
        [ScoreInput(HOSTILE, author_followers=500_000), ScoreInput(HOSTILE, author_followers=20)]
    )
    assert big.risk > small.risk
    assert big.risk >= 50


def test_hostile_outranks_friendly_from_same_author():
    scorer = get_scorer()
    hostile, friendly = scorer.score_batch(
        [
            ScoreInput(HOSTILE, author_followers=5_000),
            ScoreInput("makasih min, pesanannya sudah sampai, mantap!", author_followers=5_000),
        ]
    )
    assert hostile.risk > friendly.risk
    assert friendly.risk < 20


def test_engagement_and_verification_raise_risk():
    base = risk_score(0.8, 0.7, ["provocation"], followers=1_000, engagement={"likes": 1})
    viral = risk_score(
        0.8, 0.7, ["provocation"], followers=1_000, engagement={"shares": 3_000, "likes": 20_000}
    )
    assert viral > base
    assert risk_score(0.8, 0.7, ["hoax"], 1_000, verified=True) >= risk_score(
        0.8, 0.7, ["hoax"], 1_000, verified=False
    )


def test_crisis_triggers_raise_risk():
    assert risk_score(0.5, 0.0, ["cyber_attack"], 1000) > risk_score(0.5, 0.0, [], 1000)


def test_bounds_extremes():
    assert risk_score(0, 0, [], 0, {}) == 0
    top = risk_score(
        1,
        1,
        ["cyber_attack", "hoax", "provocation", "unexpected_event"],
        10_000_000,
        {"shares": 1e6},
        True,
    )
    assert 90 <= top <= 100


unit = st.floats(min_value=0, max_value=1)
followers = st.integers(min_value=0, max_value=100_000_000)


@given(unit, unit, followers, followers)
def test_monotone_in_followers(neg, prov, a, b):
    lo, hi = sorted((a, b))
    assert risk_score(neg, prov, ["negative_news"], lo) <= risk_score(
        neg, prov, ["negative_news"], hi
    )


@given(unit, unit, unit, followers)
def test_monotone_in_negativity_and_bounded(n1, n2, prov, f):
    lo, hi = sorted((n1, n2))
    r_lo, r_hi = risk_score(lo, prov, [], f), risk_score(hi, prov, [], f)
    assert 0 <= r_lo <= r_hi <= 100
