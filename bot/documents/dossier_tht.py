"""The THT dossier for the procedure that applies (Law 17/2023 Art. 107(2)).

Registration route (capital contributed and a contract without a term or of 12 months or more, or State
support wanted): the Decree 92/2024 Art. 58(1) dossier — application, cooperation contract, member list,
authorisation of the representative — and the checklist. Contract route: the cooperation contract
(Decree 77/2019 Art. 3(2)), the commune notice (Decree 77/2019 Art. 12(3)) and the checklist.
A blank dossier (no answers) carries every document, to fill by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from docx.document import Document as DocumentType

from bot.documents import checklist, layout
from bot.documents.dossier import NATIONALITY, member, money_with_words, place
from bot.documents.figures import money, shares, total_of
from bot.documents.layout import BLANK, text_or_blank
from handlers.forms.wizard_rules import route_of

REGISTER, CONTRACT = "register", "contract"
NO_CAPITAL = "Không góp vốn (0 đồng): các thành viên chỉ góp sức lao động"


def route(a: Mapping[str, Any]) -> str | None:
    """"register" or "contract"; None for a blank dossier."""
    return route_of(a)[0] if a.get("members") else None


def write(doc: DocumentType, a: Mapping[str, Any], line_names: Mapping[str, str], when: date | None) -> None:
    which = route(a)
    parts: list[tuple[Any, bool]] = []
    if which in (REGISTER, None):
        parts.append((application, False))
    parts.append((contract, False))
    if which in (REGISTER, None):
        parts += [(members_list, True), (authorisation, False)]
    if which in (CONTRACT, None):
        parts.append((notice, False))
    for part, landscape in parts:
        layout.new_part(doc, landscape)
        part(doc, a, line_names)
    layout.new_part(doc)
    checklist.write_tht(doc, a, which)


def member_table(doc: DocumentType, a: Mapping[str, Any], widths: tuple[float, ...], signed: bool) -> None:
    members = a.get("members") or []
    amounts = [m.get("contribution") if isinstance(m.get("contribution"), int) else 0 for m in members]
    rows: list[tuple[object, ...]] = [
        (n, m.get("name"), m.get("birth_date"), m.get("id_number"), m.get("address"),
         money(m.get("contribution")) or "Không góp vốn", part or "—", *(("",) if signed else ()))
        for n, (m, part) in enumerate(zip(members, shares(amounts), strict=True), 1)]
    total = total_of(members)
    if members:
        rows.append(("", "Tổng cộng", "", "", "", money(total) or "—", "100,0%" if total else "—",
                     *(("",) if signed else ())))
    blank = [(n, "", "", "", "", "", "", *(("",) if signed else ())) for n in range(1, 4)]
    header = ("STT", "Họ và tên", "Ngày sinh", "Số định danh cá nhân", "Nơi cư trú", "Phần góp vốn", "Tỷ lệ",
              *(("Chữ ký",) if signed else ()))
    layout.table(doc, header, rows or blank, 10, widths, bold_last=bool(members))


def application(doc: DocumentType, a: Mapping[str, Any], line_names: Mapping[str, str]) -> None:
    layout.national_heading(doc)
    layout.title(doc, "GIẤY ĐỀ NGHỊ ĐĂNG KÝ THÀNH LẬP TỔ HỢP TÁC")
    layout.line(doc, "Kính gửi", f"Cơ quan đăng ký kinh doanh cấp xã — Ủy ban nhân dân {place(a)}" if place(a) else "")
    doc.add_paragraph("Tôi là người đại diện tổ hợp tác được các thành viên ủy quyền, đề nghị đăng ký thành lập tổ "
                      "hợp tác với các nội dung sau (khoản 1 Điều 58 Nghị định 92/2024/NĐ-CP):")
    layout.heading(doc, "1. Tên tổ hợp tác")
    layout.line(doc, "Tên", str(a.get("name") or "").upper(), bold_value=True)
    layout.heading(doc, "2. Địa chỉ trụ sở")
    layout.line(doc, "Địa chỉ", ", ".join(p for p in (a.get("address"), place(a)) if p))
    layout.line(doc, "Điện thoại", a.get("phone"))
    layout.heading(doc, "3. Ngành, nghề kinh doanh")
    lines = a.get("business_lines") or []
    names = "; ".join(f"{line_names.get(v, v)} ({v if v in line_names else 'cần tra mã'})" for v in lines)
    layout.line(doc, "Ngành, nghề", names)
    layout.line(doc, "Mục đích hợp tác", a.get("purpose"))
    layout.heading(doc, "4. Tổng giá trị phần góp vốn, số thành viên, thời hạn hợp tác")
    members = a.get("members") or []
    layout.line(doc, "Tổng giá trị phần góp vốn", money_with_words(total_of(members)) or
                (NO_CAPITAL if members else ""))
    layout.line(doc, "Số thành viên", len(members) or "")
    layout.line(doc, "Thời hạn hợp tác", a.get("term"))
    layout.heading(doc, "5. Người đại diện tổ hợp tác")
    rep = member(a, a.get("representative"))
    layout.line(doc, "Họ và tên (chữ in hoa)", str(a.get("representative") or "").upper(), bold_value=True)
    layout.line(doc, "Ngày sinh", rep.get("birth_date"))
    layout.line(doc, "Quốc tịch", NATIONALITY if rep else "")
    layout.line(doc, "Số định danh cá nhân", rep.get("id_number"))
    layout.line(doc, "Địa chỉ liên lạc", rep.get("address"))
    layout.note(doc, "Bố cục theo nội dung khoản 1 Điều 58 Nghị định 92/2024/NĐ-CP, không phải bản mẫu chính thức — "
                     f"{checklist.CHECK}.")
    doc.add_paragraph("Tôi cam kết chịu trách nhiệm trước pháp luật về tính hợp pháp, chính xác và trung thực của "
                      "nội dung đề nghị đăng ký trên.")
    layout.signature(doc, "Người đại diện tổ hợp tác", str(a.get("representative") or ""))


def contract(doc: DocumentType, a: Mapping[str, Any], line_names: Mapping[str, str]) -> None:
    layout.national_heading(doc)
    layout.title(doc, "HỢP ĐỒNG HỢP TÁC", f"Thành lập {text_or_blank(a.get('name'))}")
    layout.note(doc, "Căn cứ Bộ luật Dân sự 2015 (các Điều 504–512 về hợp đồng hợp tác); Điều 107 Luật Hợp tác xã "
                     "2023; Nghị định 77/2019/NĐ-CP về tổ hợp tác (khoản 2 Điều 3: nội dung hợp đồng).")
    members = a.get("members") or []
    layout.heading(doc, "Điều 1. Tên, mục đích, thời hạn, địa chỉ")
    layout.line(doc, "Tên tổ hợp tác", a.get("name"), bold_value=True)
    layout.line(doc, "Mục đích hợp tác", a.get("purpose"))
    layout.line(doc, "Thời hạn hợp tác", a.get("term"))
    layout.line(doc, "Địa chỉ", ", ".join(p for p in (a.get("address"), place(a)) if p))
    layout.line(doc, "Điện thoại", a.get("phone"))
    layout.heading(doc, "Điều 2. Thành viên và phần góp vốn")
    member_table(doc, a, (1.1, 3.1, 2.1, 2.7, 2.9, 2.5, 1.6), signed=False)
    layout.line(doc, "Tổng giá trị phần góp vốn", money_with_words(total_of(members)) or
                (NO_CAPITAL if members else ""))
    layout.heading(doc, "Điều 3. Người đại diện (tổ trưởng)")
    layout.line(doc, "Tổ trưởng", a.get("representative"))
    layout.heading(doc, "Điều 4. Phân chia hoa lợi, lợi tức, chịu lỗ")
    doc.add_paragraph(text_or_blank(a.get("profit_sharing")))
    layout.heading(doc, "Điều 5. Quyền và nghĩa vụ của thành viên, của người đại diện")
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


def members_list(doc: DocumentType, a: Mapping[str, Any], line_names: Mapping[str, str]) -> None:
    layout.national_heading(doc)
    layout.title(doc, "DANH SÁCH THÀNH VIÊN TỔ HỢP TÁC", text_or_blank(a.get("name")))
    member_table(doc, a, (1.2, 4.4, 2.4, 3.4, 5.4, 3.4, 1.9, 3.6), signed=True)
    layout.signature(doc, "Người đại diện tổ hợp tác", str(a.get("representative") or ""))


def authorisation(doc: DocumentType, a: Mapping[str, Any], line_names: Mapping[str, str]) -> None:
    """Decree 92/2024 Art. 58(1)(d): the members authorise one person to represent the group."""
    layout.national_heading(doc)
    layout.title(doc, "VĂN BẢN ỦY QUYỀN", f"Người đại diện {text_or_blank(a.get('name'))}")
    doc.add_paragraph("Chúng tôi, các thành viên tổ hợp tác có tên dưới đây, thống nhất ủy quyền cho:")
    rep = member(a, a.get("representative"))
    layout.line(doc, "Ông/bà", a.get("representative"), bold_value=True)
    layout.line(doc, "Ngày sinh", rep.get("birth_date"))
    layout.line(doc, "Số định danh cá nhân", rep.get("id_number"))
    layout.line(doc, "Nơi cư trú", rep.get("address"))
    doc.add_paragraph("làm người đại diện tổ hợp tác: ký giấy đề nghị đăng ký thành lập tổ hợp tác, nộp hồ sơ tại cơ "
                      "quan đăng ký kinh doanh và đại diện tổ hợp tác xác lập, thực hiện giao dịch trong phạm vi hợp "
                      "đồng hợp tác (điểm d khoản 1 Điều 58 Nghị định 92/2024/NĐ-CP).")
    layout.line(doc, "Thời hạn ủy quyền", f"theo thời hạn hợp đồng hợp tác ({a['term']})" if a.get("term") else "")
    layout.heading(doc, "Chữ ký của các thành viên ủy quyền")
    layout.table(doc, ("STT", "Họ và tên", "Chữ ký"),
                 [(n, m.get("name"), "") for n, m in enumerate(a.get("members") or [], 1)]
                 or [(n, "", "") for n in range(1, 4)], 11, (1.5, 9, 5.5))
    layout.signature(doc, "Người nhận ủy quyền", str(a.get("representative") or ""))


def notice(doc: DocumentType, a: Mapping[str, Any], line_names: Mapping[str, str]) -> None:
    layout.national_heading(doc)
    layout.title(doc, "THÔNG BÁO THÀNH LẬP TỔ HỢP TÁC")
    layout.line(doc, "Kính gửi", f"Ủy ban nhân dân {place(a)}" if place(a) else "")
    layout.line(doc, "Tên tổ hợp tác", a.get("name"), bold_value=True)
    layout.line(doc, "Địa chỉ", ", ".join(p for p in (a.get("address"), place(a)) if p))
    layout.line(doc, "Mục đích", a.get("purpose"))
    layout.line(doc, "Thời hạn hợp tác", a.get("term"))
    layout.line(doc, "Số thành viên", len(a.get("members") or []) or "")
    layout.line(doc, "Tổ trưởng", a.get("representative"))
    doc.add_paragraph("Tổ hợp tác gửi kèm hợp đồng hợp tác đã được các thành viên ký (khoản 3 Điều 12 Nghị định "
                      "77/2019/NĐ-CP).")
    layout.signature(doc, "Tổ trưởng", str(a.get("representative") or ""))
