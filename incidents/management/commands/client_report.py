"""``manage.py client_report``: make the client reports of the last complete week or month now,
for some tenants or all, write them as PDF and Markdown files, and e-mail them to the
tenants' report recipients with ``--send`` (docs/evaluation.md). A progress bar on stderr
(always with ``--progress``; by itself when stderr is a terminal)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.utils.dateparse import parse_datetime

from incidents.evaluation import documents, export, services
from incidents.evaluation.models import ReportFrequency, ReportSubscription
from tenants import dbscope, i18n
from tenants.management.base import ScopedCommand
from tenants.models import Tenant


class Command(ScopedCommand):
    help = (
        "Make the client report of the last complete week or month for each tenant (or those "
        "named), write it as PDF and Markdown, and e-mail it to the report recipients (--send)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--frequency", choices=ReportFrequency.values, default="weekly")
        parser.add_argument("--tenant", action="append", default=[], help="a tenant's slug")
        parser.add_argument("--at", help="the last complete period before this time (ISO 8601)")
        parser.add_argument("--output", help="a folder for the PDF and Markdown files")
        parser.add_argument(
            "--send", action="store_true", help="e-mail it to the subscription's recipients"
        )
        parser.add_argument("--progress", action="store_true", help="always show the bar")

    def handle(self, *args: Any, **options: Any) -> None:
        moment = None
        if options["at"]:
            moment = parse_datetime(options["at"])
            if moment is None or moment.tzinfo is None:
                raise CommandError("--at: an ISO 8601 time with its offset.")
        folder = Path(options["output"]) if options["output"] else None
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        with dbscope.all_tenants("manage.py client_report"):
            tenants = Tenant.objects.order_by("slug")
            if options["tenant"]:
                tenants = tenants.filter(slug__in=options["tenant"])
                missing = set(options["tenant"]) - set(tenants.values_list("slug", flat=True))
                if missing:
                    raise CommandError(f"No such tenant: {', '.join(sorted(missing))}.")
            rows = list(tenants)
            bar = self._bar(len(rows), options["progress"])
            for tenant in rows:
                bar.set_postfix_str(tenant.slug)
                self._one(tenant, options["frequency"], moment, folder, options["send"])
                bar.update(1)
            bar.close()

    def _one(
        self, tenant: Tenant, frequency: str, moment: Any, folder: Path | None, send: bool
    ) -> None:
        report = services.generate_report(tenant=tenant, frequency=frequency, moment=moment)
        sent = 0
        if send:
            subscription = (
                ReportSubscription.objects.for_tenant(tenant)
                .filter(frequency=frequency, is_active=True)
                .first()
            )
            if subscription is not None:
                sent = services.email_report(
                    report=report, recipients=list(subscription.recipients)
                )
        if folder is not None:
            with i18n.override(tenant=tenant):
                document = documents.report_document(report)
                stem = f"{tenant.slug}-{frequency}-{report.period_start:%Y-%m-%d}"
                (folder / f"{stem}.pdf").write_bytes(export.to_pdf(document))
                (folder / f"{stem}.md").write_text(export.to_markdown(document), encoding="utf-8")
        self.stdout.write(
            f"{tenant.slug}: report {report.pk} ({report.period_start:%Y-%m-%d} - "
            f"{report.period_end:%Y-%m-%d}), {sent} e-mailed"
        )

    def _bar(self, total: int, force: bool) -> Any:
        from tqdm import tqdm

        return tqdm(
            total=total,
            unit="tenant",
            file=sys.stderr,
            disable=not (force or sys.stderr.isatty()),
            leave=False,
        )
