"""A push-notification receiver for tests: a real HTTP server on loopback in a thread.

It answers Kaufland's subscription check (``GET ?mode=subscribe&challenge=X`` → body ``X``) and
records every POSTed event with its headers and raw body, so a test can verify the signature.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    deliveries: list[Delivery] = field(default_factory=list)
    challenges: list[str] = field(default_factory=list)
    fail_next: int = 0  # answer 500 to this many POSTs, to exercise Kaufland's retries

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/kaufland/events"


def start_receiver() -> tuple[Receiver, threading.Thread]:
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            challenge = query.get("challenge", [""])[0]
            receiver = holder["r"]
            receiver.challenges.append(challenge)
            payload = challenge.encode()
            self.send_response(200 if query.get("mode") == ["subscribe"] else 400)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            receiver = holder["r"]
            if receiver.fail_next > 0:
                receiver.fail_next -= 1
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            receiver.deliveries.append(Delivery(self.path, dict(self.headers.items()), body))
            self.send_response(204)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(server)
    holder["r"] = receiver
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return receiver, thread
