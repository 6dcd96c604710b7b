"""Response-time targets and the timers of one incident (no Django imports: a pure module).

A tenant sets per severity how fast its team must acknowledge (triage), give the first public
statement, update the public while responding (the cadence) and resolve. Without a setting the
defaults below apply (``docs/incidents.md``, "Response-time targets"). ``timers`` says, for one
incident at one moment, when each target is due, whether it was met, and by how much it is
late; ``breaches`` lists the missed targets that the sweep records on the timeline.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Targets:
    """Minutes per target; None: no such target for this severity."""

    acknowledge: int
    first_statement: int | None
    update: int | None
    resolve: int | None


# SEV1: acknowledge in 15 min, speak within the hour, update every 20 min, resolve in a day.
DEFAULTS: dict[str, Targets] = {
    "sev1": Targets(acknowledge=15, first_statement=60, update=20, resolve=24 * 60),
    "sev2": Targets(acknowledge=30, first_statement=120, update=60, resolve=3 * 24 * 60),
    "sev3": Targets(acknowledge=4 * 60, first_statement=24 * 60, update=None, resolve=7 * 24 * 60),
    "sev4": Targets(acknowledge=24 * 60, first_statement=None, update=None, resolve=None),
}
# Which severities open an incident from an alert by themselves when the tenant set nothing.
DEFAULT_AUTO_OPEN = {"sev1": True, "sev2": True, "sev3": False, "sev4": False}


@dataclass(frozen=True)
class Stamps:
    """What the timers read of an incident."""

    status: str
    detected_at: datetime
    acknowledged_at: datetime | None
    first_statement_at: datetime | None
    last_update_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True)
class Timer:
    target: str
    minutes: int
    due_at: datetime
    met_at: datetime | None
    state: str  # "met", "breached" (met late or still open past due), "running"
    late_minutes: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _timer(name: str, minutes: int, start: datetime, met: datetime | None, now: datetime) -> Timer:
    due = start + timedelta(minutes=minutes)
    end = met or now
    late = max(0, int((end - due).total_seconds() // 60))
    if met is not None:
        state = "met" if met <= due else "breached"
    else:
        state = "breached" if now > due else "running"
    return Timer(name, minutes, due, met, state, late)


RESPONDING = ("responding", "monitoring")


def timers(stamps: Stamps, targets: Targets, now: datetime) -> list[Timer]:
    """The incident's timers at ``now``. A closed (false alarm) incident stops its clocks when
    it was closed; the update cadence runs only while responding or monitoring, from the last
    public statement (or the first one's due time)."""
    stop = stamps.closed_at or now
    found = [
        _timer("acknowledge", targets.acknowledge, stamps.detected_at, stamps.acknowledged_at, stop)
    ]
    if targets.first_statement is not None:
        found.append(
            _timer(
                "first_statement",
                targets.first_statement,
                stamps.detected_at,
                stamps.first_statement_at,
                stop,
            )
        )
    if targets.update is not None and stamps.status in RESPONDING:
        start = stamps.last_update_at or stamps.first_statement_at or stamps.detected_at
        found.append(_timer("update", targets.update, start, None, stop))
    if targets.resolve is not None and stamps.status != "closed":
        found.append(
            _timer("resolve", targets.resolve, stamps.detected_at, stamps.resolved_at, stop)
        )
    return found


def breaches(stamps: Stamps, targets: Targets, now: datetime) -> list[Timer]:
    """Targets missed and still unmet at ``now`` (what the sweep records, once per due time)."""
    return [t for t in timers(stamps, targets, now) if t.state == "breached" and t.met_at is None]
