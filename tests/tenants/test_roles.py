"""Every cell of the role-to-capability matrix, as documented in docs/roles.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tenants.roles import API_KEY_CAPABILITIES, MATRIX, Cap, Role, role_has

DOC = Path(__file__).resolve().parents[2] / "docs" / "roles.md"


def documented_matrix() -> dict[tuple[str, str], bool]:
    lines = DOC.read_text().splitlines()
    header = next(line for line in lines if line.startswith("| capability |"))
    roles = [cell.strip() for cell in header.strip("|").split("|")[2:]]
    cells = {}
    for line in lines:
        match = re.match(r"^\| `([a-z_.]+)` \|", line)
        if match:
            marks = [cell.strip() for cell in line.strip("|").split("|")[2:]]
            for role, mark in zip(roles, marks, strict=True):
                cells[(role, match.group(1))] = mark == "✓"
    return cells


DOCUMENTED = documented_matrix()


def test_the_document_covers_every_role_and_capability() -> None:
    assert set(DOCUMENTED) == {(r.value, c.value) for r in Role for c in Cap}


@pytest.mark.parametrize(("role", "cap"), sorted(DOCUMENTED))
def test_cell(role: str, cap: str) -> None:
    assert role_has(role, Cap(cap)) is DOCUMENTED[(role, cap)]


def test_roles_are_not_a_ladder() -> None:
    assert Cap.APPROVE_STATEMENTS not in MATRIX[Role.ADMIN]
    assert Cap.MANAGE_MEMBERS not in MATRIX[Role.APPROVER]
    # The client reads less than an analyst; its one power of its own is deciding statements
    # as an incident's client approver (issue 15), held by no other role.
    assert MATRIX[Role.CLIENT] - {Cap.CLIENT_APPROVE_STATEMENTS} < MATRIX[Role.ANALYST]
    assert [r for r in Role if Cap.CLIENT_APPROVE_STATEMENTS in MATRIX[r]] == [Role.CLIENT]
    assert {Cap.INGEST} == API_KEY_CAPABILITIES
