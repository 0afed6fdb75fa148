"""Encryption at rest for secrets (access/refresh tokens, ERP passwords).

Fernet (AES-128-CBC + HMAC-SHA256) from `cryptography`; ENCRYPTION_KEY holds one or more keys,
so keys rotate without a flag day (MultiFernet decrypts with any, encrypts with the first): a new
key is added last on every process, then moved first (README), so no process writes with a key
another cannot read yet.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from settings import key_list


class SecretUnreadable(RuntimeError):
    """A stored secret cannot be decrypted with the configured keys."""


@lru_cache(maxsize=4)
def _fernet(keys: str) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in key_list(keys)])


def _keys() -> str:
    from settings import get_settings

    return get_settings().encryption_keys


def encrypt(plaintext: str, keys: str | None = None) -> bytes:
    return _fernet(keys or _keys()).encrypt(plaintext.encode("utf-8"))


def decrypt(token: bytes, keys: str | None = None) -> str:
    try:
        return _fernet(keys or _keys()).decrypt(bytes(token)).decode("utf-8")
    except InvalidToken as exc:
        raise SecretUnreadable("stored secret cannot be decrypted with ENCRYPTION_KEY") from exc


def generate_key() -> str:
    return Fernet.generate_key().decode()


def rotate(token: bytes, keys: str | None = None) -> bytes:
    """The same secret encrypted with the first (newest) key: what lets an old key be retired."""
    try:
        return _fernet(keys or _keys()).rotate(bytes(token))
    except InvalidToken as exc:
        raise SecretUnreadable("stored secret cannot be decrypted with ENCRYPTION_KEY") from exc
