"""A small typed async client for the Zalo Bot API (bot-api.zaloplatforms.com), over one aiohttp session.

Protocol facts relied on are listed in docs/zalo.md. Two matter for safety here:
- the bot token is part of the URL path (`{base_url}{token}/{method}`), so this module never logs or
  raises anything containing a URL: aiohttp errors are replaced by our own messages (`from None`);
- Zalo answers an idle long poll with HTTP 408, which is the normal "nothing new" result.

Errors are mapped onto the core's delivery errors so a broadcaster can act on them without knowing
Zalo: `ZaloTransientError` (a `RetryLater`), `QuotaExceeded`, `RecipientBlocked`, `ZaloAuthError`
and `ZaloApiError` for other permanent failures.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.broadcast.errors import DeliveryUncertain
from bot.core.channel import DeliveryError, QuotaExceeded, RecipientBlocked, RetryLater

log = logging.getLogger(__name__)

MAX_TEXT = 2000
DEFAULT_BASE_URL = "https://bot-api.zaloplatforms.com/bot"
TOKEN_HINT = "HTXBOT_ZALO__TOKEN"

# Zalo publishes no error-code list; these description fragments are how a quota or a blocked user is
# recognised (lower-cased substring match). Quota is checked before the status so that a 429 caused by
# an exhausted monthly plan is not retried forever.
_QUOTA_WORDS = ("quota", "monthly limit", "message limit", "limit exceeded", "hạn mức", "vượt quá giới hạn")
_BLOCKED_WORDS = ("block", "chặn", "not allowed to send", "user not found")
_AUTH_WORDS = ("invalid token", "token invalid", "unauthorized", "invalid access token", "token expired")
_SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendSticker", "sendChatAction"})


class ZaloApiError(DeliveryError):
    """A permanent Zalo API failure (a 4xx or `ok: false` that retrying will not fix)."""

    def __init__(self, method: str, code: int, description: str) -> None:
        super().__init__(f"Zalo {method} failed: {code} {description}".strip())
        self.method = method
        self.code = code
        self.description = description


class ZaloAuthError(ZaloApiError):
    """The token was rejected: the bot cannot work until the operator fixes the configuration."""

    def __init__(self, method: str, code: int, description: str) -> None:
        super().__init__(method, code, description)
        self.args = (
            f"Zalo rejected the bot token ({method}: {code} {description}). "
            f"Check {TOKEN_HINT} (the token from Zalo Bot Creator, '<bot id>:<secret>').",
        )


class ZaloTransientError(RetryLater):
    """Network trouble, a timeout, 429 or 5xx: the same call may succeed later.

    `retry_after` is what Zalo asked for, or 0 when it said nothing (the caller's backoff decides).
    """


class ZaloUncertain(DeliveryUncertain):
    """A send whose request went out but whose answer never came: it may have been delivered."""


class ZaloDownloadError(Exception):
    """A picture a user sent could not be fetched: bad URL, HTTP status, timeout, or over the size cap."""


@dataclass(frozen=True)
class SentMessage:
    """What Zalo returns for a delivered message."""

    message_id: str
    date: int


class ZaloApi:
    """One bot's connection to the Zalo Bot API. Use as `async with ZaloApi(token) as api:`."""

    def __init__(self, token: str, base_url: str = DEFAULT_BASE_URL, *,
                 request_timeout: float = 15.0) -> None:
        if not token:
            raise ValueError(f"the Zalo bot token is empty: set {TOKEN_HINT}")
        self._token = token
        self._base_url = base_url
        self._request_timeout = request_timeout
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return "ZaloApi(token=<hidden>)"

    async def __aenter__(self) -> ZaloApi:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ---- methods ---------------------------------------------------------------------------------

    async def get_me(self) -> dict[str, Any]:
        """Validate the token; any 4xx here means the token is unusable."""
        result = await self._call("getMe", {}, token_check=True)
        return result if isinstance(result, dict) else {}

    async def get_updates(self, timeout: int = 30) -> dict[str, Any] | list[Any] | None:
        """Long-poll for updates: usually ONE update, sometimes a list; None when the poll ended idle (HTTP 408)."""
        result = await self._call("getUpdates", {"timeout": str(timeout)}, read_timeout=timeout + 10,
                                  idle_ok=True)
        return result if isinstance(result, (dict, list)) else None

    async def set_webhook(self, url: str, secret_token: str) -> dict[str, Any]:
        result = await self._call("setWebhook", {"url": url, "secret_token": secret_token})
        return result if isinstance(result, dict) else {}

    async def delete_webhook(self) -> None:
        """Needed before polling: getUpdates is refused while a webhook is set."""
        await self._call("deleteWebhook", {})

    async def send_message(self, chat_id: str, text: str) -> SentMessage:
        if not 1 <= len(text) <= MAX_TEXT:
            raise ValueError(f"text length {len(text)} is outside 1..{MAX_TEXT}; split it first")
        return _sent(await self._call("sendMessage", {"chat_id": chat_id, "text": text}))

    async def send_photo(self, chat_id: str, photo_url: str, caption: str = "") -> SentMessage:
        """Zalo takes photos by public http(s) URL only; there is no upload."""
        body = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            body["caption"] = caption[:MAX_TEXT]
        return _sent(await self._call("sendPhoto", body))

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        await self._call("sendChatAction", {"chat_id": chat_id, "action": action})

    async def download(self, url: str, max_bytes: int, timeout: float = 30.0) -> tuple[bytes, str]:
        """GET a file a user sent (an image event's `photo_url`); returns (bytes, content type).

        Reads at most `max_bytes` (more raises). Raises ZaloDownloadError, whose message never quotes the
        URL: CDN links can carry signatures.
        """
        if not url.startswith(("https://", "http://")):
            raise ZaloDownloadError("not an http(s) URL")
        try:
            async with self._session_or_new().get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
                if resp.status != 200:
                    raise ZaloDownloadError(f"HTTP {resp.status}")
                if resp.content_length is not None and resp.content_length > max_bytes:
                    raise ZaloDownloadError(f"{resp.content_length} bytes, over {max_bytes}")
                data = bytearray()
                async for chunk in resp.content.iter_chunked(64 * 1024):
                    data.extend(chunk)
                    if len(data) > max_bytes:
                        raise ZaloDownloadError(f"over {max_bytes} bytes")
                return bytes(data), resp.content_type
        except TimeoutError:
            raise ZaloDownloadError("timed out") from None
        except aiohttp.ClientError as exc:
            raise ZaloDownloadError(f"network error ({type(exc).__name__})") from None

    # ---- transport -------------------------------------------------------------------------------

    def _session_or_new(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _call(self, method: str, body: dict[str, Any], *, read_timeout: float | None = None,
                    idle_ok: bool = False, token_check: bool = False) -> Any:
        """POST one method and return `result`, or raise a mapped error. Never exposes the URL."""
        url = f"{self._base_url}{self._token}/{method}"
        timeout = aiohttp.ClientTimeout(total=read_timeout or self._request_timeout)
        log.debug("zalo call %s", method)
        try:
            async with self._session_or_new().post(url, json=body, timeout=timeout) as resp:
                status = resp.status
                raw = await resp.read()
                retry_header = resp.headers.get("Retry-After", "")
        except TimeoutError:
            if method in _SEND_METHODS - {"sendChatAction"}:  # the request went out: it may have arrived
                raise ZaloUncertain(f"Zalo {method}: no answer within {timeout.total}s") from None
            raise ZaloTransientError(0.0, f"Zalo {method}: timed out") from None
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as exc:
            if method in _SEND_METHODS - {"sendChatAction"}:
                raise ZaloUncertain(f"Zalo {method}: connection lost before the answer "
                                    f"({type(exc).__name__})") from None
            raise ZaloTransientError(0.0, f"Zalo {method}: network error ({type(exc).__name__})") from None
        except aiohttp.ClientError as exc:
            raise ZaloTransientError(0.0, f"Zalo {method}: network error ({type(exc).__name__})") from None
        data = _json_or_none(raw)
        if idle_ok and _is_idle(status, data):
            return None
        if status == 200 and isinstance(data, dict) and data.get("ok") is True:
            return data.get("result")
        raise _map_error(method, status, data, retry_header, token_check=token_check)


def _sent(result: Any) -> SentMessage:
    if not isinstance(result, dict):
        return SentMessage("", 0)
    date = result.get("date")
    return SentMessage(str(result.get("message_id", "")), date if isinstance(date, int) else 0)


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def _is_idle(status: int, data: Any) -> bool:
    """408, or an `ok: false` whose description says timeout (seen as the idle answer in SDKs)."""
    if status == 408:
        return True
    if isinstance(data, dict) and data.get("ok") is False:
        return data.get("error_code") == 408 or "timeout" in str(data.get("description", "")).lower()
    return False


def _map_error(method: str, status: int, data: Any, retry_header: str, *, token_check: bool) -> DeliveryError:
    """Turn a failed answer into the error the caller must act on (see module docstring).

    `token_check` (getMe): any remaining 4xx means the token is unusable, whatever its code.
    """
    body = data if isinstance(data, dict) else {}
    code = body.get("error_code") if isinstance(body.get("error_code"), int) else status
    description = str(body.get("description") or ("non-JSON answer" if data is None else ""))[:300]
    text = description.lower()
    if any(w in text for w in _QUOTA_WORDS):
        return QuotaExceeded(f"Zalo {method}: message quota exhausted ({code} {description})")
    summary = f"Zalo {method}: {code} {description}"
    if 429 in (status, code):
        return ZaloTransientError(_retry_after(body, retry_header, 1.0), summary)
    if status >= 500 or code >= 500 or (data is None and status < 400):
        return ZaloTransientError(_retry_after(body, retry_header, 0.0), summary)
    if 401 in (status, code) or any(w in text for w in _AUTH_WORDS):
        return ZaloAuthError(method, code, description)
    if method in _SEND_METHODS:
        if 403 in (status, code) or any(w in text for w in _BLOCKED_WORDS):
            return RecipientBlocked(f"Zalo {method}: recipient cannot be messaged ({code} {description})")
    elif token_check or 403 in (status, code):
        return ZaloAuthError(method, code, description)
    return ZaloApiError(method, code, description)


def _retry_after(body: dict[str, Any], header: str, default: float) -> float:
    """Seconds Zalo asked us to wait; `default` (0 = "use your own backoff") when it did not say."""
    params = body.get("parameters")
    if isinstance(params, dict) and isinstance(params.get("retry_after"), (int, float)):
        return float(params["retry_after"])
    try:
        return max(float(header), 0.0)
    except ValueError:
        return default
