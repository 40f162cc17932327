"""Signed, expiring download links for generated files (for channels that cannot send files)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time


class LinkSigner:
    """Makes and checks `/files/<id>?exp=<unix>&sig=<hmac>` links.

    The signature covers the id and the expiry only, so it can be checked before the id is looked up;
    the owner is bound through the id itself (a stored file's id is derived from its owner and content).
    """

    def __init__(self, public_url: str, secret: str, ttl_hours: int) -> None:
        self.public_url = public_url.rstrip("/")
        # Without a configured secret, links are valid only while this process runs.
        self._key = (secret or secrets.token_hex(32)).encode()
        self.ttl_seconds = ttl_hours * 3600

    def _sign(self, file_id: str, expires: int) -> str:
        msg = f"{file_id}|{expires}".encode()
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()[:32]

    def url_for(self, file_id: str, now: float | None = None) -> str:
        """The public link to a stored file, valid for the configured time."""
        expires = int((now or time.time()) + self.ttl_seconds)
        return f"{self.public_url}/files/{file_id}?exp={expires}&sig={self._sign(file_id, expires)}"

    def verify(self, file_id: str, expires: str, signature: str, now: float | None = None) -> bool:
        """True for an unexpired link made by this signer for exactly this id."""
        try:
            exp = int(expires)
        except (TypeError, ValueError):
            return False
        if exp < (now or time.time()):
            return False
        return hmac.compare_digest(self._sign(file_id, exp), signature or "")
