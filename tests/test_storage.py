"""Repositories on SQLite and on the real PostgreSQL (fresh schema per test; skipped where unreachable)."""

from __future__ import annotations

import asyncio

from bot.config import Config
from bot.storage.db import Database
from bot.storage.repo import conversations, files, questions, users
from bot.storage.repo.conversations import ConversationState


async def _db(config: Config) -> Database:
    db = Database(config.database.url, schema=config.database.schema)
    await db.upgrade()
    await db.upgrade()  # applying migrations twice is harmless (start-up does it every time)
    return db


async def test_users_are_created_once_and_updated(db_config: Config) -> None:
    db = await _db(db_config)
    try:
        async with db.unit() as s:
            first = await users.touch_user(s, "telegram", "42", "42", "Lan")
            again = await users.touch_user(s, "telegram", "42", "42", "Nguyễn Thị Lan")
            await users.update_profile(s, first.id, province="Quảng Trị", sector="nong-nghiep")
        async with db.unit() as s:
            user = await users.get_user(s, "telegram", "42")
        assert first.id == again.id
        assert user is not None and user.display_name == "Nguyễn Thị Lan" and user.province == "Quảng Trị"
        async with db.unit() as s:
            await users.mark_blocked(s, "telegram", "42")
        async with db.unit() as s:
            assert (await users.get_user(s, "telegram", "42")).blocked is True  # type: ignore[union-attr]
            assert (await users.touch_user(s, "telegram", "42", "42", "Lan")).blocked is False
    finally:
        await db.close()


async def test_conversation_state_round_trips(db_config: Config) -> None:
    db = await _db(db_config)
    try:
        async with db.unit() as s:
            state = await conversations.load_conversation(s, "zalo", "u1", lock=not db.is_sqlite)
            assert state == ConversationState()
            state.flow, state.data, state.options = "reg", {"step": 3, "ten": "HTX Hoà Bình"}, [["Có", "reg:yes"]]
            await conversations.save_conversation(s, "zalo", "u1", state)
        async with db.unit() as s:
            loaded = await conversations.load_conversation(s, "zalo", "u1", lock=not db.is_sqlite)
        assert loaded.flow == "reg" and loaded.data["ten"] == "HTX Hoà Bình" and loaded.options == [["Có", "reg:yes"]]
    finally:
        await db.close()


async def test_a_message_id_is_claimed_only_once_even_concurrently(db_config: Config) -> None:
    db = await _db(db_config)

    async def claim() -> bool:
        async with db.unit() as s:
            return await conversations.claim_message(s, "zalo", "msg-1")

    try:
        results = await asyncio.gather(*(claim() for _ in range(5)), return_exceptions=True)
        assert [r for r in results if r is True] == [True]
    finally:
        await db.close()


async def test_question_log_groups_unanswered_most_frequent_first(db_config: Config) -> None:
    db = await _db(db_config)
    try:
        async with db.unit() as s:
            for raw, norm, answered in [("Giá lúa?", "gia lua", False), ("gia lua", "gia lua", False),
                                        ("thời tiết", "thoi tiet", False), ("lập HTX", "lap hop tac xa", True)]:
                await questions.log_question(s, "test", "u", raw, norm, None, 0.1, answered)
        async with db.unit() as s:
            rows = await questions.most_frequent_unanswered(s)
        assert [(r.normalised, r.count) for r in rows] == [("gia lua", 2), ("thoi tiet", 1)]
    finally:
        await db.close()


async def test_stored_files_keep_their_bytes_and_owner(db_config: Config) -> None:
    db = await _db(db_config)
    try:
        async with db.unit() as s:
            file_id = await files.store_file(s, "zalo", "u1", "hồ sơ.docx", "application/x", b"\x00\x01data")
        async with db.unit() as s:
            record = await files.get_file(s, file_id)
        assert record is not None and record.data == b"\x00\x01data" and record.owner_external_id == "u1"
    finally:
        await db.close()
