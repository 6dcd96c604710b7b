"""Schemathesis against the REST API described by the committed ``openapi.yaml``.

Run it with ``make fuzz`` (or ``.venv/bin/python -m tests.fuzz.run_schemathesis``). It

- creates a fresh database of its own (``test_sigap_fuzz`` on the embedded PostgreSQL, or on the
  server named by ``DATABASE_URL``), migrates it and seeds one tenant whose admin the fuzzer is
  (a real personal token from ``tenants.services.issue_token``), with objects of every kind;
- sends every request in-process to the real Django WSGI application (no network at all);
- runs Schemathesis with every check, the examples and fuzzing phases (``FUZZ_PHASES`` adds the
  coverage phase), in positive and negative mode, with at most 25 generated examples per
  operation and a wall-clock limit of 15 minutes (``FUZZ_MAX_SECONDS``);
- splits the operations among ``FUZZ_SHARDS`` such runs in processes of their own at once (one
  per core by default, at most 4; each its own database, seed and time limit), then prints their
  reports one after the other and fails when any fails;
- binds path parameters to real objects of the tenant, unless a case is negative in its path
  (then the generated values go out as they are, so junk ids are still tried);
- prints, per operation, how many requests were answered 2xx, and the 5xx grouped by exception
  and the frame that raised it, and the failures of the other checks;
- exits non-zero when any request was answered 5xx, when a writable operation (POST, PUT, PATCH,
  DELETE) never got a 2xx (but for those listed in ``NO_2XX_YET``, still fuzzed for 5xx), when
  the time limit was hit, or (``FUZZ_STRICT=1``) when any other check failed.

Destructive calls cannot break the rest of the run: every DELETE, and every change that could take
the fuzzer's own access away, goes to a victim object created for that one call (a second token,
a second member, a fresh key, query, source ...), never to the objects the other operations use.
Nothing is excluded.

Settings it forces, for the run only: DEBUG off (the answers production gives), rate limits far
above what one fuzzer sends (limits have their own tests), the test settings' fast hashing, and
production's database connection pool (``SIGAP_DB_POOL``).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "openapi.yaml"
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
MAX_SECONDS = float(os.environ.get("FUZZ_MAX_SECONDS", "900"))
STRICT = os.environ.get("FUZZ_STRICT", "") == "1"
# The coverage phase adds deterministic boundary cases for every parameter, beyond the examples
# budget (it doubles the run); add it with FUZZ_PHASES=examples,coverage,fuzzing.
PHASES = set(os.environ.get("FUZZ_PHASES", "examples,fuzzing").split(","))
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# The operations are split among FUZZ_SHARDS runner processes running at once (by default one
# per core, at most 4), each with a database and a seed of its own (FUZZ_SHARD="i/n" is set in
# each); FUZZ_SHARDS=1 runs them all in this process.
SHARDS = int(os.environ.get("FUZZ_SHARDS", str(min(os.cpu_count() or 1, 4))))
SHARD = os.environ.get("FUZZ_SHARD", "")
TEST_DATABASE = "test_sigap_fuzz" + (f"_{SHARD.split('/')[0]}" if SHARD else "")
PASSWORD = "fuzz-admin-password-1"
CASE_HEADER = "X-Fuzz-Case"  # names the case a request comes from, for the 5xx report
WORKERS = int(os.environ.get("FUZZ_WORKERS", "1"))
SIGN_ME = "sign-me"  # a header value the signing wrapper replaces with a real signature


def configure_environment() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1")
    os.environ["THROTTLE_RATE_USER"] = "1000000/min"
    os.environ["THROTTLE_RATE_ANON"] = "1000000/min"
    os.environ["THROTTLE_RATE_WIDGET"] = "1000000/min"
    # The connection pool of production's web processes (config/gunicorn.py): the server here
    # answers each request on a new thread, and without the pool each request opened (and
    # closed) a PostgreSQL connection of its own. Larger than production's, as threads the
    # run does not close (the engine's, this one) hold one each.
    os.environ["SIGAP_DB_POOL"] = "1"
    os.environ.setdefault("DB_POOL_MAX", "16")
    sys.path.insert(0, str(ROOT))


# --- seed -------------------------------------------------------------------------------------


@dataclass
class Seed:
    """The tenant the fuzzer administers and the objects its path parameters are bound to."""

    tenant: Any
    admin: Any
    token: str
    objects: dict[str, list[Any]] = field(default_factory=dict)
    cursors: dict[str, Iterator[Any]] = field(default_factory=dict)
    victims: dict[str, Callable[[], Any]] = field(default_factory=dict)
    client_token: str = ""  # the tenant's client user: signs off reviews (reviews.sign_off)
    # Tokens of members whose role holds what the admin's does not (replies.draft,
    # statements.approve), by role; requests marked X-Fuzz-As use them (SigningApp).
    role_tokens: dict[str, str] = field(default_factory=dict)

    def next(self, kind: str) -> Any:
        """The next stable object of a kind, round robin (e.g. a source of each kind in turn)."""
        if kind not in self.cursors:
            self.cursors[kind] = itertools.cycle(self.objects[kind])
        return next(self.cursors[kind])

    def victim(self, kind: str) -> Any:
        """A new object made for one destructive call."""
        return self.victims[kind]()


def seed_database() -> Seed:
    from datetime import timedelta

    from django.utils import timezone

    from monitoring import services as monitoring_services
    from monitoring.choices import AlertKind, SourceKind
    from tenants import services
    from tenants.models import User
    from tenants.roles import Role
    from tests.factories import AgencyFactory, MembershipFactory, TenantFactory, UserFactory
    from tests.monitoring.factories import (
        AlertFactory,
        AlertRuleFactory,
        HoaxClusterFactory,
        LexiconEntryFactory,
        LowCredibilityDomainFactory,
        MentionFactory,
        MetricBucketFactory,
        MonitoredQueryFactory,
        OwnedAccountFactory,
        SourceFactory,
        TrackedTermFactory,
    )

    agency = AgencyFactory(name="Fuzz Agency", slug="fuzz-agency")
    tenant = TenantFactory(agency=agency, slug="fuzz-kopi", name="Fuzz Kopi")
    admin = User.objects.create_user(
        "fuzz-admin@example.test", password=PASSWORD, agency=agency, full_name="Fuzz Admin"
    )
    admin.is_agency_admin = True  # so that POST /tenants/ can succeed too
    admin.save(update_fields=["is_agency_admin"])
    MembershipFactory(tenant=tenant, user=admin, role=Role.ADMIN)
    _, token = services.issue_token(user=admin, name="fuzzer")

    counter = itertools.count(1)

    def invitation() -> Any:
        email = f"invited-{next(counter)}@fuzz.test"
        return services.invite_member(tenant=tenant, email=email, role=Role.ANALYST)

    def member() -> Any:
        user = UserFactory(agency=agency)
        return MembershipFactory(tenant=tenant, user=user, role=Role.ANALYST)

    def personal_token() -> Any:
        return services.issue_token(user=admin, name=f"victim {next(counter)}")[0]

    def api_key() -> Any:
        return services.create_api_key(tenant=tenant, name=f"victim {next(counter)}")[0]

    def source(kind: str) -> Any:
        config: dict[str, Any] = {}
        if kind == SourceKind.RSS:
            config = {"url": "https://news.example/feed.xml"}
        elif kind == SourceKind.MASTODON:
            config = {"base_url": "https://mastodon.example", "hashtag": "kopisenja"}
        elif kind == SourceKind.UPLOAD:
            config = {"mapping": {"text": "Content", "published_at": "Date", "platform": "=x"}}
        return SourceFactory(tenant=tenant, kind=kind, config=config)

    sources = [source(kind) for kind in SourceKind.values]
    queries = [MonitoredQueryFactory(tenant=tenant) for _ in range(3)]
    now = timezone.now()
    mentions = [
        MentionFactory(tenant=tenant, published_at=now - timedelta(minutes=n)) for n in range(5)
    ]
    for query in queries:
        MetricBucketFactory(tenant=tenant, query_id=query.pk, bucket=now.replace(second=0))
    batch = monitoring_services.accept_items(
        tenant=tenant,
        objects=[
            {
                "platform": "x",
                "external_id": "seed-1",
                "text": "Kopi Senja enak",
                "published_at": now.isoformat(),
            },
            {"platform": "nope"},
        ],
        source=sources[1],
    )
    seed = Seed(tenant=tenant, admin=admin, token=token)
    seed.objects = {
        "token": [personal_token()],
        "api-key": [api_key()],
        "member": [member(), member()],
        "invitation": [invitation(), invitation()],
        "source": sources,
        "webhook": [source(SourceKind.WEBHOOK)],
        "upload": [source(SourceKind.UPLOAD)],
        "query": queries,
        "term": [TrackedTermFactory(tenant=tenant) for _ in range(2)],
        "lexicon": [LexiconEntryFactory(tenant=tenant) for _ in range(2)],
        "low-credibility-domain": [LowCredibilityDomainFactory(tenant=tenant) for _ in range(2)],
        "batch": [batch],
        "mention": mentions,
        # A rule of every kind (a PUT keeps its kind), the series rules for the backtest.
        "alert-rule": [
            AlertRuleFactory(
                tenant=tenant,
                kind=kind,
                params={"keywords": ["kopi"]} if kind == AlertKind.TRIGGER_KEYWORDS else {},
            )
            for kind in AlertKind.values
        ],
        "series-rule": [AlertRuleFactory(tenant=tenant, kind=AlertKind.SPIKE)],
        "alert": [AlertFactory(tenant=tenant) for _ in range(2)],
        "alert-action": [AlertFactory(tenant=tenant)],
        "hoax-cluster": [HoaxClusterFactory(tenant=tenant)],
        "owned-account": [OwnedAccountFactory(tenant=tenant) for _ in range(2)],
        **incident_objects(tenant, admin),
        **evaluation_objects(tenant, admin),
        **statement_objects(tenant, admin),
        **notify_objects(tenant, admin),
        **playbook_objects(tenant, admin),
        **classifier_objects(tenant),
    }
    reply_rows, reply_victims = reply_objects(seed, agency, mentions)
    seed.objects.update(reply_rows)
    seed.victims = {
        "token": personal_token,
        "api-key": api_key,
        "member": member,
        "invitation": invitation,
        "source": lambda: source(SourceKind.values[next(counter) % len(SourceKind.values)]),
        "query": lambda: MonitoredQueryFactory(tenant=tenant),
        "term": lambda: TrackedTermFactory(tenant=tenant),
        "lexicon": lambda: LexiconEntryFactory(tenant=tenant),
        "low-credibility-domain": lambda: LowCredibilityDomainFactory(tenant=tenant),
        "alert-rule": lambda: AlertRuleFactory(tenant=tenant),
        # Every alert action goes to a fresh open alert (an acknowledged one cannot be again).
        "alert-action": lambda: AlertFactory(tenant=tenant),
        "owned-account": lambda: OwnedAccountFactory(tenant=tenant),
        **incident_victims(tenant, admin),
        **evaluation_victims(tenant, admin),
        **statement_victims(tenant),
        **notify_victims(tenant, admin),
        **playbook_victims(tenant),
        **reply_victims,
    }
    client = User.objects.create_user("fuzz-client@example.test", password=PASSWORD)
    MembershipFactory(tenant=tenant, user=client, role=Role.CLIENT)
    seed.client_token = services.issue_token(user=client, name="fuzzer's client")[1]
    seed.role_tokens["client"] = seed.client_token
    flow_rows, flow_victims = statement_flow(seed, client)
    seed.objects.update(flow_rows)
    seed.victims.update(flow_victims)
    # DELETE of a mention goes to a new one (the seeded ones are what replies are drafted to).
    seed.victims["mention"] = lambda: MentionFactory(tenant=tenant, published_at=now)
    return seed


def reply_objects(
    seed: Seed, agency: Any, mentions: list[Any]
) -> tuple[dict[str, list[Any]], dict[str, Callable[[], Any]]]:
    """Replies (a draft, one waiting for approval, a flagged draft of a SEV1 incident), canned
    answers and chat widgets, with a responder and an approver whose tokens the reply
    operations use (the admin holds neither replies.draft nor statements.approve)."""
    from incidents import replies
    from incidents import services as incident_services
    from incidents.authority import Authority
    from playbooks import services as answer_services
    from tenants import services
    from tenants.roles import Role, capabilities_of
    from tests.factories import MembershipFactory, UserFactory

    tenant = seed.tenant
    people = {}
    for role in (Role.RESPONDER, Role.APPROVER):
        user = UserFactory(agency=agency, email=f"fuzz-{role}@example.test")
        MembershipFactory(tenant=tenant, user=user, role=role)
        people[role] = user
        seed.role_tokens[str(role)] = services.issue_token(user=user, name="fuzzer")[1]
    drafter = Authority(user=people[Role.RESPONDER], capabilities=capabilities_of({Role.RESPONDER}))
    calm = incident_services.open_incident(tenant=tenant, title="Fuzz replies", trigger="hoax")
    severe = incident_services.open_incident(
        tenant=tenant, title="Fuzz replies SEV1", trigger="hoax", severity="sev1"
    )
    counter = itertools.count(1)

    def draft() -> Any:
        return replies.draft_reply(
            tenant=tenant,
            mention=mentions[0],
            incident=calm,
            text="Kami cek dulu ya kak",
            authority=drafter,
        )

    def pending() -> Any:
        reply = replies.draft_reply(
            tenant=tenant,
            mention=mentions[0],
            incident=calm,
            text="Refund besok ya kak",
            authority=drafter,
        )
        return replies.submit_reply(instance=reply, authority=drafter)

    def flagged() -> Any:
        return replies.draft_reply(
            tenant=tenant,
            mention=mentions[0],
            incident=severe,
            text="Refund besok ya kak",
            authority=drafter,
        )

    def answer() -> Any:
        return answer_services.create_answer(
            tenant=tenant,
            question=f"Pertanyaan fuzz {next(counter)}?",
            answer="Jawaban.",
            status="approved",
        )

    def widget() -> Any:
        return answer_services.create_widget(
            tenant=tenant,
            name=f"Situs fuzz {next(counter)}",
            allowed_origins=["https://fuzz.example"],
        )

    makers = {
        "reply": draft,
        "reply-pending": pending,
        "reply-flagged": flagged,
        "canned-answer": answer,
        "answer-widget": widget,
    }
    return {kind: [make()] for kind, make in makers.items()}, makers


def incident_objects(tenant: Any, admin: Any) -> dict[str, list[Any]]:
    """Rows of the incidents app for the fuzzer's ids (made through the services)."""
    from incidents import services as incident_services

    incident = incident_services.open_incident(tenant=tenant, title="Fuzz", trigger="hoax")
    return {
        "incident": [incident],
        "incident-member": [incident_victims(tenant, admin)["incident-member"]()],
        "incident-task": [incident_services.create_task(incident=incident, title="Fuzz task")],
        "incident-link": [
            incident_services.create_link(
                incident=incident, kind="url", url="https://news.example/fuzz"
            )
        ],
        "timeline-entry": [
            incident_services.add_entry(incident=incident, kind="note", text="Fuzz note")
        ],
        "severity-policy": [
            incident_services.create_severity_policy(
                tenant=tenant, severity="sev4", acknowledge_minutes=60
            )
        ],
        "role-policy": [
            incident_services.create_role_policy(tenant=tenant, role="analyst", user=admin)
        ],
    }


def resolved_incident(tenant: Any) -> Any:
    """A new incident moved to resolved through the services."""
    from incidents import services as incident_services

    incident = incident_services.open_incident(tenant=tenant, title="Reviewed", trigger="hoax")
    for stage in ("triaged", "responding", "monitoring", "resolved"):
        incident = incident_services.transition_incident(incident=incident, to=stage)
    return incident


def resolved_review(tenant: Any, *, final: bool = False) -> Any:
    """A draft (or final) review of a new resolved incident, made through the services."""
    from incidents.evaluation import services as evaluation

    review = evaluation.create_review(tenant=tenant, incident=resolved_incident(tenant))
    return evaluation.finalise_review(review=review) if final else review


def evaluation_objects(tenant: Any, admin: Any) -> dict[str, list[Any]]:
    """Rows of the evaluation (reviews and their parts, reports, a subscription)."""
    from incidents.evaluation import services as evaluation

    review = resolved_review(tenant)
    return {
        "review": [review],
        "review-finalise": [review],
        "review-final": [resolved_review(tenant, final=True)],
        "review-lesson": [evaluation.create_lesson(review=review, kind="went_well", text="Cepat")],
        "review-action": [evaluation.create_action_item(review=review, title="FAQ")],
        "review-feedback": [evaluation.create_feedback(review=review, participant=admin, rating=4)],
        "client-report": [evaluation.generate_report(tenant=tenant, frequency="weekly")],
        "report-subscription": [
            evaluation.create_subscription(tenant=tenant, frequency="monthly", recipients=[])
        ],
    }


STATEMENT_TEMPLATE = {
    "name": "Fuzz holding statement",
    "part_confirmed": "Kami mengonfirmasi {hal}.",
    "part_actions": "Tim kami menanganinya.",
    "part_empathy": "Kami mohon maaf.",
    "part_next_update": "Kabar berikutnya segera.",
    "placeholders": ["hal"],
}


def statement_objects(tenant: Any, admin: Any) -> dict[str, list[Any]]:
    """Rows of statements, crisis mode and stakeholders for the fuzzer's ids (services)."""
    from django.utils import timezone

    from incidents import services as incident_services
    from incidents.statements import services
    from incidents.statements.models import StatementApproval, StatementVersion
    from playbooks import services as playbook_services

    incident = incident_services.open_incident(
        tenant=tenant, title="Fuzz statements", trigger="hoax"
    )
    template = playbook_services.create_statement_template(tenant=tenant, **STATEMENT_TEMPLATE)
    workflow = services.create_workflow(tenant=tenant, severity="sev4")
    step = services.create_step(workflow=workflow, position=1)
    statement = services.create_statement(incident=incident, title="Fuzz", text="Kami tahu.")
    draft = StatementVersion.objects.for_tenant(tenant).get(statement=statement)
    approved = services.revise_statement(statement=statement, text="Versi disetujui.")
    approved.status, approved.approved_at = "approved", timezone.now()
    approved.save()
    decision = StatementApproval.objects.create(
        tenant=tenant, version=approved, step=0, user=admin, decision="approved"
    )
    crisis = services.start_crisis_mode(incident=incident)
    services.end_crisis_mode(crisis_mode=crisis)
    contact = services.create_stakeholder(tenant=tenant, name="Fuzz Press", kind="outlet")
    return {
        "statement-template": [template],
        "approval-workflow": [workflow],
        "approval-step": [step],
        "statement": [statement],
        "statement-version": [approved, draft],
        "statement-approval": [decision],
        "publish-record": [services.record_publication(version=approved, channel="website")],
        "crisis-mode": [crisis],
        "stakeholder": [contact],
        "stakeholder-interaction": [
            services.log_interaction(
                incident=incident, stakeholder=contact, channel="email", summary="Fuzz"
            )
        ],
        "right-of-reply": [
            services.create_right_of_reply(
                incident=incident, outlet=contact, article_url="https://news.example/fuzz"
            )
        ],
    }


def statement_flow(
    seed: Seed, client: Any
) -> tuple[dict[str, list[Any]], dict[str, Callable[[], Any]]]:
    """Statements and versions at each point of their flow, for the calls that move them on:
    a statement to revise, a draft to edit or submit, a version submitted to an agency step (the
    approver decides) or to a client step (the client user, the incident's client approver,
    decides), an approved version to record publications of, a running crisis mode to end. All
    made through the services, by the responder (so that the approver may decide), on an open
    incident of their own; each call gets a new one."""
    from django.utils import timezone

    from incidents import services as incident_services
    from incidents.authority import Authority
    from incidents.models import IncidentMember
    from incidents.statements import services
    from incidents.statements.models import CrisisMode, StatementVersion
    from tenants.models import User
    from tenants.roles import Role, capabilities_of

    tenant = seed.tenant
    people = {
        role: User.objects.get(email=f"fuzz-{role}@example.test")
        for role in (Role.RESPONDER, Role.APPROVER)
    }
    drafter = Authority(user=people[Role.RESPONDER], capabilities=capabilities_of({Role.RESPONDER}))
    approver = Authority(user=people[Role.APPROVER], capabilities=capabilities_of({Role.APPROVER}))
    made = itertools.count(1)
    home: list[Any] = []

    def incident() -> Any:
        """The flow's open incident, with the client user as its client approver (opened again
        should the fuzzer have closed it)."""
        if home:
            home[0].refresh_from_db()
        if not home or not home[0].is_open:
            home[:] = [
                incident_services.open_incident(
                    tenant=tenant, title=f"Fuzz statement flow {next(made)}", trigger="hoax"
                )
            ]
        team = IncidentMember.objects.for_tenant(tenant).filter(incident=home[0])
        if not team.filter(user=client, role="client_approver").exists():
            incident_services.assign_role(incident=home[0], user=client, role="client_approver")
        return home[0]

    def statement() -> Any:
        return services.create_statement(
            incident=incident(),
            title=f"Fuzz statement {next(made)}",
            text="Kami sedang memeriksa laporan ini.",
            authority=drafter,
        )

    def draft() -> Any:
        return StatementVersion.objects.for_tenant(tenant).get(statement=statement())

    def submitted(kind: str) -> Any:
        """A version submitted to one step of ``kind`` (whatever workflows the fuzzer wrote for
        the incident's severity: those are fuzzed through their own operations)."""
        version = services.submit_version(version=draft(), authority=drafter)
        step = {**services.DEFAULT_STEPS[0], "kind": kind}
        StatementVersion.objects.for_tenant(tenant).filter(pk=version.pk).update(
            steps=[step], current_step=0, step_started_at=timezone.now()
        )
        return StatementVersion.objects.for_tenant(tenant).get(pk=version.pk)

    def approved() -> Any:
        return services.decide(version=submitted("agency"), decision="approved", authority=approver)

    def running_crisis() -> Any:
        for crisis in CrisisMode.objects.for_tenant(tenant).filter(ended_at__isnull=True):
            services.end_crisis_mode(crisis_mode=crisis, reason="fuzz: making room")
        return services.start_crisis_mode(incident=incident(), reason="fuzz")

    makers: dict[str, Callable[[], Any]] = {
        "statement-incident": incident,
        "statement": statement,
        "statement-version": draft,
        "statement-draft": draft,
        "statement-submitted": lambda: submitted("agency"),
        "statement-client-step": lambda: submitted("client"),
        "statement-approved": approved,
        "crisis-mode-running": running_crisis,
    }
    # Objects of the kinds only these calls name (the calls themselves get new ones); no
    # running crisis mode: one would keep POST crisis-mode from starting another.
    kinds = ("statement-draft", "statement-submitted", "statement-client-step")
    return {kind: [makers[kind]()] for kind in kinds}, makers


def evaluation_victims(tenant: Any, admin: Any) -> dict[str, Any]:
    from incidents.evaluation import services as evaluation

    return {
        "review": lambda: resolved_review(tenant),
        "review-finalise": lambda: resolved_review(tenant),
        "review-final": lambda: resolved_review(tenant, final=True),
        "review-lesson": lambda: evaluation.create_lesson(
            review=resolved_review(tenant), kind="went_badly", text="Lambat"
        ),
        "review-action": lambda: evaluation.create_action_item(
            review=resolved_review(tenant), title="Latihan"
        ),
        "review-feedback": lambda: evaluation.create_feedback(
            review=resolved_review(tenant), participant=admin, rating=3
        ),
        # one subscription per frequency: the weekly one is the victim (made again as needed)
        "report-subscription": lambda: weekly_subscription(tenant),
    }


def weekly_subscription(tenant: Any) -> Any:
    from incidents.evaluation import services as evaluation
    from incidents.evaluation.models import ReportSubscription

    found = ReportSubscription.objects.for_tenant(tenant).filter(frequency="weekly").first()
    return found or evaluation.create_subscription(tenant=tenant, frequency="weekly")


def statement_victims(tenant: Any) -> dict[str, Any]:
    """Fresh rows for the DELETE calls of statements and stakeholders."""
    from incidents import services as incident_services
    from incidents.statements import services
    from incidents.statements.models import ApprovalStep, ApprovalWorkflow
    from playbooks import services as playbook_services

    made = itertools.count(1)

    def workflow() -> Any:
        rows = ApprovalWorkflow.objects.for_tenant(tenant)
        taken = set(rows.values_list("severity", flat=True))
        free = [severity for severity in ("sev3", "sev2", "sev1") if severity not in taken]
        if not free:  # every severity has one: the sev3 workflow is the victim
            return rows.get(severity="sev3")
        return services.create_workflow(tenant=tenant, severity=free[0])

    def step() -> Any:
        number = next(made)
        existing = ApprovalStep.objects.for_tenant(tenant).order_by("pk").first()
        home = existing.workflow_id if existing is not None else workflow().pk
        return services.create_step(
            workflow=ApprovalWorkflow.objects.for_tenant(tenant).get(pk=home),
            position=1000 + number,
        )

    def contact() -> Any:
        return services.create_stakeholder(tenant=tenant, name=f"Victim {next(made)}", kind="kol")

    def reply() -> Any:
        incident = incident_services.open_incident(tenant=tenant, title="Victim", trigger="hoax")
        return services.create_right_of_reply(
            incident=incident, outlet=contact(), article_url="https://news.example/v"
        )

    return {
        "statement-template": lambda: playbook_services.create_statement_template(
            tenant=tenant, **{**STATEMENT_TEMPLATE, "name": f"Victim {next(made)}"}
        ),
        "approval-workflow": workflow,
        "approval-step": step,
        "stakeholder": contact,
        "right-of-reply": reply,
    }


def notify_objects(tenant: Any, admin: Any) -> dict[str, list[Any]]:
    """Channels, a delivery, escalation policies, on-call shifts and quiet hours."""
    from tenants.notify.models import Delivery
    from tests.notify.factories import ChannelFactory, EscalationPolicyFactory

    channel = ChannelFactory(tenant=tenant)
    victims = notify_victims(tenant, admin)
    return {
        "channel": [channel, ChannelFactory(tenant=tenant)],
        "delivery": [
            Delivery.objects.create(
                tenant=tenant,
                key=f"fuzz-{channel.pk}",
                kind="email",
                channel=channel,
                recipient=channel.target,
                event_type="alert.escalation",
                title="[SEV2] Fuzz",
            )
        ],
        # One enabled policy per severity: the fuzzer's own is SEV3's (a PUT keeps it).
        "escalation-policy": [EscalationPolicyFactory(tenant=tenant, severity="sev3")],
        "on-call-shift": [victims["on-call-shift"]()],
        "quiet-hours": [victims["quiet-hours"]()],
    }


def notify_victims(tenant: Any, admin: Any) -> dict[str, Any]:
    from datetime import time

    from tenants.notify.models import OnCallShift, QuietHours
    from tests.notify.factories import ChannelFactory, EscalationPolicyFactory

    def shift() -> Any:
        from datetime import timedelta

        from django.utils import timezone

        now = timezone.now()
        return OnCallShift.objects.create(
            tenant=tenant, user=admin, starts_at=now, ends_at=now + timedelta(hours=8)
        )

    return {
        "channel": lambda: ChannelFactory(tenant=tenant),
        "escalation-policy": lambda: EscalationPolicyFactory(
            tenant=tenant, severity="sev4", enabled=False
        ),
        "on-call-shift": shift,
        "quiet-hours": lambda: QuietHours.objects.create(
            tenant=tenant, user=new_member(tenant), starts=time(22), ends=time(6)
        ),
    }


FUZZ_PLAYBOOK_STEPS = [
    {"key": "verify", "title": "Verify", "role": "analyst", "due_offset_minutes": 30},
    {
        "key": "reply",
        "title": "Reply",
        "role": "communications",
        "due_offset_minutes": 90,
        "depends_on": ["verify"],
    },
]


def playbook_objects(tenant: Any, admin: Any) -> dict[str, list[Any]]:
    """A tenant playbook attached to a new hoax incident (by its conditions), whose advice the
    fuzzer reads and edits (the admin holds the commander's powers)."""
    from incidents import playbooks as incident_playbooks
    from incidents import services as incident_services
    from incidents.models import ResponseAdvice

    playbook = playbook_victims(tenant)["playbook"]()
    # The playbook matches hoaxes, so it attaches as the incident opens.
    incident = incident_services.open_incident(tenant=tenant, title="Fuzz playbook", trigger="hoax")
    attachment = incident_playbooks.attached(incident)[0]
    advice = ResponseAdvice.objects.for_tenant(tenant).filter(incident=incident).first()
    return {
        "playbook": [playbook],
        "incident-playbook": [attachment],
        "incident-advice": [advice] if advice is not None else [],
    }


# Numbers the fuzzer's playbooks: the seeded one and the victims' share the tenant's names.
PLAYBOOK_NUMBERS = itertools.count(1)


def playbook_victims(tenant: Any) -> dict[str, Any]:
    from playbooks import services as playbook_services

    return {
        "playbook": lambda: playbook_services.create_playbook(
            tenant=tenant,
            name=f"Fuzz plan {next(PLAYBOOK_NUMBERS)}",
            trigger_types=["hoax"],
            steps=FUZZ_PLAYBOOK_STEPS,
        ),
    }


def classifier_objects(tenant: Any) -> dict[str, list[Any]]:
    """A score correction and two classifier versions (ready: activation makes one live)."""
    from monitoring.models import ScoreCorrection, ScoringModel
    from tests.monitoring.factories import MentionFactory

    mention = MentionFactory(tenant=tenant)
    versions = [
        ScoringModel.objects.create(
            tenant=tenant,
            version=number,
            status=ScoringModel.Status.READY,
            weights=b"",
            base="fuzz",
            metrics={"sentiment": {"examples": 0}},
        )
        for number in (1, 2)
    ]
    return {
        "score-correction": [
            ScoreCorrection.objects.create(
                tenant=tenant,
                mention=mention,
                field="sentiment",
                old_value="positive",
                new_value="negative",
            )
        ],
        "scoring-model": versions,
    }


def new_member(tenant: Any) -> Any:
    """A new person of the tenant's agency, a member of the tenant with no incident role yet
    (role policies the fuzzer writes may give the admin some)."""
    from tests.factories import MembershipFactory, UserFactory

    return MembershipFactory(tenant=tenant, user=UserFactory(agency=tenant.agency)).user


def incident_victims(tenant: Any, admin: Any) -> dict[str, Any]:
    from incidents import services as incident_services
    from incidents.models import SeverityPolicy

    def incident() -> Any:
        return incident_services.open_incident(tenant=tenant, title="Victim", trigger="hoax")

    return {
        # A new member (role policies the fuzzer writes may already give the admin a role).
        "incident-member": lambda: incident_services.assign_role(
            incident=incident(),
            user=new_member(tenant),
            role="scribe",
        ),
        "incident-task": lambda: incident_services.create_task(incident=incident(), title="V"),
        "incident-link": lambda: incident_services.create_link(
            incident=incident(), kind="url", url="https://news.example/v"
        ),
        "severity-policy": lambda: SeverityPolicy.objects.for_tenant(tenant).get_or_create(
            tenant=tenant, severity="sev3", defaults={"acknowledge_minutes": 60}
        )[0],
        "role-policy": lambda: incident_services.create_role_policy(
            tenant=tenant,
            role="scribe",
            user=new_member(tenant),
        ),
    }


# --- binding path parameters ------------------------------------------------------------------

# Path (without the /api/v1 prefix) -> which object an ``{id}``-like parameter names.
PATH_KINDS = {
    "/auth/tokens/{id}/": "token",
    "/tenants/{tenant_slug}/api-keys/{id}/": "api-key",
    "/tenants/{tenant_slug}/members/{id}/": "member",
    "/tenants/{tenant_slug}/invitations/{id}/": "invitation",
    "/tenants/{tenant_slug}/sources/{id}/": "source",
    "/tenants/{tenant_slug}/sources/{id}/rotate-secret/": "webhook",
    "/tenants/{tenant_slug}/sources/{source_id}/webhook/": "webhook",
    "/tenants/{tenant_slug}/sources/{source_id}/upload/": "upload",
    "/tenants/{tenant_slug}/queries/{id}/": "query",
    "/tenants/{tenant_slug}/terms/{id}/": "term",
    "/tenants/{tenant_slug}/lexicon/{id}/": "lexicon",
    "/tenants/{tenant_slug}/low-credibility-domains/{id}/": "low-credibility-domain",
    "/tenants/{tenant_slug}/batches/{id}/": "batch",
    "/tenants/{tenant_slug}/mentions/{id}/": "mention",
    "/tenants/{tenant_slug}/alert-rules/{id}/": "alert-rule",
    "/tenants/{tenant_slug}/alert-rules/{id}/backtest/": "series-rule",
    "/tenants/{tenant_slug}/alerts/{id}/": "alert",
    "/tenants/{tenant_slug}/alerts/{id}/acknowledge/": "alert-action",
    "/tenants/{tenant_slug}/alerts/{id}/snooze/": "alert-action",
    "/tenants/{tenant_slug}/alerts/{id}/resolve/": "alert-action",
    "/tenants/{tenant_slug}/alerts/{id}/dismiss/": "alert-action",
    "/tenants/{tenant_slug}/hoax-clusters/{id}/": "hoax-cluster",
    "/tenants/{tenant_slug}/owned-accounts/{id}/": "owned-account",
    "/tenants/{tenant_slug}/incidents/{id}/": "incident",
    "/tenants/{tenant_slug}/incidents/{id}/severity/": "incident",
    "/tenants/{tenant_slug}/incidents/{id}/statement/": "incident",
    "/tenants/{tenant_slug}/incidents/{id}/timers/": "incident",
    "/tenants/{tenant_slug}/incidents/{id}/transition/": "incident",
    "/tenants/{tenant_slug}/incident-team/{id}/": "incident-member",
    "/tenants/{tenant_slug}/incident-tasks/{id}/": "incident-task",
    "/tenants/{tenant_slug}/incident-links/{id}/": "incident-link",
    "/tenants/{tenant_slug}/incident-timeline/{id}/": "timeline-entry",
    "/tenants/{tenant_slug}/incident-severity-policies/{id}/": "severity-policy",
    "/tenants/{tenant_slug}/incident-role-policies/{id}/": "role-policy",
    "/tenants/{tenant_slug}/incident-reviews/{id}/": "review",
    "/tenants/{tenant_slug}/incident-reviews/{id}/chart/": "review",
    "/tenants/{tenant_slug}/incident-reviews/{id}/export/": "review",
    "/tenants/{tenant_slug}/incident-reviews/{id}/figures/": "review",
    "/tenants/{tenant_slug}/incident-reviews/{id}/finalise/": "review-finalise",
    "/tenants/{tenant_slug}/incident-reviews/{id}/sign-off/": "review-final",
    "/tenants/{tenant_slug}/incident-review-lessons/{id}/": "review-lesson",
    "/tenants/{tenant_slug}/incident-review-actions/{id}/": "review-action",
    "/tenants/{tenant_slug}/incident-review-feedback/{id}/": "review-feedback",
    "/tenants/{tenant_slug}/client-reports/{id}/": "client-report",
    "/tenants/{tenant_slug}/client-reports/{id}/download/": "client-report",
    "/tenants/{tenant_slug}/report-subscriptions/{id}/": "report-subscription",
    "/tenants/{tenant_slug}/statement-templates/{id}/": "statement-template",
    "/tenants/{tenant_slug}/approval-workflows/{id}/": "approval-workflow",
    "/tenants/{tenant_slug}/approval-steps/{id}/": "approval-step",
    "/tenants/{tenant_slug}/statements/{id}/": "statement",
    "/tenants/{tenant_slug}/statements/{id}/revise/": "statement",
    "/tenants/{tenant_slug}/statement-versions/{id}/": "statement-version",
    "/tenants/{tenant_slug}/statement-versions/{id}/approve/": "statement-submitted",
    "/tenants/{tenant_slug}/statement-versions/{id}/client_decision/": "statement-client-step",
    "/tenants/{tenant_slug}/statement-versions/{id}/diff/": "statement-version",
    "/tenants/{tenant_slug}/statement-versions/{id}/submit/": "statement-draft",
    "/tenants/{tenant_slug}/statement-approvals/{id}/": "statement-approval",
    "/tenants/{tenant_slug}/publish-records/{id}/": "publish-record",
    "/tenants/{tenant_slug}/crisis-mode/{id}/": "crisis-mode",
    "/tenants/{tenant_slug}/crisis-mode/{id}/end/": "crisis-mode-running",
    "/tenants/{tenant_slug}/stakeholders/{id}/": "stakeholder",
    "/tenants/{tenant_slug}/stakeholder-interactions/{id}/": "stakeholder-interaction",
    "/tenants/{tenant_slug}/rights-of-reply/{id}/": "right-of-reply",
    "/tenants/{tenant_slug}/channels/{id}/": "channel",
    "/tenants/{tenant_slug}/deliveries/{id}/": "delivery",
    "/tenants/{tenant_slug}/escalation-policies/{id}/": "escalation-policy",
    "/tenants/{tenant_slug}/on-call-shifts/{id}/": "on-call-shift",
    "/tenants/{tenant_slug}/quiet-hours/{id}/": "quiet-hours",
    "/tenants/{tenant_slug}/playbooks/{id}/": "playbook",
    "/tenants/{tenant_slug}/incident-playbooks/{id}/": "incident-playbook",
    "/tenants/{tenant_slug}/incident-advice/{id}/": "incident-advice",
    "/tenants/{tenant_slug}/score-corrections/{id}/": "score-correction",
    "/tenants/{tenant_slug}/classifier/{id}/": "scoring-model",
    "/tenants/{tenant_slug}/classifier/{id}/activate/": "scoring-model",
    "/tenants/{tenant_slug}/mentions/{id}/correct/": "mention",
    "/tenants/{tenant_slug}/replies/{id}/": "reply",
    "/tenants/{tenant_slug}/replies/{id}/submit/": "reply",
    "/tenants/{tenant_slug}/replies/{id}/approve/": "reply-pending",
    "/tenants/{tenant_slug}/replies/{id}/return/": "reply-pending",
    "/tenants/{tenant_slug}/replies/{id}/override/": "reply-flagged",
    "/tenants/{tenant_slug}/canned-answers/{id}/": "canned-answer",
    "/tenants/{tenant_slug}/answer-widget/{id}/": "answer-widget",
    "/tenants/{tenant_slug}/answer-widget/{id}/rotate-key/": "answer-widget",
}
# Objects named by their public prefix rather than their primary key.
PREFIXED = {"token", "api-key"}
# Changes that would take the fuzzer's access away, or change what other operations rely on, go
# to a victim object made for the call: every DELETE, and role changes of members (a member
# could be the only admin).
VICTIM_METHODS = {"DELETE"}
VICTIM_ALWAYS = {
    "member": {"PATCH", "DELETE"},
    "alert-action": {"POST"},
    # finalising and signing off happen once per review: each call gets a fresh one
    "review-finalise": {"POST"},
    "review-final": {"POST"},
    # A reply moves on (sent, approved, overridden) with each successful call: a fresh one each.
    "reply": {"PATCH", "DELETE", "POST"},
    "reply-pending": {"POST"},
    "reply-flagged": {"POST"},
    # A statement version moves on too (edited, submitted, decided), a statement gets a new
    # version (which withdraws its draft), a crisis mode ends once.
    "statement": {"POST"},
    "statement-version": {"PATCH"},
    "statement-draft": {"POST"},
    "statement-submitted": {"POST"},
    "statement-client-step": {"POST"},
    "crisis-mode-running": {"POST"},
}
# The role whose token a reply operation goes out with (path suffix -> role).
REPLY_ROLES = {"approve/": "approver", "return/": "approver", "override/": ""}
# The role whose token a statement operation goes out with (the admin holds neither
# statements.draft nor statements.approve; the client decides the client steps).
STATEMENT_ROLES = {
    "/tenants/{tenant_slug}/statements/": "responder",
    "/tenants/{tenant_slug}/statements/{id}/revise/": "responder",
    "/tenants/{tenant_slug}/statement-versions/{id}/": "responder",
    "/tenants/{tenant_slug}/statement-versions/{id}/submit/": "responder",
    "/tenants/{tenant_slug}/statement-versions/{id}/approve/": "approver",
    "/tenants/{tenant_slug}/statement-versions/{id}/client_decision/": "client",
    "/tenants/{tenant_slug}/publish-records/": "responder",
}


def acting_role(path: str, method: str) -> str:
    """The role whose token a write to ``path`` (without the /api/v1 prefix) goes out with,
    or "" for the admin's own."""
    if method == "GET":
        return ""
    if path.startswith("/tenants/{tenant_slug}/replies/"):
        suffix = next((s for s in REPLY_ROLES if path.endswith(s)), None)
        return REPLY_ROLES[suffix] if suffix is not None else "responder"
    return STATEMENT_ROLES.get(path, "")


def bind_path(seed: Seed, case: Any) -> None:
    from schemathesis.core.parameters import ParameterLocation

    meta = case.meta
    if meta is not None and meta.is_negative_at(ParameterLocation.PATH):
        return  # a junk path parameter is the point of this case
    params = case.path_parameters
    if not params:
        return
    if "tenant_slug" in params:
        params["tenant_slug"] = seed.tenant.slug
    path = case.operation.path.removeprefix("/api/v1")
    kind = PATH_KINDS.get(path)
    if kind is None:
        return
    name = "source_id" if "source_id" in params else "id"
    method = case.method.upper()
    victim_kind = "source" if kind == "webhook" else kind
    destructive = method in VICTIM_METHODS or method in VICTIM_ALWAYS.get(kind, set())
    if destructive and victim_kind in seed.victims:
        obj = seed.victim(victim_kind)
    elif method in ("PUT", "PATCH"):
        # Always the same object, so that writing the same unique name twice is no clash; for
        # a source, the one whose kind the body names (a source's kind cannot change).
        body = case.body if isinstance(case.body, dict) else {}
        same_kind = [o for o in seed.objects[kind] if getattr(o, "kind", None) == body.get("kind")]
        obj = (same_kind or seed.objects[kind])[0]
    else:
        obj = seed.next(kind)
    params[name] = obj.prefix if kind in PREFIXED else obj.pk


# --- valid inputs the schema cannot describe ---------------------------------------------------

VALID_QUERY = '"kopi senja" OR (kopsen AND NOT promo)'
UPLOAD_CSV = (
    "Content,Date,Author\n"
    "Kopi Senja enak banget,2026-11-20 08:00,budi\n"
    '"Antri lama, pelayanan lambat",2026-11-20 09:30,citra\n'
)


def complete_case(seed: Seed, case: Any, counter: Counter[str]) -> None:
    """Give every other positive case what random data cannot guess: the admin's password, a
    query in the query language, a readable export; and every one a webhook signature. The
    others keep their generated values; bulk triage gets ids of the seed's mentions, incident
    team, links and role policies an incident and a member of the tenant."""
    from schemathesis import GenerationMode

    meta = case.meta
    if meta is None or meta.generation.mode != GenerationMode.POSITIVE:
        return
    path = case.operation.path.removeprefix("/api/v1")
    label = case.operation.label
    counter[label] += 1
    if path == "/auth/tokens/" and case.method.upper() == "POST":
        if isinstance(case.body, dict) and counter[label] % 2:
            case.body["email"] = seed.admin.email
            case.body["password"] = PASSWORD
    elif path.endswith("/webhook/") and case.headers is not None:
        case.headers["X-Sigap-Signature"] = SIGN_ME
        delivery = case.headers.get("X-Sigap-Delivery") or ""
        if not delivery or len(delivery) > 200:
            case.headers["X-Sigap-Delivery"] = f"delivery-{counter[label]}"
    elif path.endswith("/queries/") or "/queries/{id}/" in path:
        if isinstance(case.body, dict) and "query" in case.body and counter[label] % 2:
            case.body["query"] = VALID_QUERY
    elif path.endswith("/replies/") and isinstance(case.body, dict):
        if counter[label] % 2:  # a mention of the tenant (random ids name none)
            case.body["mention"] = seed.objects["mention"][0].pk
            case.body.pop("incident", None)
            case.body.pop("canned_answer", None)
    elif path.endswith("/consistency-check/") and isinstance(case.body, dict):
        if counter[label] % 2:
            case.body.pop("incident", None)
    elif path.endswith("/reply-suggestions/") and counter[label] % 2:
        case.query = {**(case.query or {}), "mention": seed.objects["mention"][0].pk}
    elif path.endswith("/widget/answers/") and counter[label] % 2:
        case.query = {**(case.query or {}), "key": seed.objects["answer-widget"][0].key}
    elif path.endswith("/mentions/bulk-triage/") and isinstance(case.body, dict):
        if counter[label] % 2:  # ids the tenant holds and a change (random ones name nothing)
            mentions = seed.objects["mention"]
            case.body["ids"] = [m.pk for m in mentions[: 1 + counter[label] % len(mentions)]]
            case.body.pop("assignee", None)
            case.body["status"] = ("new", "relevant", "irrelevant", "responded")[counter[label] % 4]
    elif "/alert-rules/" in path and "backtest" not in path and isinstance(case.body, dict):
        if counter[label] % 2:  # durations and params the schema cannot spell
            case.body.update(window="01:00:00", cooldown="02:00:00", query=None)
            kind = case.body.get("kind")
            case.body["params"] = {"keywords": ["kopi"]} if kind == "trigger-keywords" else {}
            if case.method.upper() == "POST":
                case.body["name"] = f"Aturan {counter[label]}"
    elif path.endswith("/snooze/") and isinstance(case.body, dict) and counter[label] % 2:
        from datetime import timedelta

        from django.utils import timezone

        case.body["until"] = (timezone.now() + timedelta(hours=1)).isoformat()
    elif path.endswith("/dismiss/") and isinstance(case.body, dict) and counter[label] % 2:
        case.body["reason"] = "fuzz: a false positive"
    elif "/owned-accounts/{id}/" in path and isinstance(case.body, dict) and counter[label] % 2:
        account = seed.objects["owned-account"][0]  # what PUT and PATCH are bound to
        case.body.update(platform=account.platform, handle=account.handle)
    elif path.endswith("/incident-team/") and isinstance(case.body, dict) and counter[label] % 2:
        # A new member of the tenant, who holds no role yet (role policies give the admin some).
        person = new_member(seed.tenant)
        roles = ("communications", "spokesperson", "legal", "analyst", "scribe")
        case.body.update(incident=seed.objects["incident"][0].pk, user=person.pk)
        case.body["role"] = roles[counter[label] % len(roles)]
    elif path.endswith("/incident-links/") and isinstance(case.body, dict) and counter[label] % 2:
        incident = seed.objects["incident"][0]
        case.body.clear()
        case.body.update(
            incident=incident.pk, kind="url", url=f"https://news.example/fuzz-{counter[label]}"
        )
    elif "/incident-role-policies/" in path and isinstance(case.body, dict) and counter[label] % 2:
        case.body["user"] = seed.admin.pk  # a member of the tenant (random ids name nobody)
    elif path.endswith("/incident-reviews/") and isinstance(case.body, dict) and counter[label] % 2:
        # a resolved incident without a review yet (random ids name nothing)
        case.body["incident"] = resolved_incident(seed.tenant).pk
    elif (
        (
            path.endswith(("/incident-review-lessons/", "/incident-review-actions/"))
            or path.endswith("/incident-review-feedback/")
        )
        and isinstance(case.body, dict)
        and counter[label] % 2
    ):
        case.body["review"] = seed.objects["review"][0].pk
        case.body.pop("owner", None)
        if "feedback" in path:
            case.body["participant"] = new_member(seed.tenant).pk
    elif (
        path.endswith("/report-subscriptions/")
        and isinstance(case.body, dict)
        and counter[label] % 2
    ):
        from incidents.evaluation import services as evaluation

        evaluation.delete_subscription(instance=weekly_subscription(seed.tenant))  # make room
        case.body["frequency"] = "weekly"
    elif path.endswith("/upload/") and isinstance(case.body, dict) and counter[label] % 2:
        case.body["file"] = UPLOAD_CSV.encode()
        case.body["format"] = "csv"
        case.body["mapping"] = json.dumps(
            {"text": "Content", "published_at": "Date", "author.handle": "Author", "platform": "=x"}
        )
    elif counter[label] % 2:
        complete = COMPLETIONS.get((case.method.upper(), path))
        if complete is not None:
            complete(seed, case, counter[label])


# --- completions of statements, stakeholders, notifications, playbooks, the classifier --------
# Each gets every other positive case of its operation (the others keep their generated values)
# and fills in what random data cannot guess: rows of the tenant the body names, texts that are
# not blank once stripped, times in order, a channel's secrets for its kind.


def _body(case: Any) -> dict[str, Any]:
    if not isinstance(case.body, dict):
        case.body = {}
    return case.body  # type: ignore[no-any-return]


def _text(body: dict[str, Any], name: str, fallback: str) -> None:
    """A text the services strip: one of whitespace only would be blank."""
    if not str(body.get(name) or "").strip():
        body[name] = fallback


def _statement(seed: Seed, case: Any, n: int) -> None:
    """From a template of the tenant (its placeholder filled) or as text, on an open incident."""
    body = _body(case)
    body["incident"] = seed.victims["statement-incident"]().pk
    body["template"] = None
    if n % 4 == 1:
        body["template"] = seed.victims["statement-template"]().pk
        body["values"] = {"hal": "laporan pelanggan"}
        body.pop("text", None)
    else:
        body.pop("values", None)
        _text(body, "text", "Kami sedang memeriksa laporan ini.")
    _text(body, "title", f"Pernyataan {n}")


def _decision(seed: Seed, case: Any, n: int) -> None:
    body = _body(case)
    if body.get("decision") not in ("approved", "rejected"):
        body["decision"] = "approved"
    if body["decision"] == "rejected":
        _text(body, "comment", "Kurang jelas.")


def _publication(seed: Seed, case: Any, n: int) -> None:
    body = _body(case)
    body["version"] = seed.victims["statement-approved"]().pk
    body.pop("published_at", None)  # now (a time in the future is refused)
    body["url"] = f"https://kopisenja.example/rilis/{n}"


def _interaction(seed: Seed, case: Any, n: int) -> None:
    body = _body(case)
    body["incident"] = seed.victims["statement-incident"]().pk
    body["stakeholder"] = seed.objects["stakeholder"][0].pk
    _text(body, "summary", "Menjawab pertanyaan wartawan.")


def _right_of_reply(seed: Seed, case: Any, n: int) -> None:
    body = _body(case)
    body["incident"] = seed.victims["statement-incident"]().pk
    body["outlet"] = seed.objects["stakeholder"][0].pk
    body["article_url"] = f"https://news.example/artikel-{n}"
    body.pop("published_url", None)
    if not body.get("published"):
        body.pop("published_at", None)


def _approval_step(seed: Seed, case: Any, n: int) -> None:
    body = _body(case)
    body["workflow"] = seed.objects["approval-workflow"][0].pk
    body["position"] = 5000 + n  # a free position of the workflow
    body.pop("approvers", None)
    body.pop("backup", None)


def _step_update(seed: Seed, case: Any, n: int) -> None:
    """The step PUT is bound to keeps its workflow and position (another is taken)."""
    from incidents.statements.models import ApprovalStep

    step = ApprovalStep.objects.for_tenant(seed.tenant).get(pk=seed.objects["approval-step"][0].pk)
    body = _body(case)
    body.update(workflow=step.workflow_id, position=step.position)
    body.pop("approvers", None)
    body.pop("backup", None)


def _crisis_start(seed: Seed, case: Any, n: int) -> None:
    """An open incident, and room: one crisis mode runs per tenant (the end calls leave none,
    a failed one may)."""
    from incidents.statements import services
    from incidents.statements.models import CrisisMode

    for crisis in CrisisMode.objects.for_tenant(seed.tenant).filter(ended_at__isnull=True):
        services.end_crisis_mode(crisis_mode=crisis, reason="fuzz: making room")
    body = _body(case)
    body["incident"] = seed.victims["statement-incident"]().pk
    body.pop("ends_at", None)  # a time in the past is refused


def _channel(seed: Seed, case: Any, n: int) -> None:
    """A unique name, and the target, secrets and options the kind needs."""
    body = _body(case)
    kind = body.get("kind")
    body["name"] = f"Kanal fuzz {n}"
    body["options"] = {}
    if kind == "email":
        body["target"] = "tim@kopisenja.example"
    elif kind in ("webhook", "slack", "teams"):
        body["secret"] = f"https://hooks.example/{kind}/{n}"
        body["signing_secret"] = "fuzz-signing-secret-0123456789"
    elif kind in ("telegram", "whatsapp"):
        body["secret"] = f"fuzz-token-{n}"
        body["target"] = "+6281234567890"
        if kind == "whatsapp":
            body["options"] = {"phone_number_id": "1234567890", "template": "sigap_alert"}


def _escalation_policy(seed: Seed, case: Any, n: int) -> None:
    """Steps naming a member; disabled (one enabled policy per severity, drafts may wait)."""
    body = _body(case)
    step = {"users": [seed.admin.pk], "channels": [], "on_call": False, "wait_minutes": 5}
    body["steps"] = [step]
    body["enabled"] = False
    _text(body, "name", f"Eskalasi {n}")


def _shift(seed: Seed, case: Any, n: int) -> None:
    from datetime import timedelta

    from django.utils import timezone

    body = _body(case)
    starts = timezone.now() + timedelta(days=n)
    body.update(
        user=seed.admin.pk,
        starts_at=starts.isoformat(),
        ends_at=(starts + timedelta(hours=8)).isoformat(),
    )


def _quiet_hours(seed: Seed, case: Any, n: int) -> None:
    """A member without quiet hours yet (one row per member)."""
    body = _body(case)
    body.update(user=new_member(seed.tenant).pk, starts="22:00:00", ends="06:00:00")


def _quiet_hours_update(seed: Seed, case: Any, n: int) -> None:
    """The row PUT is bound to keeps its member (another may have quiet hours already)."""
    body = _body(case)
    body.update(user=seed.objects["quiet-hours"][0].user_id, starts="21:00:00", ends="05:00:00")


def _attach_playbook(seed: Seed, case: Any, n: int) -> None:
    """A playbook made after the incident opened (one matching it would be attached already)."""
    from incidents import services as incident_services

    incident = incident_services.open_incident(
        tenant=seed.tenant, title=f"Fuzz attach {n}", trigger="hoax"
    )
    _body(case).update(incident=incident.pk, playbook=seed.victims["playbook"]().pk)


def _rollback(seed: Seed, case: Any, n: int) -> None:
    """A live version to roll back (activation is fuzzed too, so there may be one already)."""
    from monitoring import classifier
    from monitoring.models import ScoringModel

    versions = ScoringModel.objects.for_tenant(seed.tenant)
    if not versions.filter(status=ScoringModel.Status.LIVE).exists():
        newest = versions.filter(status=ScoringModel.Status.READY).order_by("-version").first()
        if newest is not None:
            classifier.activate_scoring_model(instance=newest)


def _statement_template(seed: Seed, case: Any, n: int) -> None:
    """Parts whose placeholders are the declared ones (each used, none undeclared)."""
    body = _body(case)
    body.update({k: v for k, v in STATEMENT_TEMPLATE.items() if k != "name"})
    body.pop("must_not", None)
    _text(body, "name", str(STATEMENT_TEMPLATE["name"]))


COMPLETIONS: dict[tuple[str, str], Callable[[Seed, Any, int], None]] = {
    ("POST", "/tenants/{tenant_slug}/statements/"): _statement,
    ("POST", "/tenants/{tenant_slug}/statements/{id}/revise/"): lambda seed, case, n: _text(
        _body(case), "text", f"Versi {n}: kami sudah memeriksanya."
    ),
    ("PATCH", "/tenants/{tenant_slug}/statement-versions/{id}/"): lambda seed, case, n: _text(
        _body(case), "text", f"Draf {n}."
    ),
    ("POST", "/tenants/{tenant_slug}/statement-versions/{id}/approve/"): _decision,
    ("POST", "/tenants/{tenant_slug}/statement-versions/{id}/client_decision/"): _decision,
    ("POST", "/tenants/{tenant_slug}/publish-records/"): _publication,
    ("POST", "/tenants/{tenant_slug}/stakeholder-interactions/"): _interaction,
    ("POST", "/tenants/{tenant_slug}/rights-of-reply/"): _right_of_reply,
    ("POST", "/tenants/{tenant_slug}/approval-steps/"): _approval_step,
    ("PUT", "/tenants/{tenant_slug}/approval-steps/{id}/"): _step_update,
    ("POST", "/tenants/{tenant_slug}/crisis-mode/"): _crisis_start,
    ("POST", "/tenants/{tenant_slug}/channels/"): _channel,
    ("POST", "/tenants/{tenant_slug}/escalation-policies/"): _escalation_policy,
    ("POST", "/tenants/{tenant_slug}/on-call-shifts/"): _shift,
    ("PUT", "/tenants/{tenant_slug}/on-call-shifts/{id}/"): _shift,
    ("POST", "/tenants/{tenant_slug}/quiet-hours/"): _quiet_hours,
    ("PUT", "/tenants/{tenant_slug}/quiet-hours/{id}/"): _quiet_hours_update,
    ("POST", "/tenants/{tenant_slug}/incident-playbooks/"): _attach_playbook,
    ("POST", "/tenants/{tenant_slug}/classifier/rollback/"): _rollback,
    ("PUT", "/tenants/{tenant_slug}/statement-templates/{id}/"): _statement_template,
}


class SigningApp:
    """WSGI wrapper playing the webhook sender: a request whose ``X-Sigap-Signature`` is
    ``sign-me`` gets the current time and a valid signature over its exact body with the
    source's current secret (which ``rotate-secret`` may have changed)."""

    def __init__(self, app: Any, seed: Seed, stats: Stats | None = None) -> None:
        self.app = app
        self.seed = seed
        self.stats = stats

    served_seconds = 0.0
    cpu_seconds = 0.0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        started, cpu = time.monotonic(), time.thread_time()
        try:
            return self.sign_and_call(environ, start_response)
        finally:
            took = time.monotonic() - started
            SigningApp.served_seconds += took
            SigningApp.cpu_seconds += time.thread_time() - cpu
            if self.stats is not None:
                case = self.stats.in_flight.get(environ.get("HTTP_X_FUZZ_CASE", ""))
                if case is not None:
                    self.stats.seconds[case.operation.label] += took

    def sign_and_call(self, environ: dict[str, Any], start_response: Any) -> Any:
        role = environ.pop("HTTP_X_FUZZ_AS", None)
        if role and environ.get("HTTP_AUTHORIZATION") == f"Bearer {self.seed.token}":
            environ["HTTP_AUTHORIZATION"] = f"Bearer {self.seed.role_tokens[role]}"
        path = environ.get("PATH_INFO", "")
        if path.endswith("/sign-off/") and environ.get("HTTP_AUTHORIZATION") == (
            f"Bearer {self.seed.token}"
        ):
            # Signing off is the client's (reviews.sign_off): the client user's token instead.
            environ["HTTP_AUTHORIZATION"] = f"Bearer {self.seed.client_token}"
        if environ.get("HTTP_X_SIGAP_SIGNATURE") == SIGN_ME:
            from monitoring.models import Source

            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            source_id = environ.get("PATH_INFO", "").rstrip("/").split("/")[-2]
            from tenants import dbscope

            with dbscope.all_tenants("fuzz run: the webhook sender's secret"):
                source = (
                    Source.objects.filter(pk=int(source_id)).first()
                    if source_id.isdigit()
                    else None
                )
            secret = source.webhook_secret if source else "unknown"
            timestamp = str(int(time.time()))
            digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
            environ["HTTP_X_SIGAP_TIMESTAMP"] = timestamp
            environ["HTTP_X_SIGAP_SIGNATURE"] = "sha256=" + digest.hexdigest()
        return self.app(environ, start_response)


# --- bookkeeping --------------------------------------------------------------------------------


@dataclass
class Stats:
    calls: Counter[str] = field(default_factory=Counter)
    phases: Counter[str] = field(default_factory=Counter)
    ok: Counter[str] = field(default_factory=Counter)
    server_errors: Counter[str] = field(default_factory=Counter)
    seconds: Counter[str] = field(default_factory=Counter)  # in the application, per operation
    methods: dict[str, str] = field(default_factory=dict)
    # (operation, exception type, raising frame) -> [count, one example request, traceback]
    exceptions: dict[tuple[str, str, str], list[Any]] = field(default_factory=dict)
    # (operation, check, failure title) -> [count, one example request, message]
    check_failures: dict[tuple[str, str, str], list[Any]] = field(default_factory=dict)
    # Cases in flight by the id sent in their X-Fuzz-Case header, so that an exception raised in
    # a server thread is charged to the request that caused it.
    in_flight: dict[str, Any] = field(default_factory=dict)

    def record_exception(self, exc: BaseException, case_id: str) -> None:
        case = self.in_flight.get(case_id)
        label = case.operation.label if case is not None else "?"
        frames = traceback.extract_tb(exc.__traceback__)
        # The last frame of the project's own code (not of a library) names the cause.
        own = [f for f in frames if f.filename.startswith(str(ROOT)) and ".venv" not in f.filename]
        where = (own or frames)[-1]
        filename = where.filename.removeprefix(str(ROOT) + os.sep)
        origin = f"{filename}:{where.lineno} in {where.name}"
        key = (label, f"{type(exc).__module__}.{type(exc).__qualname__}: {str(exc)[:160]}", origin)
        entry = self.exceptions.setdefault(key, [0, "", ""])
        entry[0] += 1
        if not entry[1] and case is not None:
            entry[1] = describe(case)
            entry[2] = "".join(traceback.format_exception(exc))[-2500:]


def describe(case: Any) -> str:
    parts = [f"{case.method.upper()} {case.formatted_path}"]
    if case.query:
        parts.append(f"query={case.query!r}"[:300])
    if case.headers:
        headers = {k: v for k, v in case.headers.items() if k.lower() != "authorization"}
        if headers:
            parts.append(f"headers={headers!r}"[:300])
    if case.body is not None and type(case.body).__name__ != "NotSet":
        parts.append(f"body={case.body!r}"[:400])
    meta = case.meta
    if meta is not None:
        data = meta.phase.data
        parts.append(
            f"[{meta.phase.name.value}/{meta.generation.mode.value}"
            f" {getattr(data, 'scenario', '') or getattr(data, 'description', '') or ''}]"
        )
    return " ".join(str(p) for p in parts)


def install_hooks(seed: Seed, stats: Stats) -> None:
    import schemathesis

    positive_counter: Counter[str] = Counter()
    case_ids = itertools.count(1)

    from tenants import dbscope

    # The hooks run on the engine's threads, each a context of its own: the objects they make
    # (victims of deletes, bindings) and the tenant they put back span the run's tenants.
    @schemathesis.hook("before_call")
    def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
        with dbscope.all_tenants("fuzz run: binding a case"):
            bind_path(seed, case)
            complete_case(seed, case, positive_counter)
        role = acting_role(case.operation.path.removeprefix("/api/v1"), case.method.upper())
        if role:
            case.headers = {**(case.headers or {}), "X-Fuzz-As": role}
        case_id = str(next(case_ids))
        stats.in_flight[case_id] = case
        case.headers = {**(case.headers or {}), CASE_HEADER: case_id}

    lock = threading.Lock()

    @schemathesis.hook("after_call")
    def after_call(context: Any, case: Any, response: Any) -> None:
        with lock, dbscope.all_tenants("fuzz run: counting a call"):
            count(case, response)

    def count(case: Any, response: Any) -> None:
        stats.in_flight.pop((case.headers or {}).get(CASE_HEADER, ""), None)
        label = case.operation.label
        stats.methods[label] = case.operation.method.upper()
        stats.calls[label] += 1
        stats.phases[case.meta.phase.name.value if case.meta is not None else "other"] += 1
        if 200 <= response.status_code < 300 and case.method.upper() == stats.methods[label]:
            stats.ok[label] += 1
        if response.status_code >= 500:
            stats.server_errors[label] += 1
        if label == "PATCH /api/v1/tenants/{tenant_slug}/":
            restore_tenant(seed)


def restore_tenant(seed: Seed) -> None:
    """A PATCH of the tenant may suspend it or rename it; put it back for the next calls."""
    from tenants.models import Tenant

    Tenant.objects.filter(pk=seed.tenant.pk).update(
        status=seed.tenant.status, name=seed.tenant.name, time_zone=seed.tenant.time_zone
    )


# --- run ---------------------------------------------------------------------------------------


def build_schema(seed: Seed, base_url: str) -> Any:
    import schemathesis

    config = schemathesis.Config.from_dict(
        {
            "color": False,
            "seed": int(os.environ.get("FUZZ_SEED", "20261120")),
            "checks": {"enabled": True},
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "mode": "all",
                "database": "none",
                # Shrinking replays a failure many times; the report names the input class.
                "no-shrink": True,
            },
            # Values seen in responses are not reused: path parameters are bound above, and
            # reused names would only clash with the tenant's unique names.
            "phases": {
                **{
                    phase: {"enabled": phase in PHASES, "extra-data-sources": {"responses": False}}
                    for phase in ("examples", "coverage", "fuzzing")
                },
                # drf-spectacular emits no links; without them the phase has nothing to chain.
                "stateful": {"enabled": False},
            },
            "base-url": base_url,
            "auth": {"openapi": {"bearerToken": {"bearer": seed.token}}},
            # Keep drawing after a failed check, so every operation gets its examples.
            "continue-on-failure": True,
            "workers": WORKERS,
            "suppress-health-check": ["all"],
            "cache": {"enabled": False},
        }
    )
    register_ndjson(schemathesis)
    return schemathesis.openapi.from_path(SCHEMA_PATH, config=config)


def register_ndjson(schemathesis: Any) -> None:
    """The ingest API documents NDJSON bodies (``application/x-ndjson``) as text: they go out
    as written, the documented example and generated strings alike."""

    @schemathesis.serializer("application/x-ndjson")
    def ndjson(ctx: Any, value: Any) -> bytes:
        if isinstance(value, bytes):
            return value
        text = value if isinstance(value, str) else json.dumps(value)
        return text.encode("utf-8", "surrogatepass")


def start_server(app: Any) -> str:
    """Serve ``app`` on a free port of 127.0.0.1 from a thread (Django's threaded dev server,
    one thread per connection); return its base URL."""
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"


def own_share(schema: Any) -> Any:
    """In a shard's process, the schema narrowed to its share of the operations: every n-th
    operation in the order of their labels."""
    if not SHARD:
        return schema
    index, count = (int(part) for part in SHARD.split("/"))
    labels = sorted(
        {result.ok().label for result in schema.get_all_operations() if result.ok() is not None}
    )
    mine = set(labels[index::count])
    print(f"Shard {index + 1}/{count}: {len(mine)} of {len(labels)} operations")
    return schema.include(lambda ctx: ctx.operation.label in mine)


# What a shard prints of its share (``own_share``) and its totals (``report``).
SHARD_TOTALS = re.compile(
    r"^Shard \d+/\d+: (\d+) of \d+ operations"
    r"|^(\d+) requests, \d+ answered 2xx, (\d+) answered 5xx",
    re.M,
)


def run_shards() -> int:
    """Run ``SHARDS`` runner processes at once, each on its share of the operations, and print
    their reports one after the other; fails when any of them fails."""
    started = time.monotonic()
    print(f"Fuzzing in {SHARDS} processes, each on its share of the operations ...", flush=True)
    with tempfile.TemporaryDirectory(prefix="sigap-fuzz-") as folder:
        runs = []
        try:
            for index in range(SHARDS):
                log = (Path(folder) / f"shard-{index}.log").open("w+", encoding="utf-8")
                process = subprocess.Popen(
                    [sys.executable, "-m", "tests.fuzz.run_schemathesis"],
                    cwd=ROOT,
                    env={**os.environ, "FUZZ_SHARD": f"{index}/{SHARDS}"},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
                runs.append((index, process, log))
            codes = [process.wait() for _, process, _ in runs]
        finally:
            for _, process, _ in runs:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        totals = [0, 0, 0]
        for (index, _, log), code in zip(runs, codes, strict=True):
            log.seek(0)
            text = log.read()
            log.close()
            print(f"\n=== shard {index + 1} of {SHARDS} (exit {code}) ===\n{text}", end="")
            for found in SHARD_TOTALS.finditer(text):
                for i, value in enumerate(found.groups()):
                    totals[i] += int(value or 0)
    failed = sum(code != 0 for code in codes)
    print(
        f"\n{SHARDS} shards in {time.monotonic() - started:.0f} s, {failed} failed; together "
        f"{totals[0]} operations, {totals[1]} requests, {totals[2]} answered 5xx."
    )
    print("fuzz: FAILED" if failed else "fuzz: OK")
    return 1 if failed else 0


def run_engine(schema: Any, stats: Stats) -> tuple[bool, float]:
    """Run every phase; True when it finished within the time limit."""
    from schemathesis.engine import events, from_schema

    stream = from_schema(schema).execute()
    started = time.monotonic()
    timed_out = threading.Event()

    def watchdog() -> None:
        if not finished.wait(MAX_SECONDS):
            timed_out.set()
            stream.stop()

    finished = threading.Event()
    threading.Thread(target=watchdog, daemon=True).start()
    operations = 0
    try:
        for event in stream:
            if isinstance(event, events.ScenarioFinished):
                operations += 1
                record_checks(event.recorder, stats)
                if event.skip_reason and event.phase.value != "examples":
                    print(f"  skipped {event.label}: {event.skip_reason}")
            elif isinstance(event, events.PhaseStarted):
                print(f"  phase {event.phase.name.value} ({time.monotonic() - started:.0f} s)")
            elif isinstance(event, events.NonFatalError):
                print(f"  error: {event.info.title}: {event.info.message}"[:400])
            elif isinstance(event, events.FatalError):
                print(f"  fatal: {event.exception!r}")
                raise SystemExit(2)
    finally:
        finished.set()
    return not timed_out.is_set(), time.monotonic() - started


def record_checks(recorder: Any, stats: Stats) -> None:
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.failure_info is None or check.name == "not_a_server_error":
                continue
            failure = check.failure_info.failure
            node = recorder.cases.get(case_id)
            label = node.value.operation.label if node is not None else recorder.label
            entry = stats.check_failures.setdefault((label, check.name, failure.title), [0, "", ""])
            entry[0] += 1
            if not entry[1] and node is not None:
                entry[1] = describe(node.value)
                entry[2] = str(failure.message)[:600]


# Writable operations whose requests the runner cannot complete into a valid one, each with
# the reason (still fuzzed, and any 5xx fails the run; only "never answered 2xx" is not fatal
# for them). None now: a new operation whose body needs related rows gets a completion in
# ``complete_case`` (``COMPLETIONS``) rather than an entry here; a listed operation that
# answers 2xx is reported so.
NO_2XX_YET: dict[str, str] = {}


def report(stats: Stats, schema: Any) -> int:
    problems = 0
    labels = sorted(
        {result.ok().label for result in schema.get_all_operations() if result.ok() is not None}
    )
    print("\n2xx share per operation (requests with the operation's own method):")
    for label in labels:
        calls, ok = stats.calls[label], stats.ok[label]
        share = f"{100 * ok / calls:5.1f} %" if calls else "  -  "
        marks = []
        if stats.server_errors[label]:
            marks.append(f"{stats.server_errors[label]} x 5xx")
        method = label.split(" ", 1)[0]
        if method in WRITE_METHODS and ok == 0:
            if label in NO_2XX_YET:
                marks.append(f"never 2xx (known: {NO_2XX_YET[label]})")
            else:
                marks.append("NEVER 2xx")
                problems += 1
        elif label in NO_2XX_YET:
            marks.append("answers 2xx now: take it off NO_2XX_YET")
        print(f"  {share}  {ok:4}/{calls:<4} {label}  {' '.join(marks)}")
    if stats.exceptions:
        print("\n5xx, by operation, exception and the frame that raised it:")
        for (label, exc, origin), (count, example, tb) in sorted(stats.exceptions.items()):
            print(f"\n- {label}: {count} x {exc}\n    at {origin}\n    e.g. {example}")
            if os.environ.get("FUZZ_TRACEBACKS") == "1":
                print("    " + tb.replace("\n", "\n    "))
    total_5xx = sum(stats.server_errors.values())
    if total_5xx:
        problems += 1
    if stats.check_failures:
        print("\nOther check failures (fatal only with FUZZ_STRICT=1):")
        for (label, check, title), (count, example, message) in sorted(
            stats.check_failures.items()
        ):
            print(f"  {count:4} x {check}: {title} - {label}")
            if os.environ.get("FUZZ_VERBOSE") == "1":
                print(f"         e.g. {example}\n         {message}".replace("\n", "\n         "))
        if STRICT:
            problems += 1
    never = [label for label in labels if label.split(" ", 1)[0] in WRITE_METHODS]
    never = [label for label in never if not stats.ok[label] and label not in NO_2XX_YET]
    print(
        f"\n{sum(stats.calls.values())} requests, {sum(stats.ok.values())} answered 2xx, "
        f"{total_5xx} answered 5xx, {len(never)} writable operations never answered 2xx "
        f"({len(NO_2XX_YET)} more known, NO_2XX_YET)"
    )
    print("Requests per phase: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.phases.items())))
    slowest = ", ".join(
        f"{label} {seconds:.0f} s" for label, seconds in stats.seconds.most_common(8)
    )
    print(f"Most time in the application: {slowest}")
    return problems


def drop_database(original_name: str) -> None:
    """Drop the run's database even while server threads still hold connections to it."""
    from django.db import connection, connections

    from tenants import rls

    connections.close_all()
    rls.use_role("owner")
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{TEST_DATABASE}" WITH (FORCE)')
    rls.use_role("application")
    connection.settings_dict["NAME"] = original_name


def main() -> int:
    if SHARDS > 1 and not SHARD:
        return run_shards()
    configure_environment()
    started = time.monotonic()
    import django

    django.setup()
    import logging

    from django.core.handlers.wsgi import WSGIHandler
    from django.core.signals import got_request_exception
    from django.db import connection

    from tenants import dbscope, rls

    logging.getLogger("django.request").setLevel(logging.CRITICAL)  # reported below instead
    logging.getLogger("config.middleware").setLevel(logging.WARNING)
    logging.getLogger("axes").setLevel(logging.ERROR)  # every wrong fuzzed password is a warning
    original_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = TEST_DATABASE
    print(f"Creating database {TEST_DATABASE} ...")
    rls.use_role("owner")  # creates and migrates; the run itself is the application role's
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    rls.use_role("application")
    # The fuzzer's own seeding (also between requests) spans its tenants; every request the
    # server answers sets its own scope.
    with dbscope.all_tenants("fuzz run: seeding"):
        try:
            seed = seed_database()
            # The run is the application role's (its pool opened after the switch above).
            unsafe = rls.unsafe_role()
            if unsafe is not None:
                raise SystemExit(f"the fuzz run would bypass row-level security: {unsafe}")
            stats = Stats()

            def on_exception(sender: Any, request: Any = None, **kwargs: Any) -> None:
                case_id = request.META.get("HTTP_X_FUZZ_CASE", "") if request is not None else ""
                stats.record_exception(sys.exc_info()[1], case_id)  # type: ignore[arg-type]

            got_request_exception.connect(on_exception, weak=False)
            install_hooks(seed, stats)
            base_url = start_server(SigningApp(WSGIHandler(), seed, stats))
            schema = own_share(build_schema(seed, base_url))
            print(
                f"Seeded tenant '{seed.tenant.slug}' ({time.monotonic() - started:.0f} s); "
                f"fuzzing {SCHEMA_PATH.name}, {MAX_EXAMPLES} examples per operation, "
                f"at most {MAX_SECONDS:.0f} s ..."
            )
            in_time, took = run_engine(schema, stats)
            problems = report(stats, schema)
            if not in_time:
                print(f"\nTime limit of {MAX_SECONDS:.0f} s reached: the run was cut short.")
                problems += 1
            print(
                f"Fuzzing took {took:.0f} s ({SigningApp.served_seconds:.0f} s in the application, "
                f"{SigningApp.cpu_seconds:.0f} s CPU; process CPU {time.process_time():.0f} s); "
                f"{time.monotonic() - started:.0f} s in all."
            )
        finally:
            drop_database(original_name)
    print("fuzz: FAILED" if problems else "fuzz: OK")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
