"""Signed, expiring download links for generated files (for channels that cannot send files)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time


class LinkSigner:
    """Makes and checks `/files/<id>?exp=<unix>&sig=<hmac>` links bound to the file and its owner."""

    def __init__(self, public_url: str, secret: str, ttl_hours: int) -> None:
        self.public_url = public_url.rstrip("/")
        # Without a configured secret, links are valid only while this process runs.
        self._key = (secret or secrets.token_hex(32)).encode()
        self.ttl_seconds = ttl_hours * 3600

    def _sign(self, file_id: str, owner: str, expires: int) -> str:
        msg = f"{file_id}|{owner}|{expires}".encode()
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()[:32]

    def url_for(self, file_id: str, owner: str, now: float | None = None) -> str:
        expires = int((now or time.time()) + self.ttl_seconds)
        return f"{self.public_url}/files/{file_id}?exp={expires}&sig={self._sign(file_id, owner, expires)}"

    def verify(self, file_id: str, owner: str, expires: str, signature: str, now: float | None = None) -> bool:
        try:
            exp = int(expires)
        except (TypeError, ValueError):
            return False
        if exp < (now or time.time()):
            return False
        return hmac.compare_digest(self._sign(file_id, owner, exp), signature or "")
