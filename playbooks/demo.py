"""The demo's playbooks: the starter playbooks (one per crisis trigger, in Indonesian and
English) loaded for the demo agency, agency-owned. Idempotent; the incidents demo calls it
before it opens the demo incident, so the matching playbook attaches by itself.

The demo's canned answers (``seed_answers``): a few approved answers to common questions
(Indonesian and English) and a draft one, for the suggestions and the chat widget.
"""

from __future__ import annotations

from playbooks.models import CannedAnswer, Playbook
from playbooks.services import create_answer, load_starter_playbooks
from tenants.models import Tenant


def seed_playbooks(tenant: Tenant) -> str:
    created = load_starter_playbooks(agency=tenant.agency)
    total = Playbook.objects.filter(agency_id=tenant.agency_id, tenant__isnull=True).count()
    return f"starter playbooks: {len(created)} loaded, {total} for the agency"


# --- canned answers and the chat widget (issue 16) ---
ANSWERS = (
    (
        "id",
        "Bagaimana cara mengajukan refund (pengembalian dana)?",
        "Refund diajukan lewat menu Bantuan > Pengembalian Dana di aplikasi; tim kami memproses "
        "sesuai ketentuan yang berlaku.",
        "approved",
    ),
    (
        "id",
        "Kenapa pesanan saya belum sampai?",
        "Mohon maaf atas keterlambatannya kak. Cek status pengiriman di menu Pesanan Saya, atau "
        "kirim nomor pesanan lewat DM agar kami bantu cek.",
        "approved",
    ),
    (
        "id",
        "Apakah produk aman dikonsumsi?",
        "Semua produk kami melewati uji mutu dan bersertifikat BPOM serta halal MUI.",
        "approved",
    ),
    (
        "en",
        "How do I contact customer service?",
        "Send us a DM with your order number, or call 1500-123 (08.00-22.00 WIB) every day.",
        "approved",
    ),
    (
        "id",
        "Apakah ada kompensasi untuk gangguan layanan?",
        "Kami masih menunggu keputusan resmi; jawaban ini belum boleh dipakai.",
        "draft",
    ),
)


def seed_answers(tenant: Tenant) -> int:
    made = 0
    for language, question, answer, status in ANSWERS:
        if CannedAnswer.objects.for_tenant(tenant).filter(question=question).exists():
            continue
        create_answer(
            tenant=tenant, question=question, answer=answer, language=language, status=status
        )
        made += 1
    return made
