"""The knowledge loop in the chat: members rate answers, staff see the queue and teach the bot, and
every process answers the taught question without a restart; `kb export` writes it into the YAML."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.admin import actions
from bot.admin.digest import digest_text, send_digest_if_due
from bot.app import App
from bot.config import Config
from bot.core.types import ChannelCapabilities, Incoming, Reply
from bot.knowledge.export import export_overlay
from bot.knowledge.loader import load_knowledge
from bot.knowledge.overlay import live_knowledge
from bot.privacy import PHONE_MASK
from bot.storage.repo import audit, review
from bot.storage.repo import knowledge as learned
from bot.storage.repo.digest import subscribe
from handlers.member.answer_rating import LOW_CONFIDENCE_HINT, THANKS_DOWN
from tests.conftest import FIXTURE_KB, RecordingChannel, make_config

STAFF = "boss"
UNKNOWN = "hợp tác xã có được miễn thuế thu nhập doanh nghiệp không"


async def open_app(tmp_path: Path, kb: Path = FIXTURE_KB) -> App:
    config = make_config(tmp_path, kb=kb, HTXBOT_STAFF__ADMINS=f"test:{STAFF},telegram:{STAFF}")
    return await App.open(config)


async def say(app: App, user: str, text: str = "", payload: str | None = None, channel: str = "test") -> list[Reply]:
    return await app.handle(Incoming(channel, user, user, "Lan", text=text, payload=payload))


def payloads(replies: list[Reply]) -> list[str]:
    return [b.payload for r in replies for b in r.buttons]


def text(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


async def queue(app: App) -> list[review.QueueItem]:
    async with app.db.unit() as s:
        return await actions.queue(s, app.services)


@pytest.fixture
async def app(tmp_path: Path):
    application = await open_app(tmp_path)
    yield application
    await application.close()


async def test_telegram_answers_carry_thumbs_and_a_thumbs_down_reaches_the_queue(app: App) -> None:
    replies = await say(app, "m1", "lap htx can bao nhieu nguoi", channel="telegram")
    rate = [p for p in payloads(replies) if p.startswith("rate:")]
    assert [p.split(":")[1] for p in rate] == ["up", "down"]
    assert text(await say(app, "m1", payload=rate[1], channel="telegram")) == THANKS_DOWN
    items = await queue(app)
    assert [(i.example, dict(i.reasons)) for i in items] == [("lap htx can bao nhieu nguoi", {"down": 1})]
    assert items[0].entry_hint == "so-thanh-vien-toi-thieu-htx"


async def test_someone_elses_rating_button_changes_nothing(app: App) -> None:
    replies = await say(app, "m1", "lap htx can bao nhieu nguoi", channel="telegram")
    down = next(p for p in payloads(replies) if p.startswith("rate:down"))
    assert text(await say(app, "m2", payload=down, channel="telegram")) != THANKS_DOWN
    assert await queue(app) == []


async def test_console_answers_are_not_cluttered_and_a_typed_sai_roi_counts_as_thumbs_down(app: App) -> None:
    replies = await say(app, "m1", "lap htx can bao nhieu nguoi")
    assert not [p for p in payloads(replies) if p.startswith("rate:")]
    assert LOW_CONFIDENCE_HINT not in text(replies)  # a confident answer gets no hint
    assert text(await say(app, "m1", "Sai rồi!")) == THANKS_DOWN
    assert dict((await queue(app))[0].reasons) == {"down": 1}


async def test_sai_roi_without_an_answer_before_is_just_a_question(app: App) -> None:
    assert text(await say(app, "m1", "sai rồi")) != THANKS_DOWN


async def test_queue_groups_by_normalised_text_most_frequent_first_and_redacts_phones(app: App) -> None:
    for user in ("a", "b", "c"):
        await say(app, user, UNKNOWN)
    await say(app, "d", "Hop tac xa co duoc mien thue thu nhap doanh nghiep khong?")
    await say(app, "e", "số tôi 0912345678 hỏi về bảo hiểm xã hội cho xã viên")
    items = await queue(app)
    assert [i.count for i in items] == [4, 1]
    assert items[0].reasons["unanswered"] == 4
    assert PHONE_MASK in items[1].example and "0912345678" not in items[1].example


async def test_staff_attach_in_the_chat_makes_every_process_answer_at_once(tmp_path: Path, app: App) -> None:
    other = await App.open(app.config)  # a second worker process on the same database
    try:
        await say(app, "m1", UNKNOWN)
        await say(other, "m9", "xin chào")  # the other process has already loaded its knowledge
        listing = await say(app, STAFF, "/cauhoimoi")
        assert "1 câu hỏi chờ" in text(listing)
        opened = await say(app, STAFF, payload=next(p for p in payloads(listing) if p.startswith("review:open:")))
        assert UNKNOWN in text(opened)
        assert "Gõ vài từ" in text(await say(app, STAFF, payload="review:find"))
        found = await say(app, STAFF, "ho so dang ky")  # search entries by words
        attach = [p for p in payloads(found) if p.startswith("review:a:")]
        assert len(attach) == 1
        done = await say(app, STAFF, payload=attach[0])
        assert "✅" in text(done)
        assert "ho-so-dang-ky-htx" in text(done)
        answer = await say(app, "m2", UNKNOWN)
        assert "Hồ sơ gồm giấy đề nghị" in text(answer)
        live_knowledge(other.services).poll_seconds = 0  # the other process polls now instead of in 2 s
        assert "Hồ sơ gồm giấy đề nghị" in text(await say(other, "m3", UNKNOWN))
        assert await queue(app) == []
        async with app.db.unit() as s:
            logged = await audit.recent_actions(s, action="kb_attach")
        assert [(a.user_external_id, a.detail["entry"]) for a in logged] == [(STAFF, "ho-so-dang-ky-htx")]
    finally:
        await other.close()


async def test_out_of_scope_attaches_to_a_decline_entry(app: App) -> None:
    await say(app, "m1", "ngày mai trời có nắng to không")
    items = await queue(app)
    async with app.db.unit() as s:
        wrong = await actions.attach_question(s, app.services, actions.Staff("test", STAFF), items[0],
                                              "ho-so-dang-ky-htx", out_of_scope=True)
        right = await actions.attach_question(s, app.services, actions.Staff("test", STAFF), items[0],
                                              "ngoai-thoi-tiet", out_of_scope=True)
    assert (wrong.ok, right.ok) == (False, True)
    assert "không có thông tin thời tiết" in text(await say(app, "m2", "ngày mai trời có nắng to không"))


async def test_members_cannot_open_the_queue(app: App) -> None:
    await say(app, "m1", UNKNOWN)
    replies = await say(app, "m1", "/cauhoimoi")
    assert UNKNOWN not in text(replies) and not [p for p in payloads(replies) if p.startswith("review:")]
    assert not [p for p in payloads(await say(app, "m1", payload="review:page:0")) if p.startswith("review:open")]


DRAFT = {
    "id": "mien-thue-tndn-htx", "topic": "chinh-sach", "law": "2023", "kind": "answer",
    "questions": [UNKNOWN, "htx co duoc mien thue tndn", "thuế thu nhập doanh nghiệp của hợp tác xã"],
    "answer": "Hợp tác xã được ưu đãi thuế theo Điều 22 Luật Hợp tác xã 2023.",
    "sources": [{"doc": "Luật Hợp tác xã số 17/2023/QH15", "article": "Điều 22"}],
    "valid_from": "2024-07-01",
}


async def test_a_drafted_entry_is_checked_like_kb_check_then_live(app: App) -> None:
    await say(app, "m1", UNKNOWN)
    item = (await queue(app))[0]
    staff = actions.Staff("test", STAFF)
    async with app.db.unit() as s:
        no_source = await actions.draft_entry(s, app.services, staff, {**DRAFT, "sources": []}, item)
        clashing = [*DRAFT["questions"][:2], "lap htx can bao nhieu nguoi"]
        clash = await actions.draft_entry(s, app.services, staff, {**DRAFT, "questions": clashing})
        ok = await actions.draft_entry(s, app.services, staff, dict(DRAFT), item)
    assert not no_source.ok and "missing source" in no_source.message
    assert not clash.ok and "so-thanh-vien-toi-thieu-htx" in clash.message
    assert ok.ok
    assert "Điều 22" in text(await say(app, "m2", "htx co duoc mien thue tndn"))


async def test_kb_export_writes_learned_changes_into_yaml_that_passes_kb_check(tmp_path: Path) -> None:
    kb_copy = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb_copy)
    app = await open_app(tmp_path, kb=kb_copy)
    try:
        await say(app, "m1", UNKNOWN)
        await say(app, "m1", "ngày mai trời có nắng to không")
        items = {i.example: i for i in await queue(app)}
        staff = actions.Staff("test", STAFF)
        async with app.db.unit() as s:
            await actions.attach_question(s, app.services, staff, items[UNKNOWN], "ho-so-dang-ky-htx")
            await actions.attach_question(s, app.services, staff, items["ngày mai trời có nắng to không"],
                                          "ngoai-thoi-tiet", out_of_scope=True)
            assert (await actions.draft_entry(s, app.services, staff,
                                              {**DRAFT, "questions": DRAFT["questions"][1:] + ["htx nộp thuế gì"]})).ok
            phrasings = [(p.entry_id, p.question) for p in await learned.learned_phrasings(s)]
            entries = [e.data for e in await learned.learned_entries(s)]
    finally:
        await app.close()
    report = export_overlay(kb_copy, phrasings, entries)
    assert (report.phrasings, report.entries, report.problems) == (2, 1, [])
    kb, problems = load_knowledge(kb_copy)
    assert problems == []
    by_id = kb.by_id()
    assert UNKNOWN in by_id["ho-so-dang-ky-htx"].questions
    assert "ngày mai trời có nắng to không" in by_id["ngoai-thoi-tiet"].questions
    assert by_id["mien-thue-tndn-htx"].sources[0].article == "Điều 22"
    assert (kb_copy / "chinh_sach.yaml").exists()
    again = export_overlay(kb_copy, phrasings, entries)
    assert (again.phrasings, again.entries) == (0, 0)  # exporting twice changes nothing


async def test_daily_digest_goes_once_to_staff_who_opted_in(app: App) -> None:
    channel = RecordingChannel("test", ChannelCapabilities())
    app.register_channel(channel)
    await say(app, "m1", UNKNOWN)
    await say(app, "m2", UNKNOWN)
    await say(app, STAFF, "/cauhoimoi")
    assert "review:digest:on" in payloads(await say(app, STAFF, "/cauhoimoi"))
    await say(app, STAFF, payload="review:digest:on")
    async with app.db.unit() as s:  # a staff member on a channel this process does not run
        await subscribe(s, "zalo", "zstaff", "zchat")
    evening = datetime.now(UTC).replace(hour=11, minute=0)  # 18:00 in Vietnam
    assert await send_digest_if_due(app, evening) == 1
    assert await send_digest_if_due(app, evening) == 0  # once a day, whichever process
    [(ref, reply)] = channel.sent
    assert ref.chat_id == STAFF
    assert reply.text == digest_text(2) and "2 câu chưa trả lời" in reply.text
    zalo = RecordingChannel("zalo", ChannelCapabilities(buttons=False))
    app.register_channel(zalo)  # the process running Zalo sends its staff their digest
    assert await send_digest_if_due(app, evening) == 1
    assert [ref.chat_id for ref, _ in zalo.sent] == ["zchat"]


async def test_two_processes_share_what_staff_taught_on_sqlite_and_postgresql(db_config: Config) -> None:
    db_config.staff.admins = [f"test:{STAFF}"]
    first, second = await App.open(db_config), await App.open(db_config)
    try:
        await say(first, "m1", UNKNOWN)
        await say(first, "m1", "sai rồi")  # after a "don't know": just a question, no verdict
        await say(second, "m2", "lap htx can bao nhieu nguoi")
        assert text(await say(second, "m2", "không đúng")) == THANKS_DOWN
        items = {i.example: i for i in await queue(second)}
        assert set(items) >= {UNKNOWN, "lap htx can bao nhieu nguoi"}
        async with first.db.unit() as s:
            outcome = await actions.attach_question(s, first.services, actions.Staff("test", STAFF),
                                                    items[UNKNOWN], "ho-so-dang-ky-htx")
        assert outcome.ok
        live_knowledge(second.services).poll_seconds = 0
        assert "Hồ sơ gồm giấy đề nghị" in text(await say(second, "m3", UNKNOWN))
        async with second.db.unit() as s:
            assert await digest_claim(s) and not await digest_claim(s)
    finally:
        await first.close()
        await second.close()


async def digest_claim(s: object) -> bool:
    from bot.storage.repo.digest import claim_day

    return await claim_day(s, "2026-12-02")  # type: ignore[arg-type]


async def test_an_unsure_answer_on_the_console_invites_a_sai_roi_and_joins_the_queue(tmp_path: Path) -> None:
    config = make_config(tmp_path, HTXBOT_SEARCH__THRESHOLD="0.72")  # "ho so htx" scores about 0.74
    app = await App.open(config)
    try:
        replies = await say(app, "m1", "ho so htx")
        assert "Hồ sơ gồm" in text(replies) and LOW_CONFIDENCE_HINT in text(replies)
        assert [dict(i.reasons) for i in await queue(app)] == [{"low": 1}]
    finally:
        await app.close()


async def test_htxbot_kb_export_then_kb_check_is_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    kb_copy = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb_copy)
    app = await open_app(tmp_path, kb=kb_copy)
    try:
        await say(app, "m1", UNKNOWN)
        async with app.db.unit() as s:
            item = (await actions.queue(s, app.services))[0]
            await actions.attach_question(s, app.services, actions.Staff("test", STAFF), item, "ho-so-dang-ky-htx")
    finally:
        await app.close()
    monkeypatch.setenv("HTXBOT_DATABASE__URL", app.config.database.url)
    monkeypatch.setenv("HTXBOT_KNOWLEDGE__PATH", str(kb_copy))
    for argv in (["kb", "export"], ["kb", "check"]):
        with pytest.raises(SystemExit) as exit_code:
            await asyncio.to_thread(main, argv)
        assert exit_code.value.code == 0
    out = capsys.readouterr().out
    assert "Exported 1 phrasing(s)" in out and "no problems" in out
    assert UNKNOWN in (kb_copy / "entries.yaml").read_text(encoding="utf-8")


async def test_a_did_you_mean_pick_shows_that_answer_and_joins_the_queue(tmp_path: Path) -> None:
    app = await App.open(make_config(tmp_path, HTXBOT_SEARCH__AMBIGUITY_MARGIN="0.5"))  # every close second
    try:
        replies = await say(app, "m1", "lap htx can bao nhieu nguoi")
        assert "Nếu ý bạn là" in text(replies)
        picked = await say(app, "m1", "1")  # the numbered option on a channel without buttons
        assert "07 thành viên" in text(picked)
        [item] = await queue(app)
        assert (dict(item.reasons), item.entry_hint) == ({"pick": 1}, "so-thanh-vien-htx-luat-2012")
    finally:
        await app.close()


async def test_kb_unanswered_masks_phone_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    app = await open_app(tmp_path)
    try:
        await say(app, "m1", "gọi tôi 0912345678 về bảo hiểm xã hội cho xã viên")
    finally:
        await app.close()
    monkeypatch.setenv("HTXBOT_DATABASE__URL", app.config.database.url)
    with pytest.raises(SystemExit):
        await asyncio.to_thread(main, ["kb", "unanswered"])
    out = capsys.readouterr().out
    assert PHONE_MASK in out and "0912345678" not in out


async def test_a_rated_question_is_stored_without_the_phone_number_typed_in_it(app: App) -> None:
    from sqlalchemy import select

    from bot.storage.models_knowledge import AnswerOffer, AnswerRating

    replies = await say(app, "m1", "lap htx can bao nhieu nguoi, sdt toi 0912 345 678", channel="telegram")
    down = [p for p in payloads(replies) if p.startswith("rate:down")]
    await say(app, "m1", payload=down[0], channel="telegram")
    async with app.db.unit() as s:
        stored = [*(await s.scalars(select(AnswerOffer.question))), *(await s.scalars(select(AnswerRating.question)))]
    assert stored and all(PHONE_MASK in q and "345" not in q for q in stored)
    assert all("345" not in i.example for i in await queue(app))
