"""The OA's OAuth tokens: stored encrypted, refreshed by exactly one process, never silently lost.

Zalo's refresh token is single-use and rotates on every refresh (the old access token reportedly dies
too). So a refresh happens inside one database transaction that first takes a write lock on the token
row (`SELECT … FOR UPDATE` on PostgreSQL; an UPDATE of the row on SQLite, which takes the database's
write lock across processes), re-reads the row, and refreshes only if nobody did meanwhile (`version`
unchanged). The new pair is written in the same transaction and committed before anything uses it.

The window a crash can hurt is the moment between Zalo rotating the pair and our commit. A process
killed there leaves the old, spent refresh token in the database: the next refresh is refused
(-14014), the row is marked `needs_connect`, and admins are told (an ERROR log line naming
`htxbot zalo-oa connect`, `/zalo-oa/healthz` degraded, a chat message through `on_alert`). A process
killed before Zalo answered leaves a valid pair and the lock is released by the database.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, update

from bot.channels.zalo_oa_api import OATransient, OAuthClient, OAuthError, TokenPair
from bot.config import ConfigError
from bot.core.channel import DeliveryError
from bot.storage.db import Database
from bot.storage.models import utcnow
from bot.storage.models_zalo_oa import ZaloOAToken

log = logging.getLogger(__name__)

ROW_ID = "oa"
CONNECT_HINT = "run `htxbot zalo-oa connect` to authorise the Official Account again"
CONSENT_PATH = "/v4/oa/permission"
Alert = Callable[[str], Awaitable[None]]


class ReconnectNeeded(DeliveryError):
    """There is no usable token pair: an admin must run `htxbot zalo-oa connect`."""


def as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class TokenCipher:
    """Fernet (AES-128-CBC + HMAC) with the key from `HTXBOT_ZALO_OA__TOKEN_KEY`."""

    def __init__(self, key: str) -> None:
        if not key:
            raise ConfigError("zalo_oa.token_key: set HTXBOT_ZALO_OA__TOKEN_KEY (make one with "
                              "`htxbot zalo-oa new-key`)")
        try:
            self._fernet = Fernet(key.encode())
        except (ValueError, TypeError):
            raise ConfigError("zalo_oa.token_key: not a Fernet key (32 url-safe base64 bytes)") from None

    def __repr__(self) -> str:
        return "TokenCipher(<hidden>)"

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, value: str) -> str:
        try:
            return self._fernet.decrypt(value.encode()).decode()
        except InvalidToken:
            raise ReconnectNeeded("the stored Zalo OA tokens cannot be decrypted with this token_key; "
                                  + CONNECT_HINT) from None


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, code_challenge): 43 random letters and digits, and its S256 challenge."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    verifier = "".join(secrets.choice(alphabet) for _ in range(43))
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
    return verifier, challenge


def consent_url(oauth_base: str, app_id: str, redirect_uri: str, challenge: str, state: str) -> str:
    """The page where an OA admin grants the app access (`/v4/oa/permission`, not Social login)."""
    query = urlencode({"app_id": app_id, "redirect_uri": redirect_uri, "code_challenge": challenge,
                       "state": state})
    return f"{oauth_base.rstrip('/')}{CONSENT_PATH}?{query}"


class TokenStore:
    """Hands out a valid access token; refreshes it under a database lock; raises ReconnectNeeded."""

    def __init__(self, db: Database, cipher: TokenCipher, oauth: OAuthClient, *,
                 margin: timedelta = timedelta(minutes=60), on_alert: Alert | None = None) -> None:
        self.db = db
        self.cipher = cipher
        self.oauth = oauth
        self.margin = margin
        self.on_alert = on_alert
        self.problem = ""  # non-empty: the channel cannot send; shown by the health check
        self._cached: tuple[str, datetime, int] | None = None  # (access token, expires at, version)
        self._local = asyncio.Lock()

    def __repr__(self) -> str:
        return f"TokenStore(problem={self.problem!r})"

    async def save(self, pair: TokenPair) -> None:
        """Store a pair obtained by `connect` (replacing whatever was there) and clear the alarm."""
        async with self.db.unit() as s:
            row = await s.get(ZaloOAToken, ROW_ID)
            if row is None:
                row = ZaloOAToken(id=ROW_ID, version=0, lock_count=0)
                s.add(row)
            row.access_token = self.cipher.encrypt(pair.access_token)
            row.refresh_token = self.cipher.encrypt(pair.refresh_token)
            row.access_expires_at = pair.expires_at
            row.version = (row.version or 0) + 1
            row.needs_connect, row.last_error, row.refreshed_at = False, "", utcnow()
        self._cached = None
        self.problem = ""

    async def status(self) -> tuple[bool, str]:
        """(usable, description) for `htxbot zalo-oa status` and the health check; never shows tokens."""
        async with self.db.unit() as s:
            row = await s.get(ZaloOAToken, ROW_ID)
        if row is None:
            return False, "not connected: " + CONNECT_HINT
        if row.needs_connect:
            return False, f"needs connect ({row.last_error}): {CONNECT_HINT}"
        return True, f"connected; access token valid until {as_utc(row.access_expires_at).isoformat()}"

    async def access_token(self) -> str:
        """A token valid for at least `margin`, refreshing first if needed."""
        now = utcnow()
        if self._cached and self._cached[1] - self.margin > now:
            return self._cached[0]
        token, expires, version = await self._load()
        if expires - self.margin > now:
            return token
        return await self._refresh(version)

    async def token_rejected(self, token: str) -> str:
        """Zalo refused `token`: use a newer one another process stored, else refresh once."""
        self._cached = None
        fresh, _expires, version = await self._load()
        if fresh != token:
            return fresh
        return await self._refresh(version)

    async def _load(self) -> tuple[str, datetime, int]:
        async with self.db.unit() as s:
            row = await s.get(ZaloOAToken, ROW_ID)
            if row is None or row.needs_connect:
                reason = "no tokens stored" if row is None else row.last_error
                raise await self._alarm(reason, already_marked=True)
            token, expires, version = self.cipher.decrypt(row.access_token), as_utc(row.access_expires_at), row.version
        self._cached = (token, expires, version)
        self.problem = ""  # a `connect` run elsewhere may have repaired it
        return token, expires, version

    async def _refresh(self, seen_version: int) -> str:
        async with self._local:  # one refresh per process; others queue here, then on the database
            failure: OAuthError | None = None
            async with self.db.unit() as s:
                if self.db.is_sqlite:  # the UPDATE takes SQLite's write lock, held until commit
                    await s.execute(update(ZaloOAToken).where(ZaloOAToken.id == ROW_ID)
                                    .values(lock_count=ZaloOAToken.lock_count + 1))
                row = await s.scalar(select(ZaloOAToken).where(ZaloOAToken.id == ROW_ID)
                                     .with_for_update().execution_options(populate_existing=True))
                if row is None or row.needs_connect:
                    failure = OAuthError(0, "no usable tokens stored", permanent=True)
                elif row.version != seen_version:  # someone refreshed while we waited for the lock
                    token = self.cipher.decrypt(row.access_token)
                    self._cached = (token, as_utc(row.access_expires_at), row.version)
                    return token
                else:
                    try:
                        pair = await self.oauth.refresh(self.cipher.decrypt(row.refresh_token))
                    except OAuthError as exc:
                        failure = exc
                        if exc.permanent:
                            row.needs_connect, row.last_error = True, str(exc)[:300]
                    else:
                        row.access_token = self.cipher.encrypt(pair.access_token)
                        row.refresh_token = self.cipher.encrypt(pair.refresh_token)
                        row.access_expires_at, row.refreshed_at = pair.expires_at, utcnow()
                        row.version += 1
                        version = row.version
            if failure is None:  # committed: only now is the new pair used
                self._cached = (pair.access_token, pair.expires_at, version)
                self.problem = ""
                log.info("zalo-oa: access token refreshed (valid until %s)", pair.expires_at.isoformat())
                return pair.access_token
        if failure.permanent:
            raise await self._alarm(str(failure))
        log.warning("zalo-oa: token refresh failed for now (%s); will retry", failure)
        raise OATransient(30.0, f"token refresh failed for now: {failure}")

    async def _alarm(self, reason: str, already_marked: bool = False) -> ReconnectNeeded:
        """Tell admins (once per distinct problem) and return the error to raise."""
        message = f"Zalo OA cannot send: {reason}; {CONNECT_HINT}"
        if self.problem != message:
            self.problem = message
            log.error("zalo-oa: %s", message)
            if self.on_alert is not None:
                try:
                    await self.on_alert(message)
                except Exception:  # an alert channel failing must not hide the original problem
                    log.exception("zalo-oa: could not tell the admins in chat")
        return ReconnectNeeded(message)
