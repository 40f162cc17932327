"""Unit tests of the pure Telegram conversions: who is addressed, commands, splitting, keyboards."""

from __future__ import annotations

import pytest
from telegram import Update

from bot.channels.telegram_convert import (
    EMPTY_MENTION_TEXT,
    addressed_text,
    build_keyboard,
    callback_to_incoming,
    message_to_incoming,
    reply_to_calls,
)
from bot.core.split import split_text
from bot.core.types import Attachment, Button, Reply
from tests.fakes.telegram_server import FakeTelegramServer

BOT = "htx_test_bot"
BOT_ID = 999
GROUP = -100123


@pytest.fixture
def fake() -> FakeTelegramServer:
    """Used only as an update builder here (never started)."""
    return FakeTelegramServer(bot_username=BOT, bot_id=BOT_ID)


def _incoming(fake: FakeTelegramServer, update: dict) -> object:
    return message_to_incoming(Update.de_json(update, None).message, BOT, BOT_ID)


# -- who is addressed -------------------------------------------------------------------------


def test_private_chat_takes_every_text() -> None:
    assert addressed_text("  chào bạn ", chat_type="private", bot_username=BOT) == "chào bạn"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/start@htx_test_bot", "/start"),
        ("/start@HTX_Test_Bot   ma-123", "/start   ma-123"),
        ("/hoi@htx_test_bot vốn góp tối đa?", "/hoi vốn góp tối đa?"),
        ("/menu", "/menu"),
        ("/start@other_bot", None),
    ],
)
def test_group_commands_lose_the_bot_name(text: str, expected: str | None) -> None:
    assert addressed_text(text, chat_type="supergroup", bot_username=BOT) == expected


def test_private_command_naming_the_bot_is_normalised() -> None:
    assert addressed_text("/start@htx_test_bot abc", chat_type="private", bot_username=BOT) == "/start abc"


def test_group_chatter_is_ignored() -> None:
    assert addressed_text("hôm nay trời đẹp", chat_type="group", bot_username=BOT) is None


def test_group_mention_is_stripped() -> None:
    text = addressed_text("@htx_test_bot  vốn điều lệ là gì?", chat_type="group", bot_username=BOT,
                          mentioned=True)
    assert text == "vốn điều lệ là gì?"
    alone = addressed_text("@HTX_TEST_BOT", chat_type="group", bot_username=BOT, mentioned=True)
    assert alone == EMPTY_MENTION_TEXT


def test_group_reply_to_bot_is_taken() -> None:
    text = addressed_text("còn hồ sơ thì sao?", chat_type="group", bot_username=BOT, replied_to_bot=True)
    assert text == "còn hồ sơ thì sao?"


def test_message_to_incoming_reads_mention_entities(fake: FakeTelegramServer) -> None:
    text = "hỏi @htx_test_bot: thành lập HTX cần mấy người?"
    offset = text.index("@")
    entities = [{"type": "mention", "offset": offset, "length": len("@htx_test_bot")}]
    incoming = _incoming(fake, fake.text_update(GROUP, text, user_id=42, chat_type="group", entities=entities))
    assert incoming is not None
    assert incoming.text == "hỏi : thành lập HTX cần mấy người?"
    assert (incoming.chat_id, incoming.user_id, incoming.channel) == (str(GROUP), "42", "telegram")
    assert incoming.display_name == "Lan Nguyễn"
    assert incoming.message_id is not None and incoming.message_id.startswith(f"{GROUP}:")


def test_message_to_incoming_ignores_other_mentions_and_takes_replies(fake: FakeTelegramServer) -> None:
    other = [{"type": "mention", "offset": 0, "length": 6}]
    assert _incoming(fake, fake.text_update(GROUP, "@minh ơi", chat_type="group", entities=other)) is None
    reply = fake.text_update(GROUP, "thế còn THT?", chat_type="group", reply_to_bot=True)
    assert _incoming(fake, reply).text == "thế còn THT?"


def test_callback_to_incoming_carries_payload_and_query_id(fake: FakeTelegramServer) -> None:
    update = Update.de_json(fake.callback_update(77, "qa:start", user_id=77), None)
    incoming = callback_to_incoming(update.callback_query)
    assert incoming is not None
    assert (incoming.payload, incoming.chat_id, incoming.user_id) == ("qa:start", "77", "77")
    assert incoming.message_id == update.callback_query.id
    assert incoming.text == ""


# -- replies → calls ---------------------------------------------------------------------------


def test_split_9000_chars_at_paragraph_boundaries() -> None:
    paragraphs = [(f"Đoạn {i}: " + "hợp tác xã " * 90)[:899] + "." for i in range(10)]
    text = "\n\n".join(paragraphs)
    assert len(text) == 9018
    parts = split_text(text, 4096)
    assert len(parts) == 3
    assert all(len(p) <= 4096 for p in parts)
    for part in parts:  # every part is made of whole paragraphs
        assert all(chunk in paragraphs for chunk in part.split("\n\n"))
    assert "\n\n".join(parts) == text


def test_split_falls_back_to_lines_words_and_hard_cuts() -> None:
    lines = "\n".join("dòng " * 100 for _ in range(20))  # one paragraph, 10,000 chars
    parts = split_text(lines, 4096)
    assert all(len(p) <= 4096 for p in parts)
    assert all(not p.startswith("\n") and not p.endswith("\n") for p in parts)
    giant = "x" * 9000
    assert [len(p) for p in split_text(giant, 4096)] == [4096, 4096, 808]
    assert split_text("", 4096) == []
    assert split_text("ngắn", 4096) == ["ngắn"]


def test_keyboard_has_one_button_per_row() -> None:
    markup = build_keyboard([Button("❓ Hỏi đáp", "qa:start"), Button("📝 Đăng ký", "reg:start")])
    assert markup is not None
    rows = markup.inline_keyboard
    assert [[(b.text, b.callback_data) for b in row] for row in rows] == [
        [("❓ Hỏi đáp", "qa:start")], [("📝 Đăng ký", "reg:start")]
    ]
    assert build_keyboard([]) is None


def test_callback_data_over_64_bytes_is_rejected() -> None:
    build_keyboard([Button("ok", "a" * 64)])
    with pytest.raises(ValueError, match="64"):
        build_keyboard([Button("quá dài", "đ" * 33)])  # 33 letters, 66 bytes
    with pytest.raises(ValueError):
        build_keyboard([Button("rỗng", "")])


def test_reply_to_calls_puts_keyboard_under_last_text_and_file_after() -> None:
    doc = Attachment("ho-so-htx.docx", b"PK\x03\x04", "application/octet-stream")
    reply = Reply("Hồ sơ của bạn:\n\n" + "b" * 5000, buttons=[Button("Menu", "start:menu")], attachment=doc)
    calls = reply_to_calls(reply)
    assert [c.method for c in calls] == ["send_message"] * 3 + ["send_document"]
    assert [len(c.kwargs["text"]) for c in calls[:3]] == [len("Hồ sơ của bạn:"), 4096, 904]
    assert [("reply_markup" in c.kwargs) for c in calls] == [False, False, True, False]
    assert calls[3].kwargs["filename"] == "ho-so-htx.docx"
    assert calls[3].kwargs["document"].read() == b"PK\x03\x04"


def test_reply_with_only_an_image_carries_the_keyboard() -> None:
    image = Attachment("bieu-do.png", b"\x89PNG", "image/png", kind="image")
    calls = reply_to_calls(Reply("", buttons=[Button("Menu", "start:menu")], attachment=image))
    assert [c.method for c in calls] == ["send_photo"]
    assert calls[0].kwargs["reply_markup"] is not None
