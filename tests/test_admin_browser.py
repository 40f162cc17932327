"""The staff console in a real browser (Debian's Chromium driven by Playwright): sign in through the
one-time link from /quantri, teach the bot an unanswered question and see the console bot answer it at
once, create an announcement (preview, confirm) and watch its progress, download a survey CSV;
members' links, replayed links and forms without their CSRF token are refused.

Screenshots of the main pages go to a temporary folder, or to docs/ with HTXBOT_SCREENSHOTS=docs.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.broadcast.sender import SenderOptions, run_broadcast_worker
from bot.channels.console import run_console
from bot.channels.web import build_web_app, serve
from bot.core.types import ChannelCapabilities, Incoming, Reply
from bot.storage.repo import admin_sessions, surveys, users
from handlers.staff.admin_link import LOGIN_PATH
from tests.conftest import ROOT, RecordingChannel, free_port, make_config

CHROMIUM = os.environ.get("HTXBOT_CHROMIUM", "/usr/bin/chromium")
STAFF = "boss"
UNTAUGHT = "rủ hàng xóm làm hợp tác xã thì cần mấy nhà"  # not answered by the shipped knowledge base
TARGET = "so-thanh-vien-toi-thieu-htx"
PHONE = (412, 915)

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright missing: pip install -e .[dev]")
if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (done by .ci/run)",
                allow_module_level=True)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    return ROOT / "docs" if os.environ.get("HTXBOT_SCREENSHOTS") == "docs" else tmp_path


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[tuple[App, str]]:
    """The real App on the shipped knowledge base, served on 127.0.0.1 like `htxbot run` does."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = make_config(tmp_path, kb=ROOT / "knowledge", HTXBOT_WEB__PUBLIC_URL=url,
                         HTXBOT_STAFF__ADMINS=f"test:{STAFF}")
    app = await App.open(config)
    runner = await serve(build_web_app(app), "127.0.0.1", port)
    try:
        yield app, url
    finally:
        await runner.cleanup()
        await app.close()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            yield launched
        finally:
            await launched.close()


async def new_page(browser: Any) -> Any:
    context = await browser.new_context(viewport={"width": PHONE[0], "height": PHONE[1]}, locale="vi-VN",
                                        accept_downloads=True)
    page = await context.new_page()
    page.set_default_timeout(15_000)
    return page


async def ask_console(app: App, question: str, user: str = "console-member") -> str:
    """One question to the console bot (the same REPL as `htxbot chat`); returns what it printed."""
    out = io.StringIO()
    await run_console(app, io.StringIO(question + "\n"), out, user=user)
    return out.getvalue()


async def sign_in_link(app: App, user: str = STAFF) -> str:
    replies: list[Reply] = await app.handle(Incoming("test", user, user, "Cán bộ Hà", text="/quantri"))
    match = re.search(r"https?://\S+" + re.escape(LOGIN_PATH) + r"\?t=[\w-]+", replies[0].text)
    assert match, replies[0].text
    return match.group(0)


async def sign_in(page: Any, app: App) -> None:
    await page.goto(await sign_in_link(app))
    await page.click("#signin")
    await page.wait_for_url(re.compile(r"/admin$"))


async def test_staff_teach_the_bot_from_the_browser_and_the_console_bot_answers_at_once(
        site: tuple[App, str], browser: Any, shots: Path) -> None:
    app, url = site
    before = await ask_console(app, UNTAUGHT)  # not answered (at most the closest topics are offered)
    assert "05 thành viên" not in before and "5 thành viên" not in before
    await app.handle(Incoming("test", "m2", "m2", "Lan", text="số tôi 0912345678, hỏi thuế môn bài htx nộp khi nào?"))
    page = await new_page(browser)
    await sign_in(page, app)
    await page.get_by_text(UNTAUGHT).wait_for()
    assert "0912345678" not in await page.content()
    await page.screenshot(path=str(shots / "admin-queue.png"), full_page=True)
    await page.get_by_text(UNTAUGHT).click()
    await page.fill("input[name=tim]", "thành viên tối thiểu")
    await page.press("input[name=tim]", "Enter")
    form = page.locator("form.entry-pick", has=page.locator(f"input[name=entry_id][value='{TARGET}']")).first
    await form.wait_for()
    await page.screenshot(path=str(shots / "admin-question.png"), full_page=True)
    await form.get_by_role("button").click()
    await page.get_by_text("Đã thêm").wait_for()
    answer = await ask_console(app, UNTAUGHT, user="another-member")
    assert "05 thành viên" in answer or "5 thành viên" in answer
    await page.goto(f"{url}/admin/kien-thuc?hoi=" + UNTAUGHT)
    await page.get_by_text("Bot trả lời bằng mục").wait_for()
    await page.screenshot(path=str(shots / "admin-try-question.png"), full_page=False)


async def test_create_an_announcement_watch_it_go_out_and_download_a_survey_csv(
        site: tuple[App, str], browser: Any, shots: Path, tmp_path: Path) -> None:
    app, url = site
    channel = RecordingChannel("test", ChannelCapabilities())
    app.register_channel(channel)
    async with app.db.unit() as s:
        for n, province in enumerate(["Hưng Yên", "Hưng Yên", "Nghệ An"]):
            member = await users.touch_user(s, "test", f"m{n}", f"m{n}", f"Thành viên {n}")
            await users.update_profile(s, member.id, province=province, role="manager")
            answers = {"unit_type": "htx", "members": 12 + n, "difficulties": ["credit", "market"],
                       "credit_access": 2 + n, "land_access": 3, "training_need": "accounting",
                       "support_received": "no", "proposal": "Cần vốn lưu động lãi suất thấp"}
            await surveys.complete_response(s, "kho_khan_htx_2025", await users.get_user(s, "test", f"m{n}"), answers)
    page = await new_page(browser)
    await sign_in(page, app)
    await page.goto(f"{url}/admin/thong-bao")
    await page.click("#new-announcement")
    await page.fill("textarea[name=text]", "Mời các HTX dự hội nghị đối thoại chính sách ngày 15/12.")
    await page.select_option("select[name=role]", "manager")
    await page.click("#preview")
    assert await page.inner_text("#recipients") == "3"
    await page.screenshot(path=str(shots / "admin-announce-preview.png"), full_page=True)
    await page.click("#confirm")
    await page.get_by_text("Đã xếp lịch gửi").wait_for()
    pending = page.locator("dd[data-field=pending]").first
    assert int(await pending.inner_text()) == 3
    stop = asyncio.Event()
    worker = asyncio.create_task(run_broadcast_worker(app, stop, "browser-test",
                                                      SenderOptions(poll_interval=0.05, exit_when_idle=True)))
    try:
        await page.wait_for_function(  # the page's script refreshes the numbers while sending
            "() => document.querySelector('dd[data-field=pending]').textContent.trim() === '0'", timeout=20_000)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 10)
    sent = int(await page.locator("dd[data-field=sent]").first.inner_text())
    assert sent == len(channel.sent) == 3
    await page.screenshot(path=str(shots / "admin-announcements.png"), full_page=True)
    await page.goto(f"{url}/admin/khao-sat/kho_khan_htx_2025")
    await page.screenshot(path=str(shots / "admin-survey.png"), full_page=True)
    async with page.expect_download() as info:
        await page.click("#download-csv")
    download = await info.value
    path = tmp_path / download.suggested_filename
    await download.save_as(str(path))
    text = path.read_text(encoding="utf-8-sig")
    assert path.suffix == ".csv" and "Hưng Yên" in text and "Cần vốn lưu động" in text


async def test_members_links_replayed_links_and_forms_without_csrf_are_refused(
        site: tuple[App, str], browser: Any) -> None:
    app, url = site
    await app.handle(Incoming("test", "m1", "m1", "Lan", text=UNTAUGHT))
    async with app.db.unit() as s:  # a link that was made for someone who is only a member
        token = await admin_sessions.create_login_link(s, "test", "m1", timedelta(minutes=5))
    page = await new_page(browser)
    await page.goto(f"{url}{LOGIN_PATH}?t={token}")
    await page.click("#signin")
    await page.get_by_text("không có quyền cán bộ").wait_for()
    assert (await page.goto(f"{url}/admin")).status == 401

    link = await sign_in_link(app)
    await page.goto(link)
    await page.click("#signin")
    await page.wait_for_url(re.compile(r"/admin$"))
    other = await new_page(browser)  # someone who got hold of the used link
    await other.goto(link)
    await other.get_by_text("đã được dùng").wait_for()

    await page.get_by_text(UNTAUGHT).click()
    skip = page.locator("form[action$='/bo-qua']")
    await skip.locator("input[name=csrf]").evaluate("input => input.remove()")
    await skip.get_by_role("button").click()
    await page.get_by_text("thiếu mã bảo vệ").wait_for()
    await page.goto(f"{url}/admin")
    await page.get_by_text(UNTAUGHT).wait_for()  # the question is still waiting: nothing was done
