"""The THT dossier: cooperation contract (Civil Code 2015, Decree 77/2019), formation notice, checklist."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from docx.document import Document as DocumentType

from bot.documents import checklist, layout
from bot.documents.dossier import money, place, share
from bot.documents.layout import BLANK, text_or_blank


def write(doc: DocumentType, a: Mapping[str, Any], when: date | None) -> None:
    contract(doc, a)
    layout.page_break(doc)
    notice(doc, a)
    layout.page_break(doc)
    checklist.write_tht(doc, a)


def contract(doc: DocumentType, a: Mapping[str, Any]) -> None:
    layout.national_heading(doc)
    layout.title(doc, "HỢP ĐỒNG HỢP TÁC", f"Thành lập {text_or_blank(a.get('name'))}")
    layout.note(doc, "Căn cứ Bộ luật Dân sự 2015 (các Điều 504–512 về hợp đồng hợp tác); Nghị định 77/2019/NĐ-CP "
                     "về tổ hợp tác; Luật Hợp tác xã 2023.")
    members = a.get("members") or []
    total = sum(m.get("contribution") or 0 for m in members)
    layout.heading(doc, "Điều 1. Tên, mục đích, thời hạn, địa chỉ")
    layout.line(doc, "Tên tổ hợp tác", a.get("name"), bold_value=True)
    layout.line(doc, "Mục đích hợp tác", a.get("purpose"))
    layout.line(doc, "Thời hạn hợp tác", a.get("term"))
    layout.line(doc, "Địa chỉ", ", ".join(p for p in (a.get("address"), place(a)) if p))
    layout.line(doc, "Điện thoại", a.get("phone"))
    layout.heading(doc, "Điều 2. Thành viên và phần đóng góp")
    rows = [(n, m.get("name"), m.get("birth_date"), m.get("id_number"), m.get("address"), money(m.get("contribution")),
             share(m.get("contribution"), total)) for n, m in enumerate(members, 1)]
    layout.table(doc, ("STT", "Họ và tên", "Ngày sinh", "Số CCCD", "Địa chỉ", "Phần đóng góp", "Tỷ lệ"),
                 rows or [(n, "", "", "", "", "", "") for n in range(1, 4)], 10, (1, 3.3, 2.2, 2.7, 3.2, 2.6, 1.3))
    layout.line(doc, "Tổng giá trị đóng góp", money(total) if total else "")
    layout.heading(doc, "Điều 3. Người đại diện (tổ trưởng)")
    layout.line(doc, "Tổ trưởng", a.get("representative"))
    layout.heading(doc, "Điều 4. Phân chia lợi nhuận, chịu lỗ")
    doc.add_paragraph(text_or_blank(a.get("profit_sharing")))
    layout.heading(doc, "Điều 5. Quyền và nghĩa vụ của thành viên")
    doc.add_paragraph("Các thành viên cùng góp tài sản, công sức để thực hiện công việc nêu tại Điều 1, cùng hưởng "
                      f"lợi và cùng chịu trách nhiệm. Quy định cụ thể: {BLANK}")
    layout.heading(doc, "Điều 6. Điều kiện tham gia, rút khỏi tổ")
    doc.add_paragraph(text_or_blank(a.get("join_leave")))
    layout.heading(doc, "Điều 7. Chấm dứt hợp đồng hợp tác")
    doc.add_paragraph(f"Hợp đồng chấm dứt khi hết thời hạn, khi đạt được mục đích, hoặc theo thỏa thuận của các thành "
                      f"viên; việc xử lý tài sản khi chấm dứt: {BLANK}")
    layout.heading(doc, "Chữ ký của toàn bộ thành viên")
    layout.table(doc, ("STT", "Họ và tên", "Chữ ký"),
                 [(n, m.get("name"), "") for n, m in enumerate(members, 1)] or [(n, "", "") for n in range(1, 4)],
                 11, (1.5, 9, 5.5))


def notice(doc: DocumentType, a: Mapping[str, Any]) -> None:
    layout.national_heading(doc)
    layout.title(doc, "THÔNG BÁO THÀNH LẬP TỔ HỢP TÁC")
    layout.line(doc, "Kính gửi", f"Ủy ban nhân dân {place(a)}" if place(a) else "")
    layout.line(doc, "Tên tổ hợp tác", a.get("name"), bold_value=True)
    layout.line(doc, "Địa chỉ", ", ".join(p for p in (a.get("address"), place(a)) if p))
    layout.line(doc, "Mục đích", a.get("purpose"))
    layout.line(doc, "Số thành viên", len(a.get("members") or []) or "")
    layout.line(doc, "Tổ trưởng", a.get("representative"))
    doc.add_paragraph("Tổ hợp tác gửi kèm hợp đồng hợp tác đã được các thành viên ký.")
    layout.signature(doc, "Tổ trưởng", str(a.get("representative") or ""))
