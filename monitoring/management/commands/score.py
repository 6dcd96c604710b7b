"""``python manage.py score --input posts.jsonl --output scored.jsonl [--tenant SLUG]``."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import CommandError

from tenants.management.base import ScopedCommand


class Command(ScopedCommand):
    requires_secret_key = False  # reads and writes files; signs nothing (config/startup.py)
    help = (
        "Score a JSON-lines (or CSV with a 'text' column) file of posts: language, sentiment, "
        "provocation, crisis triggers, entities and risk. Without --tenant no database is used."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--input", required=True, help="input file, or - for stdin")
        parser.add_argument(
            "--output", required=True, help="output JSON-lines file, or - for stdout"
        )
        parser.add_argument("--format", choices=["auto", "jsonl", "csv"], default="auto")
        parser.add_argument("--tenant", default=None, help="tenant slug: add its terms and lexicon")
        parser.add_argument("--batch-size", type=int, default=512)
        parser.add_argument(
            "--adapt-from",
            default=None,
            help=(
                "labelled JSON-lines file ({id, text, sentiment, provocation}): adapt the base "
                "models to these labels as a tenant's classifier is, then score"
            ),
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        from monitoring.scoring.batchio import detect_format, score_stream

        extensions = None
        if opts["tenant"]:
            from monitoring.selectors import scoring_extensions
            from tenants import dbscope
            from tenants.models import Tenant

            tenant = Tenant.objects.filter(slug=opts["tenant"]).first()
            if tenant is None:
                raise CommandError(f"no such tenant: {opts['tenant']}")
            with dbscope.tenant_scope(tenant):
                extensions = scoring_extensions(tenant.pk)
        adapter = None
        if opts["adapt_from"]:
            from monitoring.scoring import adapt, get_scorer
            from monitoring.scoring.batchio import read_examples

            try:
                with open(opts["adapt_from"], "rb") as fh:
                    examples = read_examples(fh)
            except (OSError, ValueError) as exc:
                raise CommandError(f"--adapt-from: {exc}") from exc
            trained = adapt.train(get_scorer(), examples)
            adapter = trained.adapter
            self.stderr.write(json.dumps({"adaptation": trained.metrics()}))
        src, dst = opts["input"], opts["output"]
        fmt = detect_format(src, opts["format"])
        fin = sys.stdin.buffer if src == "-" else open(src, "rb")  # noqa: SIM115
        fout = sys.stdout if dst == "-" else open(dst, "w", encoding="utf-8")  # noqa: SIM115
        progress = sys.stderr if sys.stderr.isatty() else None
        try:
            stats = score_stream(
                fin,
                fout,
                fmt,
                extensions,
                batch_size=max(1, opts["batch_size"]),
                progress=progress,
                adapter=adapter,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if fin is not sys.stdin.buffer:
                fin.close()
            if fout is not sys.stdout:
                fout.close()
        if progress is not None:
            self.stderr.write(f"{stats['records']} records, {stats['errors']} errors")
