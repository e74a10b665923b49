"""VAPID keys (RFC 8292): the server's identity towards browsers' push services.

VAPID_PRIVATE_KEY (and optionally VAPID_PUBLIC_KEY, which must then match) come from the
environment; on a laptop the private key is generated on first use and kept in
var/secrets.json like the other embedded secrets. With RR_ENV=production they must be given.
"""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from py_vapid import Vapid02

from rapidresponse.lib.secrets import embedded_secret

#: How long the signed VAPID token is valid (RFC 8292 allows at most 24 hours).
TOKEN_LIFETIME_S = 12 * 60 * 60


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    text = text.strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class VapidKeys:
    private_key: ec.EllipticCurvePrivateKey
    #: The browser's `applicationServerKey`: the uncompressed P-256 point, base64url.
    public_key: str

    def authorization(self, endpoint: str, subject: str) -> str:
        """The `Authorization: vapid t=...,k=...` header for one push service."""
        url = urlsplit(endpoint)
        claims = {"aud": f"{url.scheme}://{url.netloc}", "sub": subject,
                  "exp": int(time.time()) + TOKEN_LIFETIME_S}
        return str(Vapid02(self.private_key).sign(claims)["Authorization"])


def load_private_key(text: str) -> ec.EllipticCurvePrivateKey:
    """A P-256 private key as raw base64url (32 bytes, what web-push tools print), base64 DER,
    or PEM."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            raw = b64url_decode(text)
            if len(raw) == 32:
                key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
            else:
                key = serialization.load_der_private_key(raw, password=None)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise ImproperlyConfigured(
            "VAPID_PRIVATE_KEY is not a P-256 private key (raw base64url, DER or PEM)") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ImproperlyConfigured("VAPID_PRIVATE_KEY must be a P-256 (prime256v1) key")
    return key


def public_key_of(key: ec.EllipticCurvePrivateKey) -> str:
    return b64url(key.public_key().public_bytes(serialization.Encoding.X962,
                                                serialization.PublicFormat.UncompressedPoint))


@lru_cache(maxsize=8)
def _keys(private: str, public: str, var_dir: str, production: bool) -> VapidKeys:
    if not private:
        if production:
            raise ImproperlyConfigured("VAPID_PRIVATE_KEY must be set when RR_ENV=production")
        private = embedded_secret(Path(var_dir), "VAPID_PRIVATE_KEY")
    key = load_private_key(private)
    derived = public_key_of(key)
    if public and public.strip().rstrip("=") != derived:
        raise ImproperlyConfigured("VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY")
    return VapidKeys(private_key=key, public_key=derived)


def keys() -> VapidKeys:
    """The VAPID keys; raises ImproperlyConfigured when they are missing or wrong."""
    return _keys(settings.VAPID_PRIVATE_KEY, settings.VAPID_PUBLIC_KEY, str(settings.VAR_DIR),
                 settings.PRODUCTION)


def public_key_or_none() -> str | None:
    """For pages: None when push cannot be offered (production without keys)."""
    if settings.PRODUCTION and not settings.VAPID_PRIVATE_KEY:
        return None
    return keys().public_key
