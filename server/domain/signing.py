"""HMAC-SHA256 signatures of a raw body, as webhooks in and out carry them."""

import hashlib
import hmac

SIGNATURE_HEADER = "X-Jobmonitor-Signature"


def signature(secret: str, body: bytes) -> str:
    """The `X-Jobmonitor-Signature` value of `body`: `sha256=<hex digest>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed_by(secret: str, body: bytes, offered: str) -> bool:
    return hmac.compare_digest(offered, signature(secret, body))
