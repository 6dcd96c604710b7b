"""Response advice per crisis, after Situational Crisis Communication Theory (SCCT).

The rules are data (``playbooks/data/advice.json``, documented in ``docs/playbooks.md``): each
crisis trigger has a base crisis-responsibility cluster (victim, accidental, preventable) and a
recommended posture; a crisis history (similar incidents of the tenant within
``history_window_days``) shifts the cluster one step up (``history_shift``: victim → accidental
→ preventable), and a shifted cluster takes that cluster's posture (``cluster_postures``). The
reasoning is written in the tenant's language (Indonesian or English). ``advise`` is pure: the
caller counts the history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

RULES_FILE = Path(__file__).parent / "data" / "advice.json"
CLUSTERS = ("victim", "accidental", "preventable")
LANGUAGES = ("id", "en")


@cache
def rules() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    return data


def postures() -> tuple[str, ...]:
    return tuple(rules()["postures"])


@dataclass(frozen=True)
class Advice:
    cluster: str
    posture: str
    reasoning: str
    similar_incidents: int


def _text(entry: dict[str, str], language: str) -> str:
    return entry.get(language) or entry["en"]


def advise(*, trigger: str, similar_incidents: int, language: str) -> Advice:
    """The cluster, posture and reasoning for a crisis of ``trigger`` in a tenant that had
    ``similar_incidents`` crises of that trigger within the history window."""
    data = rules()
    base = data["triggers"][trigger]
    cluster, posture = base["cluster"], base["posture"]
    years = round(data["history_window_days"] / 365)
    lines = [_text(base, language), _text(data["clusters"][cluster], language)]
    if similar_incidents <= 0:
        lines.append(_text(data["history"]["none"], language) % {"years": years})
    elif cluster in data["history_shift"]:
        after = data["history_shift"][cluster]
        lines.append(
            _text(data["history"]["some"], language)
            % {"count": similar_incidents, "years": years, "before": cluster, "after": after}
        )
        cluster, posture = after, data["cluster_postures"][after]
        lines.append(_text(data["clusters"][cluster], language))
    else:
        lines.append(
            _text(data["history"]["top"], language) % {"count": similar_incidents, "years": years}
        )
    lines.append(_text(data["postures"][posture], language))
    return Advice(
        cluster=cluster,
        posture=posture,
        reasoning=" ".join(lines),
        similar_incidents=similar_incidents,
    )


def history_window_days() -> int:
    return int(rules()["history_window_days"])
