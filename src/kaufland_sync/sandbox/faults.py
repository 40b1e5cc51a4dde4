"""Faults on demand: the failures a client of Kaufland must survive.

``Faults`` is the switchboard (``PUT /_sandbox/faults``); ``Faults.draw`` decides, per request,
whether and how it fails. Writes may fail *before* the sandbox processes them or *after*
(the change happened, the client still sees a 5xx, a hang or a dropped connection), because
that ambiguity is what makes blind retries of creates dangerous against the real API.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from starlette.responses import HTMLResponse, JSONResponse, Response

FaultKind = Literal["error", "timeout", "reset", "rate_limit"]
Phase = Literal["before", "after"]
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class Faults:
    """Probabilities (0..1) and settings of injected failures; all off by default."""

    error_rate: float = 0.0  # random 500/502/503/504
    timeout_rate: float = 0.0  # hang ``timeout_seconds`` before answering
    reset_rate: float = 0.0  # drop the connection mid-response
    latency_ms: float = 0.0  # extra delay on every request
    timeout_seconds: float = 5.0
    rate_limit_burst: int = 0  # the next N authenticated requests get 429

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def update(self, changes: dict[str, Any]) -> list[tuple[str, str]]:
        """Apply a partial update; return field errors (nothing is changed when there are any)."""
        errors: list[tuple[str, str]] = []
        known = {f.name: f for f in fields(self)}
        accepted: dict[str, Any] = {}
        for key, value in changes.items():
            if key not in known:
                errors.append((key, "This field was not expected."))
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                errors.append((key, "This value should be a number."))
                continue
            if key.endswith("_rate") and not 0.0 <= value <= 1.0:
                errors.append((key, "This value should be between 0 and 1."))
            elif value < 0:
                errors.append((key, "This value should be greater than or equal to 0."))
            elif key == "rate_limit_burst":
                accepted[key] = int(value)
            else:
                accepted[key] = float(value)
        if not errors:
            for key, value in accepted.items():
                setattr(self, key, value)
        return errors

    def draw(self, method: str, rng: random.Random) -> Fault | None:
        """Decide this request's fault (None: behave). Consumes one forced 429 if any is left."""
        if self.rate_limit_burst > 0:
            self.rate_limit_burst -= 1
            return Fault("rate_limit", "before", 429)
        total = self.error_rate + self.timeout_rate + self.reset_rate
        if total <= 0:
            return None
        roll = rng.random()
        if roll >= min(total, 1.0):
            return None
        # Reads have no "after": failing them after the fact is indistinguishable from before.
        phase: Phase = "after" if method in WRITE_METHODS and rng.random() < 0.5 else "before"
        if roll < self.error_rate:
            return Fault("error", phase, rng.choice((500, 502, 503, 504)))
        if roll < self.error_rate + self.timeout_rate:
            return Fault("timeout", phase, 504)
        return Fault("reset", phase, 0)


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    phase: Phase
    status: int


_HTML_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_HTML_504 = (
    "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
    "<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def error_response(status: int) -> Response:
    """What each failure looks like: the API's own JSON for 500/503, a proxy's HTML page for
    502/504 (a load balancer answers those, not the application)."""
    if status == 502:
        return HTMLResponse(_HTML_502, status_code=502)
    if status == 504:
        return HTMLResponse(_HTML_504, status_code=504)
    if status == 503:
        return JSONResponse(
            {
                "type": "/problems/service-unavailable",
                "message": "Service temporarily unavailable. Please try again later.",
                "errors": [],
            },
            status_code=503,
        )
    return JSONResponse(
        {"type": "/problems/server-error", "message": "Internal Server Error", "errors": []},
        status_code=500,
    )
