"""The demo's canned answers: a few approved answers to common questions (Indonesian and
English) and a draft one, so the suggestions for the demo mentions and the chat widget have
something to offer. Idempotent: an answer whose question exists is kept."""

from __future__ import annotations

from playbooks.models import CannedAnswer
from playbooks.services import create_answer
from tenants.models import Tenant

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
