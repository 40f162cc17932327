"""A fake Zalo Bot API server on 127.0.0.1 for end-to-end tests of the real client.

It behaves like the real one where it matters to us: `POST /bot<token>/<method>` with JSON, envelopes
`{ok, result}` / `{ok: false, error_code, description}`, `getUpdates` returns ONE bare update and answers
HTTP 408 when idle, there is no offset so an update can come back (`redeliver_last()`), `sendMessage`
rejects texts over 2,000 characters, and getUpdates is refused while a webhook is set. Tests can make
the next sends fail (429, quota, 5xx, blocked) and wait for calls through asyncio conditions. Pictures
users send are served from `GET /images/<name>` (Zalo's CDN stand-in) for image events' `photo`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "1234567890:fake-zalo-token"

# Bodies of the failures a test can inject into sends. The quota text is our guess at the real one
# (no SDK documents it); the client recognises it by words, whatever the status.
FAILURES: dict[str, tuple[int, dict[str, Any]]] = {
    "429": (429, {"ok": False, "error_code": 429, "description": "Too Many Requests",
                  "parameters": {"retry_after": 2}}),
    "quota": (429, {"ok": False, "error_code": 429,
                    "description": "Quota exceeded: monthly message limit of the plan reached"}),
    "500": (500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}),
    "blocked": (403, {"ok": False, "error_code": 403, "description": "Forbidden: user blocked the bot"}),
}


@dataclass
class Call:
    """One recorded API call."""

    method: str
    body: dict[str, Any]
    status: int = 200


@dataclass
class FakeZaloServer:
    """Start with `await server.start()`; `server.base_url` is what `zalo.base_url` should be."""

    token: str = TOKEN
    idle_wait: float = 0.1  # how long an empty getUpdates waits before its 408 (real: up to `timeout`)
    calls: list[Call] = field(default_factory=list)
    webhook_url: str = ""
    webhook_secret: str = ""

    def __post_init__(self) -> None:
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._last: dict[str, Any] | None = None
        self._redeliver = False
        self._failures: list[str] = []
        self._poll_failures: list[str] = []
        self._pushed = self._delivered = 0
        self._idle_since_delivery = False
        self._changed = asyncio.Condition()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._images: dict[str, tuple[bytes, str]] = {}  # name -> (bytes, content type)
        self.root_url = ""
        self.base_url = ""

    # ---- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._dispatch)
        app.router.add_get("/images/{name}", self._image)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.root_url = f"http://127.0.0.1:{port}"
        self.base_url = f"{self.root_url}/bot"
        return self.base_url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ---- what tests do ---------------------------------------------------------------------------

    def push_update(self, update: dict[str, Any]) -> None:
        """Queue one raw update for getUpdates."""
        self._pushed += 1
        self._queue.put_nowait(update)

    def push_text(self, text: str, *, chat_id: str = "chat-1", user_id: str | None = None,
                  message_id: str | None = None, display_name: str = "Nguyễn Văn A",
                  **shape: Any) -> dict[str, Any]:
        """Queue a `message.text.received` update shaped like the real one and return it; `shape` passes
        `chat_type`, `mention` or `event_name=None` on to `text_update`."""
        update = text_update(text, chat_id=chat_id, user_id=user_id or chat_id,
                             message_id=message_id or f"msg-{next(self._ids)}", display_name=display_name, **shape)
        self.push_update(update)
        return update

    def add_image(self, data: bytes, name: str | None = None, content_type: str = "image/jpeg") -> str:
        """Serve `data` as a picture on the fake CDN; returns its URL (a `photo_url`)."""
        name = name or f"img-{next(self._ids)}.jpg"
        self._images[name] = (data, content_type)
        return f"{self.root_url}/images/{name}"

    def push_image(self, data: bytes | None, caption: str = "", *, chat_id: str = "chat-1",
                   user_id: str | None = None, message_id: str | None = None) -> dict[str, Any]:
        """Queue a `message.image.received` whose `photo` serves `data` (None: a URL that 404s)."""
        url = self.add_image(data) if data is not None else f"{self.root_url}/images/missing.jpg"
        update = image_update(url, caption, chat_id=chat_id, user_id=user_id or chat_id,
                              message_id=message_id or f"msg-{next(self._ids)}")
        self.push_update(update)
        return update

    def redeliver_last(self) -> None:
        """Make the next getUpdates return the previously delivered update again (no ack on Zalo)."""
        self._redeliver = True

    def fail_next_sends(self, count: int, kind: str = "429") -> None:
        """The next `count` sendMessage/sendPhoto calls fail with FAILURES[kind]."""
        self._failures.extend([kind] * count)

    def fail_next_polls(self, count: int, kind: str = "500") -> None:
        """The next `count` getUpdates calls fail with FAILURES[kind] (to exercise the backoff)."""
        self._poll_failures.extend([kind] * count)

    def sent_texts(self, chat_id: str | None = None) -> list[str]:
        """Texts of successful sendMessage calls, optionally for one chat."""
        return [c.body["text"] for c in self.calls if c.method == "sendMessage" and c.status == 200
                and (chat_id is None or c.body.get("chat_id") == chat_id)]

    def count(self, method: str) -> int:
        return sum(1 for c in self.calls if c.method == method)

    async def wait_for_calls(self, method: str, count: int, timeout: float = 5.0) -> list[Call]:
        """Wait until at least `count` calls of `method` were recorded; raise TimeoutError otherwise."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self.count(method) >= count), timeout)
        return [c for c in self.calls if c.method == method]

    async def wait_until_consumed(self, timeout: float = 5.0) -> None:
        """Wait until every queued update was delivered and the poller came back for more.

        An idle poll (408) recorded after the last delivery proves the client received that delivery:
        the real poller only asks again once it has taken the previous update in hand.
        """
        def consumed() -> bool:
            return self._delivered >= self._pushed and not self._redeliver and self._idle_since_delivery

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(consumed), timeout)

    # ---- server side -----------------------------------------------------------------------------

    async def _image(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        await self._record("image", {"name": name}, 200 if name in self._images else 404)
        if name not in self._images:
            return web.Response(status=404, text="Not Found")
        data, content_type = self._images[name]
        return web.Response(body=data, content_type=content_type)

    async def _record(self, method: str, body: dict[str, Any], status: int) -> None:
        async with self._changed:
            self.calls.append(Call(method, body, status))
            self._changed.notify_all()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        try:
            raw = await request.read()
            body = json.loads(raw) if raw else {}
        except ValueError:
            return _error(400, "Bad Request: body is not JSON")
        if not isinstance(body, dict):
            return _error(400, "Bad Request: body must be an object")
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found")
        response: web.StreamResponse = await handler(body)
        await self._record(method, body, response.status)
        return response

    async def _m_getMe(self, body: dict[str, Any]) -> web.Response:
        return _ok({"id": self.token.split(":")[0], "account_name": "bot.htxfake", "account_type": "BASIC",
                    "can_join_groups": False, "display_name": "Bot HTX"})

    async def _m_getUpdates(self, body: dict[str, Any]) -> web.Response:
        if self.webhook_url:
            return _error(400, "Bad Request: webhook is set, use deleteWebhook first")
        if self._poll_failures:
            status, payload = FAILURES[self._poll_failures.pop(0)]
            return web.json_response(payload, status=status)
        if self._redeliver and self._last is not None:
            self._redeliver, self._idle_since_delivery = False, False
            return _ok(self._last)
        try:
            wait = min(self.idle_wait, float(body.get("timeout") or 30))
            update = await asyncio.wait_for(self._queue.get(), wait)
        except TimeoutError:
            self._idle_since_delivery = True
            return _error(408, "Request timeout")
        self._last, self._idle_since_delivery = update, False
        self._delivered += 1
        return _ok(update)

    async def _m_setWebhook(self, body: dict[str, Any]) -> web.Response:
        secret = str(body.get("secret_token", ""))
        if not str(body.get("url", "")).startswith("https://") or not 8 <= len(secret) <= 256:
            return _error(400, "Bad Request: url must be https and secret_token 8-256 characters")
        self.webhook_url, self.webhook_secret = body["url"], secret
        return _ok({"url": self.webhook_url, "updated_at": _now_ms()})

    async def _m_deleteWebhook(self, body: dict[str, Any]) -> web.Response:
        self.webhook_url = self.webhook_secret = ""
        return _ok({"url": "", "updated_at": _now_ms()})

    async def _m_sendChatAction(self, body: dict[str, Any]) -> web.Response:
        return web.json_response({"ok": True})

    async def _m_sendMessage(self, body: dict[str, Any]) -> web.Response:
        text = body.get("text")
        if not body.get("chat_id") or not isinstance(text, str) or not 1 <= len(text) <= 2000:
            return _error(400, "Bad Request: text must be 1 to 2000 characters")
        return self._send_result(body)

    async def _m_sendPhoto(self, body: dict[str, Any]) -> web.Response:
        if not body.get("chat_id") or not str(body.get("photo", "")).startswith(("http://", "https://")):
            return _error(400, "Bad Request: photo must be an http(s) URL")
        return self._send_result(body)

    def _send_result(self, body: dict[str, Any]) -> web.Response:
        if self._failures:
            status, payload = FAILURES[self._failures.pop(0)]
            return web.json_response(payload, status=status)
        return _ok({"message_id": f"sent-{next(self._ids)}", "date": _now_ms()})


def text_update(text: str, *, chat_id: str = "chat-1", user_id: str = "chat-1", message_id: str | None = "msg-1",
                display_name: str = "Nguyễn Văn A", event_name: str | None = "message.text.received",
                chat_type: str = "PRIVATE", mention: str | None = None) -> dict[str, Any]:
    """A bare update as getUpdates returns it (the documented webhook sample's shape; see
    tests/fixtures/platform/README.md). `event_name=None` and `message_id=None` leave those keys out, as
    the getUpdates sample does; `mention` prefixes "@<mention> " as group messages to the bot are."""
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": _now_ms(),
        "from": {"id": user_id, "display_name": display_name, "is_bot": False},
        "chat": {"id": chat_id, "chat_type": chat_type},
        "text": f"@{mention} {text}" if mention else text,
    }
    if message_id is None:
        del message["message_id"]
    return {"message": message} if event_name is None else {"event_name": event_name, "message": message}


def image_update(photo_url: str, caption: str = "", *, chat_id: str = "chat-1", user_id: str = "chat-1",
                 message_id: str = "img-1", display_name: str = "Nguyễn Văn A",
                 field: str = "photo") -> dict[str, Any]:
    """A `message.image.received` update: no `text`, the picture's URL in `field` (the documented
    `photo`; recorded payloads also show `photo_url`) and an optional `caption`."""
    update = text_update("", chat_id=chat_id, user_id=user_id, message_id=message_id, display_name=display_name,
                         event_name="message.image.received")
    del update["message"]["text"]
    update["message"][field] = photo_url
    if caption:
        update["message"]["caption"] = caption
    return update


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str) -> web.Response:
    return web.json_response({"ok": False, "error_code": status, "description": description}, status=status)


def _now_ms() -> int:
    return int(time.time() * 1000)
