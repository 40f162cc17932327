"""A strict stand-in for the Zalo Official Account Open API, its OAuth v4 host and its webhook sender.

Built from /work/shared/domain/zalo-oa.md (§9 lists what it imitates), not from our client:

- every answer is HTTP 200 with `{"error": 0, "message": "Success", "data": …}` or `{"error": <neg>,
  "message": …}`; HTTP 5xx only when a test injects an outage;
- `access_token` header required: unknown → -216, superseded by a refresh → -216, expired → -220;
- OAuth `POST /v4/oa/access_token`: form-encoded, `secret_key` header = the App Secret, authorization
  code single-use and valid 10 min with a PKCE S256 check, refresh tokens single-use and rotated on
  every refresh (a spent one → -14014), `expires_in` as the string "90000";
- cs messages: text ≤ 2,000 (-210), ≤ 5 buttons, title ≤ 100, query payload ≤ 1,000 (-201), unknown
  `template_type` (-233), the plain image shape (-201), file tokens that this fake issued within 7 days
  (-201); the 7-day interaction window (-230, or -232 by switch); following, for cs only when
  `cs_requires_follow` is set (whether the real API refuses cs to an unfollowed user is unconfirmed);
- uploads return `data.token` (file: .pdf/.doc/.docx ≤ 5 MB) or `data.attachment_id` (image ≤ 1 MB);
- a requests-per-minute budget → -32 with X-RateLimit headers;
- a webhook sender that serialises each event once, signs it (`mac=` + sha256(app_id + body + timestamp +
  OA secret key)), waits at most 2 s for a 200 and re-sends the identical body with `num_retry: N` on a
  compressed schedule, disabling the subscription after the last failure; it can sign wrongly, tamper,
  omit the header, send stale timestamps, deliver twice and echo our sends as `oa_send_text`.

Time is a fake clock (`now()` = real time + `offset`), so tests can age tokens and interactions.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

APP_ID = "3608465249409039670"
APP_SECRET = "fake-app-secret-key"
OA_ID = "3886132808788086451"
OA_SECRET = "fake-oa-secret-key"

ACCESS_TTL = 90000  # 25 h
REFRESH_TTL = 90 * 86400  # 3 months
CODE_TTL = 600
WINDOW = 7 * 86400
FREE_WINDOW = 48 * 3600
UPLOAD_TTL = 7 * 86400
RETRY_SCHEDULE = (0.05, 0.1, 0.15, 0.2, 0.25)  # stands in for 30 s, 5 min, 15 min, 30 min, 1 h

ERRORS = {
    -32: "Your application reached limit call api",
    -100: "attachment_id was expired",
    -201: "{field} is invalid!",
    -210: "Parameter exceeds allowable limit",
    -211: "Out of quota",
    -213: "User has not followed OA",
    -216: "Access token is invalid",
    -220: "access_token is expired or removed",
    -230: "User has not interacted with the OA in the past 7 days",
    -232: "User has not interacted with the OA, or the last interaction has expired",
    -233: "message type is invalid or not support",
    -234: "This message cannot be sent at night (10PM-6AM)",
    -14014: "Invalid refresh token",
    -14002: "Invalid secret key",  # our choice: the reference documents no code for a wrong secret
    -14019: "Invalid code",  # ours too: an unknown, reused or expired authorization code
    -14020: "Invalid code verifier",
}
FILE_TYPES = {".pdf", ".doc", ".docx"}
IMAGE_TYPES = {".jpg", ".jpeg", ".png"}
QUERY_TYPES = {"oa.query.show", "oa.query.hide"}
BUTTON_TYPES = QUERY_TYPES | {"oa.open.url", "oa.open.phone", "oa.open.sms"}
TEMPLATES = {"media", "list", "request_user_info", None}


def error(code: int, **fmt: str) -> dict[str, Any]:
    return {"error": code, "message": ERRORS.get(code, "error").format(**fmt)}


def sign(body: bytes, app_id: str, timestamp: str, key: str) -> str:
    """The `X-ZEvent-Signature` value Zalo sends for `body`."""
    return "mac=" + hashlib.sha256(app_id.encode() + body + timestamp.encode() + key.encode()).hexdigest()


def hex_id() -> str:
    return secrets.token_hex(10)


@dataclass
class OAUser:
    follower: bool = True
    last_interaction: float | None = None


@dataclass
class Sent:
    """One accepted message."""

    user_id: str
    message: dict[str, Any]
    message_id: str
    at: float
    billed: bool


@dataclass
class Delivery:
    """One webhook delivery attempt as the sender saw it."""

    body: bytes
    num_retry: int
    status: int | None  # None: timed out or could not connect
    elapsed: float


@dataclass
class FakeOAServer:
    """`await fake.start()`; point `openapi_base` and `oauth_base` at `fake.url`."""

    app_id: str = APP_ID
    app_secret: str = APP_SECRET
    oa_id: str = OA_ID
    oa_secret: str = OA_SECRET
    offset: float = 0.0  # fake clock: seconds added to real time
    window_code: int = -230
    cs_requires_follow: bool = False
    night_restricts_cs: bool = False
    rate_limit: int | None = None  # requests per (fake) minute on the Open API
    echo: bool = False
    webhook_url: str = ""
    webhook_timeout: float = 2.0
    retry_schedule: tuple[float, ...] = RETRY_SCHEDULE
    retry_on_non_200: bool = False
    users: dict[str, OAUser] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    uploads: int = 0
    refresh_attempts: int = 0
    refreshes: int = 0
    outage: int = 0  # the next N Open API calls answer HTTP 503
    fail_next: list[int] = field(default_factory=list)  # error codes for the next Open API calls
    subscription_disabled: bool = False

    def __post_init__(self) -> None:
        self._access: dict[str, tuple[float, bool]] = {}  # token -> (expires_at, superseded)
        self._refresh: dict[str, tuple[float, bool]] = {}  # token -> (expires_at, spent)
        self._codes: dict[str, tuple[str, float, bool]] = {}  # code -> (challenge, expires, used)
        self._uploads: dict[str, tuple[str, bytes, float]] = {}  # token -> (filename, data, issued)
        self._media: dict[str, tuple[bytes, str]] = {}
        self._minute: tuple[int, int] = (-1, 0)
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ids = itertools.count(1)
        self.refresh_hold: asyncio.Event | None = None  # set: a refresh rotates, then waits for it
        self.refresh_hold_before: asyncio.Event | None = None  # set: a refresh waits for it, then rotates
        self.refresh_started = asyncio.Event()
        self.url = ""

    # ---- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_post("/v3.0/oa/message/{kind:cs|transaction|promotion}", self._message)
        app.router.add_post("/v2.0/oa/upload/{kind:file|image|gif}", self._upload)
        app.router.add_get("/v3.0/oa/user/detail", self._user_detail)
        app.router.add_get("/v2.0/oa/getoa", self._getoa)
        app.router.add_post("/v4/oa/access_token", self._oauth)
        app.router.add_get("/media/{name}", self._serve_media)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def now(self) -> float:
        return time.time() + self.offset

    # ---- what tests set up -----------------------------------------------------------------------

    def grant(self) -> tuple[str, str]:
        """A fresh (access, refresh) pair, as if an admin had just authorised the app."""
        access, refresh = "acc-" + secrets.token_urlsafe(24), "ref-" + secrets.token_urlsafe(24)
        now = self.now()
        self._access[access] = (now + ACCESS_TTL, False)
        self._refresh[refresh] = (now + REFRESH_TTL, False)
        return access, refresh

    def authorize(self, code_challenge: str) -> str:
        """The admin consented on Zalo's page: an authorization code bound to this PKCE challenge."""
        code = "code-" + secrets.token_urlsafe(12)
        self._codes[code] = (code_challenge, self.now() + CODE_TTL, False)
        return code

    def interacted(self, user_id: str, seconds_ago: float = 0.0, follower: bool = True) -> None:
        """Record that `user_id` interacted with the OA `seconds_ago` (fake clock)."""
        user = self.users.setdefault(user_id, OAUser())
        user.last_interaction = self.now() - seconds_ago
        user.follower = follower

    def add_media(self, data: bytes, name: str, content_type: str) -> str:
        """Serve a file users send (the zdn.vn CDN stand-in); returns its URL."""
        self._media[name] = (data, content_type)
        return f"{self.url}/media/{name}"

    def texts(self, user_id: str | None = None) -> list[str]:
        return [s.message.get("text", "") for s in self.sent if user_id is None or s.user_id == user_id]

    # ---- events (Zalo → bot) ---------------------------------------------------------------------

    def event(self, name: str, user_id: str, **fields: Any) -> dict[str, Any]:
        """An event shaped as in the reference §2.2 (string ids, 13-digit string timestamp)."""
        body: dict[str, Any] = {"app_id": self.app_id, "user_id_by_app": "app-" + user_id, "event_name": name,
                                "timestamp": str(int(self.now() * 1000))}
        if name in ("follow", "unfollow"):
            body.update(oa_id=self.oa_id, source="oa_profile", follower={"id": user_id})
        else:
            body.update(sender={"id": user_id}, recipient={"id": self.oa_id})
        body.update(fields)
        return body

    def text_event(self, user_id: str, text: str, msg_id: str | None = None) -> dict[str, Any]:
        return self.event("user_send_text", user_id, message={"msg_id": msg_id or hex_id(), "text": text})

    def attachment_event(self, user_id: str, kind: str, payload: dict[str, Any], text: str = "") -> dict[str, Any]:
        return self.event(f"user_send_{kind}", user_id, message={
            "msg_id": hex_id(), "text": text, "attachments": [{"type": kind, "payload": payload}]})

    async def send_event(self, body: dict[str, Any], *, key: str | None = None, tamper: bool = False,
                         signature: str | None = None, unsigned: bool = False) -> list[Delivery]:
        """Post one event to the bot's webhook with retries; returns this event's delivery attempts.

        The body is serialised once and re-sent byte for byte. A user event, `follow` or
        `user_click_chatnow` counts as an interaction (and `unfollow` clears the follower flag) when sent.
        """
        raw = json.dumps(body, ensure_ascii=False).encode()
        mac = signature if signature is not None else sign(raw, str(body.get("app_id", "")),
                                                           str(body.get("timestamp", "")), key or self.oa_secret)
        if tamper:
            raw = raw.replace(b'"text": "', b'"text": "!', 1) if b'"text": "' in raw else raw + b" "
        self._note_interaction(body)
        headers = {"Content-Type": "application/json"}
        if not unsigned:
            headers["X-ZEvent-Signature"] = mac
        attempts: list[Delivery] = []
        if self.subscription_disabled:
            return attempts
        for attempt in range(len(self.retry_schedule) + 1):
            if attempt:
                await asyncio.sleep(self.retry_schedule[attempt - 1])
                headers["num_retry"] = str(attempt)
            started = time.monotonic()
            status: int | None
            try:
                timeout = aiohttp.ClientTimeout(total=self.webhook_timeout)
                async with aiohttp.ClientSession(timeout=timeout) as session, \
                        session.post(self.webhook_url, data=raw, headers=headers) as resp:
                    await resp.read()
                    status = resp.status
            except (TimeoutError, aiohttp.ClientError):
                status = None
            delivery = Delivery(raw, attempt, status, time.monotonic() - started)
            self.deliveries.append(delivery)
            attempts.append(delivery)
            if status == 200 or (status is not None and not self.retry_on_non_200):
                return attempts
        self.subscription_disabled = True
        return attempts

    async def probe(self) -> int:
        """The request Zalo sends when the webhook URL is saved: it wants a 200."""
        async with aiohttp.ClientSession() as session, session.post(
                self.webhook_url, json={"app_id": self.app_id, "timestamp": str(int(self.now() * 1000))}) as resp:
            return resp.status

    def _note_interaction(self, body: dict[str, Any]) -> None:
        name = str(body.get("event_name", ""))
        user_id = (body.get("follower") or body.get("sender") or {}).get("id") or body.get("user_id")
        if not user_id:
            return
        user = self.users.setdefault(str(user_id), OAUser(follower=False))
        if name == "unfollow":
            user.follower = False
        elif name.startswith("user_") or name == "follow":
            user.last_interaction = self.now()
            if name == "follow":
                user.follower = True

    # ---- Open API --------------------------------------------------------------------------------

    def _envelope(self, payload: dict[str, Any], status: int = 200) -> web.Response:
        headers = {}
        if self.rate_limit is not None:
            headers = {"X-RateLimit-Limit": str(self.rate_limit),
                       "X-RateLimit-Remain": str(max(0, self.rate_limit - self._minute[1]))}
        return web.json_response(payload, status=status, headers=headers)

    def _gate(self, request: web.Request) -> web.Response | None:
        """Outage, rate limit, injected failure and the access token: an answer, or None to go on."""
        if self.outage > 0:
            self.outage -= 1
            return web.json_response({"error": -1, "message": "Service Unavailable"}, status=503)
        minute = int(self.now() // 60)
        count = self._minute[1] + 1 if self._minute[0] == minute else 1
        self._minute = (minute, count)
        if self.rate_limit is not None and count > self.rate_limit:
            return self._envelope(error(-32))
        if self.fail_next:
            return self._envelope(error(self.fail_next.pop(0), field="user_id"))
        token = request.headers.get("access_token", "")
        known = self._access.get(token)
        if known is None or known[1]:
            return self._envelope(error(-216))
        if known[0] <= self.now():
            return self._envelope(error(-220))
        return None

    async def _message(self, request: web.Request) -> web.Response:
        refused = self._gate(request)
        if refused is not None:
            return refused
        try:
            body = await request.json()
        except ValueError:
            return self._envelope(error(-201, field="body"))
        user_id = str(((body.get("recipient") or {}).get("user_id")) or "")
        message = body.get("message")
        if not user_id:
            return self._envelope(error(-201, field="user_id"))
        if not isinstance(message, dict) or not (message.get("text") or message.get("attachment")):
            return self._envelope(error(-201, field="message"))
        problem = self._check_message(message)
        if problem is not None:
            return self._envelope(problem)
        user = self.users.get(user_id)
        now = self.now()
        kind = request.match_info["kind"]
        if (kind == "promotion" or self.cs_requires_follow) and (user is None or not user.follower):
            return self._envelope(error(-213))
        if kind == "promotion" or self.night_restricts_cs:
            hour = time.gmtime(now + 7 * 3600).tm_hour  # Vietnam time
            if hour >= 22 or hour < 6:
                return self._envelope(error(-234))
        if kind == "cs" and (user is None or user.last_interaction is None or now - user.last_interaction > WINDOW):
            return self._envelope(error(self.window_code))
        inside_free = user is not None and user.last_interaction is not None and \
            now - user.last_interaction <= FREE_WINDOW
        record = Sent(user_id, message, hex_id(), now, billed=not inside_free)
        self.sent.append(record)
        data: dict[str, Any] = {"message_id": record.message_id, "user_id": user_id,
                                "sent_time": str(int(now * 1000))}
        if inside_free:
            data["quota"] = {"quota_type": "reply", "remain": "8", "total": "8"}
        if self.echo and self.webhook_url and message.get("text"):
            echo = self.event("oa_send_text", self.oa_id, recipient={"id": user_id},
                              message={"msg_id": record.message_id, "text": message["text"]})
            self._spawn(self.send_event(echo))
        return self._envelope({"error": 0, "message": "Success", "data": data})

    def _check_message(self, message: dict[str, Any]) -> dict[str, Any] | None:
        text = message.get("text")
        if text is not None and (not isinstance(text, str) or len(text) > 2000):
            return error(-210)
        attachment = message.get("attachment")
        if attachment is None:
            return None
        kind, payload = attachment.get("type"), attachment.get("payload") or {}
        if kind == "file":
            upload = self._uploads.get(str(payload.get("token", "")))
            if upload is None or self.now() - upload[2] > UPLOAD_TTL:
                return error(-201, field="token")
            return None
        if kind != "template":
            return error(-201, field="attachment.type")
        template = payload.get("template_type")
        if template not in TEMPLATES:
            return error(-233)
        if template == "media":
            elements = payload.get("elements") or []
            if len(elements) != 1 or elements[0].get("media_type") not in ("image", "gif"):
                return error(-201, field="elements")
            element = elements[0]
            if "attachment_id" in element:
                upload = self._uploads.get(str(element["attachment_id"]))
                if upload is None or self.now() - upload[2] > UPLOAD_TTL:
                    return error(-100)
            elif not str(element.get("url", "")).startswith("https://"):
                return error(-201, field="url")
            return None
        if template == "request_user_info":
            elements = payload.get("elements") or []
            if len(elements) != 1 or len(str(elements[0].get("title", ""))) > 100:
                return error(-201, field="elements")
            return None
        buttons = payload.get("buttons") or []
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 5:
            return error(-201, field="buttons")
        for button in buttons:
            title, btype, bpayload = button.get("title"), button.get("type"), button.get("payload")
            if not isinstance(title, str) or not 1 <= len(title) <= 100 or btype not in BUTTON_TYPES:
                return error(-201, field="button")
            if btype in QUERY_TYPES and (not isinstance(bpayload, str) or not 1 <= len(bpayload) <= 1000):
                return error(-201, field="button.payload")
        return None

    async def _upload(self, request: web.Request) -> web.Response:
        refused = self._gate(request)
        if refused is not None:
            return refused
        post = await request.post()
        part = post.get("file")
        if not isinstance(part, web.FileField):
            return self._envelope(error(-201, field="file"))
        data = part.file.read()
        name = part.filename or ""
        ext = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
        kind = request.match_info["kind"]
        allowed, cap = (FILE_TYPES, 5 * 1024 * 1024) if kind == "file" else (IMAGE_TYPES, 1024 * 1024)
        if kind == "file" and not ext:
            return self._envelope({"error": 0, "message": "Success", "data": {}})  # observed: empty data
        if ext not in allowed:
            return self._envelope(error(-201, field="file"))
        if len(data) > cap:
            return self._envelope(error(-210))
        token = secrets.token_urlsafe(24)
        self._uploads[token] = (name, data, self.now())
        self.uploads += 1
        key = "token" if kind == "file" else "attachment_id"
        return self._envelope({"error": 0, "message": "Success", "data": {key: token}})

    def uploaded(self, token: str) -> tuple[str, bytes]:
        """(filename, bytes) of an upload, for assertions."""
        name, data, _ = self._uploads[token]
        return name, data

    async def _user_detail(self, request: web.Request) -> web.Response:
        refused = self._gate(request)
        if refused is not None:
            return refused
        try:
            user_id = str(json.loads(request.query.get("data", "{}")).get("user_id", ""))
        except ValueError:
            return self._envelope(error(-201, field="data"))
        user = self.users.get(user_id)
        if user is None:
            return self._envelope(error(-201, field="user_id"))
        return self._envelope({"error": 0, "message": "Success", "data": {
            "user_id": user_id, "user_is_follower": user.follower, "display_name": "Người dùng"}})

    async def _getoa(self, request: web.Request) -> web.Response:
        refused = self._gate(request)
        if refused is not None:
            return refused
        return self._envelope({"error": 0, "message": "Success", "data": {
            "oaid": self.oa_id, "name": "Liên minh HTX tỉnh (thử)", "oa_type": 4, "is_verified": True}})

    async def _serve_media(self, request: web.Request) -> web.Response:
        found = self._media.get(request.match_info["name"])
        if found is None:
            raise web.HTTPNotFound()
        return web.Response(body=found[0], content_type=found[1])

    # ---- OAuth v4 --------------------------------------------------------------------------------

    async def _oauth(self, request: web.Request) -> web.Response:
        if request.content_type != "application/x-www-form-urlencoded":
            return web.json_response(error(-14001) | {"message": "Content-Type must be form-urlencoded"})
        if request.headers.get("secret_key") != self.app_secret:
            return web.json_response(error(-14002))
        form = await request.post()
        if form.get("app_id") != self.app_id:
            return web.json_response({"error": -14001, "message": "Invalid app_id"})
        grant = form.get("grant_type")
        now = self.now()
        if grant == "authorization_code":
            code = str(form.get("code", ""))
            found = self._codes.get(code)
            if found is None or found[2] or found[1] <= now:
                return web.json_response(error(-14019))
            self._codes[code] = (found[0], found[1], True)
            verifier = str(form.get("code_verifier", ""))
            if challenge_of(verifier) != found[0]:
                return web.json_response(error(-14020))
            return web.json_response(self._issue())
        if grant == "refresh_token":
            self.refresh_attempts += 1
            self.refresh_started.set()
            if self.refresh_hold_before is not None:  # the request waits before Zalo acts on it
                await self.refresh_hold_before.wait()
                if request.transport is None or request.transport.is_closing():
                    return web.Response(status=499)  # the caller died first: nothing was rotated
            token = str(form.get("refresh_token", ""))
            found = self._refresh.get(token)
            if found is None or found[1] or found[0] <= now:
                return web.json_response(error(-14014))
            self._refresh[token] = (found[0], True)
            for access, (expires, _) in list(self._access.items()):
                self._access[access] = (expires, True)  # reported: old access tokens die on refresh
            self.refreshes += 1
            pair = self._issue()
            if self.refresh_hold is not None:  # rotated at Zalo; the answer is held back
                await self.refresh_hold.wait()
            return web.json_response(pair)
        return web.json_response({"error": -14001, "message": "Invalid grant_type"})

    def _issue(self) -> dict[str, Any]:
        access, refresh = self.grant()
        return {"access_token": access, "refresh_token": refresh, "expires_in": str(ACCESS_TTL)}

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def challenge_of(verifier: str) -> str:
    """PKCE S256: base64url(sha256(verifier)) without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
