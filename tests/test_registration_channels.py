"""One full HTX registration over both real channel adapters, from "/dangky" to the dossier file.

The same scripted run (STEPS) is played twice through the real App on a temporary SQLite database:

* Telegram: the real python-telegram-bot Application (`run_telegram`, polling) against the fake Bot API.
  Every choice is a press of the inline button offered in the previous step's messages; the .docx
  arrives as a sendDocument upload.
* Zalo: the real ZaloChannel (polling) against the fake Zalo Bot API. There are no buttons: every
  choice is the number shown on a "N. label" line of the previous step's messages; the .docx arrives
  as a signed link, fetched through the project's web app (`build_web_app`).

No sleeps: a Telegram step ends when PTB has finished processing its update (an observer handler in a
later handler group), a Zalo step when the fake saw the update consumed and the channel drained.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer
from docx import Document
from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

from bot.app import App
from bot.channels.telegram import APOLOGY as TG_APOLOGY
from bot.channels.telegram import run_telegram
from bot.channels.web import build_web_app
from bot.channels.zalo import APOLOGY as ZALO_APOLOGY
from bot.channels.zalo import ZaloChannel
from bot.channels.zalo_api import ZaloApi
from bot.core.render import NUMBERED_HINT
from tests.conftest import make_config
from tests.fakes.telegram_server import ApiCall, FakeTelegramServer
from tests.fakes.zalo_server import TOKEN, FakeZaloServer

STEP_TIMEOUT = 10.0  # one message and all of its answers
RUN_TIMEOUT = 120.0  # the whole registration

COOP_NAME = "Hợp tác xã Tân Lập"
CHARTER_CAPITAL = "100.000.000 đồng"
MEMBERS = [  # (quick line as typed, name as it must appear in the dossier)
    ("Nguyễn Văn An, 15/03/1980, 001080012345, thôn 3 xã Tân Lập, 20 triệu", "Nguyễn Văn An"),
    ("Trần Thị Bình, 02/09/1985, 045185001234, thôn 4, 20tr", "Trần Thị Bình"),
    ("Lê Văn Cường, 01/01/1990, 045185001235, thôn 4, 20.000.000", "Lê Văn Cường"),
    ("Phạm Thị Dung, 05/05/1975, 001175000111, xóm Đông, 20 triệu đồng", "Phạm Thị Dung"),
    ("Hoàng Văn Em, 5/6/1975, 001175000112, xóm Đông, 20tr", "Hoàng Văn Em"),
]

# The newcomer's run: ("type", text) is typed, ("choose", label) picks the option with exactly that label
# among those offered by the previous step (a button press on Telegram, its number on Zalo).
STEPS: list[tuple[str, str]] = [
    ("type", "/dangky"),
    ("choose", "🏢 Lập hợp tác xã (HTX)"),
    ("choose", "✅ Đồng ý"),
    ("type", "Tân Lập"),  # name: "Hợp tác xã" is added
    ("type", "/boqua"),  # foreign name
    ("type", "/boqua"),  # short name
    ("type", "Quảng Trị"),
    ("type", "xã Tân Lập"),
    ("type", "Thôn 3"),
    ("type", "0912345678"),
    ("type", "/boqua"),  # email
    ("choose", "Trồng lúa"),
    ("choose", "Chăn nuôi gia cầm"),
    ("choose", "✅ Xong"),
    *[("type", line) for line, _ in MEMBERS],
    ("choose", "✅ Xong danh sách"),
    ("type", "100 triệu"),  # the charter capital: the members' total
    ("choose", "Đầy đủ (có HĐQT)"),
    ("choose", "Nguyễn Văn An"),  # chair of the board
    ("choose", "Trần Thị Bình"),  # other board members, ticked
    ("choose", "Lê Văn Cường"),
    ("choose", "✅ Xong"),
    ("choose", "Nguyễn Văn An"),  # director
    ("choose", "Phạm Thị Dung"),  # head of the supervisory board
    ("type", "/boqua"),  # no other supervisor
    ("choose", "Nguyễn Văn An"),  # legal representative
    ("choose", "Nguyễn Văn An"),  # chair of the founding conference
    ("choose", "Hoàng Văn Em"),  # its secretary
    ("choose", "✅ Xác nhận"),
]
DOSSIER_NAME = "ho-so-hop-tac-xa-tan-lap.docx"
REFUSED = "❗"  # the wizard marks every refused answer with it


def only(options: list[tuple[str, str]], label: str) -> str:
    """The value of the one offered option labelled exactly `label` (fails with what was offered)."""
    found = [value for text, value in options if text == label]
    assert len(found) == 1, f"{label!r} offered {len(found)} times; offered: {[t for t, _ in options]}"
    return found[0]


def docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def assert_dossier(data: bytes) -> None:
    content = docx_text(data)
    expected = ["GIẤY ĐỀ NGHỊ ĐĂNG KÝ HỢP TÁC XÃ", COOP_NAME.upper(), f"ĐIỀU LỆ {COOP_NAME.upper()}",
                CHARTER_CAPITAL, "Trồng lúa", "Chăn nuôi gia cầm", "Trưởng Ban kiểm soát: Phạm Thị Dung",
                *[name for _, name in MEMBERS]]
    missing = [e for e in expected if e not in content]
    assert not missing, f"missing from the dossier: {missing}"


# ---- Telegram: buttons ---------------------------------------------------------------------------

USER = 4242


@dataclass
class TelegramRun:
    fake: FakeTelegramServer
    app: App
    processed: asyncio.Queue[int]  # update_ids PTB has finished with, replies delivered

    async def step(self, update: dict[str, Any]) -> list[ApiCall]:
        """Wait until PTB has handled `update` completely; the Bot API calls made meanwhile."""
        start = len(self.fake.calls)
        done = await asyncio.wait_for(self.processed.get(), STEP_TIMEOUT)
        assert done == update["update_id"]
        return self.fake.calls[start:]


@pytest.fixture
async def telegram(tmp_path: Path) -> AsyncIterator[TelegramRun]:
    async with FakeTelegramServer() as fake:
        config = make_config(tmp_path, HTXBOT_TELEGRAM__TOKEN=fake.token, HTXBOT_TELEGRAM__BASE_URL=fake.base_url,
                             HTXBOT_TELEGRAM__BASE_FILE_URL=fake.base_file_url)
        app = await App.open(config)
        task = asyncio.create_task(run_telegram(app, config))
        try:
            await fake.wait_for_calls("getUpdates")  # started: commands set, polling
            processed: asyncio.Queue[int] = asyncio.Queue()

            async def mark(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
                processed.put_nowait(update.update_id)

            # Handler groups run one after the other for each update: group 1 sees an update only once the
            # adapter's own handler (group 0) has answered it, every reply sent.
            app.channels["telegram"].application.add_handler(TypeHandler(Update, mark), group=1)  # type: ignore[attr-defined]
            yield TelegramRun(fake, app, processed)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await app.close()


def keyboard_of(calls: list[ApiCall]) -> list[tuple[str, str]]:
    """(text, callback_data) of every inline button in these calls, in order."""
    return [(button["text"], button["callback_data"])
            for call in calls if isinstance(call.params.get("reply_markup"), dict)
            for row in call.params["reply_markup"].get("inline_keyboard", []) for button in row]


async def test_telegram_full_htx_registration_by_pressing_buttons(telegram: TelegramRun) -> None:
    fake = telegram.fake
    previous: list[ApiCall] = []
    presses = 0
    seen_callback_data: list[str] = []

    async def run() -> list[ApiCall]:
        nonlocal previous, presses
        for kind, value in STEPS:
            offered = keyboard_of(previous)
            if kind == "choose":
                update = fake.enqueue_callback(USER, only(offered, value))
            elif value.startswith("/"):
                update = fake.enqueue_command(USER, value)
            else:
                update = fake.enqueue_text(USER, value)
            calls = await telegram.step(update)
            sent = [c for c in calls if c.method in ("sendMessage", "sendDocument")]
            assert sent, f"no answer to {kind} {value!r}"
            assert all(c.status == 200 for c in sent)
            answered = [c.params["callback_query_id"] for c in calls if c.method == "answerCallbackQuery"]
            if kind == "choose":
                presses += 1
                assert answered == [update["callback_query"]["id"]], f"press {value!r} not answered"
            else:
                assert answered == []
            seen_callback_data.extend(data for _, data in keyboard_of(calls))
            previous = calls
        return previous

    loop = asyncio.get_running_loop()
    started = loop.time()
    last = await asyncio.wait_for(run(), RUN_TIMEOUT)
    elapsed = loop.time() - started

    texts = fake.sent_texts(USER)
    assert TG_APOLOGY not in texts
    assert not [t for t in texts if REFUSED in t], "a scripted answer was refused"
    done = [c for c in last if c.method == "sendMessage"]
    assert "🎉 Xong!" in done[-1].params["text"] and "UBND xã Tân Lập, tỉnh Quảng Trị" in done[-1].params["text"]
    [document] = [c for c in last if c.method == "sendDocument"]
    filename, data = document.files["document"]
    assert filename == DOSSIER_NAME and str(document.params["chat_id"]) == str(USER)
    assert_dossier(data)
    assert fake.calls_to("sendDocument") == [document]  # the only file of the run

    assert presses == sum(kind == "choose" for kind, _ in STEPS)
    assert len(fake.calls_to("answerCallbackQuery")) == presses
    assert seen_callback_data and all(1 <= len(d.encode("utf-8")) <= 64 for d in seen_callback_data), [
        d for d in seen_callback_data if len(d.encode("utf-8")) > 64]
    assert elapsed < RUN_TIMEOUT


# ---- Zalo: numbered options and a download link ----------------------------------------------------

CHAT = "chat-1"
OPTION = re.compile(r"^(\d+)\. (.+)$")
LINK = re.compile(r"📎 Tải tệp «(?P<name>[^»]+)»: (?P<url>\S+)")


@dataclass
class ZaloRun:
    server: FakeZaloServer
    app: App
    channel: ZaloChannel

    async def say(self, text: str) -> list[str]:
        """One user message through getUpdates; the texts the bot sent back once it is fully handled."""
        before = len(self.server.sent_texts(CHAT))
        self.server.push_text(text, chat_id=CHAT)
        await self.server.wait_until_consumed(timeout=STEP_TIMEOUT)
        await asyncio.wait_for(self.channel.drain(), STEP_TIMEOUT)
        return self.server.sent_texts(CHAT)[before:]


@pytest.fixture
async def zalo(tmp_path: Path) -> AsyncIterator[ZaloRun]:
    server = FakeZaloServer(idle_wait=0.05)
    await server.start()
    app = await App.open(make_config(tmp_path, HTXBOT_ZALO__TOKEN=TOKEN, HTXBOT_ZALO__BASE_URL=server.base_url))
    api = ZaloApi(TOKEN, server.base_url)
    channel = ZaloChannel(api, app.handle, poll_floor=0, backoff_base=0.01, typing=False)
    app.register_channel(channel)
    try:
        await channel.start()
        yield ZaloRun(server, app, channel)
    finally:
        await channel.stop()
        await api.close()
        await app.close()
        await server.close()


def numbered_options(texts: list[str]) -> list[tuple[str, str]]:
    """(label, number) of the "N. label" lines just above the last "(Gõ số thứ tự để chọn.)" hint."""
    paragraphs = "\n\n".join(texts).split("\n\n")
    hints = [i for i, p in enumerate(paragraphs) if p.strip() == NUMBERED_HINT]
    if not hints or hints[-1] == 0:
        return []
    lines = paragraphs[hints[-1] - 1].splitlines()
    matches = [OPTION.match(line) for line in lines]
    assert all(matches), f"not a list of numbered options: {lines}"
    options = [(m.group(2), m.group(1)) for m in matches if m]
    assert [int(n) for _, n in options] == list(range(1, len(options) + 1))
    return options


async def test_zalo_full_htx_registration_by_typing_option_numbers(zalo: ZaloRun) -> None:
    previous: list[str] = []

    async def run() -> list[str]:
        nonlocal previous
        for kind, value in STEPS:
            typed = only(numbered_options(previous), value) if kind == "choose" else value
            texts = await zalo.say(typed)
            assert texts, f"no answer to {kind} {value!r} (typed {typed!r})"
            previous = texts
        return previous

    loop = asyncio.get_running_loop()
    started = loop.time()
    last = await asyncio.wait_for(run(), RUN_TIMEOUT)
    assert loop.time() - started < RUN_TIMEOUT

    sends = [c for c in zalo.server.calls if c.method == "sendMessage"]
    assert sends and all(c.status == 200 for c in sends), [c.status for c in sends]  # the fake refuses > 2,000
    assert all(len(c.body["text"]) <= 2000 for c in sends)
    texts = zalo.server.sent_texts(CHAT)
    assert ZALO_APOLOGY not in texts
    assert not [t for t in texts if REFUSED in t], "a scripted answer was refused"
    assert zalo.server.count("sendPhoto") == 0

    done = "\n\n".join(last)
    assert "🎉 Xong!" in done and "UBND xã Tân Lập, tỉnh Quảng Trị" in done
    [link] = [m for t in texts for m in LINK.finditer(t)]  # the only file of the run, and only as a link
    assert link["name"] == DOSSIER_NAME
    url = urlsplit(link["url"])
    assert url.path.startswith("/files/")
    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert set(query) == {"exp", "sig"}

    async with TestClient(TestServer(build_web_app(zalo.app))) as client:
        response = await client.get(f"{url.path}?{url.query}")
        assert response.status == 200
        assert DOSSIER_NAME in response.headers["Content-Disposition"]
        assert_dossier(await response.read())
        sig = query["sig"]
        tampered = {**query, "sig": sig[:-1] + ("0" if sig[-1] != "0" else "1")}
        assert (await client.get(f"{url.path}?{urlencode(tampered)}")).status == 403
        assert (await client.get(f"{url.path}?{urlencode({**query, 'sig': ''})}")).status == 403
        later = {**query, "exp": str(int(query["exp"]) + 3600)}  # a prolonged expiry breaks the signature
        assert (await client.get(f"{url.path}?{urlencode(later)}")).status == 403
