"""The seam between resources and the transport.

Resource classes (``resources/``) receive a ``Requester`` and never touch httpx, signing,
retries or pacing; ``client.KauflandClient`` implements it. Tests can hand resources a fake.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from kaufland_sync.sellerapi.storefronts import Storefront

M = TypeVar("M", bound=BaseModel)

# A query value: scalars are sent as text, sequences as repeated keys, None is left out.
QueryValue = str | int | float | bool | None | Sequence[str | int]


@dataclass(frozen=True)
class Pagination:
    offset: int
    limit: int
    total: int


@dataclass(frozen=True)
class ApiResponse:
    """One HTTP answer, already checked for errors (status < 400)."""

    status_code: int
    headers: Mapping[str, str]
    body: Any  # parsed JSON, or None for an empty body (204)

    @property
    def data(self) -> Any:
        """The ``data`` member of Kaufland's envelope (None when there is no body)."""
        if isinstance(self.body, dict):
            return self.body.get("data")
        return self.body

    @property
    def pagination(self) -> Pagination | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("pagination"), dict):
            p = self.body["pagination"]
            return Pagination(
                int(p.get("offset", 0)), int(p.get("limit", 0)), int(p.get("total", 0))
            )
        return None


class Requester(Protocol):
    """What a resource needs from the client."""

    def storefront_param(
        self, storefront: Storefront | str | None, *, required: bool
    ) -> str | None:
        """The storefront to send: the argument, else the client's default; raises
        ``ValueError`` naming the parameter when ``required`` and neither is set."""
        ...

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        json: Any = None,
        replay_safe: bool | None = None,
    ) -> ApiResponse:
        """Send one signed request to ``base_url + path`` (``path`` starts with ``/``).

        ``replay_safe`` says whether the request may be sent again after an ambiguous failure
        (timeout, dropped connection, 5xx after the server may have acted). None means: GET,
        HEAD, PUT and DELETE yes; POST and PATCH no. Raises ``errors.ApiError`` subclasses for
        4xx/5xx answers and ``errors.OutcomeUnknownError`` when a non-replayable request failed
        in a way that leaves its effect unknown.
        """
        ...

    def iterate(
        self,
        path: str,
        model: type[M],
        *,
        params: Mapping[str, QueryValue] | None = None,
        max_limit: int,
        page_size: int | None = None,
    ) -> AsyncIterator[M]:
        """Walk every page of a list endpoint (``limit``/``offset``), never asking for more than
        ``max_limit`` per page, parsing each item into ``model``; stops on ``total`` and guards
        against pages that do not advance."""
        ...
