"""Pure rules of playbooks (no Django): which playbooks match an incident, and whether a set of
steps has a sound dependency graph. Used by ``playbooks.services`` and ``incidents.playbooks``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

SEVERITIES = ("sev1", "sev2", "sev3", "sev4")  # worst first, as tenants.choices.Severity


def severity_rank(value: str) -> int:
    """1 for SEV1 … 4 for SEV4 (lower is worse)."""
    return SEVERITIES.index(value) + 1


def matches(
    *,
    trigger_types: Sequence[str],
    min_severity: str,
    tags: Sequence[str],
    language: str,
    incident_trigger: str,
    incident_severity: str,
    incident_tags: Iterable[str],
    tenant_language: str,
) -> bool:
    """Whether a playbook's conditions hold for an incident: its trigger is listed (or none
    is), it is at least as severe as the minimum, it carries one of the tags (or none is
    asked), and the playbook speaks the tenant's language (or is language-neutral)."""
    if trigger_types and incident_trigger not in trigger_types:
        return False
    if severity_rank(incident_severity) > severity_rank(min_severity):
        return False
    if tags and not set(tags) & set(incident_tags):
        return False
    return not language or language == tenant_language


def dependency_errors(steps: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Step key -> what is wrong with its dependencies: ``self`` (depends on itself),
    ``unknown:<key>`` (no such step) or ``cycle`` (part of a dependency cycle). Empty when the
    graph is sound."""
    errors: dict[str, str] = {}
    for key, deps in steps.items():
        if key in deps:
            errors[key] = "self"
            continue
        unknown = [dep for dep in deps if dep not in steps]
        if unknown:
            errors[key] = f"unknown:{unknown[0]}"
    if errors:
        return errors
    # Kahn's algorithm: what cannot be ordered is on (or behind) a cycle.
    remaining: dict[str, set[str]] = {key: set(deps) for key, deps in steps.items()}
    ready = [key for key, deps in remaining.items() if not deps]
    while ready:
        done = ready.pop()
        remaining.pop(done, None)
        for key, waiting in remaining.items():
            if done in waiting:
                waiting.discard(done)
                if not waiting:
                    ready.append(key)
    return {key: "cycle" for key in remaining}


def ordered(steps: Mapping[str, Sequence[str]], positions: Mapping[str, int]) -> list[str]:
    """The step keys in an order where every step comes after the steps it depends on, by
    position otherwise (the graph must be sound)."""
    result: list[str] = []
    placed: set[str] = set()
    pending = sorted(steps, key=lambda key: (positions.get(key, 0), key))
    while pending:
        for key in pending:
            if set(steps[key]) <= placed:
                result.append(key)
                placed.add(key)
                pending.remove(key)
                break
        else:  # pragma: no cover - only with a cycle, which the services refuse
            raise ValueError("dependency cycle")
    return result
