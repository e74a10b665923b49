"""Secrets for the embedded (laptop) deployment: generated once, kept in var/secrets.json."""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path


def _new_secret(name: str) -> str:
    if name in ("FIELD_ENCRYPTION_KEY", "EVIDENCE_ENCRYPTION_KEY"):  # 32 bytes, base64url
        return base64.urlsafe_b64encode(os.urandom(32)).decode()
    if name == "VAPID_PRIVATE_KEY":  # web push: a P-256 private key, raw, base64url
        from cryptography.hazmat.primitives.asymmetric import ec

        value = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
        return base64.urlsafe_b64encode(value.to_bytes(32, "big")).rstrip(b"=").decode()
    return secrets.token_urlsafe(48)


def embedded_secret(var_dir: Path, name: str) -> str:
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / "secrets.json"
    data: dict[str, str] = {}
    if path.exists():
        data = json.loads(path.read_text())
    if name not in data:
        data[name] = _new_secret(name)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.chmod(0o600)
        tmp.replace(path)
    return data[name]
