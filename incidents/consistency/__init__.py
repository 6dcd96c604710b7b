"""The consistency check of outgoing texts against an incident's approved line (pure Python).

    from incidents.consistency import check
    result = check("Refund 100% besok kak!", approved_line(incident))
    result.flagged, [f.to_dict() for f in result.findings]

See ``check.py`` for what is flagged and ``docs/replies.md`` for its limits.
"""

from incidents.consistency.check import CATEGORIES, REASONS, Finding, Result, check

__all__ = ["CATEGORIES", "REASONS", "Finding", "Result", "check"]
