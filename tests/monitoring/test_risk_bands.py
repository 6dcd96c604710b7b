"""Risk bands: one definition (``monitoring.scoring.risk``), read by both APIs, their filters,
the admin and the docs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from monitoring.choices import RiskBand
from monitoring.scoring.risk import RISK_BANDS, band_range, risk_band
from tests.conftest import error_codes
from tests.factories import UserFactory
from tests.monitoring.factories import MentionFactory

SCORING_DOC = Path(__file__).resolve().parents[2] / "docs" / "scoring.md"


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (0, "low"),
        (24, "low"),
        (25, "elevated"),
        (49, "elevated"),
        (50, "high"),
        (74, "high"),
        (75, "critical"),
        (100, "critical"),
    ],
)
def test_each_score_falls_in_one_band(score: int, band: str) -> None:
    assert risk_band(score) == band
    lowest, highest = band_range(band)
    assert lowest <= score <= highest


def test_bands_cover_0_to_100_without_gaps_and_match_the_choices() -> None:
    covered = [score for name, _ in RISK_BANDS for score in range(*_inclusive(band_range(name)))]
    assert covered == list(range(101))
    assert [name for name, _ in RISK_BANDS] == list(RiskBand.values)
    with pytest.raises(KeyError):
        band_range("severe")


def _inclusive(bounds: tuple[int, int]) -> tuple[int, int]:
    return bounds[0], bounds[1] + 1


def test_the_docs_state_the_bands_of_the_code() -> None:
    text = SCORING_DOC.read_text()
    rows = re.findall(r"^\| `(\w+)` \| (\d+)\u2013(\d+) \|", text, flags=re.M)  # en dash
    table = {name: (int(low), int(high)) for name, low, high in rows}
    assert table == {name: band_range(name) for name, _ in RISK_BANDS}
    for name, lowest in RISK_BANDS[1:]:
        assert f"{lowest} ≤ risk" in text or f"risk ≥ {lowest}" in text, name


def test_rest_and_graphql_show_the_band_and_filter_by_it(
    api: Any, gql: Any, tenant: Any, other_tenant: Any, members: dict[str, Any]
) -> None:
    scores = {"calm": 10, "edge": 25, "hot": 74, "fire": 75, "top": 100}
    made = {name: MentionFactory(tenant=tenant, risk=risk) for name, risk in scores.items()}
    MentionFactory(tenant=other_tenant, risk=90)
    client = api(members["client"])
    url = f"/api/v1/tenants/{tenant.slug}/mentions/"
    detail = client.get(f"{url}{made['fire'].pk}/").json()
    assert (detail["risk"], detail["risk_band"]) == (75, "critical")
    expected = {
        "low": ["calm"],
        "elevated": ["edge"],
        "high": ["hot"],
        "critical": ["fire", "top"],
    }
    query = """query($slug: String!, $band: String) {
      mentions(slug: $slug, filters: {risk_band: $band}, ordering: "risk") { id risk risk_band }
    }"""
    for band, names in expected.items():
        rest = client.get(url, {"risk_band": band, "ordering": "risk"}).json()["results"]
        assert [m["id"] for m in rest] == [made[name].pk for name in names], band
        assert {m["risk_band"] for m in rest} == {band}
        body = gql(query, user=members["client"], variables={"slug": tenant.slug, "band": band})
        graphql = body["data"]["mentions"]
        assert [int(m["id"]) for m in graphql] == [made[name].pk for name in names], band
        assert [m["risk_band"] for m in graphql] == [m["risk_band"] for m in rest]
    bad = client.get(url, {"risk_band": "severe"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["attr"] == "risk_band"
    wrong = gql(query, user=members["client"], variables={"slug": tenant.slug, "band": "severe"})
    assert error_codes(wrong) == ["BAD_USER_INPUT"]
    assert wrong["errors"][0]["extensions"]["field"] == "risk_band"


def test_admin_list_colours_each_band_with_local_css(tenant: Any) -> None:
    for risk in (5, 30, 60, 90):
        MentionFactory(tenant=tenant, risk=risk, author_handle=f"risk{risk}")
    staff = UserFactory(agency=tenant.agency, is_agency_admin=True, is_staff=True)
    client = Client()
    client.force_login(staff)
    page = client.get("/admin/monitoring/mention/")
    html = page.content.decode()
    for band, risk in (("low", 5), ("elevated", 30), ("high", 60), ("critical", 90)):
        label = RiskBand(band).label
        assert f'<span class="sigap-risk sigap-risk--{band}">{risk} · {label}</span>' in html
    assert "monitoring/admin/risk.css" in html and "//cdn" not in html
    css = finders.find("monitoring/admin/risk.css")
    assert css is not None
    assert all(f".sigap-risk--{band}" in Path(css).read_text() for band in RiskBand.values)
    critical = client.get("/admin/monitoring/mention/", {"risk_band": "critical"}).content
    assert b"risk90" in critical and b"risk60" not in critical
    by_risk = client.get("/admin/monitoring/mention/", {"o": "-7"}).content.decode()
    assert by_risk.index("risk90") < by_risk.index("risk60") < by_risk.index("risk5")
