"""A survey launched by staff, answered by several members (one with stop and resume), answered
only once, with results, chart and exports checked for content."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.app import App
from bot.broadcast.sender import BroadcastSender, SenderOptions
from bot.cli import main as cli_main
from tests.broadcast_support import run_until_done
from tests.staff_support import ADMIN, Chat, ScriptedChannel, make_config

SURVEY = "kho_khan_htx_2025"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    app = await App.open(make_config(tmp_path))
    yield app
    await app.close()


async def answer(chat: Chat, user: str, unit: str, members: str, picks: list[int], credit: str, land: str,
                 training: int, support: int, proposal: str) -> str:
    """Answer every question the way a member would: buttons for choices, typed numbers and text."""
    await chat.press(user, f"survey:w:c:0:{unit}")
    await chat.say(user, members)
    for n in picks:
        await chat.press(user, f"survey:w:t:2:{n}")
    await chat.press(user, "survey:w:d:2")
    await chat.say(user, credit)
    await chat.say(user, land)
    await chat.press(user, f"survey:w:c:5:{training}")
    await chat.press(user, f"survey:w:c:6:{support}")
    replies = await chat.say(user, proposal) if proposal else await chat.say(user, "/boqua")
    return chat.text(replies)


async def test_launch_answer_resume_once_results_and_exports(app: App, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    channel = ScriptedChannel()
    app.register_channel(channel)
    chat = Chat(app)
    for user in ("an", "binh", "cuc"):
        await chat.say(user, "xin chào")
    replies = await chat.say(ADMIN, f"/guikhaosat {SURVEY}")
    assert "announce:aud:done" in chat.payloads(replies)
    replies = await chat.press(ADMIN, "announce:aud:done")
    assert "lời mời khảo sát" in chat.text(replies) and "đúng 4 người" in chat.text(replies)
    await chat.press_offered(ADMIN, "announce:confirm")
    await run_until_done(BroadcastSender(app, "w", SenderOptions(backoff_base=0)), 1)
    invitation = next(r for _, c, r in channel.delivered if c == "an")
    assert invitation.buttons[0].payload == f"survey:start:{SURVEY}"

    first = await chat.press("an", invitation.buttons[0].payload)
    assert "Đơn vị của bạn là" in chat.text(first)
    summary = await answer(chat, "an", "0", "25", [0, 2], "2", "1", 1, 0, "Đề nghị giảm thủ tục vay vốn.")
    assert "Kiến nghị" in summary  # the wizard's summary before confirming
    assert "Cảm ơn bạn" in chat.text(await chat.press("an", "survey:w:ok"))

    # binh stops midway, asks something else, and resumes where he was
    await chat.press("binh", f"survey:start:{SURVEY}")
    await chat.press("binh", "survey:w:c:0:1")
    await chat.say("binh", "12")
    await chat.say("binh", "/menu")
    resumed = await chat.say("binh", "/khaosat")
    assert "trả lời tiếp" in chat.text(resumed) and "khó khăn lớn nhất" in chat.text(resumed)
    await chat.press("binh", "survey:w:t:2:0")
    await chat.press("binh", "survey:w:d:2")
    for typed in ("4", "3"):
        await chat.say("binh", typed)
    await chat.press("binh", "survey:w:c:5:2")
    await chat.press("binh", "survey:w:c:6:2")
    await chat.say("binh", "/boqua")
    await chat.press("binh", "survey:w:ok")
    assert "đã trả lời khảo sát này rồi" in chat.text(await chat.say("binh", f"/khaosat {SURVEY}"))

    await chat.press("cuc", f"survey:start:{SURVEY}")  # started, never finished

    assert chat.text(await chat.say("an", f"/ketqua {SURVEY}")).startswith("Xin lỗi")
    results = await chat.say(ADMIN, f"/ketqua {SURVEY}")
    text = results[0].text
    assert "Đã trả lời xong: 2 người; đang trả lời dở: 1" in text
    assert "Tiếp cận vốn vay, tín dụng: 2 (100%)" in text and "Đất đai, mặt bằng sản xuất: 0 (0%)" in text
    assert "Trung bình: 3.00 (2 câu trả lời)" in text  # credit rating (2 + 4) / 2
    assert "Trung bình: 18.50" in text  # members (25 + 12) / 2
    chart, csv_reply, xlsx_reply = (r.attachment for r in results[1:])
    assert chart and chart.kind == "image" and chart.data.startswith(b"\x89PNG")
    assert csv_reply and xlsx_reply
    rows = list(csv.reader(io.StringIO(csv_reply.data.decode("utf-8-sig"))))
    assert rows[0][4:6] == ["Loại hình", "Số thành viên"] and len(rows) == 3
    assert rows[1][4:7] == ["Hợp tác xã", "25", "Tiếp cận vốn vay, tín dụng; Thị trường, đầu ra sản phẩm"]
    assert rows[1][-1] == "Đề nghị giảm thủ tục vay vốn." and rows[2][-1] == ""
    book = load_workbook(io.BytesIO(xlsx_reply.data))
    assert book.sheetnames == ["Trả lời", "Tổng hợp", "Ý kiến", "Góp ý theo chủ đề"]
    sheet = book["Trả lời"]
    assert sheet.max_row == 3 and sheet.cell(2, 6).value == 25 and sheet.cell(3, 5).value == "Tổ hợp tác"
    opinions = [row for row in book["Ý kiến"].iter_rows(min_row=2, values_only=True)]
    assert opinions == [("Kiến nghị", None, "Đề nghị giảm thủ tục vay vốn.")]  # an has no province

    out = tmp_path / "export.xlsx"
    monkeypatch.setenv("HTXBOT_DATABASE__URL", app.config.database.url)
    monkeypatch.setenv("HTXBOT_KNOWLEDGE__PATH", app.config.knowledge.path)
    with pytest.raises(SystemExit) as exited:
        await asyncio.to_thread(cli_main, ["surveys", "export", SURVEY, "--format", "xlsx", "--output", str(out)])
    assert exited.value.code == 0
    assert load_workbook(out)["Trả lời"].max_row == 3
