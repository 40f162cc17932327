"""What a question can be about: the subjects the confidence check looks for.

When a question names one of these subjects and the entry found never does (in its phrasings, answer or
`today`), that entry answers another question ("giám đốc" asked, an entry on fund loans found): the bot
then prefers a close entry that does name it, or offers the closest topics. Alternatives of one subject
are separated by "|"; everything is folded (no diacritics), after abbreviations are expanded
("hdqt" → "hoi dong quan tri"). Sector or place words ("nông nghiệp", "cà phê") are context, not subjects.
"""

from __future__ import annotations

SUBJECTS: tuple[str, ...] = (
    "giam doc | dieu hanh",
    "dieu kien | tieu chuan | yeu cau | tieu chi | dap ung",
    "cuoc hop | hop dinh ky | phien hop | hop",
    "dong ha",
    "kon tum",
    "quang tri",
    "quang binh",
    "chu tich",
    "hoi dong quan tri",
    "ban kiem soat | kiem soat vien",
    "ke toan",
    "to truong | nguoi dai dien | dai dien",
    "dai hoi thanh vien | dai hoi",
    "dai hoi dai bieu | dai bieu",
    "hoi nghi thanh lap",
    "lien minh hop tac xa | lien minh",
    "lien hiep hop tac xa | lien hiep",
    "to hop tac",
    "quy tin dung nhan dan | quy tin dung",
    "quy ho tro phat trien hop tac xa | quy ho tro | quy hop tac xa",
    "doanh nghiep | cong ty",
    "ho gia dinh",
    "phap nhan",
    "nuoc ngoai | nguoi nuoc ngoai | ngoai quoc | viet kieu | nguoi han | han quoc | nguoi nhat | nhat ban | "
    "trung quoc | nguoi trung | dai loan | quoc tich",
    "khong gop von | lien ket khong gop von",
    "thanh vien lien ket",
    "thanh vien chinh thuc",
    "sang lap vien | sang lap | thanh vien sang lap | nguoi sang lap",
    "tuoi | do tuoi",
    "rut von | tra lai von | rut khoi | ra khoi | tra lai phan von | hoan tra von",
    "chuyen nhuong",
    "thua ke | chet | qua doi",
    "von dieu le",
    "gop von | von gop",
    "toi da",
    "toi thieu | it nhat",
    "lai suat | lai vay",
    "lai qua han | qua han | no qua han",
    "the chap | tai san bao dam",
    "bao lanh",
    "vay von | cho vay | di vay | khoan vay | vay ngan hang | vay tien | vay khong",
    "thue",
    "le phi | phi",
    "mon bai",
    "ho so",
    "giay chung nhan",
    "con dau",
    "dat ten | ten",
    "thay doi | doi ten | doi dia chi | dang ky thay doi | diem moi | sua doi",
    "tru so | dia chi",
    "chi nhanh | van phong dai dien | dia diem kinh doanh",
    "dieu le",
    "thong tu",
    "nhiem ky",
    "bieu quyet | phieu bau | phieu",
    "bau | bau cu",
    "bai nhiem | mien nhiem",
    "khai tru",
    "giai the",
    "pha san",
    "sap nhap | hop nhat",
    "chia hop tac xa | tach hop tac xa | chia tach",
    "chuyen doi",
    "tam ngung",
    "thu hoi",
    "phan phoi | chia lai | chia loi nhuan | loi nhuan | thu nhap | chia cho xa vien | chia cho thanh vien",
    "tai san chung khong chia | tai san khong chia",
    "quy chung khong chia",
    "dao tao | nguon nhan luc",
    "chuyen doi so | cong nghe",
    "xuc tien thuong mai | thi truong",
    "ha tang",
    "bao hiem xa hoi | bhxh",
    "bao hiem y te | bhyt",
    "bao hiem",
    "dat dai | tien thue dat | thue dat",
    "tien luong | tra luong | thu lao | phu cap",
    "bao cao tai chinh | kiem toan",
    "hop dong hop tac",
    "tu cach phap nhan",
    "dan so | dien tich",
    "thanh lap doanh nghiep",
    "mua co phan | co phan",
    "cho vay noi bo",
    "qua mang | truc tuyen",
    "xu phat",
    "ky luat",
    "thoi han | han chot",
    "lai suat sau dau tu",
)


# Phrases that contain a subject's words without being about it ("hợp" in "hợp tác xã" is not a meeting).
NOT_SUBJECTS: tuple[str, ...] = (
    "hop tac xa", "to hop tac", "hop tac", "hop dong", "hop le", "phu hop", "tong hop", "truong hop",
    "hop phap", "ket hop", "hop tac sa",
)


def subject_groups() -> list[tuple[str, tuple[str, ...]]]:
    """(name, alternatives) for every subject; the name is its first alternative."""
    groups = []
    for line in SUBJECTS:
        alternatives = tuple(a.strip() for a in line.split("|") if a.strip())
        groups.append((alternatives[0], alternatives))
    return groups
