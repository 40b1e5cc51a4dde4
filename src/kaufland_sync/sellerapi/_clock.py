"""Clock-skew handling for ``Shop-Timestamp``.

Kaufland rejects a request whose timestamp is more than 300 seconds away from its own clock, with
a 401 that does not say why. Every response carries a ``Date`` header with the server's time, so
on a 401 we compare it with ours. If they differ by more than the tolerance, the 401 was most
likely caused by our clock: either raise ``ClockSkewError`` in plain words, or (the default)
remember the offset, sign again with corrected time and send once more. The 401 means the request
was not processed, so sending it again is safe even for a create.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Mapping

from kaufland_sync.sellerapi.errors import ApiError, ClockSkewError, describe_skew

__all__ = ["SKEW_TOLERANCE", "SkewTracker", "describe_skew", "parse_http_date", "server_skew"]

# Kaufland's documented timestamp window, in seconds (either direction).
SKEW_TOLERANCE = 300.0

logger = logging.getLogger("kaufland_sync.sellerapi")


def parse_http_date(value: str | None) -> float | None:
    """Unix seconds of an HTTP ``Date`` header value, or None when absent or unreadable."""
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return when.timestamp()


def server_skew(headers: Mapping[str, str], local_now: float) -> float | None:
    """Server time minus local time in seconds, from the response ``Date`` header (None when
    there is no usable header). Positive: our clock is behind."""
    date = None
    for name, value in headers.items():
        if name.lower() == "date":
            date = value
            break
    server = parse_http_date(date)
    return None if server is None else server - local_now


class SkewTracker:
    """Holds the offset added to the local clock when signing, and decides what a 401 means.

    ``clock`` returns Unix seconds (``time.time`` by default; injectable). ``correct``: store the
    offset and ask for one re-signed retry instead of failing.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        *,
        correct: bool = True,
        tolerance: float = SKEW_TOLERANCE,
    ) -> None:
        self._clock = clock
        self.correct = correct
        self.tolerance = tolerance
        self.offset = 0.0

    def now(self) -> float:
        """Local time plus the learned offset: our best guess of Kaufland's time."""
        return self._clock() + self.offset

    def timestamp(self) -> int:
        """The ``Shop-Timestamp`` value to send now (whole seconds)."""
        return int(self.now())

    def on_unauthorized(self, error: ApiError, *, already_corrected: bool) -> bool:
        """Judge a 401. Returns True when the caller should re-sign and resend once (the offset
        has been updated); raises ``ClockSkewError`` when the skew is the cause and may not or
        could not be corrected; returns False when the clock is not to blame."""
        raw = server_skew(error.headers, self._clock())
        if raw is None:
            return False
        residual = raw - self.offset  # what is still wrong after the correction we apply
        if abs(residual) <= self.tolerance:
            return False
        if self.correct and not already_corrected:
            self.offset = float(round(raw))
            logger.warning(
                "Kaufland rejected %s %s and %s; signing with Kaufland's time from now on "
                "(offset %+d s) and sending once more. Please fix the system clock (NTP).",
                error.method,
                error.path,
                describe_skew(raw),
                round(self.offset),
            )
            return True
        raise ClockSkewError(error, raw) from error
