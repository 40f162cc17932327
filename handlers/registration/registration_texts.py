"""What the registration flow says. Legal statements follow the fact sheet and the text of Law 17/2023."""

INTRO = (
    "📝 Đăng ký thành lập theo Luật Hợp tác xã 2023 (số 17/2023/QH15, hiệu lực từ 01/7/2024):\n"
    "• Hợp tác xã (HTX): có tư cách pháp nhân, cần ít nhất 05 thành viên chính thức; mỗi thành viên chính thức góp "
    "không quá 30% vốn điều lệ (là tổng vốn các thành viên cam kết góp).\n"
    "• Tổ hợp tác (THT): không có tư cách pháp nhân, ít nhất 02 thành viên, lập trên cơ sở hợp đồng hợp tác; phải "
    "đăng ký nếu có góp vốn và hợp đồng từ 12 tháng trở lên hoặc không xác định thời hạn, hoặc muốn hưởng chính "
    "sách của Nhà nước (khoản 2 Điều 107).\n\n"
    "Hồ sơ HTX (khoản 2 Điều 42 Luật HTX 2023) gồm: giấy đề nghị đăng ký, điều lệ, nghị quyết hội nghị thành lập, "
    "danh sách thành viên chính thức và thành viên liên kết góp vốn, danh sách và số định danh cá nhân của người "
    "đại diện theo pháp luật. Từ 01/7/2025 nộp tại UBND xã/phường nơi đặt "
    "trụ sở (Nghị định 125/2025/NĐ-CP); có kết quả trong 03 ngày làm việc nếu hồ sơ hợp lệ.\n\n"
    "Mình hỏi từng câu (khoảng 15–20 câu) rồi gửi bạn bộ hồ sơ điền sẵn (.docx) để in, ký và nộp. "
    "Bắt đầu ngay nhé? Chọn loại hình:"
)
CONSENT = (
    "🔒 Trước khi khai: hồ sơ cần thông tin cá nhân của các thành viên (họ tên, ngày sinh, số CCCD, địa chỉ, "
    "số vốn góp) và số điện thoại, email của tổ chức.\n"
    "• Mình lưu các thông tin này chỉ để soạn hồ sơ và để bạn lấy lại tệp khi cần.\n"
    "• Chỉ bạn và cán bộ Liên minh HTX được giao hỗ trợ đăng ký xem được; không dùng vào việc khác.\n"
    "• Bạn xoá được bất cứ lúc nào bằng lệnh /xoadulieu; huỷ giữa chừng (/huy) thì phần đã khai bị xoá ngay.\n"
    "• Bạn nên hỏi ý kiến các thành viên trước khi khai thông tin của họ.\n"
    "(Theo tinh thần Nghị định 13/2023/NĐ-CP về bảo vệ dữ liệu cá nhân.)\n\nBạn đồng ý chứ?"
)
NO_CONSENT = (
    "Không sao. Mình không lưu thông tin cá nhân nào. Bạn nhận bộ hồ sơ trống để điền tay, kèm danh mục việc cần "
    "làm ở trang cuối. Khi nào muốn mình điền sẵn, gõ /dangky."
)
NO_CONSENT_WITH_DRAFT = (
    "Đây là bộ hồ sơ trống để điền tay, kèm danh mục việc cần làm ở trang cuối. Lưu ý: bản hồ sơ bạn khai dở "
    "trước đó vẫn đang được lưu — gõ /dangky để khai tiếp, hoặc /xoadulieu để xoá."
)
STARTED = "Cảm ơn bạn. Bắt đầu nhé! Trong lúc khai: /quaylai, /boqua (câu không bắt buộc), /tiendo, /huy."
RESUMED = ("Bạn đang khai dở hồ sơ, mình tiếp tục từ câu đang hỏi nhé. "
           "(Muốn bỏ bản này để làm hồ sơ khác: gõ /huy.)")
LOST = "Bản hồ sơ đang khai không còn (có thể đã bị xoá). Gõ /dangky để bắt đầu lại."
CANCELLED = "Đã huỷ hồ sơ và xoá phần thông tin đã khai. Khi cần, gõ /dangky để làm lại."
STOPPED = "Đã dừng. Khi cần, gõ /dangky để bắt đầu."
DONE = (
    "🎉 Xong! Đây là bộ hồ sơ điền sẵn của {name}: {parts}\n\n"
    "Việc tiếp theo: {next_step} tại {where}. "
    "Danh mục việc cần làm ở trang cuối tệp; những điểm ghi «cần kiểm tra» bạn hỏi lại UBND xã hoặc Liên minh HTX. "
    "Gõ /hosocuatoi để lấy lại tệp bất cứ lúc nào."
)
PARTS = {
    "htx": "giấy đề nghị đăng ký, danh sách thành viên, danh sách người đại diện theo pháp luật, danh sách bộ máy "
           "quản lý, nghị quyết hội nghị thành lập, khung điều lệ, khung phương án sản xuất kinh doanh và danh mục "
           "việc cần làm.",
}
THT_PARTS = {  # khoản 2 Điều 107 Luật HTX 2023
    "register": "hồ sơ đăng ký tổ hợp tác theo khoản 1 Điều 58 Nghị định 92/2024/NĐ-CP (giấy đề nghị đăng ký thành "
                "lập tổ hợp tác, hợp đồng hợp tác, danh sách thành viên, văn bản ủy quyền người đại diện) và danh "
                "mục việc cần làm.",
    "contract": "hợp đồng hợp tác, thông báo thành lập gửi UBND xã và danh mục việc cần làm.",
}
MY_NONE = "Bạn chưa có hồ sơ đăng ký nào. Gõ /dangky để bắt đầu."
MY_LIST = "📂 Hồ sơ của bạn (bấm để nhận lại tệp):"
MY_DRAFT = "Hồ sơ đang khai dở: gõ /dangky để tiếp tục."
NOT_FOUND = "Không tìm thấy hồ sơ này (có thể đã bị xoá)."
ERASE_Q = ("Xoá toàn bộ thông tin đăng ký bạn đã khai (kể cả hồ sơ đã hoàn thành và các tệp đã tạo)? "
           "Việc này không hoàn tác được.")
ERASED = "Đã xoá {n} hồ sơ và các tệp liên quan. Dữ liệu cá nhân bạn khai không còn được lưu."
ERASE_KEPT = "Đã giữ nguyên, không xoá gì."
FILE_AGAIN = "📄 Tệp hồ sơ {name}."
BLANK_FILE = "📄 Bộ hồ sơ trống ({kind})."
NEXT_STEP = {
    "htx": "in ra, tổ chức hội nghị thành lập và ký đủ chữ ký, rồi nộp",
    "register": "in ra, các thành viên ký hợp đồng hợp tác, danh sách và văn bản ủy quyền, rồi trong 05 ngày làm "
                "việc nộp",
    "contract": "in ra, tất cả thành viên ký hợp đồng hợp tác, rồi gửi thông báo thành lập kèm hợp đồng",
}
KIND_NAMES = {"htx": "hợp tác xã", "tht": "tổ hợp tác"}
