"""The approved line of an incident: what may be said about it, in one value.

The consistency check of outgoing texts (replies, channel variants of a statement) compares them
with this value; it is filled from the incident's latest approved statement version
(``incidents.statements``), the must-not rules of that statement's template and the key
messages of the playbooks attached to the incident. Both sides import only this module, so
neither depends on the other's internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ApprovedLine:
    """What the incident's approved material says.

    ``statement`` is the text of the latest approved statement version ("" when there is none),
    ``statement_version_id`` its row id, ``language`` its language code (``id`` or ``en``);
    ``key_messages`` and ``must_not`` are plain phrases, in the order their sources list them.
    """

    statement: str = ""
    language: str = "id"
    statement_version_id: int | None = None
    key_messages: tuple[str, ...] = field(default_factory=tuple)
    must_not: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_empty(self) -> bool:
        return not (self.statement or self.key_messages or self.must_not)


def approved_line(incident: Any) -> ApprovedLine:
    """The incident's approved line: the latest approved version's text, id and language, the
    must-not phrases of its statement's template (copied when the statement was drafted) and the
    key messages of the playbooks attached to the incident. Empty when none of these exists."""
    from incidents.playbooks import attached_key_messages
    from incidents.statements.models import Statement
    from incidents.statements.selectors import latest_approved

    key_messages = attached_key_messages(incident)
    version = latest_approved(incident)
    if version is None:
        return ApprovedLine(key_messages=key_messages)
    statement = Statement.objects.for_tenant(version.tenant_id).get(pk=version.statement_id)
    return ApprovedLine(
        statement=version.text,
        language=statement.language,
        statement_version_id=version.pk,
        key_messages=key_messages,
        must_not=tuple(statement.must_not),
    )
