"""Markdown and PDF exports of a review and of a client report, from one neutral document
(headings, paragraphs, tables, quoted posts, charts) so both formats say the same.

The PDF is written by fpdf2 with DejaVu Sans, the TrueType font matplotlib ships
(``matplotlib/mpl-data/fonts/ttf``; DejaVu fonts licence, a free licence derived from the
Bitstream Vera licence: free to use, embed and redistribute). Characters the font lacks (emoji,
Chinese, ...) are drawn as the font's visible "missing glyph" box while the text layer keeps the
real characters (the font's ToUnicode map), so a reader copying or searching the text finds
them. Times are in the tenant's zone with its abbreviation (``tenants.i18n.local_time``).
"""

from __future__ import annotations

import base64
import functools
import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Block = Any


@dataclass
class Heading:
    text: str
    level: int = 1


@dataclass
class Paragraph:
    text: str


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]


@dataclass
class Quote:
    text: str
    source: str


@dataclass
class Chart:
    title: str
    png: bytes


@dataclass
class Document:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)


# --- Markdown --------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(document: Document) -> str:
    lines = [f"# {document.title}", ""]
    for block in document.blocks:
        if isinstance(block, Heading):
            lines += [f"{'#' * (block.level + 1)} {block.text}", ""]
        elif isinstance(block, Paragraph):
            lines += [block.text, ""]
        elif isinstance(block, Table):
            lines.append("| " + " | ".join(_cell(h) for h in block.header) + " |")
            lines.append("|" + "---|" * len(block.header))
            lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in block.rows]
            lines.append("")
        elif isinstance(block, Quote):
            lines += [f"> {line}" for line in block.text.splitlines() or [""]]
            lines += [">", f"> — {block.source}", ""]
        elif isinstance(block, Chart):
            data = base64.b64encode(block.png).decode("ascii")
            lines += [f"![{block.title}](data:image/png;base64,{data})", ""]
    return "\n".join(lines).rstrip() + "\n"


# --- PDF -------------------------------------------------------------------------------------


def font_paths() -> tuple[Path, Path]:
    """DejaVu Sans regular and bold, shipped by matplotlib."""
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"


PLACEHOLDER = 0x25A1  # □ WHITE SQUARE: what a character the font lacks looks like


@functools.cache
def _covered(path: Path) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    return frozenset(TTFont(str(path), lazy=True).getBestCmap())


def _texts(document: Document) -> Iterator[str]:
    yield document.title
    for block in document.blocks:
        if isinstance(block, Table):
            yield from block.header
            for row in block.rows:
                yield from row
        else:
            for name in ("text", "source", "title"):
                yield str(getattr(block, name, ""))


def missing_characters(document: Document) -> list[int]:
    """The characters of ``document`` the font has no glyph for (emoji outside DejaVu's
    set, Chinese, ...)."""
    regular, _bold = font_paths()
    covered = _covered(regular)
    found = {ord(char) for text in _texts(document) for char in text}
    return sorted(cp for cp in found if cp >= 0x20 and cp not in covered)


def with_placeholders(path: Path, codepoints: list[int], folder: Path) -> Path:
    """A copy of the font at ``path`` whose cmap maps each of ``codepoints`` to the
    placeholder glyph (□). The PDF then draws a box for each while its ToUnicode map, which
    fpdf2 writes from the characters, keeps the real text for copying and searching."""
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.tables._c_m_a_p import CmapSubtable

    font = TTFont(str(path))
    box = font.getBestCmap()[PLACEHOLDER]
    cmap = font["cmap"]
    full = next((t for t in cmap.tables if t.format == 12), None)
    if full is None:
        full = CmapSubtable.newSubtable(12)
        full.platformID, full.platEncID, full.language = 3, 10, 0
        full.cmap = dict(font.getBestCmap())
        cmap.tables.append(full)
    for codepoint in codepoints:
        full.cmap[codepoint] = box
        for table in cmap.tables:
            if table.format == 4 and codepoint <= 0xFFFF:
                table.cmap[codepoint] = box
    target = folder / path.name
    font.save(str(target))
    return target


def to_pdf(document: Document) -> bytes:
    with tempfile.TemporaryDirectory(prefix="sigap-pdf-") as folder:
        return _to_pdf(document, Path(folder))


def _to_pdf(document: Document, folder: Path) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    regular, bold = font_paths()
    missing = missing_characters(document)
    if missing:
        regular = with_placeholders(regular, missing, folder)
        bold = with_placeholders(bold, missing, folder)
    pdf = FPDF(format="A4")
    pdf.set_title(document.title)
    pdf.set_creator("Sigap")
    pdf.add_font("DejaVu", "", str(regular))
    pdf.add_font("DejaVu", "B", str(bold))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    width = pdf.epw
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(width, 8, document.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    for block in document.blocks:
        if isinstance(block, Heading):
            pdf.ln(2)
            pdf.set_font("DejaVu", "B", 13 if block.level == 1 else 11)
            pdf.multi_cell(width, 7, block.text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        elif isinstance(block, Paragraph):
            pdf.set_font("DejaVu", "", 10)
            pdf.multi_cell(width, 5.5, block.text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(1)
        elif isinstance(block, Table):
            pdf.set_font("DejaVu", "", 8.5)
            with pdf.table(
                headings_style=_heading_style(),
                line_height=5,
                text_align="LEFT",
                first_row_as_headings=True,
            ) as table:
                for row in [block.header, *block.rows]:
                    cells = table.row()
                    for value in row:
                        cells.cell(str(value))
            pdf.ln(2)
        elif isinstance(block, Quote):
            pdf.set_font("DejaVu", "", 10)
            pdf.set_x(pdf.l_margin + 6)
            pdf.multi_cell(width - 6, 5.5, f"“{block.text}”", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_font("DejaVu", "", 8)
            pdf.set_x(pdf.l_margin + 6)
            pdf.multi_cell(width - 6, 4.5, f"— {block.source}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(2)
        elif isinstance(block, Chart):
            pdf.image(io.BytesIO(block.png), w=width)
            pdf.ln(2)
    return bytes(pdf.output())


def _heading_style() -> Any:
    from fpdf.fonts import FontFace

    return FontFace(emphasis="BOLD", fill_color=(230, 236, 242))
