"""``httpx.Auth`` that adds Kaufland's ``Shop-*`` headers to each request as it is sent.

Signing happens in the auth flow, i.e. after httpx has built the final request, so the signature
covers exactly the URL (``str(request.url)``, query included) and body bytes that go on the wire.
Each (re)send runs the flow again, so a retried request gets a fresh timestamp and signature.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

import httpx

from kaufland_sync.sellerapi._signing import sign_request

__all__ = ["KauflandAuth"]


class KauflandAuth(httpx.Auth):
    """Sets ``Shop-Client-Key``, ``Shop-Timestamp`` and ``Shop-Signature``.

    ``timestamp`` returns the Unix seconds to send (the client passes its skew-corrected clock).
    The secret key is kept private and never appears in ``repr``.
    """

    requires_request_body = True

    def __init__(self, client_key: str, secret_key: str, timestamp: Callable[[], int]) -> None:
        if not client_key or not secret_key:
            raise ValueError("client_key and secret_key must not be empty")
        self.client_key = client_key
        self.__secret = secret_key
        self._timestamp = timestamp

    def __repr__(self) -> str:
        return f"KauflandAuth(client_key={self.client_key[:4]}…, secret_key=<hidden>)"

    def sign(self, request: httpx.Request) -> None:
        """Add the three ``Shop-*`` headers to ``request`` (its body must already be read)."""
        timestamp = str(int(self._timestamp()))
        signature = sign_request(
            request.method, str(request.url), request.content, timestamp, self.__secret
        )
        request.headers["Shop-Client-Key"] = self.client_key
        request.headers["Shop-Timestamp"] = timestamp
        request.headers["Shop-Signature"] = signature

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request
