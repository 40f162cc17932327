"""Reading a member's message before it is searched: dates, what it asks, the law version it names,
filler around the question, several questions in one message, other fields, English.

Everything here works on the folded text (lower-case, no diacritics). `fold_keep_length` folds
character by character so that a span found in the folded text can be cut from the original one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from bot.text import fold
from bot.vn_input import decode_word, is_plain_syllable

_NOT_WORD = re.compile(r"[^a-z0-9]+")
# "1/7/2025", "01-07-2024", "1.7.2025": a date, not a document number ("92/2024" stays a number).
_DATE = re.compile(r"\b(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*((?:19|20)\d\d)\b")


def _date_words(match: re.Match[str]) -> str:
    day, month, year = int(match.group(1)), int(match.group(2)), match.group(3)
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return match.group(0)
    return f" ngay {day} thang {month} nam {year} "


def rewrite_dates(text: str) -> str:
    """Dates written with slashes become words ("ngay 1 thang 7 nam 2025") so that they are not read as
    a document number; applied to the index's phrasings and to questions alike."""
    return _DATE.sub(_date_words, text)


def quick_fold(text: str) -> str:
    """Folded words only (lower-case ASCII letters and digits), fast enough for whole answers."""
    ascii_text = unicodedata.normalize("NFD", text.lower()).replace("đ", "d").encode("ascii", "ignore").decode()
    return " ".join(_NOT_WORD.sub(" ", ascii_text).split())


def fold_keep_length(text: str) -> str:
    """Fold each character on its own: the result has the same length as `text` (for slicing)."""
    out = []
    for char in text:
        folded = fold(char)
        out.append(folded[:1] if folded else " ")
    return "".join(out)


# --- what a question asks -------------------------------------------------------------------------

ASK_PATTERNS: dict[str, re.Pattern[str]] = {
    # "mấy" asks how many; "máy" (a machine: "máy sấy", "máy cày") folds to the same word.
    "how-many": re.compile(r"\b(bao nhieu|may(?!\s+(?:say|cay|moc|gat|bom|tinh|xay|keo|phat|in|lanh|bay|dong|mac|"
                           r"ep|bien|thu hoach|nong nghiep|vi tinh)\b)|bn|toi thieu|toi da|it nhat|nhieu nhat|ty le|"
                           r"phan tram|muc)\b"),
    "who": re.compile(r"\b(ai|nguoi nao|doi tuong nao|nhung ai)\b"),
    "where": re.compile(r"\b(o dau|noi nao|cho nao|co quan nao|phong nao|dau a|dau vay|dau\s*$)"),
    "when": re.compile(r"\b(khi nao|bao gio|luc nao|ngay nao|nam nao|bao lau|thoi han|hieu luc|may ngay|"
                       r"bao nhieu ngay|bao nhieu thang|bao nhieu nam|"
                       r"may thang|may nam|thoi gian|nhiem ky|han chot|thang may|ngay may|nam may|thang nao)\b"),
    "how": re.compile(r"\b(nhu the nao|the nao|ra sao|lam sao|cach nao|cach|thu tuc|cac buoc|quy trinh|ntn)\b"),
    "what": re.compile(r"\b(la gi|gom gi|nhung gi|gom nhung|cai gi|gi)\b"),
}
_DURATION = re.compile(r"\b((bao nhieu|may)\s+(ngay|thang|nam|tuan|gio)|(ngay|thang|nam) may)\b")
_YES_NO_END = re.compile(
    r"\b(khong|ko|k|kg|khg|hok|hong|chua|phai khong|dung khong|duoc khong|hay khong|co phai)"
    r"(\s+(a|ah|vay|nhi|nha|nhe|ha|the|em|anh|chi|ad|admin|ban|oi|ak|z|vay a|a nhe|nua))*\s*$")
_YES_NO_START = re.compile(r"^(co phai|phai chang|lieu|co duoc|duoc khong)\b")


def ask_types(folded: str) -> frozenset[str]:
    """What the question asks: how-many, who, where, when, how, what (and yes-no, see `asks_yes_no`)."""
    text = " ".join(re.sub(r"[^a-z0-9%]+", " ", folded).split())
    found = {name for name, pattern in ASK_PATTERNS.items() if pattern.search(text)}
    if "how-many" in found and not ASK_PATTERNS["how-many"].search(_DURATION.sub(" ", text)):
        found.discard("how-many")  # "bao nhiêu ngày", "mấy tháng" ask how long, not a number of things
    if asks_yes_no(text):
        found.add("yes-no")
    return frozenset(found)


def asks_yes_no(folded: str) -> bool:
    """A yes/no question: "…có được không", "…chưa", "có phải … không"."""
    text = " ".join(re.sub(r"[^a-z0-9%]+", " ", folded).split())
    return bool(_YES_NO_END.search(text) or _YES_NO_START.search(text))


# --- the law version a question names ------------------------------------------------------------

_PAST = re.compile(
    r"\b(luat cu|luat truoc|quy dinh cu|truoc day|hoi truoc|ngay truoc|truoc kia|ngay xua|thoi truoc|"
    r"luat nam 2012|luat 2012|nam 2012|23/2012|2012|nghi dinh 193|193/2013|151/2007|truoc nam 2024|"
    r"truoc 2024|truoc ngay 1 thang 7 nam 2024|truoc 1 thang 7 nam 2024|khi chua co luat moi)\b")
_YEAR = re.compile(r"\bnam ((?:19|20)\d\d)\b")
# "nghị định … năm 2019" names a document, not a time in the past.
_DOCUMENT_BEFORE = re.compile(r"\b(nghi dinh|nd|thong tu|quyet dinh|nghi quyet|ket luan|chi thi|luat|van ban)\b"
                              r"(\s+\S+){0,4}\s*$")
_PAST_DATE = re.compile(r"\btruoc( ngay)? (\d{1,2}) thang (\d{1,2}) nam ((?:19|20)\d\d)\b")


def law_time(folded: str) -> str:
    """Which law a question is about: "old" when it names the repealed law or a time before 1/7/2024
    ("luật cũ", "2012", "trước đây", "trước 1/7/2024"); "past" when it only names an earlier year or date
    ("HTX em lập năm 2018", "trước 1/7/2025": maybe how it was, maybe what to do now); else ""."""
    text = " ".join(rewrite_dates(folded).split())
    if _PAST.search(text):
        return "old"
    found = ""
    today = date.today()
    for match in _PAST_DATE.finditer(text):
        when = (int(match.group(4)), int(match.group(3)), int(match.group(2)))
        if when <= (2024, 7, 1):
            return "old"
        if when <= (today.year, today.month, today.day):
            found = "past"
    for match in _YEAR.finditer(text):
        before = text[max(0, match.start() - 40):match.start()]
        if 1990 <= int(match.group(1)) <= 2022 and not _DOCUMENT_BEFORE.search(before):
            found = "past"
    return found


def names_old_law(folded: str) -> bool:
    """The question names the repealed 2012 law or a time before 1/7/2024."""
    return law_time(folded) == "old"


# --- filler, several questions, long messages -----------------------------------------------------

_GREETING = re.compile(
    r"^\s*((xin )?chao( (ban|ad|admin|anh chi|anh|chi|em|moi nguoi))?|hello|hi|alo|da|vang|"
    r"(ad|admin|anh chi|cac anh chi|moi nguoi|ban|bot|em|chi|anh)\s*(oi|,|!)|"
    r"uh|um|cho (em|minh|toi|chau|con|tui|hoi) hoi|cho hoi|xin hoi|em muon hoi|minh muon hoi|"
    r"toi muon hoi|muon hoi( la)?|hoi la|(em|minh|toi) (co|xin) (1|mot) cau hoi|hoi chut|hoi xiu|"
    r"hoi ty|cho em hoi chut|"
    r"nho|nho ad|giup (em|minh|toi)|tu van giup( (em|minh|toi))?|lam on)\b[\s,:.!-]*")
_THANKS = re.compile(r"\b(cam on|cam ong|thanks|thank you|tks|thank|tran trong|xin cam on)\b")
# Words that make a sentence a question (besides "?").
_QUESTION_WORD = re.compile(
    r"\b(bao nhieu|may|gi|nao|sao|dau|ai|khong|ko|k|chua|bao lau|bao gio|khi nao|the nao|lam sao|"
    r"duoc khong|co phai|hay khong|can|phai|nhu the nao|ntn|j|hong|hok)\b")
# Conjunctions that may join two questions in one sentence.
_JOIN = re.compile(r"\s*(?:,|;|\bva\b|\bvoi lai\b|\bcon\b|\bthem nua\b|\bngoai ra\b|\broi\b)\s*")
_SENTENCE = re.compile(r"[^.!?\n;]+[.!?\n;]*")

MAX_PARTS = 3


@dataclass(frozen=True)
class Part:
    """One question found in a message: the user's words (for display) and its folded form."""

    text: str
    folded: str


def _strip_greeting(text: str, folded: str) -> tuple[str, str]:
    for _ in range(6):
        match = _GREETING.match(folded)
        if not match or match.end() == 0:
            break
        text, folded = text[match.end():], folded[match.end():]
    return text.strip(" ,.!:-"), folded.strip(" ,.!:-")


def is_question(folded: str) -> bool:
    """The sentence asks something (a question mark or a question word)."""
    return "?" in folded or bool(_QUESTION_WORD.search(folded))


def sentences(text: str) -> list[Part]:
    """The message cut into sentences, each without leading greetings; thanks-only sentences dropped."""
    folded = fold_keep_length(text)
    out = []
    for match in _SENTENCE.finditer(folded):
        start, end = match.span()
        piece, piece_folded = _strip_greeting(text[start:end], folded[start:end])
        if not piece_folded.strip(" ?"):
            continue
        if _THANKS.search(piece_folded) and not is_question(_THANKS.sub(" ", piece_folded)):
            continue
        out.append(Part(piece, piece_folded))
    return out


def question_sentences(text: str) -> list[Part]:
    """The sentences that ask something; personal context and filler around them are left out.
    When no sentence looks like a question, every sentence is kept (a bare "vốn điều lệ")."""
    parts = sentences(text)
    marked = [p for p in parts if "?" in p.folded]
    if marked:  # who writes question marks writes them on every question
        return marked
    asked = [p for p in parts if is_question(p.folded)]
    return asked or parts


def split_clauses(part: Part) -> list[Part]:
    """A sentence cut at commas and "và"/"còn" where each side asks something of its own."""
    pieces: list[Part] = []
    pos = 0
    for match in _JOIN.finditer(part.folded):
        left = part.folded[pos:match.start()]
        right = part.folded[match.end():]
        if is_question(left) and is_question(right) and len(left.split()) >= 2 and len(right.split()) >= 2:
            pieces.append(Part(part.text[pos:match.start()].strip(" ,;"), left.strip(" ,;")))
            pos = match.end()
    pieces.append(Part(part.text[pos:].strip(" ,;"), part.folded[pos:].strip(" ,;")))
    return [p for p in pieces if p.folded]


# --- other fields -------------------------------------------------------------------------------

# A question anchored in one of these fields, with no word of the cooperative sector, is declined with
# the decline entry named (its text says where to ask).
OTHER_FIELDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(luat doanh nghiep|cong ty|doanh nghiep tu nhan|tnhh|trach nhiem huu han|co phan|"
                r"ctcp|giam doc cong ty|dang ky doanh nghiep|doanh nghiep xa hoi)\b"),
     "ngoai-luat-doanh-nghiep-cong-ty"),
    (re.compile(r"\b(bo luat lao dong|luat lao dong|thu viec|hop dong lao dong|luong toi thieu|luong co ban|"
                r"luong co so|tro cap thoi viec|tro cap mat viec|sa thai|nghi phep nam|nghi thai san|lam them gio|"
                r"nguoi su dung lao dong)\b"), "ngoai-luat-lao-dong"),
    (re.compile(r"\b(ho kinh doanh|hkd|ho ca the|kinh doanh ca the)\b"), "ngoai-dang-ky-ho-kinh-doanh"),
    (re.compile(r"\b(tai khoan ngan hang|mo tai khoan|the atm|chuyen khoan|mat khau)\b"), "ngoai-tai-khoan-ngan-hang"),
    (re.compile(r"\b(the tin dung|gui tiet kiem|the chap|tin chap|vay ngan hang|ngan hang|agribank|vietcombank|"
                r"bidv|vietinbank|tra gop)\b"), "ngoai-vay-ngan-hang-ca-nhan"),
    (re.compile(r"\b(so do|so hong|dat dai|quyen su dung dat|tranh chap dat|chuyen nhuong dat|"
                r"thua dat|dat o|dat nong nghiep)\b"), "ngoai-so-do-dat-dai"),
    (re.compile(r"\b(bao hiem xa hoi|bao hiem y te|bhxh|bhyt|bao hiem that nghiep|bao hiem nhan tho|"
                r"bao hiem)\b"), "ngoai-bao-hiem"),
    (re.compile(r"\b(can cuoc|cccd|cmnd|chung minh nhan dan|ho chieu|dinh danh dien tu|vneid)\b"),
     "ngoai-cccd-ho-chieu"),
)
_COOPERATIVE = re.compile(
    r"\b(hop tac xa|htx|to hop tac|tht|lien hiep|lhhtx|xa vien|lien minh|kinh te tap the|ktt|"
    r"quy ho tro phat trien|hop tac sa|quy tin dung|hoi dong quan tri|hdqt|ban kiem soat|"
    r"dai hoi thanh vien|thanh vien chinh thuc|thanh vien lien ket)\b")


def other_field(folded: str) -> str | None:
    """The decline entry for a question anchored in another field (companies, household businesses,
    bank accounts and loans, land, insurance, ID cards) that names nothing of the cooperative sector."""
    if _COOPERATIVE.search(folded):
        return None
    for pattern, decline_id in OTHER_FIELDS:
        if pattern.search(folded):
            return decline_id
    return None


# --- English ------------------------------------------------------------------------------------

# English words that are not also Vietnamese syllables typed without marks ("to", "can", "do", "the", "an"
# are "tổ", "cần", "do", "thế", "ăn"): an unaccented Vietnamese question must never look English.
_ENGLISH_WORDS_TEXT = (
    "is are what how many much does my we our of for with cooperative cooperatives coop co-op group groups "
    "member members need needs register registration who when where which why law company please hello "
    "thanks you your about minimum maximum capital should must there their this and fee fees tax support "
    "loan loans fund board director years year want would could tell weather today people documents document "
    "have has get set up any did new take took effect force into from will shall was were been it its they "
    "i i'm can't don't buy good where's what's foreigner foreigners join merger procedure"
)
_ENGLISH_WORDS = frozenset(_ENGLISH_WORDS_TEXT.split())
_VIETNAMESE_MARKS = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]",
                               re.IGNORECASE)
# A few English words of the bot's own subjects, in the Vietnamese a member would type.
ENGLISH_TERMS: tuple[tuple[str, str], ...] = (
    ("cooperative group", "to hop tac"), ("cooperative union", "lien hiep hop tac xa"),
    ("cooperatives", "hop tac xa"), ("cooperative", "hop tac xa"), ("co-op", "hop tac xa"), ("coop", "hop tac xa"),
    ("how many", "bao nhieu"), ("how much", "bao nhieu"), ("minimum", "toi thieu"), ("maximum", "toi da"),
    ("members", "thanh vien"), ("member", "thanh vien"), ("people", "nguoi"), ("set up", "thanh lap"),
    ("establish", "thanh lap"), ("found", "thanh lap"), ("start", "thanh lap"), ("registration", "dang ky"),
    ("register", "dang ky"), ("documents", "ho so"), ("dossier", "ho so"), ("application", "ho so"),
    ("charter capital", "von dieu le"), ("capital", "von"), ("contribute", "gop von"), ("board", "hoi dong quan tri"),
    ("director", "giam doc"), ("dissolve", "giai the"), ("dissolution", "giai the"), ("law", "luat"),
    ("fee", "le phi"), ("support", "ho tro"), ("loan", "vay"), ("borrow", "vay"), ("fund", "quy"), ("tax", "thue"),
    ("where", "o dau"), ("when", "khi nao"), ("what", "la gi"), ("who", "ai"), ("need", "can"),
    ("merger", "hop nhat"), ("merge", "hop nhat"), ("procedure", "thu tuc"), ("procedures", "thu tuc"),
    ("foreigner", "nguoi nuoc ngoai"), ("foreigners", "nguoi nuoc ngoai"), ("join", "tham gia"),
    ("take effect", "hieu luc"), ("took effect", "hieu luc"), ("come into force", "hieu luc"),
    ("came into force", "hieu luc"), ("in force", "hieu luc"), ("effective", "hieu luc"), ("term", "nhiem ky"),
)


_ENGLISH_ASKING = frozenset({"bao nhieu", "toi thieu", "toi da", "o dau", "khi nao", "la gi", "ai", "can", "nguoi"})


def is_english(text: str) -> bool:
    """Mostly English words and no Vietnamese diacritics."""
    if _VIETNAMESE_MARKS.search(text):
        return False
    words = re.findall(r"[a-z]+", text.lower())
    if len(words) < 3:
        return False
    english = sum(w in _ENGLISH_WORDS for w in words)
    return english >= 2 and english / len(words) >= 0.4


FOREIGN_SHARE = 0.65
# English words Vietnamese chats use as their own ("ok thanks ad"): neither Vietnamese nor foreign.
_LOANWORDS_TEXT = ("ok oke okay thanks thank tks ad admin hi hello bye sorry online offline marketing facebook zalo "
                   "email web website app internet covid video livestream shop ocop vietgap globalgap logo")
_LOANWORDS = frozenset(_LOANWORDS_TEXT.split())


def is_foreign(text: str) -> bool:
    """Written in another language (French, English …): most of its words are neither Vietnamese syllables
    (with or without marks) nor Telex/VNI typing of one; codes and abbreviations do not count."""
    words = [w for w in re.findall(r"[^\W\d_]+", text.lower())
             if len(w) >= 2 and any(c in "aeiouy" for c in fold(w)) and w not in _LOANWORDS]
    if len(words) < 3 or any(len(w) >= 3 and not w.isascii() and is_plain_syllable(fold(w)) for w in words):
        return False  # "không", "được": a marked Vietnamese syllable (French "créer", "même" are not)
    foreign = sum(not (is_plain_syllable(fold(w)) or decode_word(w) != w) for w in words)
    return foreign / len(words) >= FOREIGN_SHARE


def english_to_vietnamese(text: str) -> str:
    """The bot's own subject words of an English question in (folded) Vietnamese; the rest dropped."""
    lowered = " " + " ".join(re.findall(r"[a-z-]+", text.lower())) + " "
    found: list[tuple[int, str]] = []
    for english, vietnamese in ENGLISH_TERMS:
        for match in re.finditer(rf"\b{re.escape(english)}\b", lowered):
            found.append((match.start(), vietnamese))
            lowered = lowered[:match.start()] + " " * (match.end() - match.start()) + lowered[match.end():]
    if not any(v not in _ENGLISH_ASKING for _, v in found):
        return ""  # only question words: nothing of the bot's subjects was asked
    return " ".join(v for _, v in sorted(found))
