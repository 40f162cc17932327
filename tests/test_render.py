"""The one splitter: rendered replies cut by each platform's own measure, never inside a tag.

The oracle for "Telegram would accept it" is tests/fakes/telegram_rules.py, written from the Bot API
documentation independently of bot/core/split.py.
"""

from __future__ import annotations

import re

import pytest

from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_convert import reply_to_calls
from bot.channels.zalo import ZaloChannel
from bot.core.render import render_for
from bot.core.split import split_text, visible_length
from bot.core.types import Button, Reply
from tests.fakes import telegram_rules

TELEGRAM = TelegramChannel.capabilities
ZALO = ZaloChannel.capabilities

# A long answer with many bold runs, as the Q&A flow writes them (**…**) — the shape that produced a
# part with 158 <b> and 157 </b> before: bold runs long enough that a cut at a space lands inside one.
BOLD_ANSWER = " ".join(
    f"Theo **khoản {i % 9 + 1} Điều {i % 40 + 1} Luật Hợp tác xã số 17/2023/QH15 về quyền của thành viên** "
    f"thì HTX & THT phải <tuân thủ> điều lệ."
    for i in range(160)
)


def _telegram_messages(text: str) -> list[str]:
    """What the Telegram adapter would send for a reply with `text`, after the core rendered it."""
    texts: list[str] = []
    for part in render_for(Reply(text), TELEGRAM):
        texts.extend(str(c.kwargs["text"]) for c in reply_to_calls(part) if c.method == "send_message")
    return texts


def _words(text: str) -> list[str]:
    return text.split()


def test_long_bold_answer_is_sent_as_parts_telegram_accepts() -> None:
    messages = _telegram_messages(BOLD_ANSWER)
    assert len(messages) >= 3
    for message in messages:
        assert telegram_rules.check_request("sendMessage", {"text": message, "parse_mode": "HTML"}) is None
        assert message.count("<b>") == message.count("</b>")
    shown = " ".join(telegram_rules.parse_html(m) for m in messages)
    assert _words(shown) == _words(BOLD_ANSWER.replace("**", ""))  # nothing lost, nothing doubled


def test_a_bold_run_cut_in_two_is_closed_and_reopened() -> None:
    text = "<b>" + "hợp tác xã " * 30 + "</b> xong"
    parts = split_text(text, 100, html_text=True)
    assert len(parts) >= 3
    for part in parts:
        assert telegram_rules.parse_html(part)  # well-formed on its own
        assert visible_length(part, html_text=True) <= 100
    assert parts[0].startswith("<b>") and parts[0].endswith("</b>")
    assert parts[1].startswith("<b>")
    assert parts[-1].endswith("xong")


def test_entities_count_as_one_character_so_no_needless_split() -> None:
    # 3,900 visible characters, about 5,100 characters of HTML once "&" is written "&amp;".
    text = ("HTX & THT " * 390).strip()
    messages = _telegram_messages(text)
    assert len(messages) == 1
    assert len(messages[0]) > 4096
    assert telegram_rules.check_request("sendMessage", {"text": messages[0], "parse_mode": "HTML"}) is None


def test_telegram_counts_utf16_units() -> None:
    # Each 🌾 is one Python character but two UTF-16 units: "🌾 " * 3000 is 6,000 characters, 9,000 units.
    text = "🌾 " * 3000
    messages = _telegram_messages(text)
    assert len(messages) == 3
    for message in messages:
        assert telegram_rules.utf16_length(telegram_rules.parse_html(message)) <= 4096
    assert sum(m.count("🌾") for m in messages) == 3000


def test_no_cut_inside_a_tag_or_an_entity() -> None:
    text = ("a&amp;b <b>đậm</b> " * 400).strip()
    for limit in (7, 50, 333, 1000):
        for part in split_text(text, limit, html_text=True):
            telegram_rules.parse_html(part)  # raises on a broken tag or a half entity
            assert visible_length(part, html_text=True) <= limit
            assert not re.search(r"&[a-z]*$|<[^>]*$", part)


def test_zalo_parts_fit_2000_characters_at_word_boundaries() -> None:
    text = " ".join(f"từ{i}" for i in range(2000))  # about 11,000 characters, no paragraph breaks
    parts = [r.text for r in render_for(Reply(text, buttons=[Button("Menu", "start:menu")]), ZALO)]
    assert all(1 <= len(p) <= 2000 for p in parts)
    assert _words(" ".join(parts))[:2000] == _words(text)
    assert parts[-1].endswith("(Gõ số thứ tự để chọn.)")  # the options stay with the last part
    assert "**" not in "".join(parts)


def test_paragraphs_are_preferred_and_blank_text_gives_no_part() -> None:
    paragraphs = [f"Đoạn {i}: " + "vốn góp " * 100 for i in range(6)]
    parts = split_text("\n\n".join(paragraphs), 2000)
    assert all(any(part.startswith(f"Đoạn {i}:") for i in range(6)) for part in parts)
    assert split_text("  \n ", 100) == []
    assert [r.text for r in render_for(Reply(""), TELEGRAM)] == [""]


@pytest.mark.parametrize("limit", [10, 64, 4096])
def test_a_word_longer_than_the_limit_is_cut_hard(limit: int) -> None:
    parts = split_text("x" * (limit * 2 + 3), limit)
    assert [len(p) for p in parts] == [limit, limit, 3]
