"""The Zalo Official Account adapter: signed webhook events → `Incoming`, the core's replies → cs messages.

Receiving (`POST /zalo-oa/webhook`): the raw body's `X-ZEvent-Signature` is checked (sha256 of app id,
body, timestamp and the OA Secret Key; not an HMAC), stale or unsigned events are refused with nothing
stored, then `store_event` writes the event (keyed by `message.msg_id`, so a redelivery with
`num_retry` is recognised and dropped) and the follower's interaction time in one transaction, and only
then Zalo gets its 200 — the handling runs in a background task, one user at a time in arrival order.
Events stored but not handled (a crash) are handled on the next `start()`.

Sending: cs messages of ≤ 2,000 characters; up to 5 buttons as `oa.query.show` with short ASCII payloads
(`#b` + 10 characters, mapped back to the flow's payload through a table), more options numbered; a
document is uploaded and sent as a file message, a picture uploaded and sent as an image. Errors are
read from the body (bot/channels/zalo_oa_api.py maps them).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import io
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.zalo_oa_api import NotFollowing, OAApiError, OAClient, OAuthClient
from bot.channels.zalo_oa_tokens import Alert, TokenCipher, TokenStore
from bot.config import Config, ConfigError, ZaloOAConfig
from bot.core.channel import APOLOGY, DeliveryError, MessageHandler, RetryLater
from bot.core.locks import KeyedLocks
from bot.core.render import numbered_options, split_text
from bot.core.types import Attachment, Button, ChannelCapabilities, ChatRef, Incoming, Reply
from bot.storage.db import Database
from bot.storage.models import User, utcnow
from bot.storage.models_zalo_oa import ZaloOAButton, ZaloOAEvent, ZaloOAFollower
from bot.storage.repo import users

log = logging.getLogger(__name__)

NAME = "zalo_oa"
WEBHOOK_PATH = "/zalo-oa/webhook"
HEALTH_PATH = "/zalo-oa/healthz"
SIGNATURE_HEADER = "X-ZEvent-Signature"
MAX_TEXT = 2000
MAX_BUTTONS = 5
MAX_TITLE = 100
MAX_FILE = 5 * 1024 * 1024
MAX_IMAGE = 1024 * 1024
FILE_EXTENSIONS = (".pdf", ".doc", ".docx")
BUTTON_TOKEN = re.compile(r"^#b[a-z2-7]{10}$")
REPLY_ATTEMPTS = 3
UPLOAD_REUSE = timedelta(hours=24)
KEEPALIVE_SECONDS = 1800.0  # how often an idle bot checks whether its access token is due for refresh


def signature_ok(raw: bytes, header: str, oa_secret: str) -> dict[str, Any] | None:
    """The event if `header` is the right `mac=` for `raw`, else None (constant-time comparison)."""
    if not header or not oa_secret:
        return None
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict):
        return None
    expected = hashlib.sha256(str(body.get("app_id", "")).encode() + raw + str(body.get("timestamp", "")).encode()
                              + oa_secret.encode()).hexdigest()
    given = header.strip().removeprefix("mac=").strip()
    return body if hmac.compare_digest(given.encode(), expected.encode()) else None


def event_time(body: dict[str, Any]) -> datetime | None:
    """The body's `timestamp` (epoch milliseconds as a string) as a UTC datetime."""
    try:
        return datetime.fromtimestamp(int(str(body.get("timestamp"))) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def event_user(body: dict[str, Any]) -> str:
    """The OA-scoped id of the member the event is about (the one to send to)."""
    for key in ("follower", "sender"):
        part = body.get(key)
        if isinstance(part, dict) and part.get("id"):
            return str(part["id"])
    return str(body.get("user_id") or "")


def event_key(body: dict[str, Any]) -> str:
    """Event name and `message.msg_id` when there is one (a re-send carries the same); else event name,
    member and timestamp (follow events have no message). The name keeps an echo of our message and its
    delivery receipt, which share our message's id, apart."""
    name = body.get("event_name")
    message = body.get("message")
    if isinstance(message, dict) and message.get("msg_id"):
        return f"m:{name}:{message['msg_id']}"[:160]
    return f"e:{name}:{event_user(body)}:{body.get('timestamp')}"[:160]


def button_token(payload: str) -> str:
    """A short ASCII stand-in for a flow payload: `#b` + 10 base32 characters of its sha256."""
    digest = base64.b32encode(hashlib.sha256(payload.encode()).digest()).decode().lower()
    return "#b" + digest[:10]


def is_user_event(name: str, body: dict[str, Any], oa_id: str) -> bool:
    """An event the member caused (it renews the interaction window): user_send_*, user_submit_info,
    user_click_chatnow — not delivery receipts or reactions, and never the OA itself."""
    return (name.startswith("user_") and not name.startswith("user_received") and not name.startswith("user_seen")
            and not name.startswith("user_reacted") and event_user(body) != oa_id)


async def store_event(s: AsyncSession, body: dict[str, Any], raw: bytes) -> str | None:
    """THE store step of the inbox: the event and the follower's state, before Zalo gets its 200.

    Returns the event key, or None for a redelivery of an event already stored.
    """
    key = event_key(body)
    name = str(body.get("event_name", ""))
    user_id = event_user(body)
    try:
        async with s.begin_nested():
            s.add(ZaloOAEvent(event_key=key, event_name=name[:60], user_id=user_id[:64],
                              body=raw.decode("utf-8", "replace")))
    except IntegrityError:
        return None
    oa_id = str((body.get("recipient") or {}).get("id") or body.get("oa_id") or "")
    if user_id and (name in ("follow", "unfollow") or is_user_event(name, body, oa_id)):
        row = await s.get(ZaloOAFollower, user_id)
        if row is None:
            row = ZaloOAFollower(user_id=user_id, following=name != "unfollow")
            s.add(row)
        if name == "unfollow":
            row.following = False
        else:
            row.following = True if name == "follow" else row.following
            when = event_time(body) or utcnow()
            last = row.last_interaction_at
            if last is None or (last if last.tzinfo else last.replace(tzinfo=UTC)) < when:
                row.last_interaction_at = when
    return key


@dataclass(frozen=True)
class Reach:
    """How many members of an audience on the OA a cs announcement can reach now."""

    reachable: int
    outside_window: int
    not_following: int


async def count_reach(s: AsyncSession, user_ids: list[int], window_hours: int,
                      now: datetime | None = None) -> Reach:
    """Split users (our `users.id`s on the OA channel) into reachable, outside the window, not following.

    Reachable: following and interacted within `window_hours` (168 = Zalo's 7 days; 48 = free only).
    """
    if not user_ids:
        return Reach(0, 0, 0)
    cutoff = (now or utcnow()) - timedelta(hours=window_hours)
    rows = (await s.execute(
        select(ZaloOAFollower.following, ZaloOAFollower.last_interaction_at)
        .join(User, User.external_id == ZaloOAFollower.user_id, isouter=False)
        .where(User.channel == NAME, User.id.in_(user_ids)))).all()
    known = len(rows)
    reachable = outside = not_following = 0
    for following, last in rows:
        last = last if last is None or last.tzinfo else last.replace(tzinfo=UTC)
        if not following:
            not_following += 1
        elif last is None or last < cutoff:
            outside += 1
        else:
            reachable += 1
    return Reach(reachable, outside + (len(user_ids) - known), not_following)


async def audience_reach(s: AsyncSession, audience: dict[str, Any] | None, window_hours: int) -> Reach:
    """`count_reach` for an announcement's filters (province, sector, role), subscribed or not."""
    from bot.storage.repo.broadcasts import clean_audience

    where = [User.channel == NAME]
    columns = {"province": User.province, "sector": User.sector, "role": User.role}
    where += [columns[k] == v for k, v in clean_audience(audience).items()]
    ids = list(await s.scalars(select(User.id).where(*where)))
    return await count_reach(s, ids, window_hours)


async def preview_reach(s: AsyncSession, config: Config, audience: dict[str, Any] | None) -> Reach:
    """`audience_reach` with the configured window (`zalo_oa.reach_window_hours`)."""
    return await audience_reach(s, audience, config.zalo_oa.reach_window_hours)


def describe_reach(reach: Reach, window_hours: int) -> str:
    """The preview line staff read before confirming an announcement."""
    window = f"{window_hours} giờ qua (miễn phí)" if window_hours <= 48 else f"{window_hours // 24} ngày qua"
    return (f"Zalo OA: {reach.reachable} người nhận được ngay (có tương tác trong {window}); "
            f"{reach.outside_window} người quá thời hạn tương tác và {reach.not_following} người đã bỏ "
            "quan tâm OA sẽ không nhận được.")


def describe_outcomes(outcomes: dict[str, int]) -> str:
    """The report line: what happened to an announcement's OA deliveries."""
    labels = (("sent", "đã gửi"), ("outside_window", "quá 7 ngày không tương tác"),
              ("not_following", "không quan tâm OA"), ("blocked", "bị chặn"), ("failed", "lỗi"),
              ("quota", "hết hạn mức"))
    shown = [f"{label}: {outcomes.get(key, 0)}" for key, label in labels if outcomes.get(key)]
    waiting = sum(v for k, v in outcomes.items() if k not in dict(labels))
    if waiting:
        shown.append(f"đang chờ: {waiting}")
    return "Zalo OA — " + ("; ".join(shown) if shown else "chưa có người nhận") + "."


async def delivery_outcomes(s: AsyncSession, broadcast_id: int) -> dict[str, int]:
    """A broadcast's OA deliveries by outcome: sent, outside_window, not_following, blocked, failed, …"""
    from bot.storage.models_staff import Delivery

    rows = (await s.execute(select(Delivery.status, Delivery.error, func.count())
                            .where(Delivery.broadcast_id == broadcast_id, Delivery.channel == NAME)
                            .group_by(Delivery.status, Delivery.error))).all()
    out: dict[str, int] = {}
    for status, error, count in rows:
        kind = status
        if status == "blocked" and (error or "").startswith("OutsideWindow"):
            kind = "outside_window"
        elif status == "blocked" and (error or "").startswith("NotFollowing"):
            kind = "not_following"
        out[kind] = out.get(kind, 0) + int(count)
    return out


class ZaloOAChannel:
    """One Official Account. `web_routes()` go on the shared aiohttp server; `send()` delivers replies."""

    name = NAME
    capabilities = ChannelCapabilities(max_text=MAX_TEXT, buttons=True, documents=True, images=True)

    def __init__(self, config: ZaloOAConfig, db: Database, handler: MessageHandler, client: OAClient,
                 tokens: TokenStore) -> None:
        self.config = config
        self.db = db
        self.handler = handler
        self.client = client
        self.tokens = tokens
        self._tasks: set[asyncio.Task[None]] = set()
        self._locks = KeyedLocks()
        self._started = False
        self._uploaded: dict[str, tuple[str, datetime]] = {}  # content key -> (token, uploaded at)
        self._upload_locks = KeyedLocks()
        self._keepalive: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"ZaloOAChannel(app_id={self.config.app_id!r})"

    # ---- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Check the tokens (a one-line ERROR, not a crash, when `connect` is needed) and handle
        events stored before a restart but never handled."""
        ok, description = await self.tokens.status()
        if ok:
            log.info("zalo-oa: %s", description)
        else:
            with contextlib.suppress(DeliveryError):
                await self.tokens.access_token()  # raises, logs the ERROR line and alerts admins
        self._started = True
        self._keepalive = asyncio.create_task(self._keep_tokens_fresh(), name="zalo-oa-tokens")
        async with self.db.unit() as s:
            left = list(await s.scalars(select(ZaloOAEvent.event_key).where(ZaloOAEvent.handled_at.is_(None))
                                        .order_by(ZaloOAEvent.received_at)))
        for key in left:
            self._spawn(key)
        if left:
            log.info("zalo-oa: handling %d events received before the restart", len(left))

    async def stop(self) -> None:
        """Finish every event already accepted, then close the HTTP client."""
        if self._keepalive is not None:
            self._keepalive.cancel()
            await asyncio.gather(self._keepalive, return_exceptions=True)
            self._keepalive = None
        await self.drain()
        await self.client.close()

    async def _keep_tokens_fresh(self) -> None:
        """Refresh ahead of expiry even when nobody writes, so an idle bot never lets the 3-month
        refresh token lapse; a failure is logged and told to admins by the token store."""
        while True:
            await asyncio.sleep(KEEPALIVE_SECONDS)
            try:
                await self.tokens.access_token()
            except DeliveryError as exc:
                log.debug("zalo-oa: token check failed: %s", exc)
            except Exception:
                log.exception("zalo-oa: token check failed")

    async def drain(self) -> None:
        """Wait until every accepted event has been handled and answered."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def health(self) -> dict[str, Any]:
        """For /healthz: degraded when the tokens need `htxbot zalo-oa connect`."""
        return {"ok": not self.tokens.problem, "problem": self.tokens.problem}

    # ---- webhook ---------------------------------------------------------------------------------

    def web_routes(self) -> list[web.RouteDef]:
        return [web.post(WEBHOOK_PATH, self._on_webhook), web.get(HEALTH_PATH, self._on_health)]

    async def _on_health(self, request: web.Request) -> web.Response:
        state = self.health()
        return web.json_response(state, status=200 if state["ok"] else 503)

    async def _on_webhook(self, request: web.Request) -> web.Response:
        """Verify, store, answer 200; the handling happens afterwards in a task."""
        raw = await request.read()
        header = request.headers.get(SIGNATURE_HEADER, "")
        body = signature_ok(raw, header, self.config.oa_secret_key)
        if body is None:
            if not header and _is_probe(raw):
                return web.json_response({"ok": True})  # the URL-save check: nothing to store
            log.warning("zalo-oa: refused a webhook call with a missing or wrong signature")
            return web.json_response({"ok": False}, status=401)
        sent_at = event_time(body)
        if sent_at is None or abs((utcnow() - sent_at).total_seconds()) > self.config.webhook_max_age_seconds:
            log.warning("zalo-oa: refused a stale webhook event (%s)", body.get("event_name"))
            return web.json_response({"ok": False}, status=401)
        if str(body.get("app_id", "")) != self.config.app_id:
            log.warning("zalo-oa: refused an event for another app")
            return web.json_response({"ok": False}, status=401)
        async with self.db.unit() as s:
            key = await store_event(s, body, raw)
        if key is not None and self._started:
            self._spawn(key)
        return web.json_response({"ok": True})

    def _spawn(self, key: str) -> None:
        task = asyncio.create_task(self._process(key), name=f"zalo-oa-{key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- handling --------------------------------------------------------------------------------

    async def _process(self, key: str) -> None:
        async with self.db.unit() as s:
            row = await s.get(ZaloOAEvent, key)
            if row is None or row.handled_at is not None:
                return
            body, user_id = json.loads(row.body), row.user_id
        async with self._locks.hold(user_id):
            try:
                await self._handle(body, key)
            except Exception:
                log.exception("zalo-oa: handling event %s failed", body.get("event_name"))
            async with self.db.unit() as s:
                row = await s.get(ZaloOAEvent, key)
                if row is not None:
                    row.handled_at = utcnow()

    async def _handle(self, body: dict[str, Any], key: str) -> None:
        name = str(body.get("event_name", ""))
        user_id = event_user(body)
        oa_id = str((body.get("recipient") or {}).get("id") or body.get("oa_id") or "")
        if not user_id or name.startswith(("oa_", "anonymous_")) or user_id == oa_id:
            return  # our own echoes and events we do not serve
        if name == "unfollow":
            await self._set_subscription(user_id, False)
            return
        if name == "follow":
            await self._set_subscription(user_id, True)
            await self._ask(Incoming(NAME, user_id, user_id, text="/start", message_id=key))
            return
        if name == "user_submit_info":
            await self._ask_replies(user_id, await self._fill_profile(user_id, body.get("info")))
            return
        if name == "user_click_chatnow":
            await self._ask(Incoming(NAME, user_id, user_id, text="/start", message_id=key))
            return
        if not name.startswith("user_send_"):
            return
        message = body.get("message") if isinstance(body.get("message"), dict) else {}
        msg_id = str(message.get("msg_id") or key)
        text = str(message.get("text") or "").strip()
        incoming = Incoming(NAME, user_id, user_id, text=text, message_id=msg_id)
        kind = name.removeprefix("user_send_")
        if kind == "text":
            payload = await self._button_payload(text) if BUTTON_TOKEN.match(text) else None
            if payload is not None:
                incoming = Incoming(NAME, user_id, user_id, text="", payload=payload, message_id=msg_id)
        elif kind in ("image", "file"):
            attachment = await self._download(message, kind)
            if attachment is None:
                incoming = Incoming(NAME, user_id, user_id, text="", message_id=msg_id)
            else:
                incoming = Incoming(NAME, user_id, user_id, text=text, message_id=msg_id,
                                    attachment=attachment)
        elif kind == "link":
            incoming = Incoming(NAME, user_id, user_id, text=text, message_id=msg_id)
        else:  # sticker, location, gif, audio, video, business card: answered as "text only, please"
            incoming = Incoming(NAME, user_id, user_id, text="", message_id=msg_id)
        await self._ask(incoming)

    async def _ask(self, incoming: Incoming) -> None:
        try:
            replies = await self.handler(incoming)
        except Exception:
            log.exception("zalo-oa: the core failed on an event")
            replies = [Reply(APOLOGY)]
        await self._ask_replies(incoming.chat_id, replies)

    async def _ask_replies(self, user_id: str, replies: list[Reply]) -> None:
        ref = ChatRef(NAME, user_id)
        for reply in replies:
            for attempt in range(1, REPLY_ATTEMPTS + 1):
                try:
                    await self.send(ref, reply)
                    break
                except RetryLater as exc:
                    if attempt == REPLY_ATTEMPTS or exc.retry_after > 5:
                        log.error("zalo-oa: reply not delivered: %s", exc)
                        return
                    await asyncio.sleep(max(0.2, exc.retry_after))
                except DeliveryError as exc:
                    log.error("zalo-oa: reply not delivered: %s", exc)
                    return

    async def _set_subscription(self, user_id: str, subscribed: bool) -> None:
        """follow → subscribed to announcements; unfollow → unsubscribed (as /tatthongbao does)."""
        async with self.db.unit() as s:
            record = await users.get_user(s, NAME, user_id)
            if record is None:
                if not subscribed:
                    return
                record = await users.touch_user(s, NAME, user_id, user_id, "")
            elif subscribed:
                record = await users.touch_user(s, NAME, user_id, user_id, "")
            await users.set_subscribed(s, record.id, subscribed)

    async def _fill_profile(self, user_id: str, info: Any) -> list[Reply]:
        """`user_submit_info`: the name, province and ward the member agreed to share fill the profile.

        The phone number and street address are not kept: no flow needs them.
        """
        from handlers.member.profile_fields import canonical_province

        info = info if isinstance(info, dict) else {}
        name = str(info.get("name") or "").strip()[:200]
        city = str(info.get("city") or "").strip()
        ward = str(info.get("ward") or "").strip()
        async with self.db.unit() as s:
            record = await users.touch_user(s, NAME, user_id, user_id, name)
            fields: dict[str, object] = {}
            if city:
                fields["province"] = canonical_province(city)[0]
            if ward:
                fields["commune"] = ward[:100]
            if fields:
                await users.update_profile(s, record.id, **fields)
        shown = [f"• Tỉnh/thành: {fields['province']}" if "province" in fields else "",
                 f"• Xã/phường: {fields['commune']}" if "commune" in fields else ""]
        lines = "\n".join(x for x in shown if x)
        text = "Cảm ơn bạn đã chia sẻ thông tin." + (f" Hồ sơ đã được cập nhật:\n{lines}" if lines else "")
        return [Reply(text + "\n\nGõ /hoso để xem hoặc sửa hồ sơ.")]

    async def _button_payload(self, token: str) -> str | None:
        async with self.db.unit() as s:
            row = await s.get(ZaloOAButton, token)
            return row.payload if row else None

    async def _download(self, message: dict[str, Any], kind: str) -> Attachment | None:
        attachments = message.get("attachments") or []
        first = attachments[0] if attachments and isinstance(attachments[0], dict) else {}
        payload = first.get("payload") if isinstance(first.get("payload"), dict) else {}
        url = str(payload.get("url") or "")
        try:
            data, content_type = await self.client.download(url, MAX_FILE)
        except DeliveryError as exc:
            log.warning("zalo-oa: could not download a %s a member sent: %s", kind, exc)
            return None
        if kind == "image":
            mime = content_type if content_type.startswith("image/") else "image/jpeg"
            return Attachment("anh-zalo" + (".png" if mime == "image/png" else ".jpg"), data, mime, "image")
        filename = str(payload.get("name") or "tep-zalo")[:200]
        return Attachment(filename, data, content_type or "application/octet-stream", "document")

    # ---- sending ---------------------------------------------------------------------------------

    async def send(self, ref: ChatRef, reply: Reply) -> None:
        """Deliver one rendered reply: text parts, buttons on the last part, then the file or picture.

        Raises the errors of bot/channels/zalo_oa_api.py (OutsideWindow, NotFollowing, RetryLater, …);
        a member Zalo says does not follow is recorded as such (for the next announcement's preview).
        """
        try:
            await self._send(ref, reply)
        except NotFollowing:
            async with self.db.unit() as s:
                row = await s.get(ZaloOAFollower, ref.chat_id)
                if row is None:
                    s.add(ZaloOAFollower(user_id=ref.chat_id, following=False))
                else:
                    row.following = False
            raise

    async def _send(self, ref: ChatRef, reply: Reply) -> None:
        if len(reply.buttons) > MAX_BUTTONS:
            reply = numbered_options(reply)
        parts = [p for p in split_text(reply.text, MAX_TEXT) if p]
        attachment = reply.attachment
        # The file is checked and uploaded before any text goes out: a file Zalo refuses must not leave
        # the text sent, then sent again on every retry.
        upload = await self._upload(attachment) if attachment is not None else None
        caption = ""
        if upload is not None and upload[0] == "image" and parts and not reply.buttons:
            caption = parts.pop()  # a picture carries the (last part of the) text itself
        for index, part in enumerate(parts):
            message: dict[str, Any] = {"text": part}
            if reply.buttons and index == len(parts) - 1:
                message["attachment"] = await self._buttons(reply.buttons)
            await self.client.send_cs(ref.chat_id, message)
        if attachment is not None and upload is not None:
            try:
                await self.client.send_cs(ref.chat_id, _file_message(upload, caption))
            except OAApiError as exc:
                if exc.code not in (-100, -201):
                    raise
                self._uploaded.clear()  # a reused upload expired at Zalo: upload again, once
                upload = await self._upload(attachment)
                await self.client.send_cs(ref.chat_id, _file_message(upload, caption))

    async def _upload(self, attachment: Attachment) -> tuple[str, str]:
        """("file", token) or ("image", attachment_id). The same bytes are uploaded once a day at most
        (an announcement's picture is one upload, not one per member; Zalo keeps uploads about 7 days)."""
        if attachment.kind == "image":
            attachment = fit_picture(attachment)
        elif not attachment.filename.lower().endswith(FILE_EXTENSIONS):
            raise DeliveryError(f"Zalo OA sends only PDF/DOC/DOCX files, not {attachment.filename!r}")
        elif len(attachment.data) > MAX_FILE:
            raise DeliveryError(f"{attachment.filename!r} is over Zalo's 5 MB file limit")
        kind = "image" if attachment.kind == "image" else "file"
        key = f"{kind}:{attachment.filename}:{hashlib.sha256(attachment.data).hexdigest()}"
        async with self._upload_locks.hold(key):  # concurrent sends of one announcement wait for one upload
            cached = self._uploaded.get(key)
            if cached is not None and utcnow() - cached[1] < UPLOAD_REUSE:
                return kind, cached[0]
            token = await self.client.upload(kind, attachment.filename, attachment.data, attachment.mime)
            if len(self._uploaded) >= 64:
                self._uploaded.pop(next(iter(self._uploaded)))
            self._uploaded[key] = (token, utcnow())
        return kind, token

    async def _buttons(self, buttons: list[Button]) -> dict[str, Any]:
        """The template attachment; each payload is remembered under its short token."""
        out = []
        async with self.db.unit() as s:
            for button in buttons:
                token = button_token(button.payload)
                if await s.get(ZaloOAButton, token) is None:
                    try:
                        async with s.begin_nested():
                            s.add(ZaloOAButton(token=token, payload=button.payload, label=button.label[:200]))
                    except IntegrityError:
                        pass  # stored meanwhile by another sender: same payload
                out.append({"title": button.label[:MAX_TITLE], "type": self.config.button_type, "payload": token})
        return {"type": "template", "payload": {"buttons": out}}


def _file_message(upload: tuple[str, str], caption: str) -> dict[str, Any]:
    kind, token = upload
    if kind == "file":
        return {"attachment": {"type": "file", "payload": {"token": token}}}
    message: dict[str, Any] = {"attachment": {"type": "template", "payload": {
        "template_type": "media", "elements": [{"media_type": "image", "attachment_id": token}]}}}
    if caption:
        message["text"] = caption
    return message


def fit_picture(attachment: Attachment) -> Attachment:
    """A JPEG/PNG of at most 1 MB (Zalo's limit for pictures): others are converted, big ones shrunk."""
    if attachment.mime in ("image/jpeg", "image/png") and len(attachment.data) <= MAX_IMAGE:
        if "." not in attachment.filename:
            ext = ".png" if attachment.mime == "image/png" else ".jpg"
            return Attachment(attachment.filename + ext, attachment.data, attachment.mime, "image")
        return attachment
    from PIL import Image, UnidentifiedImageError

    try:
        picture = Image.open(io.BytesIO(attachment.data))
        picture.load()
    except (UnidentifiedImageError, OSError, ValueError):
        raise DeliveryError(f"{attachment.filename!r} is not a picture Zalo can show") from None
    picture = picture.convert("RGB")
    stem = attachment.filename.rsplit(".", 1)[0] or "anh"
    for side in (4096, 2560, 1920, 1280, 960, 640):
        copy = picture.copy()
        copy.thumbnail((side, side))
        out = io.BytesIO()
        copy.save(out, "JPEG", quality=85)
        if out.tell() <= MAX_IMAGE:
            return Attachment(stem + ".jpg", out.getvalue(), "image/jpeg", "image")
    raise DeliveryError(f"{attachment.filename!r} cannot be made smaller than Zalo's 1 MB")


def _is_probe(raw: bytes) -> bool:
    """Zalo's URL-save check: a small JSON object without an event name."""
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(body, dict) and "event_name" not in body


def is_configured(config: Config) -> bool:
    """The OA channel is on when `zalo_oa.app_id` is set."""
    return bool(config.zalo_oa.app_id)


def check_config(config: Config) -> None:
    """Raise ConfigError (one line naming the key) when the OA channel cannot run; no network, no database."""
    oa = config.zalo_oa
    for key in ("app_id", "app_secret", "oa_secret_key", "token_key"):
        if not getattr(oa, key):
            raise ConfigError(f"zalo_oa.{key}: not set (HTXBOT_ZALO_OA__{key.upper()}); see docs/zalo-oa.md")
    TokenCipher(oa.token_key)  # a malformed key is a ConfigError too


def build_channel(config: Config, db: Database, handler: MessageHandler,
                  on_alert: Alert | None = None) -> ZaloOAChannel:
    """The channel from `config.zalo_oa` (the composition root calls this when `app_id` is set)."""
    check_config(config)
    oa = config.zalo_oa
    oauth = OAuthClient(oa.oauth_base, oa.app_id, oa.app_secret)
    tokens = TokenStore(db, TokenCipher(oa.token_key), oauth, margin=timedelta(minutes=oa.refresh_margin_minutes),
                        on_alert=on_alert)
    client = OAClient(oa.openapi_base, tokens, night_end_hour=oa.night_end_hour)
    return ZaloOAChannel(oa, db, handler, client, tokens)


def admin_alert(app: Any) -> Alert:
    """An `on_alert` that messages every admin of `config.staff.admins` on the other running channels."""

    async def alert(message: str) -> None:
        text = ("⚠️ Kênh Zalo OA không gửi được tin: cần cấp quyền lại. Quản trị viên hãy chạy lệnh "
                "`htxbot zalo-oa connect` trên máy chủ.")
        for admin in app.config.staff.admins:
            channel_name, _, chat_id = admin.partition(":")
            channel = app.channels.get(channel_name)
            if channel is None or channel_name == NAME:
                continue
            try:
                await channel.send(ChatRef(channel_name, chat_id), Reply(text))
            except DeliveryError as exc:
                log.warning("zalo-oa: could not alert an admin on %s: %s", channel_name, exc)

    return alert
