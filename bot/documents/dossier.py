"""The HTX founding dossier as one .docx: application form, member list, management list, founding
conference resolution, draft charter skeleton, business plan skeleton and the filing checklist.

Laid out like the forms of Circular 09/2024/TT-BKHĐT as far as we know them; the checklist tells the user
to compare with the current form at the commune People's Committee before signing. With no answers
(the user did not consent to storing personal data) every field is left blank to fill by hand.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import date
from typing import Any

from docx import Document
from docx.document import Document as DocumentType

from bot.documents import checklist, layout
from bot.documents.layout import BLANK, text_or_blank

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
GOVERNANCE = {"full": "Đầy đủ (đại hội thành viên, hội đồng quản trị, giám đốc, ban kiểm soát)",
              "simple": "Rút gọn (đại hội thành viên, giám đốc, kiểm soát viên)"}
ROLES = {"official": "Chính thức", "associate": "Liên kết góp vốn"}


def money(value: Any) -> str:
    return f"{value:,}".replace(",", ".") + " đồng" if isinstance(value, int) else BLANK


def share(value: Any, capital: Any) -> str:
    if isinstance(value, int) and isinstance(capital, int) and capital:
        return f"{100 * value / capital:.1f}%".replace(".", ",")
    return ""


def member(answers: Mapping[str, Any], name: Any) -> dict[str, Any]:
    """The member record of an elected person (empty when the person is not a member)."""
    return next((m for m in answers.get("members") or [] if m.get("name") == name), {})


def place(answers: Mapping[str, Any]) -> str:
    parts = [answers.get("commune"), answers.get("province")]
    return ", ".join(p for p in parts if p) if any(parts) else ""


def build_dossier(kind: str, answers: Mapping[str, Any], line_names: Mapping[str, str],
                  when: date | None = None) -> bytes:
    """The whole dossier for `kind` ("htx" or "tht") as .docx bytes."""
    from bot.documents import dossier_tht

    doc = Document()
    layout.setup(doc)
    if kind == "tht":
        dossier_tht.write(doc, answers, when)
    else:
        write_htx(doc, answers, line_names, when)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def write_htx(doc: DocumentType, answers: Mapping[str, Any], line_names: Mapping[str, str], when: date | None) -> None:
    for part in (application, members_list, management_list, founding_resolution, charter_skeleton,
                 business_plan_skeleton):
        part(doc, answers, line_names, when)
        layout.page_break(doc)
    checklist.write_htx(doc, answers)


def application(doc: DocumentType, a: Mapping[str, Any], line_names: Mapping[str, str], when: date | None) -> None:
    layout.national_heading(doc, "", None)
    layout.title(doc, "GIẤY ĐỀ NGHỊ ĐĂNG KÝ HỢP TÁC XÃ")
    layout.line(doc, "Kính gửi", f"Cơ quan đăng ký kinh doanh cấp xã — Ủy ban nhân dân {place(a)}" if place(a) else "")
    rep = member(a, a.get("legal_rep"))
    layout.line(doc, "Tôi là (ghi họ tên bằng chữ in hoa)", str(a.get("legal_rep") or "").upper(), bold_value=True)
    layout.line(doc, "Ngày sinh", rep.get("birth_date"))
    layout.line(doc, "Số định danh cá nhân (CCCD)", rep.get("id_number"))
    layout.line(doc, "Địa chỉ liên lạc", rep.get("address"))
    doc.add_paragraph("Là người đại diện theo pháp luật, đề nghị đăng ký thành lập hợp tác xã với các nội dung sau:")
    layout.heading(doc, "1. Tình trạng thành lập: Thành lập mới")
    layout.heading(doc, "2. Tên hợp tác xã")
    layout.line(doc, "Tên bằng tiếng Việt", str(a.get("name") or "").upper(), bold_value=True)
    layout.line(doc, "Tên bằng tiếng nước ngoài (nếu có)", a.get("foreign_name"))
    layout.line(doc, "Tên viết tắt (nếu có)", a.get("short_name"))
    layout.heading(doc, "3. Địa chỉ trụ sở chính")
    layout.line(doc, "Số nhà, đường/thôn, ấp", a.get("address"))
    layout.line(doc, "Xã/phường/đặc khu", a.get("commune"))
    layout.line(doc, "Tỉnh/thành phố", a.get("province"))
    layout.line(doc, "Điện thoại", a.get("phone"))
    layout.line(doc, "Email", a.get("email"))
    layout.heading(doc, "4. Ngành, nghề kinh doanh")
    lines = a.get("business_lines") or []
    rows = [(n, line_names.get(v, v), v if v in line_names else "(cần tra mã)") for n, v in enumerate(lines, 1)]
    layout.table(doc, ("STT", "Tên ngành", "Mã ngành (VSIC)"), rows or [(1, BLANK, ""), (2, BLANK, "")], 12,
                 (1.5, 11, 3.5))
    layout.heading(doc, "5. Vốn điều lệ")
    layout.line(doc, "Vốn điều lệ", money(a.get("charter_capital")) if a.get("charter_capital") else "")
    members = a.get("members") or []
    official = sum(1 for m in members if m.get("role", "official") == "official")
    layout.heading(doc, "6. Thành viên")
    layout.line(doc, "Tổng số thành viên", f"{len(members)} (chính thức: {official}; liên kết góp vốn: "
                f"{len(members) - official})" if members else "")
    layout.heading(doc, "7. Mô hình tổ chức quản trị")
    layout.line(doc, "Mô hình", GOVERNANCE.get(str(a.get("governance")), ""))
    doc.add_paragraph("Tôi cam kết chịu trách nhiệm trước pháp luật về tính hợp pháp, chính xác và trung thực của "
                      "nội dung đề nghị đăng ký trên.")
    layout.signature(doc, "Người đại diện theo pháp luật", str(a.get("legal_rep") or ""))


def members_list(doc: DocumentType, a: Mapping[str, Any], line_names: Mapping[str, str], when: date | None) -> None:
    layout.national_heading(doc)
    layout.title(doc, "DANH SÁCH THÀNH VIÊN HỢP TÁC XÃ", text_or_blank(a.get("name")))
    capital = a.get("charter_capital")
    rows = [(n, m.get("name"), m.get("birth_date"), m.get("id_number"), m.get("address"),
             ROLES.get(m.get("role", "official"), ""), money(m.get("contribution")),
             share(m.get("contribution"), capital), "") for n, m in enumerate(a.get("members") or [], 1)]
    rows = rows or [(n, "", "", "", "", "", "", "", "") for n in range(1, 6)]
    layout.table(doc, ("STT", "Họ và tên", "Ngày sinh", "Số CCCD", "Địa chỉ", "Loại thành viên", "Vốn góp",
                       "Tỷ lệ", "Chữ ký"), rows, 9, (0.9, 2.8, 1.9, 2.4, 2.6, 1.7, 2.3, 1.2, 1.5))
    total = sum(m.get("contribution") or 0 for m in a.get("members") or [])
    layout.line(doc, "Tổng vốn góp", money(total) if total else "")
    layout.signature(doc, "Người đại diện theo pháp luật", str(a.get("legal_rep") or ""))


def elected(a: Mapping[str, Any]) -> list[tuple[str, Any]]:
    if a.get("governance") == "simple":
        return [("Giám đốc", a.get("director")), ("Kiểm soát viên", a.get("controller"))]
    return [("Chủ tịch Hội đồng quản trị", a.get("chair")), ("Giám đốc", a.get("director")),
            ("Trưởng ban kiểm soát", a.get("supervisor"))]


def management_list(doc: DocumentType, a: Mapping[str, Any], line_names: Mapping[str, str], when: date | None) -> None:
    layout.national_heading(doc)
    layout.title(doc, "DANH SÁCH HỘI ĐỒNG QUẢN TRỊ, GIÁM ĐỐC, BAN KIỂM SOÁT HOẶC KIỂM SOÁT VIÊN",
                 text_or_blank(a.get("name")))
    rows = [(n, role, name or "", member(a, name).get("birth_date", ""), member(a, name).get("id_number", ""), "")
            for n, (role, name) in enumerate(elected(a), 1)]
    layout.table(doc, ("STT", "Chức danh", "Họ và tên", "Ngày sinh", "Số CCCD", "Chữ ký"), rows, 11,
                 (1, 4.5, 4, 2.3, 3, 2))
    layout.note(doc, "Thêm các thành viên Hội đồng quản trị, Ban kiểm soát khác (nếu có) theo kết quả bầu tại hội nghị "
                     "thành lập.")
    layout.signature(doc, "Người đại diện theo pháp luật", str(a.get("legal_rep") or ""))


def founding_resolution(doc: DocumentType, a: Mapping[str, Any], line_names: Mapping[str, str],
                        when: date | None) -> None:
    layout.national_heading(doc)
    layout.title(doc, "NGHỊ QUYẾT HỘI NGHỊ THÀNH LẬP", text_or_blank(a.get("name")))
    layout.line(doc, "Thời gian", "…… giờ, ngày …… tháng …… năm ……")
    layout.line(doc, "Địa điểm", ", ".join(p for p in (a.get("address"), place(a)) if p))
    members = a.get("members") or []
    layout.line(doc, "Thành phần", f"các sáng lập viên, có mặt …… /{len(members) or '……'} thành viên")
    layout.line(doc, "Chủ trì", a.get("chair") or a.get("director"))
    layout.heading(doc, "Hội nghị thành lập đã thảo luận và biểu quyết thông qua:")
    layout.bullets(doc, [
        f"Thành lập {text_or_blank(a.get('name'))}, trụ sở tại {text_or_blank(place(a))}.",
        "Điều lệ hợp tác xã (kèm theo). Tán thành: …… /…… thành viên có mặt.",
        "Phương án sản xuất, kinh doanh (kèm theo). Tán thành: …… /…… thành viên có mặt.",
        f"Danh sách {len(members) or '……'} thành viên và vốn góp (kèm theo), vốn điều lệ "
        f"{money(a.get('charter_capital'))}.",
        f"Mô hình tổ chức quản trị: {GOVERNANCE.get(str(a.get('governance')), BLANK)}.",
    ])
    layout.heading(doc, "Kết quả bầu (bỏ phiếu kín):")
    layout.bullets(doc, [f"{role}: {text_or_blank(name)} — số phiếu: …… /……" for role, name in elected(a)])
    layout.heading(doc, "Người đại diện theo pháp luật và người được ủy quyền nộp hồ sơ:")
    layout.bullets(doc, [f"Ông/bà {text_or_blank(a.get('legal_rep'))} là người đại diện theo pháp luật và được "
                         "ủy quyền thực hiện thủ tục đăng ký hợp tác xã."])
    layout.heading(doc, "Danh sách thành viên dự hội nghị (ký tên):")
    layout.table(doc, ("STT", "Họ và tên", "Chữ ký"),
                 [(n, m.get("name"), "") for n, m in enumerate(members, 1)] or [(n, "", "") for n in range(1, 6)],
                 11, (1.5, 9, 5.5))
    layout.signature(doc, "Chủ trì hội nghị", str(a.get("chair") or a.get("director") or ""))


def charter_skeleton(doc: DocumentType, a: Mapping[str, Any], line_names: Mapping[str, str], when: date | None) -> None:
    layout.title(doc, f"ĐIỀU LỆ {text_or_blank(a.get('name')).upper()}", "(Dự thảo — khung để hội nghị thành lập "
                 "thảo luận, bổ sung theo Điều 40 Luật Hợp tác xã 2023)")
    names = ", ".join(line_names.get(v, v) for v in a.get("business_lines") or []) or BLANK
    seat = text_or_blank(", ".join(p for p in (a.get("address"), place(a)) if p))
    chapters = [
        ("Chương I. Quy định chung", [f"Tên: {text_or_blank(a.get('name'))}; tên viết tắt: "
                                      f"{text_or_blank(a.get('short_name'))}.",
                                      f"Trụ sở: {seat}.",
                                      f"Ngành, nghề kinh doanh: {names}.", "Biểu tượng (nếu có): ……"]),
        ("Chương II. Thành viên", ["Điều kiện trở thành thành viên chính thức, thành viên liên kết (theo Điều 30 "
                                   "Luật HTX 2023).", "Thủ tục kết nạp; các trường hợp và thủ tục chấm dứt tư cách "
                                   "thành viên: ……", "Quyền và nghĩa vụ của thành viên: ……"]),
        ("Chương III. Tổ chức quản trị", [f"Mô hình: {GOVERNANCE.get(str(a.get('governance')), BLANK)}.",
                                          "Đại hội thành viên; nhiệm kỳ, số lượng thành viên Hội đồng quản trị, "
                                          "Ban kiểm soát: ……"]),
        ("Chương IV. Vốn, tài chính và phân phối", [f"Vốn điều lệ: {money(a.get('charter_capital'))}.",
                                                    "Mức góp tối thiểu ……; tối đa không quá 30% vốn điều lệ (khoản 1 "
                                                    "Điều 74 Luật HTX 2023). Thời hạn góp vốn: ……",
                                                    "Trích lập các quỹ và phân phối thu nhập: ……"]),
        ("Chương V. Tổ chức lại, giải thể; Chương VI. Điều khoản thi hành", ["……"]),
    ]
    for head, items in chapters:
        layout.heading(doc, head)
        layout.bullets(doc, items)
    layout.note(doc, "Các mục «……» do hội nghị thành lập quyết định; đối chiếu Luật HTX 2023 và hỏi Liên minh HTX "
                     "tỉnh khi soạn bản chính thức.")


def business_plan_skeleton(doc: DocumentType, a: Mapping[str, Any], line_names: Mapping[str, str],
                           when: date | None) -> None:
    layout.title(doc, "PHƯƠNG ÁN SẢN XUẤT, KINH DOANH", f"{text_or_blank(a.get('name'))} (khung để hoàn thiện)")
    layout.bullets(doc, [
        "Sản phẩm, dịch vụ cung cấp cho thành viên: " + (", ".join(line_names.get(v, v) for v in
                                                                   a.get("business_lines") or []) or BLANK),
        f"Nguồn vốn: vốn góp của thành viên {money(a.get('charter_capital'))}; vốn vay, hỗ trợ: ……",
        "Kế hoạch sản xuất, kinh doanh năm đầu (sản lượng, doanh thu, chi phí): ……",
        "Nhu cầu lao động, cơ sở vật chất: ……",
        "Hiệu quả dự kiến cho thành viên: ……",
    ])
