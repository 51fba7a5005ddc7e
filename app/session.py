"""Browser sessions for the maps: a signed cookie that points at an API token.

Logging in means pasting one's token once (``/inloggen``); the cookie then carries the token's
id, an expiry and an HMAC-SHA256 signature, never the token itself. Revoking the token ends the
session. A session only *reads*. For writes from the map pages, the page asks
``/api/session/write-token`` (with the cookie) for a short-lived **write token**
(``rcw1.<token id>.<expiry>.<signature>``) and sends it as a bearer header; a forged
cross-site request carries no such header and cannot read one (no CORS), so it cannot change
anything (CSRF-safe). The cookie is also HttpOnly and SameSite=Strict, and the log-in form
checks the Origin of the request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

COOKIE = "rc_sessie"
WRITE_PREFIX = "rcw1."


class SessionSigner:
    """Signs and checks session cookie values with a secret."""

    def __init__(self, secret: str, max_age_s: int):
        self._key = secret.encode()
        self.max_age_s = max_age_s

    @classmethod
    def ephemeral(cls, max_age_s: int) -> SessionSigner:
        """A signer with a random secret: sessions end when the process restarts."""
        return cls(secrets.token_urlsafe(32), max_age_s)

    def _mac(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()

    def sign(self, token_id: int) -> str:
        """A cookie value for the token ``token_id``."""
        payload = f"{token_id}.{int(time.time()) + self.max_age_s}"
        return f"{payload}.{self._mac(payload)}"

    def token_id(self, value: str | None) -> int | None:
        """The token id of a valid, unexpired cookie value; None otherwise."""
        if not value or value.count(".") != 2:
            return None
        token_id, expires, mac = value.split(".")
        payload = f"{token_id}.{expires}"
        if not hmac.compare_digest(mac, self._mac(payload)):
            return None
        if not (token_id.isdigit() and expires.isdigit()) or int(expires) < time.time():
            return None
        return int(token_id)

    def sign_write(self, token_id: int, max_age_s: int) -> str:
        """A write token for ``token_id``, valid ``max_age_s`` seconds (bearer header only)."""
        payload = f"{token_id}.{int(time.time()) + max_age_s}"
        return f"{WRITE_PREFIX}{payload}.{self._mac('write.' + payload)}"

    def write_token_id(self, value: str) -> int | None:
        """The token id of a valid, unexpired write token; None otherwise."""
        if not value.startswith(WRITE_PREFIX) or value.count(".") != 3:
            return None
        token_id, expires, mac = value[len(WRITE_PREFIX) :].split(".")
        if not hmac.compare_digest(mac, self._mac(f"write.{token_id}.{expires}")):
            return None
        if not (token_id.isdigit() and expires.isdigit()) or int(expires) < time.time():
            return None
        return int(token_id)
