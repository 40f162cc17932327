"""Telex and VNI leftovers are decoded; English, codes and Vietnamese as written survive."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from bot.knowledge.loader import load_valid_knowledge
from bot.knowledge.search import SearchIndex
from bot.text import fold
from bot.vn_input import decode_typing, decode_word, is_plain_syllable

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"



def _split(text: str) -> list[str]:
    return text.split()


TELEX = [
    ("thanhf", "thành"), ("laapj", "lập"), ("hopwj", "hợp"), ("tacs", "tác"), ("xax", "xã"),
    ("cawn", "căn"), ("caafn", "cần"), ("gif", "gì"), ("ddieeuf", "điều"), ("kieenj", "kiện"),
    ("quyx", "quỹ"), ("hoox", "hỗ"), ("trowj", "trợ"), ("cos", "có"), ("bans", "bán"),
    ("tasc", "tác"), ("hojc", "học"), ("thasnh", "thánh"),  # tone key before the final consonant
    ("nguowif", "người"), ("nguwowif", "người"), ("dduowcj", "được"), ("dduwowcj", "được"),
    ("ddwowcj", "được"), ("nhw", "như"), ("twf", "từ"), ("hopjw", "hợp"), ("truowngf", "trường"),
    ("muoons", "muốn"), ("giuwax", "giữa"), ("gieengs", "giếng"), ("giaf", "già"),
    ("quoocs", "quốc"), ("quaan", "quân"), ("quyeets", "quyết"), ("huyeenj", "huyện"),
    ("hoaf", "hòa"), ("thuyr", "thủy"), ("khoer", "khỏe"), ("ngoaif", "ngoài"), ("xoawn", "xoăn"),
    ("tuaan", "tuân"), ("tuyeenr", "tuyển"), ("yeen", "yên"), ("kyx", "kỹ"), ("ghes", "ghé"),
    ("ngheex", "nghễ"), ("ddi", "đi"), ("ddaats", "đất"),
    ("vieetj", "việt"), ("nuwowcs", "nước"), ("muwa", "mưa"), ("muaf", "mùa"), ("cuwus", "cứu"),
    ("guwir", "gửi"), ("own", "ơn"), ("camr", "cảm"), ("chuwa", "chưa"), ("khoong", "không"),
    ("nhieeuf", "nhiều"), ("vaays", "vấy"), ("vaanx", "vẫn"), ("oongs", "ống"), ("ees", "ế"),
]

VNI = [
    ("tha2nh", "thành"), ("la6p5", "lập"), ("d9ie62u", "điều"), ("d9ie6u2", "điều"),
    ("kie65n", "kiện"), ("kie6n5", "kiện"), ("ho75p", "hợp"), ("ta1c", "tác"), ("xa4", "xã"),
    ("ca62n", "cần"), ("gi2", "gì"), ("qu7y4", None), ("quy4", "quỹ"), ("ngu7o72i", "người"),
    ("nguo72i", "người"), ("d9u7o75c", "được"), ("mu7a", "mưa"), ("ca8n", "căn"),
    ("ho6", "hô"), ("tru7o7ng2", "trường"), ("co1", "có"), ("kho6ng", "không"),
]

SENTENCES = [
    ("thanhf laapj hopwj tacs xax caafn gif", "thành lập hợp tác xã cần gì"),
    ("ddieeuf kieenj vay quyx hoox trowj", "điều kiện vay quỹ hỗ trợ"),
    ("tha2nh la6p5 HTX ca62n bao nhie6u ngu7o72i?", "thành lập HTX cần bao nhiêu người?"),
    ("d9ie62u kie65n la2m gia1m d9o61c", "điều kiện làm giám đốc"),
    ("HTX cuar tooi cos dduowcj vay voons khoong", "HTX của tôi có được vay vốn không"),
    ("Thanhf laapj THT theo Luaatj 17/2023/QH15", "Thành lập THT theo Luật 17/2023/QH15"),
    ("thành lập hợp tác xã cần gì", "thành lập hợp tác xã cần gì"),
    ("thanh lap hop tac xa can gi", "thanh lap hop tac xa can gi"),
    ("ho so dang ky htx goomf nhuwngx gif", "ho so dang ky htx gồm những gì"),
    ("THANHF LAAPJ HTX CAAFN GIF", "THÀNH LẬP HTX CẦN GÌ"),  # caps lock on: capitals decoded too
    ("Hopwj tacs xax laf gif?", "Hợp tác xã là gì?"),
    ("camr own!", "cảm ơn!"),
]

ENGLISH = _split("""
zalo email online covid ok okay facebook google youtube tiktok shopee lazada momo viettel wifi web app
apps file link admin login password hello hi bye thanks thank yes no please help menu start stop cancel
back next test tests best most post cost host list last must lost tax taxs fax max sex box mix six bus
as is us this has was his of if or how hows now low down town law laws lawn taxi visa virus bonus status
text excel word pdf internet bank banking sms otp code id card offline call video chat chats group team
marketing sale shop ship free vip new news view show like share comment page the and for with from what
when where who why which will would can could should in on at to by up so do go my me we he she have had
not but all any some more other such only same than very just also here there then them they their our
your out over under again once about after before into through during each few both off game play win
top hot deal order pay cash money price fee vat ceo api url http https www com net org edu gov html json
csv xlsx docx jpg png mp3 mp4 usb tv radio camera smart phone iphone samsung android ios windows mac
linux python java robot drone solar farm organic eco green bio coop union service center office manager
director boss staff member user guest tips maps cups hits cats hats chef car bar sir
""")

CODES = _split("""
HTX THT QTDND QTD UBND HDND HDQT DHTV BKS KSV KTT TV TTV DKKD GCN SXKD ND NĐ QD TT NQ KL TTG LM CCCD
CMND VN VND TR TNHH CTCP HKD K KO KH HOK DC ĐC DK BN NTN MK OCOP VietGAP GAP HACCP ISO KCN CN NN PTNT
BHXH BHYT MST MSDN GPKD TP TX HCM HN SOS FAQ ASEAN WTO WHO EU USA UN FAO IMF OK VAT GDP COOP TW IX XIV
qh15 QH15 QH14 ND-CP NĐ-CP TT-BKHĐT QĐ-TTg NQ/TW 20-NQ/TW 17/2023 92/2024 45/2021 2012 2025 1/7/2024
100tr 50tr 3ty 10ha 5% A4 a1 A1 B2 H5N1 covid19 COVID-19 mp3 4G 5G F1 G7 ddc htx tht ubnd cccd ocop
""")

# Syllables written without diacritics that also look like Telex ("xa", "van", "ban" are words).
PLAIN = _split("""
a ai an anh ao ba bac ban bang banh bao bat bay ben bi bien binh bo boi bong bu bui bun buoi buon
ca cac cach cai cam can cang canh cao cap cat cau cay che chi chia chien chinh cho choi chu chua chuan
chung chuong co coc con cong cu cua cuoc cuoi cuon cung da dac dai dan dang danh dao dap dat dau day
de den dep di dia dich dien dinh do doan doi don dong du dua duc dung duoc duong gan gao gap gi gia giai
giam gian giang giao giay gio gioi giu giua ha hai han hang hanh hay he hien hieu hinh ho hoa hoach hoan
hoang hoat hoc hoi hom hon hong hop hu hua huan hung huong huu huy huyen ich im it kem ken keo ket khac
khach khai kham khan khi khien kho khoa khoan khoang khong khu khuyen khuya khuyu kiem kien kinh la lai
lam lan lang lanh lao lap lau le len lien lieu linh loai loan loi lon long lu luat luc luon luong luu ly
ma mai man mang mat mau may me moi mon mong mot mua muc mui muoi muon nam nao nay ngan ngang nghe nghi
nghia nghiep ngoai ngon nguoi nguon nguyen nha nhan nhanh nhat nhau nhieu nhin nho nhom nhu nhung noi
nong nuoc o oai oan on ong phai phan phap phat phi phia phong phu phuc phuong qua quan quang quy quyen
quyet quoc ra rat rieng rong rung sach sai san sang sao sau se so soan soat song su sua suat suc sung
ta tac tai tam tan tang tao tap tat tay te tem ten thac thai tham than thang thanh thao that thay the
theo thi thien thiet thieu thoa thoai thoi thong thu thua thuan thuc thue thuoc thuong thuy ti tich
tien tiep tieu tim tin tinh to toan toi tong tra trach trai tram tranh trao tren tri trien trinh tro
trong tru truc trung truoc truong tu tuan tuc tuoi tuong tuy tuyen tuyet uy va vai van vang vao vay ve
vi viec vien viet vinh vo voi von vu vua vuc vung vuon vuong xa xac xan xanh xay xe xem xet xin xoa
quynh khuynh ngoeo oe uong yeu yen ep
""")


@pytest.mark.parametrize(("typed", "meant"), TELEX)
def test_telex_words_are_decoded(typed: str, meant: str) -> None:
    assert decode_word(typed) == meant


@pytest.mark.parametrize(("typed", "meant"), VNI)
def test_vni_words_are_decoded(typed: str, meant: str | None) -> None:
    assert decode_word(typed) == (meant or typed)


@pytest.mark.parametrize(("typed", "meant"), SENTENCES)
def test_sentences_are_decoded_word_by_word(typed: str, meant: str) -> None:
    assert decode_typing(typed) == meant


def test_output_is_nfc_and_keeps_the_case_of_the_first_letter() -> None:
    out = decode_typing("Nguowif ddaij dieenj Dduowcj")
    assert out == unicodedata.normalize("NFC", out) == "Người đại diện Được"


def test_every_short_word_decodes_without_error_to_nfc() -> None:
    letters = "adehinotuwxfsjr"
    words = [a + b + c for a in letters for b in letters for c in letters] + ["d9u7o75c", "a9", "u66", "o78"]
    for word in words:
        out = decode_word(word)
        assert out == word or (out == unicodedata.normalize("NFC", out) and not out.isascii())


@pytest.mark.parametrize("word", ENGLISH + CODES)
def test_english_words_codes_and_numbers_survive(word: str) -> None:
    assert decode_typing(word) == word
    assert decode_typing(f"hopwj tacs xax {word} cos gif") == f"hợp tác xã {word} có gì"


@pytest.mark.parametrize("word", PLAIN)
def test_unaccented_syllables_survive(word: str) -> None:
    assert is_plain_syllable(word)
    assert decode_word(word) == word


@pytest.mark.parametrize(("typed", "why"), [
    ("haat", "a final -t needs sắc or nặng"), ("hocf", "-c with huyền"), ("tichr", "-ch with hỏi"),
    ("kas", "k only before e ê i y"), ("ces", "c never before e"), ("ghas", "gh only before e ê i"),
    ("ngex", "ng never before e"), ("taxs", "two tone keys"), ("taxi", "tone key before a vowel"),
    ("visa", "tone key before a vowel"), ("ddc", "no vowel"), ("ww", "nothing for the hook to change"),
    ("www", "nothing for the hook to change"), ("tw", "too short for w as a vowel: an abbreviation"),
    ("ieen", "iê needs an onset"), ("laa", "â never ends a syllable"), ("giaas", "no such rhyme"),
    ("u7o7c", "a final -c needs a tone"), ("qu7y4", "the hook has nothing to change after qu"),
    ("aa", "â alone is no syllable"), ("fix", "f is no onset"), ("zalo", "z is no onset"),
    ("lawn", "English, although Telex for lăn"), ("hows", "English, although Telex for hớ"),
    ("chair", "English, although Telex for chải"), ("xix", "a Roman numeral"),
])
def test_invalid_results_are_not_produced(typed: str, why: str) -> None:
    assert decode_word(typed) == typed, why


def test_a_message_mostly_in_english_is_left_alone() -> None:
    for text in ("how many days does it take", "How many members does a cooperative need?",
                 "Where do I send the docs for my coop"):
        assert decode_typing(text) == text
    assert decode_typing("zalo cuar htx laf gif") == "zalo của htx là gì"


def test_capitals_among_lower_case_words_are_abbreviations() -> None:
    assert decode_typing("Quy dinh cua IMF va SOS") == "Quy dinh cua IMF va SOS"
    assert decode_typing("quy ddinhj cuar IMF") == "quy định của IMF"
    assert decode_typing("QUYX HOOX TROWJ") == "QUỸ HỖ TRỢ"


def _knowledge_texts() -> list[str]:
    kb = load_valid_knowledge(KNOWLEDGE)
    return [text for entry in kb.entries for text in (*entry.questions, entry.answer)]


def test_knowledge_base_text_is_unchanged() -> None:
    texts = _knowledge_texts()
    assert len(texts) > 1000
    changed = [t for t in texts if decode_typing(t) != unicodedata.normalize("NFC", t)]
    assert not changed, changed[:5]


def test_every_syllable_of_the_knowledge_base_survives_without_diacritics() -> None:
    syllables = {fold(w) for t in _knowledge_texts() for w in re.findall(r"\w+", unicodedata.normalize("NFC", t))
                 if not w.isascii() and w.isalpha()}
    assert len(syllables) > 400
    assert [s for s in sorted(syllables) if decode_word(s) != s] == []
    # Proper names and abbreviations written with đ (Đắk Lắk, Bắc Kạn, NĐ, ĐHTV) are not standard syllables.
    assert {s for s in syllables if not is_plain_syllable(s)} <= {
        "d", "dak", "dakrong", "dc", "dhtv", "dk", "hdnd", "hdqt", "kan", "lak", "nd", "pd", "plong", "qd",
        "vpdd", "bkhdt"}


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex(load_valid_knowledge(KNOWLEDGE))


@pytest.mark.parametrize(("typed", "written"), [
    ("thanhf laapj hopwj tacs xax cawn gif", "thành lập hợp tác xã cần gì"),
    ("ddieeuf kieenj vay quyx hoox trowj", "điều kiện vay quỹ hỗ trợ"),
    ("tha2nh la6p5 HTX ca62n bao nhie6u ngu7o72i", "thành lập HTX cần bao nhiêu người"),
    ("giams ddoocs HTX cos nhieemj kyf maays nawm", "giám đốc HTX có nhiệm kỳ mấy năm"),
])
def test_telex_and_vni_questions_find_the_same_entry(index: SearchIndex, typed: str, written: str) -> None:
    as_typed, as_written = index.search(typed), index.search(written)
    assert as_written.best is not None
    assert as_typed.best is not None and as_typed.best.entry.id == as_written.best.entry.id
    assert as_typed.query_tokens == as_written.query_tokens
