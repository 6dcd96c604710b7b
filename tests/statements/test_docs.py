"""docs/statements.md names what the code offers: every channel, must-not category, step kind
and mode, stakeholder kind, refusal code of the workflow, and the capabilities by role."""

from __future__ import annotations

import re
from pathlib import Path

from incidents.statements import choices
from playbooks.models import MustNotCategory
from tenants.roles import MATRIX, Cap, Role

DOC = (Path(__file__).resolve().parents[2] / "docs" / "statements.md").read_text()


def test_the_doc_names_every_choice() -> None:
    for enum in (
        choices.Channel,
        choices.StepKind,
        choices.StepMode,
        choices.StakeholderKind,
        choices.CrisisEvent,
        MustNotCategory,
    ):
        for value in enum.values:
            assert f"`{value}`" in DOC, value


def test_the_doc_names_every_refusal_code_the_services_raise() -> None:
    source = (Path(__file__).resolve().parents[2] / "incidents/statements/services.py").read_text()
    workflow = {
        "self_approval",
        "stale_version",
        "not_submitted",
        "not_an_approver",
        "already_decided",
        "not_approved",
        "immutable",
    }
    for code in workflow:
        assert f'"{code}"' in source, code
        assert f"`{code}`" in DOC, code


def test_the_roles_table_matches_the_matrix() -> None:
    rows = dict(re.findall(r"^\| `([a-z_.]+)` \| (.+?) \|$", DOC, re.MULTILINE))
    for cap in (
        Cap.DRAFT_STATEMENTS,
        Cap.APPROVE_STATEMENTS,
        Cap.CLIENT_APPROVE_STATEMENTS,
        Cap.MANAGE_CRISIS_MODE,
        Cap.MANAGE_STAKEHOLDERS,
    ):
        holders = [role.value for role in Role if cap in MATRIX[role]]
        named = re.findall(r"\b(admin|analyst|responder|approver|client)\b", rows[cap.value])
        assert sorted(set(named)) == sorted(holders), cap
