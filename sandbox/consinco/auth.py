"""Login and bearer tokens of the sandbox SmPedidoVendaAPI (the real auth is not public).

Opaque random tokens with an expiry; `expire_all()` is the chaos switch that makes every
token issued so far answer 401 TOKEN_EXPIRADO, as after an ERP restart.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time


class TokenIssuer:
    """Issues and checks bearer tokens for one user/password pair."""

    def __init__(
        self,
        user: str = "ecommerce",
        password: str = "consinco",  # noqa: S107 (the sandbox's documented default)
        ttl: float = 3600.0,
    ) -> None:
        self.user = user
        self.password = password
        self.ttl = ttl
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()

    def login(self, user: str, password: str) -> tuple[str, int] | None:
        """(token, expires in seconds), or None for wrong credentials (constant-time compare)."""
        ok_user = hmac.compare_digest(str(user).encode(), self.user.encode())
        ok_password = hmac.compare_digest(str(password).encode(), self.password.encode())
        if not (ok_user and ok_password):
            return None
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            self._tokens = {k: v for k, v in self._tokens.items() if v > now - 3600}
            self._tokens[token] = now + self.ttl
        return token, int(self.ttl)

    def check(self, token: str) -> str | None:
        """None when valid, else the error code: TOKEN_INVALIDO or TOKEN_EXPIRADO."""
        with self._lock:
            expires = self._tokens.get(token)
        if expires is None:
            return "TOKEN_INVALIDO"
        if time.monotonic() >= expires:
            return "TOKEN_EXPIRADO"
        return None

    def expire_all(self) -> None:
        with self._lock:
            now = time.monotonic()
            self._tokens = dict.fromkeys(self._tokens, now)
