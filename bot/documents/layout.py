"""Small python-docx helpers for Vietnamese administrative documents (national heading, titles, tables)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from docx.document import Document as DocumentType
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import _Row

BLANK = "……………………"
FONT = "Times New Roman"


PORTRAIT_WIDTH = 16.0   # cm of text width on A4 portrait with the margins below
LANDSCAPE_WIDTH = 25.7  # cm on A4 landscape


def _page(section: object, landscape: bool) -> None:
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT  # type: ignore[attr-defined]
    width, height = (Cm(29.7), Cm(21)) if landscape else (Cm(21), Cm(29.7))
    section.page_width, section.page_height = width, height  # type: ignore[attr-defined]
    section.left_margin, section.right_margin = (Cm(2), Cm(2)) if landscape else (Cm(3), Cm(2))  # type: ignore[attr-defined]
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)  # type: ignore[attr-defined]


def new_part(doc: DocumentType, landscape: bool = False) -> None:
    """Start a document of the dossier on a new page (a new section: no empty page, its own orientation)."""
    if len(doc.paragraphs) == 0 and len(doc.tables) == 0:
        _page(doc.sections[0], landscape)
        return
    _page(doc.add_section(WD_SECTION.NEW_PAGE), landscape)


def setup(doc: DocumentType) -> None:
    """A4, usual administrative margins, Times New Roman 12 (also for Vietnamese glyphs)."""
    _page(doc.sections[0], landscape=False)
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(12)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    style.paragraph_format.space_after = Pt(1)
    style.paragraph_format.line_spacing = 1.1


def text_or_blank(value: object) -> str:
    return str(value) if value not in (None, "", []) else BLANK


def national_heading(doc: DocumentType, place: str = "", when: date | None = None) -> None:
    """CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM / Độc lập - Tự do - Hạnh phúc, then the place and date line."""
    para = doc.add_paragraph()
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = para.add_run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    run.bold = True
    run.font.size = Pt(12)
    para = doc.add_paragraph()
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = para.add_run("Độc lập - Tự do - Hạnh phúc")
    run.bold, run.underline = True, True
    para = doc.add_paragraph()
    para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    day = f"ngày {when:%d} tháng {when:%m} năm {when:%Y}" if when else "ngày …… tháng …… năm ……"
    para.add_run(f"{place or '…………'}, {day}").italic = True


def title(doc: DocumentType, text: str, subtitle: str = "") -> None:
    para = doc.add_paragraph()
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    para.paragraph_format.space_before = Pt(12)
    run = para.add_run(text)
    run.bold = True
    run.font.size = Pt(14)
    if subtitle:
        sub = doc.add_paragraph()
        sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
        sub.add_run(subtitle).italic = True


def line(doc: DocumentType, label: str, value: object = "", bold_value: bool = False) -> None:
    """"Label: value" with the value filled in, or dotted when unknown."""
    para = doc.add_paragraph()
    para.add_run(f"{label}: " if label else "")
    para.add_run(text_or_blank(value)).bold = bold_value


def heading(doc: DocumentType, text: str) -> None:
    para = doc.add_paragraph()
    para.paragraph_format.space_before = Pt(6)
    para.add_run(text).bold = True


def note(doc: DocumentType, text: str) -> None:
    para = doc.add_paragraph()
    run = para.add_run(text)
    run.italic = True
    run.font.size = Pt(11)


def table(doc: DocumentType, header: Sequence[str], rows: Sequence[Sequence[object]], size: int = 11,
          widths: Sequence[float] | None = None, bold_last: bool = False) -> None:
    """A bordered table with a bold header row (and a bold last row for a total), columns `widths` cm wide."""
    grid = doc.add_table(rows=1, cols=len(header))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(grid.rows[0].cells, header, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(text)
        run.bold, run.font.size = True, Pt(size)
    repeat_header(grid.rows[0])
    for number, row in enumerate(rows, start=1):
        cells = grid.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = ""
            run = cell.paragraphs[0].add_run("" if value is None else str(value))
            run.font.size = Pt(size)
            run.bold = bold_last and number == len(rows)
    if widths:
        grid.autofit = False
        for column, width in zip(grid.columns, widths, strict=True):
            column.width = Cm(width)
        for row in grid.rows:
            for cell, width in zip(row.cells, widths, strict=True):
                cell.width = Cm(width)


def repeat_header(row: _Row) -> None:
    """Mark a table's first row to be printed again at the top of every page the table runs onto."""
    properties = row._tr.get_or_add_trPr()
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    properties.append(flag)


def signature(doc: DocumentType, role: str, name: str = "") -> None:
    para = doc.add_paragraph()
    para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    para.paragraph_format.space_before = Pt(12)
    para.add_run(role.upper()).bold = True
    para = doc.add_paragraph()
    para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    para.add_run("(Ký và ghi rõ họ tên)").italic = True
    for _ in range(2):
        doc.add_paragraph()
    if name:
        para = doc.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        para.add_run(name).bold = True


def signatures(doc: DocumentType, people: Sequence[tuple[str, str]]) -> None:
    """Signature blocks side by side (e.g. the chair and the secretary of a meeting)."""
    grid = doc.add_table(rows=1, cols=len(people))
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, (role, name) in zip(grid.rows[0].cells, people, strict=True):
        cell.text = ""
        para = cell.paragraphs[0]
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        para.paragraph_format.space_before = Pt(12)
        para.add_run(role.upper()).bold = True
        hint = cell.add_paragraph()
        hint.alignment = WD_ALIGN_PARAGRAPH.CENTER
        hint.add_run("(Ký và ghi rõ họ tên)").italic = True
        for _ in range(2):
            cell.add_paragraph()
        signed = cell.add_paragraph()
        signed.alignment = WD_ALIGN_PARAGRAPH.CENTER
        signed.add_run(name).bold = True


def bullets(doc: DocumentType, items: Sequence[str], size: int | None = None) -> None:
    """Bulleted paragraphs (`size` pt when given, e.g. to keep a checklist on one page)."""
    for item in items:
        para = doc.add_paragraph(style="List Bullet")
        run = para.add_run(item)
        if size:
            run.font.size = Pt(size)
