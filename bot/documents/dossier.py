"""The HTX founding dossier as one .docx, one document per section (its own page and orientation):
application form, member list (landscape), list of legal representatives, management list, founding
conference resolution, draft charter skeleton, business plan skeleton and the filing checklist.

Contents follow Law 17/2023 Art. 42(2) and Art. 43; the layout follows the forms of Circular 09/2024/TT-BKHĐT
as far as we know them, and the checklist tells the user to compare with the current form at the commune
People's Committee before signing. The charter capital is the members' total (Art. 4(24)) on every page.
With no answers (the user did not consent to storing personal data) every field is left blank.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import date
from typing import Any

from docx import Document
from docx.document import Document as DocumentType

from bot.documents import checklist, layout
from bot.documents.figures import money as money_text
from bot.documents.figures import money_with_words, shares, total_of
from bot.documents.layout import BLANK, text_or_blank

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
GOVERNANCE = {"full": "Đầy đủ (đại hội thành viên, hội đồng quản trị, giám đốc, ban kiểm soát)",
              "simple": "Rút gọn (đại hội thành viên, giám đốc, kiểm soát viên)"}
ROLES = {"official": "Chính thức", "associate": "Liên kết góp vốn"}
NATIONALITY = "Việt Nam"  # members are entered with a citizen identity card number (CCCD)


def money(value: Any) -> str:
    return money_text(value) or BLANK


def capital(answers: Mapping[str, Any]) -> int | None:
    """The charter capital: the total the members committed (Art. 4(24)); the declared figure without members."""
    members = answers.get("members") or []
    if members:
        return total_of(members) or None
    value = answers.get("charter_capital")
    return value if isinstance(value, int) else None


def member(answers: Mapping[str, Any], name: Any) -> dict[str, Any]:
    """The member record of a person (empty when the person is not a member)."""
    return next((m for m in answers.get("members") or [] if m.get("name") == name), {})


def person(answers: Mapping[str, Any], name: Any) -> dict[str, Any]:
    """What the dossier knows of a person: the member record, or for a legal representative from outside the
    members the birth date, ID number and address asked for them (Art. 42(2)(đ), Art. 43(6))."""
    record = member(answers, name)
    if record or not name or name != answers.get("legal_rep"):
        return record
    asked = {"birth_date": answers.get("legal_rep_birth_date"), "id_number": answers.get("legal_rep_id"),
             "address": answers.get("legal_rep_address")}
    return {key: value for key, value in asked.items() if value}


def is_official(answers: Mapping[str, Any], name: Any) -> bool:
    record = member(answers, name)
    return bool(record) and record.get("role", "official") == "official"


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
        dossier_tht.write(doc, answers, line_names, when)
    else:
        write_htx(doc, answers, line_names, when)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def write_htx(doc: DocumentType, answers: Mapping[str, Any], line_names: Mapping[str, str], when: date | None) -> None:
    for part, landscape in ((application, False), (members_list, True), (legal_reps_list, False),
                            (management_list, False), (founding_resolution, False), (charter_skeleton, False),
                            (business_plan_skeleton, False)):
        layout.new_part(doc, landscape)
        part(doc, answers, line_names, when)
    layout.new_part(doc)
    checklist.write_htx(doc, answers)


def legal_rep_lines(doc: DocumentType, a: Mapping[str, Any], name_key: str = "legal_rep") -> None:
    """Name, birth date, nationality, ID number and address of the representative (Art. 43(6))."""
    rep = person(a, a.get(name_key))
    layout.line(doc, "Họ và tên (chữ in hoa)", str(a.get(name_key) or "").upper(), bold_value=True)
    layout.line(doc, "Ngày sinh", rep.get("birth_date"))
    layout.line(doc, "Quốc tịch", NATIONALITY if rep else "")
    layout.line(doc, "Số định danh cá nhân", rep.get("id_number"))
    layout.line(doc, "Địa chỉ liên lạc", rep.get("address"))


def application(doc: DocumentType, a: Mapping[str, Any], line_names: Mapping[str, str], when: date | None) -> None:
    layout.national_heading(doc, "", None)
    layout.title(doc, "GIẤY ĐỀ NGHỊ ĐĂNG KÝ HỢP TÁC XÃ")
    layout.line(doc, "Kính gửi", f"Cơ quan đăng ký kinh doanh cấp xã — Ủy ban nhân dân {place(a)}" if place(a) else "")
    doc.add_paragraph("Tôi là người đại diện theo pháp luật, đề nghị đăng ký thành lập hợp tác xã với các nội dung "
                      "sau:")
    layout.heading(doc, "1. Tên hợp tác xã")
    layout.line(doc, "Tên bằng tiếng Việt", str(a.get("name") or "").upper(), bold_value=True)
    layout.line(doc, "Tên bằng tiếng nước ngoài (nếu có)", a.get("foreign_name"))
    layout.line(doc, "Tên viết tắt (nếu có)", a.get("short_name"))
    layout.heading(doc, "2. Địa chỉ trụ sở chính")
    layout.line(doc, "Số nhà, đường/thôn, ấp", a.get("address"))
    layout.line(doc, "Xã/phường/đặc khu", a.get("commune"))
    layout.line(doc, "Tỉnh/thành phố", a.get("province"))
    layout.line(doc, "Điện thoại", a.get("phone"))
    layout.line(doc, "Email", a.get("email"))
    layout.heading(doc, "3. Ngành, nghề kinh doanh")
    lines = a.get("business_lines") or []
    rows = [(n, line_names.get(v, v), v if v in line_names else "(cần tra mã)") for n, v in enumerate(lines, 1)]
    layout.table(doc, ("STT", "Tên ngành", "Mã ngành (VSIC)"), rows or [(1, BLANK, ""), (2, BLANK, "")], 12,
                 (1.5, 11, 3.5))
    layout.heading(doc, "4. Vốn điều lệ")
    layout.line(doc, "Vốn điều lệ (tổng vốn thành viên cam kết góp)", money_with_words(capital(a)))
    members = a.get("members") or []
    official = sum(1 for m in members if m.get("role", "official") == "official")
    layout.heading(doc, "5. Số lượng thành viên")
    layout.line(doc, "Thành viên chính thức", official if members else "")
    layout.line(doc, "Thành viên liên kết góp vốn", len(members) - official if members else "")
    layout.line(doc, "Trong đó là nhà đầu tư nước ngoài, tổ chức kinh tế có vốn đầu tư nước ngoài",
                "Không" if members else "")
    layout.heading(doc, "6. Người đại diện theo pháp luật")
    legal_rep_lines(doc, a)
    layout.heading(doc, "7. Thông tin đăng ký thuế")
    layout.note(doc, "Khoản 7 Điều 43 Luật HTX 2023. Ghi theo các mục của mẫu giấy đề nghị hiện hành (cần kiểm tra "
                     "với UBND xã/Liên minh HTX).")
    for label in ("Địa chỉ nhận thông báo thuế", "Ngày bắt đầu hoạt động", "Năm tài chính (từ ngày … đến ngày …)",
                  "Người phụ trách kế toán (họ tên, điện thoại)"):
        layout.line(doc, label)
    layout.heading(doc, "8. Mô hình tổ chức quản trị")
    layout.line(doc, "Mô hình", GOVERNANCE.get(str(a.get("governance")), ""))
    doc.add_paragraph("Tôi cam kết chịu trách nhiệm trước pháp luật về tính hợp pháp, chính xác và trung thực của "
                      "nội dung đề nghị đăng ký trên.")
    layout.signature(doc, "Người đại diện theo pháp luật", str(a.get("legal_rep") or ""))


def member_rows(a: Mapping[str, Any], kinds: bool = True) -> list[tuple[object, ...]]:
    """Rows of the member table with a total row; the shares add up to 100%."""
    members = a.get("members") or []
    amounts = [m.get("contribution") if isinstance(m.get("contribution"), int) else 0 for m in members]
    parts = shares(amounts)
    rows: list[tuple[object, ...]] = []
    for n, (m, part) in enumerate(zip(members, parts, strict=True), 1):
        kind = (ROLES.get(m.get("role", "official"), ""),) if kinds else ()
        rows.append((n, m.get("name"), m.get("birth_date"), m.get("id_number"), m.get("address"), *kind,
                     money_text(m.get("contribution")) or "—", part or "—", ""))
    if members:
        total = total_of(members)
        rows.append(("", "Tổng cộng", "", "", "", *(("",) if kinds else ()), money_text(total) or "—",
                     "100,0%" if total else "—", ""))
    return rows


def members_list(doc: DocumentType, a: Mapping[str, Any], line_names: Mapping[str, str], when: date | None) -> None:
    layout.national_heading(doc)
    layout.title(doc, "DANH SÁCH THÀNH VIÊN CHÍNH THỨC, THÀNH VIÊN LIÊN KẾT GÓP VỐN", text_or_blank(a.get("name")))
    rows = member_rows(a) or [(n, "", "", "", "", "", "", "", "") for n in range(1, 6)]
    layout.table(doc, ("STT", "Họ và tên", "Ngày sinh", "Số định danh cá nhân", "Địa chỉ", "Loại thành viên",
                       "Vốn góp", "Tỷ lệ", "Chữ ký"), rows, 11, (1.2, 4.0, 2.4, 3.4, 5.0, 2.4, 3.3, 1.8, 2.2),
                 bold_last=bool(a.get("members")))
    layout.line(doc, "Vốn điều lệ (tổng vốn góp)", money_with_words(capital(a)))
    layout.signature(doc, "Người đại diện theo pháp luật", str(a.get("legal_rep") or ""))


def legal_reps_list(doc: DocumentType, a: Mapping[str, Any], line_names: Mapping[str, str],
                    when: date | None) -> None:
    """Art. 42(2)(đ): the list and personal identification numbers of the legal representatives."""
    layout.national_heading(doc)
    layout.title(doc, "DANH SÁCH NGƯỜI ĐẠI DIỆN THEO PHÁP LUẬT", text_or_blank(a.get("name")))
    rep = person(a, a.get("legal_rep"))
    row = (1, a.get("legal_rep") or "", rep.get("birth_date", ""), NATIONALITY if rep else "",
           rep.get("id_number", ""), rep.get("address", ""), "")
    layout.table(doc, ("STT", "Họ và tên", "Ngày sinh", "Quốc tịch", "Số định danh cá nhân", "Địa chỉ liên lạc",
                       "Chữ ký"), [row], 11, (1.3, 3.3, 2.2, 2.1, 3.0, 2.3, 1.8))
    layout.note(doc, "Điểm đ khoản 2 Điều 42 Luật HTX 2023. Người đại diện theo pháp luật là người nước ngoài: kèm "
                     "bản sao giấy tờ pháp lý. Có nhiều người đại diện theo pháp luật thì ghi thêm dòng.")
    layout.signature(doc, "Người đại diện theo pháp luật", str(a.get("legal_rep") or ""))


def officers(a: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Who holds which office, in the order of the resolution."""
    if a.get("governance") == "simple":
        return [("Giám đốc", a.get("director")), ("Kiểm soát viên", a.get("controller"))]
    rows = [("Chủ tịch Hội đồng quản trị", a.get("chair"))]
    rows += [("Thành viên Hội đồng quản trị", n) for n in a.get("board") or []]
    rows += [("Giám đốc", a.get("director")), ("Trưởng Ban kiểm soát", a.get("supervisor"))]
    rows += [("Thành viên Ban kiểm soát", n) for n in a.get("control_board") or []]
    return rows


def management_list(doc: DocumentType, a: Mapping[str, Any], line_names: Mapping[str, str], when: date | None) -> None:
    layout.national_heading(doc)
    layout.title(doc, "DANH SÁCH HỘI ĐỒNG QUẢN TRỊ, GIÁM ĐỐC, BAN KIỂM SOÁT HOẶC KIỂM SOÁT VIÊN",
                 text_or_blank(a.get("name")))
    rows = [(n, role, name or "", person(a, name).get("birth_date", ""), person(a, name).get("id_number", ""), "")
            for n, (role, name) in enumerate(officers(a), 1)]
    layout.table(doc, ("STT", "Chức danh", "Họ và tên", "Ngày sinh", "Số định danh cá nhân", "Chữ ký"), rows, 11,
                 (1.3, 4.2, 3.5, 2.2, 3.0, 1.8))
    layout.note(doc, "Danh sách này để hợp tác xã lưu, không thuộc hồ sơ phải nộp (khoản 2 Điều 42 Luật HTX 2023).")
    layout.signature(doc, "Người đại diện theo pháp luật", str(a.get("legal_rep") or ""))


def director_decision(a: Mapping[str, Any]) -> list[str]:
    """Who chooses the director: the board appoints under the full model (Art. 39(3)(b)), the conference elects
    under the simplified model; a hired director only under the full model (Art. 62(2)(a))."""
    director = a.get("director")
    if a.get("governance") == "simple":
        return [f"Giám đốc: {text_or_blank(director)} — số phiếu: …… /……"]
    items = [f"Giám đốc do Hội đồng quản trị bổ nhiệm (điểm b khoản 3 Điều 39 Luật HTX 2023); người dự kiến: "
             f"{text_or_blank(director)}."]
    if director and director == a.get("chair"):
        items.append("Thông qua chủ trương Chủ tịch Hội đồng quản trị kiêm Giám đốc (điểm a khoản 1 Điều 56 "
                     "Luật HTX 2023). Tán thành: …… /……")
    elif director and not is_official(a, director):
        items.append(f"Thông qua chủ trương thuê Giám đốc ({director}) (điểm a khoản 2 Điều 62 Luật HTX 2023). "
                     "Tán thành: …… /……")
    return items


def founding_resolution(doc: DocumentType, a: Mapping[str, Any], line_names: Mapping[str, str],
                        when: date | None) -> None:
    layout.national_heading(doc)
    layout.title(doc, "NGHỊ QUYẾT HỘI NGHỊ THÀNH LẬP", text_or_blank(a.get("name")))
    layout.line(doc, "Thời gian", "…… giờ, ngày …… tháng …… năm ……")
    layout.line(doc, "Địa điểm", ", ".join(p for p in (a.get("address"), place(a)) if p))
    members = a.get("members") or []
    layout.line(doc, "Thành phần", f"các sáng lập viên, có mặt …… /{len(members) or '……'} thành viên")
    layout.line(doc, "Chủ tọa", a.get("meeting_chair"))
    layout.line(doc, "Thư ký", a.get("meeting_secretary"))
    layout.heading(doc, "Hội nghị thành lập đã thảo luận và biểu quyết thông qua (Điều 39 Luật HTX 2023):")
    layout.bullets(doc, [
        f"Thành lập {text_or_blank(a.get('name'))}, trụ sở tại {text_or_blank(place(a))}.",
        "Điều lệ hợp tác xã (kèm theo). Tán thành: …… /…… thành viên có mặt.",
        "Phương án sản xuất, kinh doanh (kèm theo). Tán thành: …… /…… thành viên chính thức có mặt.",
        f"Danh sách {len(members) or '……'} thành viên và vốn góp (kèm theo); vốn điều lệ "
        f"{money_with_words(capital(a)) or BLANK}.",
        f"Mô hình tổ chức quản trị: {GOVERNANCE.get(str(a.get('governance')), BLANK)}.",
    ])
    layout.heading(doc, "Kết quả bầu (bỏ phiếu kín):")
    elected = [(role, name) for role, name in officers(a) if role != "Giám đốc"]
    if a.get("governance") == "simple":
        elected = [("Kiểm soát viên", a.get("controller"))]
    layout.bullets(doc, [f"{role}: {text_or_blank(name)} — số phiếu: …… /……" for role, name in elected])
    layout.heading(doc, "Giám đốc:")
    layout.bullets(doc, director_decision(a))
    layout.heading(doc, "Người đại diện theo pháp luật và người được ủy quyền đăng ký thành lập:")
    layout.bullets(doc, [f"Ông/bà {text_or_blank(a.get('legal_rep'))} là người đại diện theo pháp luật và được "
                         "ủy quyền thực hiện thủ tục đăng ký thành lập hợp tác xã (điểm d khoản 3 Điều 39)."])
    doc.add_paragraph("Nghị quyết được biểu quyết theo nguyên tắc đa số, mỗi thành viên một phiếu bầu ngang nhau "
                      "(khoản 5 Điều 39 Luật HTX 2023).")
    layout.signatures(doc, [("Thư ký", str(a.get("meeting_secretary") or "")),
                            ("Chủ tọa", str(a.get("meeting_chair") or ""))])


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
                                          "Đại hội thành viên; nhiệm kỳ, số lượng thành viên Hội đồng quản trị "
                                          "(từ 03 đến 15 người), Ban kiểm soát (từ 01 đến 07 người): ……"]),
        ("Chương IV. Vốn, tài chính và phân phối", [f"Vốn điều lệ: {money_with_words(capital(a)) or BLANK}.",
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
        f"Nguồn vốn: vốn góp của thành viên {money(capital(a))}; vốn vay, hỗ trợ: ……",
        "Kế hoạch sản xuất, kinh doanh năm đầu (sản lượng, doanh thu, chi phí): ……",
        "Nhu cầu lao động, cơ sở vật chất: ……",
        "Hiệu quả dự kiến cho thành viên: ……",
    ])

