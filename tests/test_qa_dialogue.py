"""Questions as members really ask them, through the real core (App + SQLite) and the shipped knowledge base:
follow-ups, several questions in one message, long messages, a question the base does not answer,
the old law, other fields, English. Read like dialogue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App
from bot.core.types import ChannelCapabilities
from bot.storage.models import QuestionLog
from tests.conftest import ROOT, Chat, RecordingChannel, make_config


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[App]:
    application = await App.open(make_config(tmp_path, kb=ROOT / "knowledge"))
    yield application
    await application.close()


def body(text: str) -> str:
    """What the member reads before the source line(s)."""
    return text.split("📚")[0]


async def test_where_to_file_follows_the_dossier_question(bot: App) -> None:
    chat = Chat(bot)
    assert "Giấy đề nghị đăng ký" in await chat.say("hồ sơ đăng ký htx gồm những gì")
    text = await chat.say("nộp ở đâu?")
    assert "UBND xã, phường" in body(text)
    assert "Đông Hà" not in text


async def test_the_same_fragment_without_context_is_not_guessed(bot: App) -> None:
    chat = Chat(bot)
    text = await chat.say("nộp ở đâu?")
    assert "chưa chắc" in text and "Đông Hà" not in text
    assert any(payload.startswith("qa:e:") for _, payload in chat.buttons())


async def test_and_what_about_a_tht_swaps_the_organisation_then_the_old_rule(bot: App) -> None:
    chat = Chat(bot)
    assert "05 thành viên" in await chat.say("lập htx cần mấy người")
    assert "02 thành viên" in body(await chat.say("còn THT thì sao?"))
    old = await chat.say("luật cũ thì sao?")
    assert "151/2007" in old and "3 cá nhân" in old


async def test_board_term_after_board_size(bot: App) -> None:
    chat = Chat(bot)
    size = await chat.say("hội đồng quản trị có bao nhiêu thành viên")
    assert "Khoản 1 Điều 65".lower() in size.lower()
    term = await chat.say("nhiệm kỳ bao lâu?")
    assert "05 năm" in body(term) and "HĐQT" in body(term)


async def test_interest_rate_follows_a_fund_loan_question_and_gold_prices_stay_declined(bot: App) -> None:
    chat = Chat(bot)
    await chat.say("vay quỹ hỗ trợ phát triển htx cần điều kiện gì")
    assert "lãi suất" in body(await chat.say("thế còn lãi suất?")).lower()
    gold = await chat.say("giá vàng hôm nay")
    assert "giá cả thị trường" in gold and "Nguồn" not in gold


async def test_context_survives_a_restart(tmp_path: Path) -> None:
    config = make_config(tmp_path, kb=ROOT / "knowledge")
    first = await App.open(config)
    await Chat(first).say("hồ sơ đăng ký htx gồm những gì")
    await first.close()
    again = await App.open(config)  # a new process on the same database
    try:
        assert "UBND xã, phường" in body(await Chat(again).say("nộp ở đâu?"))
    finally:
        await again.close()


async def test_a_new_full_question_starts_fresh(bot: App) -> None:
    chat = Chat(bot)
    await chat.say("hội đồng quản trị có bao nhiêu thành viên")
    text = await chat.say("tổ hợp tác có tư cách pháp nhân không")
    assert "không có tư cách" in body(text).lower()


async def test_two_questions_in_one_message_are_both_answered_in_order(bot: App) -> None:
    text = await Chat(bot).say("lập htx cần mấy người, góp vốn tối đa bao nhiêu?")
    members, cap = text.index("05 thành viên"), text.index("30%")
    assert members < cap
    assert "1️⃣" in text and "2️⃣" in text
    assert text.count("📚 Nguồn") == 2  # each part keeps its source, after the answers


async def test_a_long_friendly_message_is_answered_on_its_question(bot: App) -> None:
    message = ("Chào anh chị ạ, em là nông dân ở xã Hải Phú, nhà em trồng lúa và nuôi bò đã hơn 10 năm nay. "
               "Mấy hộ trong thôn bàn nhau muốn cùng làm ăn cho có đầu ra ổn định, có người bảo nên lập hợp tác "
               "xã, có người bảo lập tổ hợp tác thôi. Em muốn hỏi là lập hợp tác xã thì cần ít nhất bao nhiêu "
               "người ạ? Em cảm ơn anh chị nhiều, chúc anh chị sức khỏe.")
    text = await Chat(bot).say(message)
    assert "05 thành viên" in body(text)


async def test_a_question_on_another_subject_offers_topics_instead_of_a_wrong_answer(bot: App) -> None:
    chat = Chat(bot)
    text = await chat.say("thanh vien htx co duoc rut von khong")
    assert "Được." not in text and "liên kết không góp vốn" not in text
    assert "chưa chắc" in text
    labels = [label for label, payload in chat.buttons() if payload.startswith("qa:e:")]
    assert labels and labels[0] == "Ra khỏi hợp tác xã có được trả lại vốn góp không"
    assert "trả lại phần vốn góp" in await chat.say("1")  # picking the topic answers it


async def test_director_conditions_are_not_answered_with_fund_loan_conditions(bot: App) -> None:
    text = await Chat(bot).say("giam doc htx can dieu kien gi")
    assert "Điều 22 Nghị định 45/2021" not in text and "chưa chắc" in text


async def test_offered_topics_are_numbered_where_there_are_no_buttons(bot: App) -> None:
    zalo = RecordingChannel("zalo", ChannelCapabilities(max_text=2000, buttons=False, documents=False))
    bot.register_channel(zalo)
    chat = Chat(bot, channel="zalo")
    await chat.say("thanh vien htx co duoc rut von khong")
    text = "\n".join(r.text for r in chat.last)
    assert "1. Ra khỏi hợp tác xã có được trả lại vốn góp không" in text


async def test_today_law_answers_unless_the_old_one_is_named(bot: App) -> None:
    chat = Chat(bot)
    today = await chat.say("điều kiện trở thành thành viên hợp tác xã")
    assert "Điều 30 Luật Hợp tác xã 2023" in body(today) and "⚠️" not in today
    old = await chat.say("HTX thành lập năm 2018 theo luật cũ cần mấy thành viên")
    assert "07 thành viên" in body(old) and "Hiện nay" in old


async def test_a_date_in_a_question_is_a_date_not_a_document_number(bot: App) -> None:
    index = bot.services.index
    result = index.search("trước 1/7/2025 nộp hồ sơ htx ở đâu")
    assert "7/2025" not in result.query_tokens and "2025" in result.query_tokens


async def test_yes_or_no_opener_only_when_that_was_asked(bot: App) -> None:
    chat = Chat(bot)
    asked = await chat.say("ra khỏi htx có được trả lại vốn góp không")
    assert asked.startswith("**Có.**") or asked.startswith("Có.")
    described = await chat.say("khi ra khỏi hợp tác xã thì vốn góp được xử lý như thế nào")
    assert not described.lstrip("*").startswith("Có")


@pytest.mark.parametrize("question", [
    "Thành lập công ty TNHH cần bao nhiêu thành viên",
    "hộ kinh doanh đăng ký ở đâu",
    "vay ngân hàng agribank cần thế chấp gì",
    "cấp lại căn cước công dân ở đâu",
    "mua bảo hiểm xe máy ở đâu",
    "mở tài khoản ngân hàng cần giấy tờ gì",
    "làm sổ đỏ đất nông nghiệp hết bao nhiêu tiền",
])
async def test_other_fields_are_declined_with_where_to_ask(bot: App, question: str) -> None:
    text = await Chat(bot).say(question)
    assert "Nguồn" not in text and "Liên hệ" in text


async def test_english_gets_a_bilingual_note_and_a_clear_question_its_answer(bot: App) -> None:
    chat = Chat(bot)
    note = await chat.say("Can you tell me the weather in Hanoi today please?")
    assert "Vietnamese" in note and "tiếng Việt" in note
    assert any("Hỏi đáp" in label for label, _ in chat.buttons())  # the menu itself
    answer = await chat.say("How many members does a cooperative need?")
    assert "Vietnamese" in answer and "05 thành viên" in answer


async def test_personal_numbers_are_masked_in_the_question_log(bot: App) -> None:
    await Chat(bot).say("tôi số cccd 001203004567 điện thoại 0912345678 muốn lập htx cần mấy người")
    async with bot.db.unit() as s:
        row = await s.scalar(select(QuestionLog).order_by(QuestionLog.id.desc()))
    assert row is not None
    assert "001203004567" not in row.raw_text and "0912345678" not in row.raw_text


async def test_a_present_tense_question_gets_the_rule_in_force_not_the_replaced_decree(bot: App) -> None:
    now = body(await Chat(bot).say("tổ hợp tác cần mấy người"))
    assert "02" in now.split("\n")[0] and "Nghị định 151/2007" not in now
    before = body(await Chat(bot).say("Trước đây tổ hợp tác cần mấy người?"))
    assert "3 cá nhân" in before and "Hiện nay" in before  # the old rule, with what applies today


# --- a follow-up keeps what was asked and swaps only what it names -------------------------------------

async def test_the_old_law_follow_up_keeps_the_point_asked(bot: App) -> None:
    chat = Chat(bot)
    assert "UBND xã, phường" in await chat.say("hồ sơ đăng ký htx nộp ở đâu")
    old = body(await chat.say("luật cũ thì sao?"))
    assert "Phòng Tài chính – Kế hoạch" in old and "Hiện nay" in old


async def test_another_body_keeps_the_question_how_many(bot: App) -> None:
    chat = Chat(bot)
    await chat.say("hội đồng quản trị có bao nhiêu thành viên")
    text = body(await chat.say("còn ban kiểm soát thì sao"))
    assert "Điều 69" in text and "từ 01 đến 07" in text.replace("**", "")


async def test_another_subject_swaps_the_subject_not_the_question(bot: App) -> None:
    chat = Chat(bot)
    await chat.say("htx thuê đất có được miễn tiền thuê đất không")
    text = body(await chat.say("còn thuế thì sao"))
    assert "Điều 22" in text and "tiền thuê đất" not in text


async def test_they_means_the_kind_of_member_just_asked_about(bot: App) -> None:
    chat = Chat(bot)
    await chat.say("thành viên liên kết không góp vốn là gì")
    text = body(await chat.say("họ có được biểu quyết không"))
    assert "khoản 19 Điều 4" in text and "khoản 18 Điều 4" not in text


# --- a figure inside a broader entry is answered, not offered as topics -------------------------------

@pytest.mark.parametrize(("question", "figure"), [
    ("lãi quá hạn vay quỹ hỗ trợ phát triển htx tối đa bao nhiêu", "150%"),
    ("nghị quyết giải thể htx phải gửi trong bao nhiêu ngày", "07 ngày làm việc"),
    ("đại hội thành viên triệu tập lần thứ hai thì cần bao nhiêu thành viên dự", "33%"),
    ("thu nhập từ giao dịch nội bộ chia cho thành viên ít nhất bao nhiêu phần trăm", "51%"),
])
async def test_a_figure_inside_a_broader_entry_is_answered(bot: App, question: str, figure: str) -> None:
    text = await Chat(bot).say(question)
    assert "chưa chắc" not in text
    assert figure in body(text).replace("**", "")


# --- a yes/no opener only when the matched phrasing is the same question ------------------------------

async def test_no_yes_opener_when_the_entry_answers_another_yes_no_question(bot: App) -> None:
    text = body(await Chat(bot).say("thành viên liên kết không góp vốn có được biểu quyết không"))
    assert "khoản 19 Điều 4" in text and "không biểu quyết" in text.replace("**", "")
    assert not text.lstrip("*").startswith(("Được", "Có"))


async def test_no_yes_opener_for_a_follow_up_on_another_point(bot: App) -> None:
    chat = Chat(bot)
    await chat.say("thành viên liên kết không góp vốn là gì")
    text = body(await chat.say("họ có được biểu quyết không"))
    assert not text.lstrip("*").startswith(("Được", "Có"))


# --- labour law and social enterprises are other fields ----------------------------------------------

@pytest.mark.parametrize(("question", "where"), [
    ("thử việc tối đa bao lâu", "Bộ luật Lao động"),
    ("hợp đồng lao động có thời hạn tối đa mấy năm", "Bộ luật Lao động"),
    ("lương tối thiểu vùng năm nay bao nhiêu", "Bộ luật Lao động"),
    ("nghỉ việc có được trợ cấp thôi việc không", "Bộ luật Lao động"),
    ("doanh nghiệp xã hội là gì", "Luật Doanh nghiệp"),
])
async def test_labour_law_and_social_enterprises_are_declined_with_where_to_ask(
        bot: App, question: str, where: str) -> None:
    text = await Chat(bot).say(question)
    assert "Nguồn" not in text and "Liên hệ" in text and where in text.replace("**", "")


async def test_a_cooperative_labour_question_is_still_answered(bot: App) -> None:
    text = await Chat(bot).say("htx có phải ký hợp đồng lao động với thành viên không")
    assert "Nguồn" in text or "chưa chắc" in text


# --- English and other languages -------------------------------------------------------------------

async def test_a_clear_english_question_on_the_law_is_answered(bot: App) -> None:
    text = await Chat(bot).say("When did the new Law on Cooperatives take effect?")
    assert "Vietnamese" in text and "01/07/2024" in body(text).replace("1/7/2024", "01/07/2024")


@pytest.mark.parametrize("message", [
    "Bonjour, comment créer une coopérative agricole?",
    "Where can I buy a good motorbike in Hanoi?",
    "Est-ce que vous parlez français?",
])
async def test_other_languages_get_the_bilingual_note_not_the_vietnamese_doubt(bot: App, message: str) -> None:
    text = await Chat(bot).say(message)
    assert "Vietnamese" in text and "tiếng Việt" in text
    assert "chưa chắc" not in text and "Xin lỗi, mình chưa có" not in text


# --- what the question asks picks the entry among neighbours on one topic -----------------------------

async def test_where_to_register_a_group_is_answered_with_where(bot: App) -> None:
    text = body(await Chat(bot).say("đăng ký thành lập tổ hợp tác ở đâu"))
    assert "UBND xã/phường nơi đặt trụ sở" in text


async def test_where_to_file_is_not_answered_with_the_documents(bot: App) -> None:
    text = body(await Chat(bot).say("nộp hồ sơ thành lập htx ở cơ quan nào"))
    assert "UBND xã, phường" in text and "Giấy đề nghị" not in text


async def test_a_borrowers_age_is_not_answered_with_another_rule_of_the_loan(bot: App) -> None:
    text = body(await Chat(bot).say("người vay vốn quỹ htx phải từ mấy tuổi"))
    assert "18 tuổi" in text


async def test_a_founder_is_not_answered_as_an_official_member(bot: App) -> None:
    text = body(await Chat(bot).say("ai là thành viên sáng lập hợp tác xã"))
    assert "khoản 17 Điều 4" not in text


async def test_another_kind_of_member_keeps_the_question_on_rights(bot: App) -> None:
    chat = Chat(bot)
    await chat.say("thành viên chính thức có quyền gì")
    text = body(await chat.say("còn thành viên liên kết thì sao"))
    assert "khoản 18 Điều 4" in text


async def test_a_merger_is_not_answered_with_the_founding_steps(bot: App) -> None:
    text = body(await Chat(bot).say("hợp nhất hai htx thì thủ tục đăng ký thế nào"))
    assert "Điều 94" in text


@pytest.mark.parametrize(("question", "expected"), [
    ("merger of cooperatives procedure", "Điều 94"),
    ("Can a foreigner join a cooperative?", "nước ngoài"),
])
async def test_clear_english_questions_on_other_topics_are_answered(bot: App, question: str, expected: str) -> None:
    text = await Chat(bot).say(question)
    assert "Vietnamese" in text and expected in body(text)


async def test_the_old_law_on_a_point_it_has_no_entry_for_is_not_answered_with_todays_rule(bot: App) -> None:
    chat = Chat(bot)
    await chat.say("đăng ký htx mất mấy ngày")
    await chat.say("còn THT thì sao?")
    text = await chat.say("luật cũ thì sao?")
    assert "chưa chắc" in text and "Hồ sơ đăng ký tổ hợp tác gồm" not in text


async def test_thanks_in_chat_english_is_not_a_foreign_language(bot: App) -> None:
    text = await Chat(bot).say("ok thanks ad")
    assert "Vietnamese" not in text
