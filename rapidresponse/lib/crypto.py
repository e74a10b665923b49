"""Contact points are encrypted at rest (Fernet) and found through a keyed blind index."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@lru_cache(maxsize=4)
def _fernet(keys: str) -> MultiFernet:
    # FIELD_ENCRYPTION_KEY may hold several comma-separated keys: the first encrypts,
    # all decrypt, so keys can be rotated.
    return MultiFernet([Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()])


def encrypt(value: str) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("contact point cannot be decrypted with the configured key") from exc


def rotate(token: str) -> str:
    """The same value encrypted with the first key of FIELD_ENCRYPTION_KEY (rotate_keys)."""
    try:
        return _fernet(settings.FIELD_ENCRYPTION_KEY).rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("a value cannot be decrypted with the configured keys") from exc


def blind_index(kind: str, normalised: str) -> str:
    """A keyed hash for equality look-ups; useless without BLIND_INDEX_KEY."""
    key = settings.BLIND_INDEX_KEY.encode()
    return hmac.new(key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()


def reporter_index(kind: str, normalised: str) -> str:
    """A keyed hash for reporters and hotline conversations, under a key of their own
    (REPORTER_INDEX_KEY): someone holding the database and the members' blind-index key
    still cannot tell which member made a report or texted the hotline."""
    key = settings.REPORTER_INDEX_KEY.encode()
    return hmac.new(key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()


def daily_index(kind: str, value: str, day: date) -> str:
    """A keyed hash whose key changes every day (derived from REPORTER_INDEX_KEY and the
    date): equal values on one day match, and nothing joins one day's hashes with the
    next's. For what must never be kept (a client's network), only told apart."""
    day_key = hmac.new(settings.REPORTER_INDEX_KEY.encode(), f"day:{day.isoformat()}".encode(),
                       hashlib.sha256).digest()
    return hmac.new(day_key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
