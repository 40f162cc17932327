"""The staff web console over HTTP: one-time sign-in links, sessions, CSRF, the staff check on every
request, the review actions and audited downloads of personal data."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import App
from bot.channels.web import build_web_app
from bot.core.types import Incoming, Reply
from bot.storage.repo import admin_sessions, audit, registrations
from handlers.staff.admin_link import LOGIN_PATH
from tests.conftest import make_config

STAFF = "boss"
UNKNOWN = "hợp tác xã có được miễn thuế thu nhập doanh nghiệp không"


async def say(app: App, user: str, text: str) -> list[Reply]:
    return await app.handle(Incoming("test", user, user, "Lan", text=text))


def token_from(replies: list[Reply]) -> str:
    match = re.search(re.escape(LOGIN_PATH) + r"\?t=([\w-]+)", "\n".join(r.text for r in replies))
    assert match, "no sign-in link in the reply"
    return match.group(1)


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    application = await App.open(make_config(tmp_path, HTXBOT_STAFF__ADMINS=f"test:{STAFF}"))
    yield application
    await application.close()


@pytest.fixture
async def client(app: App) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(build_web_app(app))) as c:
        yield c


async def sign_in(client: TestClient, app: App) -> str:
    """Sign in as staff through /quantri; returns the CSRF token of the session."""
    token = token_from(await say(app, STAFF, "/quantri"))
    form = await client.get(LOGIN_PATH, params={"t": token})
    assert form.status == 200
    signed = await client.post(LOGIN_PATH, data={"t": token}, allow_redirects=False)
    assert signed.status == 303
    cookie = signed.cookies["htx_admin"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/admin"
    page = await client.get("/admin")
    return re.search(r'name="csrf" value="([^"]+)"', await page.text()).group(1)


async def test_sign_in_once_then_the_link_is_spent(client: TestClient, app: App) -> None:
    token = token_from(await say(app, STAFF, "/quantri"))
    assert (await client.get(LOGIN_PATH, params={"t": token})).status == 200  # a link preview spends nothing
    assert (await client.post(LOGIN_PATH, data={"t": token}, allow_redirects=False)).status == 303
    assert "Câu hỏi cần xem lại" in await (await client.get("/admin")).text()
    client.session.cookie_jar.clear()
    assert (await client.post(LOGIN_PATH, data={"t": token})).status == 403  # replayed
    assert (await client.get(LOGIN_PATH, params={"t": token})).status == 403
    assert (await client.get("/admin")).status == 401


async def test_members_get_no_link_and_a_members_link_opens_nothing(client: TestClient, app: App) -> None:
    assert LOGIN_PATH not in "\n".join(r.text for r in await say(app, "m1", "/quantri"))
    async with app.db.unit() as s:  # a link made for a member (e.g. staff rights revoked since)
        token = await admin_sessions.create_login_link(s, "test", "m1", timedelta(minutes=5))
    assert (await client.post(LOGIN_PATH, data={"t": token})).status == 403
    assert (await client.get("/admin")).status == 401
    async with app.db.unit() as s:
        refused = await audit.recent_actions(s, action="admin_login_refused")
    assert [r.user_external_id for r in refused] == ["m1"]


async def test_forms_without_the_csrf_token_are_refused(client: TestClient, app: App) -> None:
    await say(app, "m1", UNKNOWN)
    csrf = await sign_in(client, app)
    page = await (await client.get("/admin")).text()
    key = re.search(r'/admin/cau-hoi/(\w+)', page).group(1)
    data = {"entry_id": "ho-so-dang-ky-htx", "question": UNKNOWN}
    assert (await client.post(f"/admin/cau-hoi/{key}/gan", data=data)).status == 403
    assert (await client.post(f"/admin/cau-hoi/{key}/gan", data={**data, "csrf": "x" + csrf})).status == 403
    assert "Hồ sơ gồm" not in "\n".join(r.text for r in await say(app, "m2", UNKNOWN))
    done = await client.post(f"/admin/cau-hoi/{key}/gan", data={**data, "csrf": csrf})
    assert done.status == 200 and "Đã thêm" in await done.text()
    assert "Hồ sơ gồm" in "\n".join(r.text for r in await say(app, "m3", UNKNOWN))


async def test_revoking_staff_ends_the_session_at_once(client: TestClient, app: App) -> None:
    await sign_in(client, app)
    app.config.staff.admins = []
    assert (await client.get("/admin")).status == 401
    assert (await client.get("/admin/nhat-ky")).status == 401


async def test_try_a_question_shows_candidates_and_scores(client: TestClient, app: App) -> None:
    await sign_in(client, app)
    page = await (await client.get("/admin/kien-thuc", params={"hoi": "lap htx can bao nhieu nguoi"})).text()
    assert "so-thanh-vien-toi-thieu-htx" in page
    assert re.search(r'class="num">0\.\d{3}<', page)


async def test_a_draft_entry_with_problems_is_shown_again_with_them(client: TestClient, app: App) -> None:
    await say(app, "m1", UNKNOWN)
    csrf = await sign_in(client, app)
    key = re.search(r'/admin/cau-hoi/(\w+)', await (await client.get("/admin")).text()).group(1)
    form = {"csrf": csrf, "id": "mien-thue-htx", "topic": "chinh-sach", "law": "2023", "questions": UNKNOWN,
            "answer": "Được ưu đãi thuế.", "doc": "", "reviewed": "2026-12-01"}
    page = await client.post(f"/admin/cau-hoi/{key}/muc-moi", data=form)
    text = await page.text()
    assert page.status == 422 and "needs at least 3 question phrasings" in text and "missing source" in text


async def test_an_announcement_sends_exactly_what_was_previewed_and_only_once(client: TestClient, app: App) -> None:
    for user in ("m1", "m2"):
        await say(app, user, "xin chào")
    csrf = await sign_in(client, app)
    draft = {"csrf": csrf, "text": "Họp HTX lúc 8 giờ.", "province": "", "sector": "", "role": "", "send_at": ""}
    preview = await (await client.post("/admin/thong-bao/xem-truoc", data=draft)).text()
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', preview.split("gui")[1]))
    assert re.search(r'id="recipients">3<', preview)  # two members and the staff member
    tampered = await client.post("/admin/thong-bao/gui", data={**hidden, "text": "Nội dung khác"})
    assert tampered.status == 403
    for _ in range(2):  # a double click
        assert (await client.post("/admin/thong-bao/gui", data=hidden)).status == 200
    async with app.db.unit() as s:
        created = await audit.recent_actions(s, action="create_broadcast")
    assert len(created) == 1 and created[0].detail["recipients"] == 3


async def test_staff_download_a_registrations_dossier_made_by_the_registration_flow(
        client: TestClient, app: App) -> None:
    async with app.db.unit() as s:
        reg = await registrations.start_draft(s, "test", "lan", "htx")
        assert await registrations.complete(s, reg, "test", "lan", {"name": "Hợp tác xã Nông nghiệp Tân Phú"})
    await sign_in(client, app)
    page = await client.get(f"/admin/dang-ky/{reg}/ho-so.docx")
    assert page.status == 200 and (await page.read())[:2] == b"PK"  # a .docx is a zip
    assert (await client.get(f"/admin/dang-ky/{reg + 1}/ho-so.docx")).status == 404
    async with app.db.unit() as s:
        assert [a.detail["registration"] for a in await audit.recent_actions(s, action="download_dossier")] == [reg]
