"""Request signing for the Kaufland Seller API v2 (pure, no I/O).

Kaufland signs ``METHOD\\nFULL_URL\\nBODY\\nTIMESTAMP`` with HMAC-SHA256, keyed with the secret
key used as a plain UTF-8 string (never hex-decoded), and sends the lowercase hex digest in
``Shop-Signature``. The URL is the absolute URL exactly as sent, query string included; the body
is the raw body (empty string when there is none). The sandbox verifies with the same function.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["message_to_sign", "sign_request", "signatures_match", "string_to_sign"]


def message_to_sign(method: str, url: str, body: str | bytes, timestamp: int | str) -> bytes:
    """The exact bytes Kaufland signs: ``METHOD\nURL\nBODY\nTIMESTAMP``, the body as sent
    (any encoding; a str body is UTF-8 encoded, as it goes over the wire)."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return b"\n".join(
        [method.upper().encode("ascii"), url.encode("utf-8"), raw, str(timestamp).encode()]
    )


def string_to_sign(method: str, url: str, body: str | bytes, timestamp: int | str) -> str:
    """``message_to_sign`` as text, for showing a seller what was signed (UTF-8 bodies)."""
    return message_to_sign(method, url, body, timestamp).decode("utf-8", "replace")


def sign_request(
    method: str, url: str, body: str | bytes, timestamp: int | str, secret_key: str
) -> str:
    """Return the lowercase hex HMAC-SHA256 signature of one request."""
    message = message_to_sign(method, url, body, timestamp)
    return hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signatures_match(expected_hex: str, received: str) -> bool:
    """Compare hex signatures case-insensitively, in constant time."""
    return hmac.compare_digest(expected_hex.lower().encode(), received.strip().lower().encode())
