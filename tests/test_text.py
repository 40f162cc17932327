"""Vietnamese normalisation as people type."""

from bot.text import Lexicon, clean, fold, has_letters, tokens

SYN = Lexicon({"htx": "hop tac xa", "dhtv": "dai hoi thanh vien", "k": "khong"})


def test_folding_removes_diacritics_and_d_bar() -> None:
    assert fold("Đại hội THÀNH VIÊN Hợp tác xã") == "dai hoi thanh vien hop tac xa"


def test_abbreviations_expand_and_punctuation_goes() -> None:
    assert tokens("HTX có ĐHTV k???", SYN) == ["hop", "tac", "xa", "co", "dai", "hoi", "thanh", "vien", "khong"]


def test_document_numbers_stay_whole() -> None:
    assert tokens("Nghị định 45/2021/NĐ-CP")[:4] == ["nghi", "dinh", "45/2021", "45"]


def test_decomposed_and_composed_input_match() -> None:
    decomposed = "Ho\u0323p ta\u0301c xa\u0303"
    assert tokens(decomposed) == tokens("Hợp tác xã") == ["hop", "tac", "xa"]


def test_control_and_zero_width_characters_are_removed() -> None:
    assert clean("a\x00b\u200bc\n\n d") == "a b c d"


def test_emoji_only_has_no_letters() -> None:
    assert not has_letters("😀🙏") and has_letters("HTX 😀")


def test_compound_terms_are_added_as_one_token_each() -> None:
    lexicon = Lexicon({"htx": "hop tac xa"}, ["to hop tac", "hop tac xa", "lien hiep hop tac xa"])
    assert tokens("lập tổ hợp tác", lexicon)[-1] == "to_hop_tac"
    assert tokens("liên hiệp HTX", lexicon)[-1:] == ["lien_hiep_hop_tac_xa"]
    assert "hop_tac_xa" not in tokens("liên hiệp HTX", lexicon)


def test_telex_and_vni_leftovers_give_the_same_tokens_as_vietnamese() -> None:
    written = tokens("Thành lập HTX cần những gì?", SYN)
    assert tokens("thanhf laapj HTX caafn nhuwngx gif?", SYN) == written
    assert tokens("tha2nh la6p5 HTX ca62n nhu7ng4 gi2?", SYN) == written
    assert tokens("thanh lap htx can nhung gi", SYN) == written


def test_decoding_keeps_abbreviations_and_document_numbers() -> None:
    assert tokens("ddieeuf 5 NĐ 45/2021/NĐ-CP, k dc j", SYN) == [
        "dieu", "5", "nd", "45/2021", "45", "nd", "cp", "khong", "dc", "j"]
    assert tokens("HTX cos ĐHTV k", SYN) == ["hop", "tac", "xa", "co", "dai", "hoi", "thanh", "vien", "khong"]


def test_english_words_are_not_turned_into_syllables() -> None:
    assert tokens("email zalo tax box test online") == ["email", "zalo", "tax", "box", "test", "online"]
