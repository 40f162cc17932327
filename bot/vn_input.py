"""Decode Vietnamese typed with Telex or VNI keys left in: "hopwj" → "hợp", "la6p5" → "lập".

On a phone without a Vietnamese keyboard the input method's keys stay in the text. A word is decoded
only when all of these hold, so English words, codes and correct Vietnamese pass through unchanged:

1. it is plain ASCII: letters only (Telex) or letters with digits (VNI: at least two letters and not in
   capitals, so "A4", "QH15", "H5N1" stay codes). A word in capitals is decoded only when the whole
   message is in capitals ("THANHF LAAPJ"); among lower-case words it is an abbreviation ("IMF");
2. it is not already a valid Vietnamese syllable without diacritics ("ban", "xa", "hop", "tuan" stay;
   "bans" → "bán"), nor a common English word or a code that happens to decode ("as", "tax", "box",
   "how", "test", "lawn", "TW", "ix" stay: ENGLISH, NOT_TELEX), nor a Roman numeral in capitals;
3. the keys are where input methods put them. Telex: tone keys s f r x j after the last vowel, at the
   end ("tacs") or before the final consonant ("tasc"); w anywhere after the vowel ("hopwj", "uow",
   "uwow" → ươ) or in place of a vowel in words of three letters or more ("nhw" → như; "tw", "MW"
   stay); doubled aa ee oo next to each other; dd at the start. VNI: digits anywhere after the first
   vowel ("d9ie62u" → điều), 9 right after the d. One tone key per word: "taxs" (a tone typed, then
   changed) stays as it is;
4. the result is a valid syllable: a known onset, a known rhyme for that onset (c/g/ng never before
   e ê i, k/gh/ngh only there, "qu" with its own rhymes), and a final -c -ch -p -t only with sắc or
   nặng ("haatj" → "hật", "haat" stays);
5. the message is not mostly English: in "how many days does it take" nothing is decoded, although
   "days" alone would give "dáy".

The tone mark goes where Vietnamese prints it; "oa oe uy" without a final take it on the first vowel
(hòa, khỏe, thủy), the spelling most used in the knowledge base. The result is NFC.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

CIRCUMFLEX, BREVE, HORN = "\u0302", "\u0306", "\u031b"
TELEX_TONES = {"s": "\u0301", "f": "\u0300", "r": "\u0309", "x": "\u0303", "j": "\u0323"}
VNI_TONES = {"1": "\u0301", "2": "\u0300", "3": "\u0309", "4": "\u0303", "5": "\u0323"}
STOP_TONES = {"\u0301", "\u0323"}  # sắc, nặng: the only tones a syllable ending in -c -ch -p -t takes
VOWELS = frozenset("aeiouy")
STOP_FINALS = frozenset({"c", "ch", "p", "t"})


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Longest first, so "ngh" is tried before "ng" and "n"; "gi" before "g".
ONSETS = ("ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr",
          "b", "c", "d", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "")

# Rhymes (medial + nucleus + final) with vowel marks, without tone.
RHYMES = _words("""
a ai ao au ay ac ach am an ang anh ap at
ăc ăm ăn ăng ăp ăt
âc âm ân âng âp ât âu ây
e eo ec em en eng ep et
ê êch êm ên ênh êp êt êu
i ia ich im in inh ip it iu
iêc iêm iên iêng iêp iêt iêu
o oi oc om on ong op ot
oa oac oach oai oam oan oang oanh oap oat oay
oăc oăm oăn oăng oăt
oe oen oeo oet
ô ôi ôc ôm ôn ông ôp ôt
ơ ơi ơm ơn ơp ơt
u ua ui uc um un ung up ut
uân uâng uât uây
uê uêch uênh
uy uych uynh uyt uyu uya uyên uyêt
uôc uôi uôm uôn uông uôt
uơ
ư ưa ưi ưu ưc ưng ưt
ươc ươi ươm ươn ương ươp ươt ươu
y yêm yên yêng yêt yêu
""")

# After "qu" the u is the medial, so the rhyme is what follows it: quà, quân, quý, quyết, quốc.
QU_RHYMES = _words("""
a ac ach ai am an ang anh ap at au ay
ăc ăm ăn ăng ăp ăt
âc ân âng ât âu ây
e en eo ep et
ê êch ên ênh êt
i y ych ynh yt yu ya yên yêt
ơ ôc
""")

# Words that decode to a valid syllable but are far more likely meant as they are: English words, the
# abbreviation "TW" (trung ương, as in "20-NQ/TW"), Roman numerals ("khóa ix"; in capitals all stay).
# The rhymes "oong" and "ooc" (xoong, boong, moóc) are left out of RHYMES on purpose: "khoong" is
# Telex for "không" far more often than a loanword.
NOT_TELEX = _words("tw ix xix sos")
ENGLISH = _words("""
as is us has was his this of if or
tax max sex box mix six bus chef car bar sir per
how hows now low row tow bow cow vow sow mow law laws saw paw down town gown dawn lawn
test tests best most post cost host list last must lost mist cast vast
tips tops maps caps cups hits sets bets cats hats lots nets pets pots dots chats chips
turn born term chair chairs pair
""")
# Short English words that are also plain syllables: they say nothing about the message's language.
EITHER = _words("it to do an in on me he be by so no go hi my am at up")
_ROMAN = re.compile(r"M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text).replace("đ", "d")
    return "".join(c for c in text if unicodedata.category(c) != "Mn")


_FOLDED_RHYMES = frozenset(_fold(r) for r in RHYMES)
_FOLDED_QU_RHYMES = frozenset(_fold(r) for r in QU_RHYMES)


def _onset_allows(onset: str, rhyme: str, plain: bool = False) -> bool:
    """Whether `rhyme` (with marks, or folded when `plain`) may follow `onset`."""
    rhymes = (_FOLDED_QU_RHYMES if plain else QU_RHYMES) if onset == "qu" else (
        _FOLDED_RHYMES if plain else RHYMES)
    if onset == "gi":  # gi + rhyme, or the i of "gi" is the vowel itself: gì, gìn, giếng
        return rhyme == "" or (rhyme[0] != "i" and rhyme in rhymes) or "i" + rhyme in rhymes
    if rhyme not in rhymes:
        return False
    front = rhyme[0] in "eêiy"
    if onset in ("c", "g", "ng") and front or onset in ("k", "gh", "ngh") and not front:
        return False
    if rhyme[0] == "y" and len(rhyme) > 1 and onset:  # yên, yêu only stand alone (or after qu)
        return onset == "qu"
    return not (rhyme.startswith("i") and rhyme[1:2] in ("ê", "e") and not onset and not plain)


def is_plain_syllable(word: str) -> bool:
    """True when the lower-case ASCII `word` is a Vietnamese syllable written without diacritics."""
    return any(word.startswith(onset) and _onset_allows(onset, word[len(onset):], plain=True)
               for onset in ONSETS)


class _Parsed:
    """A word split into onset, vowels with their marks, final consonants and tone."""

    __slots__ = ("onset", "telex", "vowels", "marks", "final", "tone", "hooks", "circumflexes", "breves")

    def __init__(self, onset: str, telex: bool) -> None:
        self.onset = onset
        self.telex = telex
        self.vowels: list[str] = []
        self.marks: list[str] = []
        self.final = ""
        self.tone = ""
        self.hooks = self.circumflexes = self.breves = 0


def _parse_telex(onset: str, body: str) -> _Parsed | None:
    p = _Parsed(onset, telex=True)
    for ch in body:
        if ch in VOWELS:
            if p.final or p.tone:  # a vowel after the final consonant or after the tone key
                return None
            if p.vowels and ch in "aeo" and p.vowels[-1] == ch and not p.marks[-1]:
                p.marks[-1] = CIRCUMFLEX  # aa ee oo
                continue
            p.vowels.append(ch)
            p.marks.append("")
        elif ch == "w":
            if not p.vowels and not p.final and onset != "gi" and len(onset) + len(body) > 2:
                p.vowels.append("u")  # w alone stands for ư: "nhw" → như ("tw", "MW" stay)
                p.marks.append(HORN)
            else:
                p.hooks += 1
        elif ch in TELEX_TONES:
            if p.tone or not (p.vowels or onset == "gi"):
                return None
            p.tone = TELEX_TONES[ch]
        else:
            p.final += ch
            if len(p.final) > 2 or not p.vowels and onset != "gi":
                return None
    return p


def _parse_vni(onset: str, body: str) -> _Parsed | None:
    p = _Parsed(onset, telex=False)
    for ch in body:
        if ch in VOWELS:
            if p.final:
                return None
            p.vowels.append(ch)
            p.marks.append("")
        elif ch.isdigit():
            if not (p.vowels or onset == "gi"):
                return None
            if ch in VNI_TONES:
                if p.tone:
                    return None
                p.tone = VNI_TONES[ch]
            elif ch == "6":
                p.circumflexes += 1
            elif ch == "7":
                p.hooks += 1
            elif ch == "8":
                p.breves += 1
            else:
                return None
        else:
            p.final += ch
            if len(p.final) > 2 or not p.vowels and onset != "gi":
                return None
    return p


def _mark(p: _Parsed, count: int, targets: list[int], mark: str) -> bool:
    """Put `mark` on every target vowel; False when the keys do not fit the vowels."""
    free = [i for i in targets if not p.marks[i]]
    if not free or count > len(free):
        return False
    for i in free:
        p.marks[i] = mark
    return True


def _hook_targets(letters: str, with_a: bool) -> list[int]:
    """Which vowels a hook key changes: u and o of "uo" (ươ), the a of "oa" (oă), else u, o or a."""
    at = letters.find("uo")
    if at >= 0:
        return [at, at + 1]
    if with_a and letters.startswith("oa"):
        return [1]
    for v in ("uoa" if with_a else "uo"):
        if v in letters:
            return [letters.index(v)]
    return []


def _apply_marks(p: _Parsed) -> bool:
    letters = "".join(p.vowels)
    if p.circumflexes:  # VNI 6: the last a, e or o (uô, iê, uyê, ây)
        last = max(letters.rfind("a"), letters.rfind("e"), letters.rfind("o"))
        if not _mark(p, p.circumflexes, [last] if last >= 0 else [], CIRCUMFLEX):
            return False
    if p.breves:  # VNI 8
        at = letters.rfind("a")
        if not _mark(p, p.breves, [at] if at >= 0 else [], BREVE):
            return False
    if p.hooks:  # Telex w (also makes ă), VNI 7
        if not _mark(p, p.hooks, _hook_targets(letters, with_a=p.telex), HORN):
            return False
        p.marks = [BREVE if m == HORN and v == "a" else m for v, m in zip(p.vowels, p.marks, strict=True)]
    return True


def _tone_position(p: _Parsed) -> int:
    marked = [i for i, m in enumerate(p.marks) if m]
    if marked:
        return marked[-1]
    n = len(p.vowels)
    if n == 1 or p.final:
        return n - 1
    if n == 3:
        return 1
    return 0  # mùa, tài, hòa, thủy


def _compose(p: _Parsed) -> str | None:
    """The syllable with its diacritics, or None when it is not a valid Vietnamese syllable."""
    if not _apply_marks(p):
        return None
    vowels = "".join(v + m for v, m in zip(p.vowels, p.marks, strict=True))
    if not _onset_allows(p.onset, unicodedata.normalize("NFC", vowels) + p.final):
        return None
    if p.final in STOP_FINALS and p.tone not in STOP_TONES:
        return None
    if p.onset == "gi" and not p.vowels:  # gì, gìn: the i of "gi" is the vowel and takes the tone
        p.onset, p.vowels, p.marks = "g", ["i"], [""]
    where = _tone_position(p)
    parts = [v + m + (p.tone if i == where else "")
             for i, (v, m) in enumerate(zip(p.vowels, p.marks, strict=True))]
    return unicodedata.normalize("NFC", p.onset + "".join(parts) + p.final)


def _decode_lower(word: str, vni: bool) -> str | None:
    parse = _parse_vni if vni else _parse_telex
    if word.startswith("d9" if vni else "dd"):
        splits = [("đ", word[2:])]
    else:
        splits = [(onset, word[len(onset):]) for onset in ONSETS if word.startswith(onset)]
    for onset, body in splits:
        parsed = parse(onset, body)
        result = _compose(parsed) if parsed else None
        if result:
            return result
    return None


def _meant_as_written(word: str, lower: str) -> bool:
    """A letters-only word with no Telex key, a plain syllable, a known English word or code."""
    has_key = any(c in "sfrxjw" for c in lower) or any(k in lower for k in ("aa", "ee", "oo", "dd"))
    return (not has_key or lower in ENGLISH or lower in NOT_TELEX or bool(_ROMAN.fullmatch(word))
            or is_plain_syllable(lower))


@lru_cache(maxsize=8192)
def decode_word(word: str, capitals: bool = False) -> str:
    """One word decoded from Telex or VNI when that gives a valid syllable; otherwise the word itself.

    A word in capitals is decoded only with `capitals` (the whole message is typed in capitals);
    in an ordinary message it is an abbreviation ("IMF", "SOS").
    """
    if not (word.isascii() and word.isalnum()) or word[0].isdigit():
        return word
    if not capitals and len(word) > 1 and word.isupper():
        return word
    lower = word.lower()
    vni = any(c.isdigit() for c in word)
    if vni:
        letters = sum(c.isalpha() for c in word)
        if letters < 2 or sum(c.isupper() for c in word) > 1:
            return word
    elif _meant_as_written(word, lower):
        return word
    decoded = _decode_lower(lower, vni)
    if decoded is None:
        return word
    if word.isupper() and len(word) > 1:
        return decoded.upper()
    return decoded[0].upper() + decoded[1:] if word[0].isupper() else decoded


_WORD = re.compile(r"\w+")


@lru_cache(maxsize=8192)
def _language(word: str) -> int:
    """+1 for a Vietnamese-looking word (diacritics, a plain or a decodable syllable), -1 for a foreign
    one (ASCII letters with a vowel, neither), 0 for codes, numbers, abbreviations without vowels."""
    if not word.isascii():
        return 1 if word.isalpha() else 0
    lower = word.lower()
    if not word.isalpha() or len(word) < 2 or word.isupper() or lower in EITHER or not any(
            c in VOWELS for c in lower):
        return 0
    if lower in NOT_TELEX:
        return 0
    if lower in ENGLISH:
        return -1
    return 1 if is_plain_syllable(lower) or decode_word(lower) != lower else -1


def decode_typing(text: str) -> str:
    """The text with every Telex or VNI word decoded to Vietnamese with diacritics (NFC).

    A message mostly in English ("how many days does it take") is left as it is: its words are not
    leftovers of a Vietnamese keyboard, even when one of them would decode ("days" → "dáy").
    """
    text = unicodedata.normalize("NFC", text)
    words = _WORD.findall(text)
    if sum(_language(w) for w in words) < 0:
        return text
    # Caps lock on (two words or more, none in lower case): capitals are not abbreviations here.
    capitals = len(words) > 1 and not any(c.islower() for c in text)
    return _WORD.sub(lambda m: decode_word(m.group(0), capitals), text)
