"""The demo's statement material, run by ``incidents.demo.seed_incident`` for the demo incident:
an Indonesian holding-statement template, a SEV2 approval workflow (the approver, then the
incident's client approver), a statement drafted from the template by the responder, approved
through both steps and published on Instagram and the website (the first publication stamps
the incident's first statement), and a journalist with a logged call and a right-of-reply
request."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from incidents import services as incident_services
from incidents.authority import Authority
from incidents.models import Incident
from incidents.statements import services
from incidents.statements.models import ApprovalWorkflow, StatementVersion
from playbooks import services as playbook_services
from playbooks.models import StatementTemplate
from tenants.models import User
from tenants.roles import Role, capabilities_of

TEMPLATE_NAME = "Holding statement: customer complaint"


def _as(user: User, role: str) -> Authority:
    return Authority(user=user, capabilities=capabilities_of({role}))


def seed_statement(
    *,
    incident: Incident,
    responder: User | None,
    approver: User | None,
    client: User | None,
) -> str:
    if responder is None or approver is None or client is None:
        return "no demo statement: the demo tenant lacks a responder, approver or client"
    tenant = incident.tenant
    template = StatementTemplate.objects.for_tenant(tenant).filter(name=TEMPLATE_NAME).first()
    if template is None:
        template = playbook_services.create_statement_template(
            tenant=tenant,
            name=TEMPLATE_NAME,
            language="id",
            part_confirmed="Kami telah menerima keluhan {customer} tentang {issue}.",
            part_actions="Tim kami sedang menelusurinya langsung bersama {customer}.",
            part_empathy="Kami mohon maaf atas ketidaknyamanan yang dirasakan.",
            part_next_update="Kami akan menyampaikan kabar berikutnya pukul {next_update}.",
            placeholders=["customer", "issue", "next_update"],
            must_not=[
                {"category": "speculation", "phrase": "kemungkinan akun palsu"},
                {"category": "blame", "phrase": "kesalahan pelanggan"},
                {"category": "legal_threat", "phrase": "kami akan menempuh jalur hukum"},
            ],
        )
    if not ApprovalWorkflow.objects.for_tenant(tenant).filter(severity="sev2").exists():
        workflow = services.create_workflow(tenant=tenant, severity="sev2", name="SEV2 approval")
        services.create_step(
            workflow=workflow,
            position=1,
            kind="agency",
            mode="any",
            approvers=[approver.pk],
            time_box_minutes=20,
            backup=None,
        )
        services.create_step(
            workflow=workflow,
            position=2,
            kind="client",
            mode="any",
            time_box_minutes=60,
            backup=approver,
        )
    incident_services.assign_role(incident=incident, user=client, role="client_approver")
    statement = services.create_statement(
        incident=incident,
        title="Tanggapan atas keluhan pelanggan",
        template=template,
        values={
            "customer": "pelanggan kami",
            "issue": "pesanan yang tertunda",
            "next_update": "15.00 WIB",
        },
        authority=_as(responder, Role.RESPONDER),
    )
    version = StatementVersion.objects.for_tenant(tenant).get(statement=statement)
    version = services.submit_version(version=version, authority=_as(responder, Role.RESPONDER))
    version = services.decide(
        version=version, decision="approved", authority=_as(approver, Role.APPROVER)
    )
    version = services.decide(
        version=version, decision="approved", comment="Setuju.", authority=_as(client, Role.CLIENT)
    )
    now = timezone.now()
    services.record_publication(
        version=version,
        channel="instagram",
        published_at=now - timedelta(minutes=5),
        authority=_as(responder, Role.RESPONDER),
    )
    services.record_publication(
        version=version,
        channel="website",
        url="https://example.com/pernyataan",
        published_at=now - timedelta(minutes=4),
        authority=_as(responder, Role.RESPONDER),
    )
    journalist = services.create_stakeholder(
        tenant=tenant,
        name="Rina Wartawan",
        kind="journalist",
        organisation="Harian Kota",
        tags=["konsumen", "nasional"],
    )
    services.log_interaction(
        incident=incident,
        stakeholder=journalist,
        channel="phone",
        summary="Menjelaskan kronologi dan mengirim pernyataan resmi.",
        promised="Kabar berikutnya pukul 15.00 WIB.",
        follow_up_due=now + timedelta(hours=2),
        authority=_as(responder, Role.RESPONDER),
    )
    services.create_right_of_reply(
        incident=incident,
        outlet=journalist,
        article_url="https://example.com/berita/keluhan-pelanggan",
        request_sent_at=now - timedelta(minutes=30),
        answer_due_at=now + timedelta(days=1),
        authority=_as(responder, Role.RESPONDER),
    )
    return f"statement {statement.pk} approved (version {version.pk}) and published twice"
