"""API token strings: made from 256 random bits, kept only as a SHA-256 digest.

A plain hash (no salt, no key stretching) is enough here: the secret is random and long,
so there is no dictionary to try, and the digest doubles as the lookup key.
"""

import hashlib
import re
import secrets

PREFIX = "jm_"
_SHAPE = re.compile(r"^jm_[A-Za-z0-9_-]{43}$")


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: str) -> bool:
    """Whether it could be a token at all; anything else is refused without a lookup."""
    return _SHAPE.fullmatch(token) is not None
