"""The export module on its own: characters the font lacks become a visible box in the PDF
while the text layer keeps them; Markdown tables escape their cells."""

from __future__ import annotations

import io
from pathlib import Path

from fontTools.ttLib import TTFont
from pypdf import PdfReader

from incidents.evaluation import export
from incidents.evaluation.export import Document, Paragraph, Quote, Table

POST = "Kopinya basi é \u2019 — 😡 中文"


def test_only_the_missing_characters_get_the_placeholder(tmp_path: Path) -> None:
    document = Document(title="Uji", blocks=[Quote(POST, "@pelanggan")])
    missing = export.missing_characters(document)
    assert missing == [ord("中"), ord("文")]  # DejaVu Sans has the others and this emoji
    regular, _bold = export.font_paths()
    patched = TTFont(str(export.with_placeholders(regular, missing, tmp_path)))
    cmap = patched.getBestCmap()
    box = cmap[export.PLACEHOLDER]
    assert cmap[ord("中")] == cmap[ord("文")] == box
    assert cmap[ord("é")] != box


def test_pdf_keeps_the_real_text_under_the_boxes() -> None:
    document = Document(title="Uji", blocks=[Paragraph("Kutipan:"), Quote(POST, "@pelanggan")])
    pdf = export.to_pdf(document)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert POST in text
    # the embedded font holds the box glyph the missing characters are drawn with
    assert b"FontFile2" in pdf


def test_markdown_tables_escape_their_cells() -> None:
    document = Document(title="Uji", blocks=[Table(["a", "b"], [["x|y", "baris\nbaru"]])])
    assert "| x\\|y | baris baru |" in export.to_markdown(document)
