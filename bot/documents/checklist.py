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


def _where(a: Mapping[str, Any]) -> str:
    parts = [p for p in (a.get("commune"), a.get("province")) if p]
    return f"Ủy ban nhân dân {', '.join(parts)}" if parts else "Ủy ban nhân dân xã/phường/đặc khu nơi đặt trụ sở"


def write_htx(doc: DocumentType, a: Mapping[str, Any]) -> None:
    layout.title(doc, "DANH MỤC VIỆC CẦN LÀM ĐỂ NỘP HỒ SƠ ĐĂNG KÝ HTX")
    layout.heading(doc, "1. Ký tên")
    layout.bullets(doc, [
        "Tổ chức hội nghị thành lập: thông qua điều lệ và danh sách thành viên; thành viên chính thức quyết định "
        "phương án sản xuất, kinh doanh, bầu HĐQT và chủ tịch (hoặc giám đốc nếu quản trị rút gọn), ban kiểm "
        "soát/kiểm soát viên và người được ủy quyền đi đăng ký; biểu quyết theo đa số, mỗi thành viên một phiếu "
        "(Điều 39 Luật HTX 2023). Chủ trì và thư ký ký nghị quyết.",
        "Người đại diện theo pháp luật ký Giấy đề nghị đăng ký thành lập.",
        "Từng thành viên ký vào danh sách thành viên.",
        "Không bắt buộc đóng dấu trên giấy đề nghị, nghị quyết, biên bản (khoản 5 Điều 4 Nghị định 92/2024/NĐ-CP).",
    ])
    layout.heading(doc, "2. Hồ sơ nộp")
    layout.bullets(doc, [
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
        "Giấy ủy quyền, nếu người đi nộp không phải người được ủy quyền ghi trong nghị quyết "
        "(Nghị định 92/2024/NĐ-CP).",
    ])
    layout.heading(doc, "3. Nộp ở đâu, bằng cách nào")
    layout.bullets(doc, [
        f"Nơi nộp: cơ quan đăng ký kinh doanh cấp xã — {_where(a)} (Nghị định 125/2025/NĐ-CP, từ 01/7/2025).",
        "Cách nộp: trực tiếp, qua bưu chính, hoặc trực tuyến qua Hệ thống thông tin quốc gia về đăng ký hợp tác xã.",
        "Thời hạn giải quyết: 03 ngày làm việc kể từ khi nhận đủ hồ sơ hợp lệ.",
        f"Lệ phí: 50.000 đồng khi nộp trực tiếp hoặc qua bưu chính, 25.000 đồng khi nộp trực tuyến — {CHECK}.",
    ])
    layout.heading(doc, "4. Lưu ý, và những điểm cần hỏi lại trước khi nộp")
    layout.bullets(doc, [
        f"Mẫu giấy đề nghị hiện hành: tệp này trình bày theo bố cục mẫu của Thông tư 09/2024/TT-BKHĐT nhưng không "
        f"phải bản mẫu chính thức — {CHECK}.",
        "Góp đủ vốn đã cam kết chậm nhất 06 tháng kể từ ngày HTX được cấp Giấy chứng nhận đăng ký "
        "(khoản 4 Điều 74 Luật HTX 2023).",
        f"Mã ngành theo VSIC 2018 (Quyết định 27/2018/QĐ-TTg); ngành ghi «cần tra mã» phải tra trước khi nộp — "
        f"{CHECK}.",
        f"Nếu chọn mô hình quản trị rút gọn: HTX phải thuộc quy mô siêu nhỏ (Điều 56 Luật HTX 2023); ngưỡng quy mô "
        f"theo Nghị định 113/2024/NĐ-CP — {CHECK}.",
    ])


def write_tht(doc: DocumentType, a: Mapping[str, Any]) -> None:
    layout.title(doc, "DANH MỤC VIỆC CẦN LÀM SAU KHI LẬP TỔ HỢP TÁC")
    layout.bullets(doc, [
        "Hợp đồng hợp tác lập thành văn bản và có chữ ký của 100% thành viên (Nghị định 77/2019/NĐ-CP).",
        f"Trong 05 ngày làm việc sau khi ký hợp đồng, tổ trưởng gửi thông báo thành lập kèm hợp đồng hợp tác đến "
        f"{_where(a)} (Nghị định 77/2019/NĐ-CP).",
        "Khi thay đổi tên, địa chỉ, ngành nghề, tổng phần đóng góp, người đại diện hoặc số thành viên: thông báo "
        "cho UBND cấp xã.",
        "Thành viên rút khỏi tổ khi có lý do chính đáng và được hơn 50% tổng số thành viên đồng ý, hoặc theo điều "
        "kiện trong hợp đồng (Nghị định 77/2019/NĐ-CP).",
        f"Tổ hợp tác thuộc diện phải đăng ký kinh doanh hoặc muốn đăng ký thì đăng ký theo khoản 2 Điều 107 Luật HTX "
        f"2023 và Nghị định 92/2024/NĐ-CP, nay tại UBND cấp xã; tổ của bạn có thuộc diện này không — {CHECK}.",
        f"Nội dung bắt buộc của hợp đồng theo Luật HTX 2023 (các điều về tổ hợp tác) — {CHECK}.",
        f"Điều kiện về tuổi của thành viên tổ hợp tác (tệp này chỉ nhận người từ đủ 18 tuổi) — {CHECK}.",
    ])
