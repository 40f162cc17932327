"""A small async client for the Zalo Official Account Open API and its OAuth v4 host (aiohttp).

Facts relied on (docs/zalo-oa.md, reference /work/shared/domain/zalo-oa.md): every answer is HTTP 200
with `{"error": <int>, "message": …}`, 0 meaning success, so outcomes are read from the body; each call
carries the header `access_token`; a rejected token (-216/-220, also seen as 216/401/-401) is refreshed
once and the call retried once, never in a loop. Error codes map onto the core's delivery errors so the
broadcaster can act without knowing Zalo: not following → `NotFollowing` (a `RecipientBlocked`),
outside the 7-day window → `OutsideWindow`, -32 → `OARateLimited` (a `RetryLater` of 60 s), -234 →
`NightTime` (retry once the night is over), HTTP 5xx, timeouts and -200 → `OATransient`.
Tokens never appear in logs or error messages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import aiohttp

from bot.core.channel import DeliveryError, QuotaExceeded, RecipientBlocked, RetryLater

log = logging.getLogger(__name__)

TOKEN_CODES = frozenset({-216, -220, 216, 401, -401})
WINDOW_CODES = frozenset({-230, -232})
BLOCKED_CODES = frozenset({-217, -227, -244})
REAUTH_CODES = frozenset({-118, -14014})  # a spent or unknown refresh token: only `connect` helps
RATE_PAUSE = 60.0  # seconds to stop after -32 (a per-minute limit)
VN = timedelta(hours=7)


class OAApiError(DeliveryError):
    """A permanent OA API failure, with Zalo's code and message."""

    def __init__(self, code: int, message: str, what: str = "") -> None:
        super().__init__(f"Zalo OA {what}: {code} {message}".strip())
        self.code = code
        self.message = message


class OATokenRejected(OAApiError):
    """The access token was refused even after a refresh."""


class OutsideWindow(RecipientBlocked):
    """The member has not interacted with the OA in the last 7 days: reachable again once they write."""


class NotFollowing(RecipientBlocked):
    """The member does not follow the OA (-213)."""


class OARateLimited(RetryLater):
    """-32: the app or OA reached its per-minute call limit."""


class NightTime(RetryLater):
    """-234: this message type may not be sent between 22:00 and 06:00."""


class OATransient(RetryLater):
    """HTTP 5xx, a timeout, a network error or -200: the same call may succeed later."""


class OAQuota(QuotaExceeded):
    """-211: a feature quota of the OA is spent (uploads, for instance)."""


class OAuthError(Exception):
    """The OAuth host refused; `permanent` when the refresh token is spent or unknown."""

    def __init__(self, code: int, message: str, permanent: bool) -> None:
        super().__init__(f"Zalo OAuth: {code} {message}")
        self.code = code
        self.permanent = permanent


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_at: datetime

    def __repr__(self) -> str:
        return f"TokenPair(expires_at={self.expires_at.isoformat()}, tokens=<hidden>)"


def seconds_until_morning(now: datetime, end_hour: int) -> float:
    """Seconds from `now` until `end_hour`:00 Vietnam time (the end of the night restriction)."""
    local = now.astimezone(UTC) + VN
    morning = local.replace(hour=end_hour, minute=0, second=0, microsecond=0)
    if morning <= local:
        morning += timedelta(days=1)
    return (morning - local).total_seconds()


def error_for(code: int, message: str, what: str, night_end_hour: int = 6) -> DeliveryError:
    """The delivery error a Zalo error code means (see module docstring)."""
    summary = f"Zalo OA {what}: {code} {message}"
    if code in WINDOW_CODES:
        return OutsideWindow(summary)
    if code == -213:
        return NotFollowing(summary)
    if code in BLOCKED_CODES:
        return RecipientBlocked(summary)
    if code == -32:
        return OARateLimited(RATE_PAUSE, summary)
    if code == -234:
        return NightTime(seconds_until_morning(datetime.now(UTC), night_end_hour), summary)
    if code == -200:
        return OATransient(0.0, summary)
    if code == -211:
        return OAQuota(summary)
    if code in TOKEN_CODES:
        return OATokenRejected(code, message, what)
    return OAApiError(code, message, what)


class TokenSource(Protocol):
    async def access_token(self) -> str: ...

    async def token_rejected(self, token: str) -> str: ...


class OAuthClient:
    """`POST {oauth_base}/v4/oa/access_token`: form-encoded, App Secret in the `secret_key` header."""

    def __init__(self, oauth_base: str, app_id: str, app_secret: str, timeout: float = 15.0) -> None:
        self.url = oauth_base.rstrip("/") + "/v4/oa/access_token"
        self.app_id = app_id
        self._secret = app_secret
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"OAuthClient(app_id={self.app_id!r})"

    async def exchange_code(self, code: str, code_verifier: str) -> TokenPair:
        """The one-time authorization code (with its PKCE verifier) for the first token pair."""
        return await self._post({"grant_type": "authorization_code", "code": code, "code_verifier": code_verifier})

    async def refresh(self, refresh_token: str) -> TokenPair:
        """A new pair; Zalo spends `refresh_token` at once, so persist the answer before using it."""
        return await self._post({"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def _post(self, form: dict[str, str]) -> TokenPair:
        started = datetime.now(UTC)
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as session, \
                    session.post(self.url, data={"app_id": self.app_id, **form},
                                 headers={"secret_key": self._secret}) as resp:
                status = resp.status
                body = await resp.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise OAuthError(0, f"network or format error ({type(exc).__name__})", permanent=False) from None
        if not isinstance(body, dict):
            raise OAuthError(status, "unexpected answer", permanent=False)
        if body.get("access_token") and body.get("refresh_token"):
            try:
                seconds = int(str(body.get("expires_in", "90000")))
            except ValueError:
                seconds = 90000
            return TokenPair(str(body["access_token"]), str(body["refresh_token"]),
                             started + timedelta(seconds=seconds))
        code = body.get("error")
        code = code if isinstance(code, int) else status
        message = str(body.get("message") or body.get("error_description") or "")[:200]
        permanent = code in REAUTH_CODES or form["grant_type"] == "authorization_code"
        raise OAuthError(code, message, permanent=permanent)


class OAClient:
    """The OA Open API with one token source. Use `async with` or call `close()`."""

    def __init__(self, openapi_base: str, tokens: TokenSource, *, timeout: float = 15.0,
                 night_end_hour: int = 6) -> None:
        self.base = openapi_base.rstrip("/")
        self.tokens = tokens
        self.timeout = timeout
        self.night_end_hour = night_end_hour
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> OAClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    async def send_cs(self, user_id: str, message: dict[str, Any]) -> str:
        """One consultation message; returns Zalo's message id."""
        data = await self.call("POST", "/v3.0/oa/message/cs", "send",
                               json={"recipient": {"user_id": user_id}, "message": message})
        return str(data.get("message_id", ""))

    async def upload(self, kind: str, filename: str, content: bytes, mime: str) -> str:
        """Upload a file (`kind` "file": pdf/doc/docx) or an image; the token or attachment id to send."""

        def form() -> aiohttp.FormData:
            data = aiohttp.FormData()
            data.add_field("file", content, filename=filename, content_type=mime)
            return data

        data = await self.call("POST", f"/v2.0/oa/upload/{kind}", "upload", form=form)
        token = data.get("token") or data.get("attachment_id")
        if not token:
            raise OAApiError(0, "upload answered without a token (file name without extension?)", "upload")
        return str(token)

    async def user_detail(self, user_id: str) -> dict[str, Any]:
        import json

        return await self.call("GET", "/v3.0/oa/user/detail", "user detail",
                               params={"data": json.dumps({"user_id": user_id})})

    async def download(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        """A file a member sent (a CDN URL); at most `max_bytes`. Raises DeliveryError on failure."""
        if not url.startswith(("https://", "http://")):
            raise OAApiError(0, "not an http(s) URL", "download")
        try:
            async with self._http().get(url) as resp:
                if resp.status != 200:
                    raise OAApiError(resp.status, "download refused", "download")
                data = bytearray()
                async for chunk in resp.content.iter_chunked(64 * 1024):
                    data.extend(chunk)
                    if len(data) > max_bytes:
                        raise OAApiError(0, f"over {max_bytes} bytes", "download")
                return bytes(data), resp.content_type
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise OATransient(0.0, f"download failed ({type(exc).__name__})") from None

    async def call(self, method: str, path: str, what: str, *, json: Any = None,
                   params: dict[str, str] | None = None,
                   form: Callable[[], aiohttp.FormData] | None = None) -> dict[str, Any]:
        """One API call: `data` on success; refresh-and-retry once on a rejected token; else raise."""
        token = await self.tokens.access_token()
        for attempt in (1, 2):
            code, message, data = await self._once(method, path, what, token, json, params, form)
            if code == 0:
                return data
            if code in TOKEN_CODES and attempt == 1:
                log.info("zalo-oa: access token refused (%s) on %s; refreshing once", code, what)
                token = await self.tokens.token_rejected(token)
                continue
            raise error_for(code, message, what, self.night_end_hour)
        raise AssertionError("unreachable")

    async def _once(self, method: str, path: str, what: str, token: str, json: Any,
                    params: dict[str, str] | None,
                    form: Callable[[], aiohttp.FormData] | None) -> tuple[int, str, dict[str, Any]]:
        try:
            async with self._http().request(method, self.base + path, json=json, params=params,
                                            data=form() if form else None,
                                            headers={"access_token": token}) as resp:
                status = resp.status
                body = await resp.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise OATransient(0.0, f"Zalo OA {what}: network or format error ({type(exc).__name__})") from None
        if status >= 500:
            raise OATransient(0.0, f"Zalo OA {what}: HTTP {status}")
        if not isinstance(body, dict) or not isinstance(body.get("error"), int):
            raise OAApiError(status, "answer without an error code", what)
        data = body.get("data")
        return body["error"], str(body.get("message", ""))[:300], data if isinstance(data, dict) else {}
