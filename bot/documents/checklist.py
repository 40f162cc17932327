"""The last page of a dossier: what to sign, what to attach, where and how to file, how long it takes.

Only facts from the project's fact sheet are stated as facts; everything else is marked "cần kiểm tra với
UBND xã/Liên minh HTX".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from docx.document import Document as DocumentType

from bot.documents import layout

CHECK = "cần kiểm tra với UBND xã/Liên minh HTX"
CHECKLIST_PT = 11  # the checklist stays on one page


def _where(a: Mapping[str, Any]) -> str:
    parts = [p for p in (a.get("commune"), a.get("province")) if p]
    return f"Ủy ban nhân dân {', '.join(parts)}" if parts else "Ủy ban nhân dân xã/phường/đặc khu nơi đặt trụ sở"


def write_htx(doc: DocumentType, a: Mapping[str, Any]) -> None:
    layout.title(doc, "DANH MỤC VIỆC CẦN LÀM ĐỂ NỘP HỒ SƠ ĐĂNG KÝ HTX")
    layout.heading(doc, "1. Ký tên")
    layout.bullets(doc, size=CHECKLIST_PT, items=[
        "Tổ chức hội nghị thành lập: thông qua điều lệ và danh sách thành viên; thành viên chính thức quyết định "
        "phương án sản xuất, kinh doanh, bầu thành viên và Chủ tịch HĐQT (mô hình đầy đủ — HĐQT bổ nhiệm Giám "
        "đốc) hoặc bầu Giám đốc (mô hình rút gọn), bầu Ban kiểm soát và Trưởng ban hoặc kiểm soát viên, và người "
        "được ủy quyền đăng ký thành lập; biểu quyết theo đa số, mỗi thành viên một phiếu (khoản 3, khoản 5 Điều 39 "
        "Luật HTX 2023). Chủ tọa và thư ký ký nghị quyết.",
        "Người đại diện theo pháp luật ký Giấy đề nghị đăng ký thành lập.",
        "Từng thành viên ký vào danh sách thành viên.",
        "Không bắt buộc đóng dấu trên giấy đề nghị, nghị quyết, biên bản (khoản 5 Điều 4 Nghị định 92/2024/NĐ-CP).",
    ])
    layout.heading(doc, "2. Hồ sơ nộp")
    layout.bullets(doc, size=CHECKLIST_PT, items=[
        "Theo khoản 2 Điều 42 Luật HTX 2023:",
        "Giấy đề nghị đăng ký thành lập (mẫu theo Thông tư 09/2024/TT-BKHĐT).",
        "Điều lệ.",
        "Nghị quyết hội nghị thành lập.",
        "Danh sách thành viên chính thức, thành viên liên kết góp vốn.",
        "Danh sách, số định danh cá nhân của người đại diện theo pháp luật.",
        "Nếu có thành viên là nhà đầu tư nước ngoài: bản sao giấy chứng nhận đăng ký đầu tư.",
        "Phương án sản xuất, kinh doanh và biên bản hội nghị thành lập: giữ tại HTX, không phải nộp.",
        "Nộp bản giấy: người nộp xuất trình căn cước công dân/thẻ căn cước hoặc dùng tài khoản định danh điện tử "
        "(khoản 2 Điều 10 Nghị định 92/2024/NĐ-CP).",
        "Người được ủy quyền đăng ký thành lập là người ghi trong nghị quyết hội nghị thành lập; ủy quyền lại "
        "cho người khác đi nộp theo pháp luật dân sự (khoản 1 Điều 12 Nghị định 92/2024/NĐ-CP).",
    ])
    layout.heading(doc, "3. Nộp ở đâu, bằng cách nào")
    layout.bullets(doc, size=CHECKLIST_PT, items=[
        f"Nơi nộp: cơ quan đăng ký kinh doanh cấp xã — {_where(a)} (Nghị định 125/2025/NĐ-CP, từ 01/7/2025).",
        "Cách nộp: trực tiếp, qua bưu chính, hoặc trực tuyến qua Hệ thống thông tin quốc gia về đăng ký hợp tác xã.",
        "Thời hạn giải quyết: 03 ngày làm việc kể từ khi nhận đủ hồ sơ hợp lệ.",
        f"Lệ phí: 50.000 đồng khi nộp trực tiếp hoặc qua bưu chính, 25.000 đồng khi nộp trực tuyến — {CHECK}.",
    ])
    layout.heading(doc, "4. Lưu ý, và những điểm cần hỏi lại trước khi nộp")
    layout.bullets(doc, size=CHECKLIST_PT, items=[
        f"Mẫu giấy đề nghị hiện hành: tệp này trình bày theo bố cục mẫu của Thông tư 09/2024/TT-BKHĐT nhưng không "
        f"phải bản mẫu chính thức — {CHECK}.",
        "Thành viên Hội đồng quản trị, Giám đốc, thành viên Ban kiểm soát hoặc kiểm soát viên không được có quan hệ "
        "gia đình với nhau theo điểm c khoản 1, 2, 3 Điều 62 Luật HTX 2023 — tệp này không kiểm tra được điều "
        "này, bạn kiểm tra trước khi bầu.",
        "Góp đủ vốn đã cam kết chậm nhất 06 tháng kể từ ngày HTX được cấp Giấy chứng nhận đăng ký "
        "(khoản 4 Điều 74 Luật HTX 2023).",
        f"Mã ngành theo VSIC 2018 (Quyết định 27/2018/QĐ-TTg); ngành ghi «cần tra mã» phải tra trước khi nộp — "
        f"{CHECK}.",
    ] + ([] if a.get("governance") == "full" else [
        f"Nếu chọn mô hình quản trị rút gọn: HTX phải thuộc quy mô siêu nhỏ (khoản 3 Điều 56 Luật HTX 2023); "
        f"ngưỡng quy mô theo Nghị định 113/2024/NĐ-CP — {CHECK}.",
    ]))


def write_tht(doc: DocumentType, a: Mapping[str, Any], route: str | None) -> None:
    """What to do next on the route that applies ("register", "contract"; None: a blank dossier, both)."""
    from handlers.forms.wizard_rules import route_of

    layout.title(doc, "DANH MỤC VIỆC CẦN LÀM SAU KHI LẬP TỔ HỢP TÁC")
    if route is not None:
        why = route_of(a)[1]
        verdict = "phải đăng ký tổ hợp tác" if route == "register" else "không bắt buộc đăng ký"
        layout.heading(doc, f"Tổ của bạn {verdict} (khoản 2 Điều 107 Luật HTX 2023) vì {why}.")
    layout.bullets(doc, size=CHECKLIST_PT, items=[
        "Hợp đồng hợp tác lập thành văn bản và có chữ ký của 100% thành viên (khoản 2 Điều 3 Nghị định "
        "77/2019/NĐ-CP).",
        "Tổ hợp tác có góp vốn và hợp đồng hợp tác không xác định thời hạn hoặc có thời hạn từ 12 tháng trở lên, "
        "hoặc đề nghị thụ hưởng chính sách của Nhà nước, phải đăng ký tại cơ quan đăng ký kinh doanh; tổ khác được "
        "khuyến khích đăng ký (khoản 2 Điều 107 Luật HTX 2023).",
    ])
    if route in ("register", None):
        layout.heading(doc, "Đăng ký tổ hợp tác")
        layout.bullets(doc, size=CHECKLIST_PT, items=[
            "Trong 05 ngày làm việc kể từ ngày ký hợp đồng hợp tác, người đại diện nộp hồ sơ gồm: giấy đề nghị đăng "
            "ký thành lập tổ hợp tác; hợp đồng hợp tác; danh sách thành viên; văn bản ủy quyền của các thành viên "
            "cho người đại diện (khoản 1 Điều 58 Nghị định 92/2024/NĐ-CP).",
            f"Nơi nộp: cơ quan đăng ký kinh doanh cấp xã — {_where(a)} (Nghị định 125/2025/NĐ-CP, từ 01/7/2025).",
            "Cơ quan đăng ký kinh doanh cấp Giấy chứng nhận đăng ký tổ hợp tác trong 03 ngày làm việc kể từ ngày "
            "nhận hồ sơ hợp lệ (khoản 2 Điều 58 Nghị định 92/2024/NĐ-CP).",
            "Không thu lệ phí đăng ký tổ hợp tác (khoản 2 Điều 22 Luật HTX 2023).",
            "Chỉ tổ hợp tác có Giấy chứng nhận đăng ký tổ hợp tác mới được xem xét thụ hưởng chính sách của Nhà "
            "nước (điểm a khoản 2 Điều 18 Luật HTX 2023).",
            "Tổ hợp tác thành lập trước 01/7/2024 mà thuộc diện phải đăng ký thì phải đăng ký trong 18 tháng kể từ "
            "01/7/2024 (khoản 2 Điều 115 Luật HTX 2023), thời hạn này đã hết; nếu tổ của bạn ở trường hợp này — "
            f"{CHECK}.",
            f"Mẫu giấy đề nghị hiện hành: tệp này trình bày theo nội dung Điều 58 Nghị định 92/2024/NĐ-CP nhưng "
            f"không phải bản mẫu chính thức — {CHECK}.",
        ])
    if route in ("contract", None):
        layout.heading(doc, "Nếu tổ không đăng ký")
        layout.bullets(doc, size=CHECKLIST_PT, items=[
            f"Trong 05 ngày làm việc sau khi ký hợp đồng, tổ trưởng gửi thông báo thành lập kèm hợp đồng hợp tác "
            f"đến {_where(a)} (khoản 3 Điều 12 Nghị định 77/2019/NĐ-CP).",
            "Khi thay đổi tên, địa chỉ, ngành nghề, tổng giá trị phần đóng góp, người đại diện hoặc số thành viên: "
            "thông báo cho UBND cấp xã trong 05 ngày làm việc (khoản 4 Điều 12 Nghị định 77/2019/NĐ-CP).",
            "Khi tổ bắt đầu góp vốn với hợp đồng từ 12 tháng trở lên, hoặc muốn hưởng chính sách của Nhà nước, tổ "
            "phải đăng ký (khoản 3 Điều 58 Nghị định 92/2024/NĐ-CP).",
        ])
    layout.bullets(doc, size=CHECKLIST_PT, items=[
        f"Điều kiện về tuổi của thành viên tổ hợp tác (tệp này chỉ nhận người từ đủ 18 tuổi) — {CHECK}.",
    ])
