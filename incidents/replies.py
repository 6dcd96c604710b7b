"""Replies to mentions and the consistency check of outgoing texts: the services.

Every writer (REST, GraphQL, the admin, the demo) goes through these functions. The rules:

- a reply answers one mention of the tenant; its incident is the one given, or else the open
  incident the mention is linked to (``IncidentLink``), or none;
- every draft and every change is checked (``incidents.consistency.check``) against the
  incident's approved line (``incidents.line.approved_line``; without an incident, an empty
  line: promises and tone are still checked); ``findings`` keeps each finding's category, span
  and reason, ``flagged`` whether there is any;
- **the approval policy** (``approval_required``): a reply needs an approver
  (``statements.approve``) when its incident is at SEV1-SEV2 or when the check flagged it;
  otherwise submitting it sends it;
- at SEV1-SEV2 a flagged reply cannot be submitted until the incident's commander (whoever holds
  the commander's powers on it, ``incidents.authority``) overrides the check with a reason; the
  override is written to the incident's timeline (``check_override``, internal); editing the
  text afterwards runs the check again and drops the override;
- sending records who and when, writes a ``reply`` entry on the incident's timeline and marks the
  mention ``responded`` through monitoring's one triage service (``triage_mention``);
- a reply built from a canned answer must use an approved answer of the tenant; the use is
  counted (``playbooks.services.record_use``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents import consistency
from incidents.authority import SYSTEM, Authority
from incidents.choices import OPEN_STATUSES, LinkKind, ReplyStatus, TimelineKind
from incidents.consistency.text import STOPWORDS, words
from incidents.line import ApprovedLine, approved_line
from incidents.models import Incident, IncidentLink, Reply
from incidents.services import BIGINT_MAX, write_entry
from monitoring.choices import TriageStatus
from monitoring.models import Mention
from monitoring.services import triage_mention
from playbooks import selectors as answer_selectors
from playbooks import services as answer_services
from playbooks.choices import AnswerStatus
from playbooks.models import CannedAnswer
from tenants.choices import Severity
from tenants.models import Tenant

SEVERE = (Severity.SEV1, Severity.SEV2)
MAX_TEXT = 2000

# The reasons of the findings, translated (``incidents.consistency.REASONS`` in English).
REASONS = {
    "number": gettext_lazy(
        "States %(found)s, which the approved line does not give (it gives %(approved)s)."
    ),
    "date": gettext_lazy("Gives the date %(found)s; the approved line gives %(approved)s."),
    "negation": gettext_lazy(
        "Says the opposite of the approved line about '%(word)s' (approved: '%(approved)s')."
    ),
    "promise": gettext_lazy("Promises %(promise)s, which the approved line does not."),
    "must_not": gettext_lazy("Uses the must-not phrase '%(phrase)s'."),
    "tone": gettext_lazy("Hostile or arguing tone: '%(phrase)s'."),
}
PROMISE_NAMES = {
    "a refund": gettext_lazy("a refund"),
    "compensation": gettext_lazy("compensation"),
    "something free": gettext_lazy("something free"),
    "a guarantee": gettext_lazy("a guarantee"),
    "a deadline": gettext_lazy("a deadline"),
    "an extension": gettext_lazy("an extension"),
}


def _error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


# --- the check ---------------------------------------------------------------------------------


def line_for(incident: Incident | None) -> ApprovedLine:
    return approved_line(incident) if incident is not None else ApprovedLine()


def finding_dict(finding: consistency.Finding) -> dict[str, Any]:
    params = dict(finding.params)
    if finding.category == "promise":
        params["promise"] = str(PROMISE_NAMES.get(params["promise"], params["promise"]))
    return {
        "category": finding.category,
        "start": finding.start,
        "end": finding.end,
        "excerpt": finding.excerpt,
        "reason": str(REASONS[finding.code]) % params,
    }


def _text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise _error("text", _("This field may not be blank."), "blank")
    if len(text) > MAX_TEXT:
        raise _error(
            "text",
            _("At most %(count)d characters.") % {"count": MAX_TEXT},
            "max_length",
        )
    return text.strip()


def check_text(*, text: str, incident: Incident | None = None) -> list[dict[str, Any]]:
    """The findings of ``text`` against ``incident``'s approved line (any outgoing text: a
    reply, a channel variant of a statement). Writes nothing."""
    result = consistency.check(_text(text), line_for(incident))
    return [finding_dict(f) for f in result.findings]


def _checked(reply: Reply) -> dict[str, Any]:
    line = line_for(reply.incident)
    result = consistency.check(reply.text, line)
    return {
        "findings": [finding_dict(f) for f in result.findings],
        "flagged": result.flagged,
        "checked_at": timezone.now(),
        "statement_version_id": line.statement_version_id,
    }


def approval_required(reply: Reply) -> bool:
    """The policy: SEV1-SEV2 incidents, and flagged replies, need an approver."""
    severe = reply.incident is not None and reply.incident.severity in SEVERE
    return severe or reply.flagged


# --- lookups within the tenant -----------------------------------------------------------------


def _digits(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | str) and str(value).isascii() and str(value).isdigit():
        number = int(value)
        return number if 0 < number <= BIGINT_MAX else None
    return None


def _row(model: type[Any], tenant_id: int, value: Any, field: str, message: str) -> Any:
    if isinstance(value, model):
        value = value.pk if value.tenant_id == tenant_id else None
    number = _digits(value)
    found = model.objects.for_tenant(tenant_id).filter(pk=number).first() if number else None
    if found is None:
        raise _error(field, message, "not_found")
    return found


def _linked_incident(mention: Mention) -> Incident | None:
    """The open incident the mention is linked to (the most recently detected one)."""
    linked = IncidentLink.objects.for_tenant(mention.tenant_id).filter(
        kind=LinkKind.MENTION, mention_id=mention.pk
    )
    return (
        Incident.objects.for_tenant(mention.tenant_id)
        .filter(pk__in=linked.values("incident_id"), status__in=OPEN_STATUSES)
        .order_by("-detected_at", "-id")
        .first()
    )


# --- replies -------------------------------------------------------------------------------------


@transaction.atomic
def draft_reply(
    *,
    tenant: Tenant,
    mention: Any,
    text: Any,
    incident: Any = None,
    canned_answer: Any = None,
    authority: Authority = SYSTEM,
) -> Reply:
    """A new draft reply to ``mention``, checked at once."""
    found = _row(Mention, tenant.pk, mention, "mention", _("No such mention in this tenant."))
    chosen = (
        _row(Incident, tenant.pk, incident, "incident", _("No such incident in this tenant."))
        if incident is not None
        else _linked_incident(found)
    )
    answer = None
    if canned_answer is not None:
        answer = _row(
            CannedAnswer,
            tenant.pk,
            canned_answer,
            "canned_answer",
            _("No such canned answer in this tenant."),
        )
        if answer.status != AnswerStatus.APPROVED:
            raise _error(
                "canned_answer", _("Only an approved canned answer can be used."), "not_approved"
            )
    reply = Reply(
        tenant=tenant,
        mention=found,
        incident=chosen,
        canned_answer=answer,
        text=_text(text),
        created_by=authority.user,
    )
    for name, value in _checked(reply).items():
        setattr(reply, name, value)
    reply.full_clean(exclude=["tenant", "mention", "incident", "canned_answer", "created_by"])
    reply.save()
    if answer is not None:
        answer_services.record_use(answer=answer)
    return reply


def _locked(reply: Reply) -> Reply:
    """The reply locked, its incident and mention read pinned to its tenant."""
    locked = Reply.objects.for_tenant(reply.tenant_id).select_for_update().get(pk=reply.pk)
    locked.incident = (
        Incident.objects.for_tenant(locked.tenant_id).get(pk=locked.incident_id)
        if locked.incident_id
        else None
    )
    locked.mention = (
        Mention.objects.for_tenant(locked.tenant_id).filter(pk=locked.mention_id).first()
        if locked.mention_id
        else None
    )
    return locked


def _require_status(reply: Reply, *allowed: str) -> None:
    if reply.status not in allowed:
        raise _error(
            "status",
            _("The reply is %(status)s; this needs a reply that is %(allowed)s.")
            % {"status": reply.status, "allowed": " or ".join(allowed)},
            "invalid_status",
        )


@transaction.atomic
def update_reply(*, instance: Reply, text: Any = None, authority: Authority = SYSTEM) -> Reply:
    """Change a draft's text: checked again; a previous override no longer applies."""
    reply = _locked(instance)
    _require_status(reply, ReplyStatus.DRAFT)
    if text is None:
        return reply
    reply.text = _text(text)
    for name, value in _checked(reply).items():
        setattr(reply, name, value)
    reply.override_reason, reply.overridden_by, reply.overridden_at = "", None, None
    reply.save()
    return reply


@transaction.atomic
def delete_reply(*, instance: Reply, authority: Authority = SYSTEM) -> None:
    """Only a draft can be deleted; what was sent or awaits approval stays on record."""
    reply = _locked(instance)
    _require_status(reply, ReplyStatus.DRAFT)
    reply.delete()


@transaction.atomic
def override_check(*, instance: Reply, reason: Any, authority: Authority = SYSTEM) -> Reply:
    """The commander's override of a flagged reply at SEV1-SEV2, with a reason, written to the
    incident's timeline."""
    reply = _locked(instance)
    _require_status(reply, ReplyStatus.DRAFT)
    if not isinstance(reason, str) or not reason.strip():
        raise _error("reason", _("Give the reason for the override."), "blank")
    if not reply.flagged:
        raise _error("reason", _("The check did not flag this reply."), "not_flagged")
    incident = reply.incident
    if incident is None or incident.severity not in SEVERE:
        raise _error(
            "reason",
            _("Only replies of SEV1-SEV2 incidents need an override; this one needs approval."),
            "not_needed",
        )
    if authority.command_mode(incident) is None:
        raise PermissionDenied(
            _("Only the incident's commander, or a holder of 'incidents.command', may %(what)s.")
            % {"what": _("override the consistency check")}
        )
    now = timezone.now()
    reply.override_reason = reason.strip()[:1000]
    reply.overridden_by = authority.user
    reply.overridden_at = now
    reply.save(update_fields=["override_reason", "overridden_by", "overridden_at", "updated_at"])
    categories = sorted({f["category"] for f in reply.findings})
    write_entry(
        incident=incident,
        kind=TimelineKind.CHECK_OVERRIDE,
        text=_(
            "%(who)s overrode the consistency check of a reply to mention %(mention)s "
            "(%(categories)s): %(reason)s"
        )
        % {
            "who": authority.user.email if authority.user is not None else _("Sigap"),
            "mention": reply.mention_id,
            "categories": ", ".join(categories),
            "reason": reply.override_reason,
        },
        actor=authority.user,
        data={"reply": reply.pk, "categories": categories, "reason": reply.override_reason},
        at=now,
    )
    return reply


@transaction.atomic
def submit_reply(*, instance: Reply, authority: Authority = SYSTEM) -> Reply:
    """Checked once more, then sent, or waiting for approval where the policy requires it."""
    reply = _locked(instance)
    _require_status(reply, ReplyStatus.DRAFT)
    findings = _checked(reply)
    if findings["flagged"] != reply.flagged or findings["findings"] != reply.findings:
        # The approved line changed since the draft: what it says now decides.
        for name, value in findings.items():
            setattr(reply, name, value)
        if not reply.flagged:
            reply.override_reason, reply.overridden_by, reply.overridden_at = "", None, None
        reply.save()
    severe = reply.incident is not None and reply.incident.severity in SEVERE
    if reply.flagged and severe and not reply.overridden_at:
        raise _error(
            "text",
            _(
                "The consistency check flagged this reply: at SEV1-SEV2 the incident's "
                "commander must override it with a reason before it can be sent."
            ),
            "flagged",
        )
    if approval_required(reply):
        reply.status = ReplyStatus.PENDING_APPROVAL
        reply.save(update_fields=["status", "updated_at"])
        return reply
    return _send(reply, authority)


@transaction.atomic
def approve_reply(*, instance: Reply, authority: Authority = SYSTEM) -> Reply:
    """An approver's approval: the reply is recorded as sent."""
    reply = _locked(instance)
    _require_status(reply, ReplyStatus.PENDING_APPROVAL)
    reply.approved_by = authority.user
    reply.approved_at = timezone.now()
    return _send(reply, authority)


@transaction.atomic
def return_reply(*, instance: Reply, authority: Authority = SYSTEM) -> Reply:
    """An approver sends a reply back to its drafter (it becomes a draft again)."""
    reply = _locked(instance)
    _require_status(reply, ReplyStatus.PENDING_APPROVAL)
    reply.status = ReplyStatus.DRAFT
    reply.save(update_fields=["status", "updated_at"])
    return reply


def _send(reply: Reply, authority: Authority) -> Reply:
    now = timezone.now()
    reply.status = ReplyStatus.SENT
    reply.sent_by = authority.user
    reply.sent_at = now
    reply.save()
    if reply.mention is not None:
        triage_mention(mention=reply.mention, status=TriageStatus.RESPONDED)
    if reply.incident is not None:
        write_entry(
            incident=reply.incident,
            kind=TimelineKind.REPLY,
            text=_("Reply sent to mention %(mention)s: %(text)s")
            % {"mention": reply.mention_id, "text": reply.text[:300]},
            actor=authority.user,
            mention=reply.mention,
            data={
                "reply": reply.pk,
                "flagged": reply.flagged,
                "overridden": reply.overridden_at is not None,
            },
            at=now,
        )
    return reply


# --- canned answers for a mention -----------------------------------------------------------


# Function words that say nothing about which answer fits ("gimana caranya", "min", "nih").
SUGGESTION_STOPWORDS = STOPWORDS | frozenset(
    {
        "bagaimana", "cara", "caranya", "apakah", "apa", "nih", "min", "admin", "saya", "aku",
        "gue", "gw", "juga", "jg", "sudah", "sih", "dong", "nya", "how", "do", "i", "my", "me",
        "please", "pls", "can", "what", "the", "is", "to",
    }
)  # fmt: skip


def normalised(text: str) -> str:
    """``text`` in monitoring's normal form (slang mapped), function words left out, for the
    answer suggestions."""
    return " ".join(w.norm for w in words(text) if w.norm not in SUGGESTION_STOPWORDS)


def suggest_answers(
    *, tenant: Tenant, mention: Any, limit: int = 3
) -> list[answer_selectors.Suggestion]:
    """The approved canned answers closest to the mention's text, best first, with scores.
    Answers of every language are compared: mentions are often code-mixed."""
    found = _row(Mention, tenant.pk, mention, "mention", _("No such mention in this tenant."))
    return answer_selectors.suggest(
        tenant=tenant, text=found.text, limit=limit, normalise=normalised
    )
