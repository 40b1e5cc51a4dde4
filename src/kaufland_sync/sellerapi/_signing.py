"""Request signing for the Kaufland Seller API v2 (pure, no I/O).

Kaufland signs ``METHOD\\nFULL_URL\\nBODY\\nTIMESTAMP`` with HMAC-SHA256, keyed with the secret
key used as a plain UTF-8 string (never hex-decoded), and sends the lowercase hex digest in
``Shop-Signature``. The URL is the absolute URL exactly as sent, query string included; the body
is the raw body (empty string when there is none). The sandbox verifies with the same function.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["sign_request", "signatures_match", "string_to_sign"]


def _text(value: str | bytes) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def string_to_sign(method: str, url: str, body: str | bytes, timestamp: int | str) -> str:
    """Return the exact string Kaufland expects to be signed."""
    return "\n".join([method.upper(), url, _text(body), str(timestamp)])


def sign_request(
    method: str, url: str, body: str | bytes, timestamp: int | str, secret_key: str
) -> str:
    """Return the lowercase hex HMAC-SHA256 signature of one request."""
    message = string_to_sign(method, url, body, timestamp).encode("utf-8")
    return hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signatures_match(expected_hex: str, received: str) -> bool:
    """Compare hex signatures case-insensitively, in constant time."""
    return hmac.compare_digest(expected_hex.lower().encode(), received.strip().lower().encode())
