"""The composition root: config → storage → knowledge → flows → dispatcher; channels plug in."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import replace
from typing import Any, Protocol

from sqlalchemy import text

from bot.broadcast.status import locked_unit, write_lock_for
from bot.config import Config
from bot.core.channel import APOLOGY, Channel
from bot.core.dispatcher import Dispatcher
from bot.core.flow import Services, Turn
from bot.core.links import LinkSigner
from bot.core.locks import KeyedLocks
from bot.core.render import render_for
from bot.core.types import ChannelCapabilities, ChatRef, Incoming, Reply
from bot.knowledge.overlay import refresh_knowledge
from bot.storage.db import Database
from bot.storage.repo import conversations, files, users

log = logging.getLogger(__name__)


class DossierMaker(Protocol):
    """Makes a registration's dossier file again (the registration flow; the admin console uses it)."""

    def dossier_reply(self, kind: str, answers: dict[str, Any]) -> Reply: ...

DEFAULT_CAPABILITIES = ChannelCapabilities()

# Set by the inbox while it processes a stored update: called inside the turn's transaction with the
# chat and the rendered replies, so that a crash after the turn delivers them instead of losing them.
REPLY_RECORDER: ContextVar[Callable[[Any, str, list[Reply]], Awaitable[None]] | None] = ContextVar(
    "reply_recorder", default=None)


class App:
    """One running bot: shared by every channel, holding no per-user state in memory."""

    def __init__(self, config: Config, db: Database, services: Services, dispatcher: Dispatcher,
                 dossiers: DossierMaker | None = None) -> None:
        self.config = config
        self.db = db
        self.services = services
        self.dispatcher = dispatcher
        self.dossiers = dossiers
        self.links = LinkSigner(config.web.public_url, config.web.link_secret, config.web.link_ttl_hours)
        self.channels: dict[str, Channel] = {}
        self._locks = KeyedLocks()  # one turn at a time per user: two quick taps must not both advance a wizard

    @classmethod
    async def open(cls, config: Config, migrate: bool = True) -> App:
        """Build the application through the composition root (bot/runtime.py)."""
        from bot.runtime import build_app

        return await build_app(config, migrate=migrate)

    def register_channel(self, channel: Channel) -> None:
        self.channels[channel.name] = channel

    def capabilities(self, channel: str) -> ChannelCapabilities:
        registered = self.channels.get(channel)
        return registered.capabilities if registered else DEFAULT_CAPABILITIES

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Handle one message; replies come back rendered for the channel. [] for a duplicate."""
        async with self._locks.hold((incoming.channel, incoming.user_id)):
            try:
                return await self._turn(incoming)
            except Exception:
                log.exception("turn failed (channel=%s chat=%s)", incoming.channel, incoming.chat_id)
                if incoming.message_id:
                    async with self.db.unit() as s:
                        await conversations.claim_message(s, incoming.channel, incoming.message_id)
                return [Reply(APOLOGY)]

    async def _turn(self, incoming: Incoming) -> list[Reply]:
        async with locked_unit(write_lock_for(self.db), self.db.unit) as s:
            if self.db.is_sqlite:
                # pysqlite opens a transaction only at the first write; a SAVEPOINT before that (the one in
                # claim_message) would be committed on its own, marking the message handled even if the
                # turn then dies. A write first makes the whole turn one transaction.
                await s.execute(text("DELETE FROM processed_messages WHERE 0"))
            if incoming.message_id and not await conversations.claim_message(
                    s, incoming.channel, incoming.message_id):
                return []
            user = await users.touch_user(s, incoming.channel, incoming.user_id, incoming.chat_id,
                                          incoming.display_name, private=incoming.is_private)
            incoming = replace(incoming, is_staff=self.is_staff(incoming.channel, incoming.user_id, user.role))
            state = await conversations.load_conversation(s, incoming.channel, incoming.user_id,
                                                          lock=not self.db.is_sqlite)
            await refresh_knowledge(self.services, s)  # staff-taught phrasings/entries, live within seconds
            turn = Turn(incoming=incoming, user=user, state=state, db=s, services=self.services)
            replies = await self.dispatcher.dispatch(turn)
            offered = next((r.buttons for r in reversed(replies) if r.buttons), [])
            state.options = [[b.label, b.payload] for b in offered]
            await conversations.save_conversation(s, incoming.channel, incoming.user_id, state)
            rendered = await self._render(s, incoming.ref, incoming.user_id, replies)
            recorder = REPLY_RECORDER.get()
            if recorder is not None:
                await recorder(s, incoming.chat_id, rendered)
            return rendered

    def is_staff(self, channel: str, user_id: str, role: str) -> bool:
        return role in ("staff", "admin") or f"{channel}:{user_id}" in self.config.staff.admins

    async def _render(self, s: object, ref: ChatRef, owner: str, replies: list[Reply]) -> list[Reply]:
        caps = self.capabilities(ref.channel)
        out: list[Reply] = []
        for reply in replies:
            attachment = reply.attachment
            if attachment and not (caps.documents if attachment.kind == "document" else caps.images):
                file_id = await files.store_file(s, ref.channel, owner, attachment.filename,  # type: ignore[arg-type]
                                                 attachment.mime, attachment.data)
                url = self.links.url_for(file_id)
                hours = self.config.web.link_ttl_hours
                reply = replace(reply, attachment=None, text=f"{reply.text}\n\n📎 Tải tệp «{attachment.filename}»: "
                                f"{url}\n(Liên kết dành riêng cho bạn, hết hạn sau {hours} giờ.)")
            out.extend(render_for(reply, caps))
        return out

    async def send(self, ref: ChatRef, reply: Reply, owner: str | None = None, file_owner: str | None = None) -> None:
        """Proactive message (broadcast, survey invitation) through the same rendering as replies.

        Its options are remembered for the recipient on channels without buttons (unless they are in the
        middle of a flow), so that answering "1" picks the first one. `file_owner` lets many recipients
        share one stored copy of an attachment that is not personal (an announcement's picture).
        """
        channel = self.channels[ref.channel]
        user = owner or ref.chat_id
        await self.remember_options(ref, reply, user)
        for part in await self.outgoing_parts(ref.channel, reply, file_owner or user):
            await channel.send(ref, part)

    async def outgoing_parts(self, channel: str, reply: Reply, file_owner: str) -> list[Reply]:
        """The platform messages a proactive reply becomes on `channel`, one platform call each (text
        parts, then the file), so that a sender can record each part and resume after the last one sent.
        Touches the database only when a file must become a link."""
        caps = self.capabilities(channel)
        attachment = reply.attachment
        if attachment and not (caps.documents if attachment.kind == "document" else caps.images):
            async with self.db.unit() as s:
                rendered = await self._render(s, ChatRef(channel, file_owner), file_owner, [reply])
        else:
            rendered = await self._render(None, ChatRef(channel, file_owner), file_owner, [reply])
        parts: list[Reply] = []
        for r in rendered:
            if r.attachment is not None and r.text.strip():
                parts.append(replace(r, attachment=None))
                parts.append(Reply("", attachment=r.attachment))
            else:
                parts.append(r)
        return parts

    async def remember_options(self, ref: ChatRef, reply: Reply, owner: str | None = None) -> None:
        """On a channel without buttons, remember a proactive message's options for the recipient."""
        if not reply.buttons or self.capabilities(ref.channel).buttons:
            return  # real buttons carry their payloads: no conversation row to rewrite
        user = owner or ref.chat_id
        options = [[b.label, b.payload] for b in reply.buttons]
        async with self._locks.hold((ref.channel, user)), self.db.unit() as s:
            await conversations.offer_options(s, ref.channel, user, options)

    async def close(self) -> None:
        await self.db.close()
