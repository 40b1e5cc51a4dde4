"""``/units``: the seller's offers (price, stock, handling time) per storefront."""

from __future__ import annotations

import builtins
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any

from pydantic import TypeAdapter

from kaufland_sync.sellerapi.models import (
    BULK_MAX_UNITS,
    BulkUnitResult,
    BulkUnitUpdate,
    FulfillmentType,
    Page,
    Unit,
    UnitEmbeddable,
    UnitEmbedded,
    UnitPatchRequest,
    UnitRequest,
)
from kaufland_sync.sellerapi.resources._base import (
    Resource,
    StorefrontArg,
    embedded_param,
    many,
    query,
)

MAX_LIMIT = 100
_RESULTS = TypeAdapter(list[BulkUnitResult])

Embedded = Iterable[UnitEmbeddable | str] | None
BulkItem = BulkUnitUpdate | tuple[int, UnitPatchRequest | Mapping[str, Any]] | Mapping[str, Any]


def _bulk_item(item: BulkItem) -> BulkUnitUpdate:
    if isinstance(item, BulkUnitUpdate):
        return item
    if isinstance(item, tuple):
        id_unit, data = item
        patch = data if isinstance(data, UnitPatchRequest) else UnitPatchRequest(**data)
        return BulkUnitUpdate(id_unit=id_unit, unit_data=patch)
    return BulkUnitUpdate.model_validate(item)


def prepare_bulk(items: Iterable[BulkItem]) -> builtins.list[BulkUnitUpdate]:
    """Validate a bulk request locally, the way Kaufland would refuse it as a whole.

    Raises ValueError for more than 150 items or for an ``id_unit`` that appears twice.
    """
    prepared = [_bulk_item(item) for item in items]
    if len(prepared) > BULK_MAX_UNITS:
        raise ValueError(
            f"a unit bulk update takes at most {BULK_MAX_UNITS} units, got {len(prepared)}; "
            "use bulk_update_all to send them in chunks"
        )
    _refuse_repeats(prepared)
    return prepared


def _refuse_repeats(items: Iterable[BulkUnitUpdate]) -> None:
    counts = Counter(item.id_unit for item in items)
    repeated = sorted(id_unit for id_unit, n in counts.items() if n > 1)
    if repeated:
        raise ValueError(f"a unit bulk update must not repeat id_unit; repeated: {repeated}")


class Units(Resource):
    def _list_params(
        self,
        storefront: StorefrontArg,
        id_offer: str | None,
        id_product: int | None,
        ean: str | None,
        embedded: Embedded,
        fulfillment_type: Iterable[FulfillmentType | str] | FulfillmentType | str | None,
    ) -> dict[str, Any]:
        return query(
            storefront=self._storefront(storefront),
            id_offer=id_offer,
            id_product=id_product,
            ean=ean,
            embedded=embedded_param(embedded),
            fulfillment_type=many(fulfillment_type),
        )

    async def list(
        self,
        *,
        storefront: StorefrontArg = None,
        id_offer: str | None = None,
        id_product: int | None = None,
        ean: str | None = None,
        embedded: Embedded = None,
        fulfillment_type: Iterable[FulfillmentType | str] | FulfillmentType | str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Page[UnitEmbedded]:
        """``GET /units``: one page. New units can take minutes to show up here."""
        params = self._list_params(
            storefront, id_offer, id_product, ean, embedded, fulfillment_type
        )
        return await self._page(
            "/units", UnitEmbedded, params, limit=limit, offset=offset, max_limit=MAX_LIMIT
        )

    def iter_all(
        self,
        *,
        storefront: StorefrontArg = None,
        id_offer: str | None = None,
        id_product: int | None = None,
        ean: str | None = None,
        embedded: Embedded = None,
        fulfillment_type: Iterable[FulfillmentType | str] | FulfillmentType | str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[UnitEmbedded]:
        """Every unit of the storefront matching the filters."""
        params = self._list_params(
            storefront, id_offer, id_product, ean, embedded, fulfillment_type
        )
        return self._iter("/units", UnitEmbedded, params, max_limit=MAX_LIMIT, page_size=page_size)

    async def get(
        self, id_unit: int, *, storefront: StorefrontArg = None, embedded: Embedded = None
    ) -> Unit:
        """``GET /units/{id_unit}``."""
        params = query(storefront=self._storefront(storefront), embedded=embedded_param(embedded))
        return await self._get(f"/units/{id_unit}", Unit, params)

    async def create(
        self,
        unit: UnitRequest | Mapping[str, Any],
        *,
        storefront: StorefrontArg = None,
        embedded: Embedded = None,
    ) -> Unit:
        """``POST /units`` (answers 200 with the unit).

        Not replay-safe: after an ambiguous failure the unit may exist; look it up by
        ``id_offer`` before trying again.
        """
        body = unit if isinstance(unit, UnitRequest) else UnitRequest.model_validate(unit)
        params = query(storefront=self._storefront(storefront), embedded=embedded_param(embedded))
        return await self._call(
            "POST", "/units", Unit, params=params, json=body.to_body(), replay_safe=False
        )

    async def update(
        self,
        id_unit: int,
        patch: UnitPatchRequest | Mapping[str, Any],
        *,
        storefront: StorefrontArg = None,
        embedded: Embedded = None,
    ) -> Unit:
        """``PATCH /units/{id_unit}``: change the given fields. Replay-safe (sets absolute
        values, so sending it twice leaves the same state)."""
        body = (
            patch if isinstance(patch, UnitPatchRequest) else UnitPatchRequest.model_validate(patch)
        )
        params = query(storefront=self._storefront(storefront), embedded=embedded_param(embedded))
        return await self._call(
            "PATCH", f"/units/{id_unit}", Unit, params=params, json=body.to_body(), replay_safe=True
        )

    async def delete(self, id_unit: int, *, storefront: StorefrontArg = None) -> None:
        """``DELETE /units/{id_unit}`` (204)."""
        params = query(storefront=self._storefront(storefront))
        await self._action("DELETE", f"/units/{id_unit}", params=params, replay_safe=True)

    async def bulk_update(
        self,
        items: Iterable[BulkItem],
        *,
        storefront: StorefrontArg = None,
        embedded: Embedded = None,
    ) -> builtins.list[BulkUnitResult]:
        """``POST /units/bulk``: patch up to 150 units at once; one result per unit (207).

        ``items`` are ``BulkUnitUpdate`` objects, ``(id_unit, patch)`` pairs or plain dicts.
        Refused locally (ValueError, nothing sent) for more than 150 items or a repeated
        ``id_unit``, which Kaufland would reject as a whole. Check ``BulkUnitResult.ok`` per
        unit. Replay-safe: every item is an absolute PATCH.
        """
        prepared = prepare_bulk(items)
        if not prepared:
            return []
        params = query(storefront=self._storefront(storefront), embedded=embedded_param(embedded))
        body = [item.to_body() for item in prepared]
        response = await self._r.request(
            "POST", "/units/bulk", params=params, json=body, replay_safe=True
        )
        return _RESULTS.validate_python(response.data)

    async def bulk_update_all(
        self,
        items: Sequence[BulkItem],
        *,
        storefront: StorefrontArg = None,
        embedded: Embedded = None,
        chunk_size: int = BULK_MAX_UNITS,
    ) -> builtins.list[BulkUnitResult]:
        """Like ``bulk_update`` for any number of units, sent in chunks of ``chunk_size``.

        Duplicates are refused across the whole input, before the first chunk is sent.
        """
        if not 1 <= chunk_size <= BULK_MAX_UNITS:
            raise ValueError(f"chunk_size must be between 1 and {BULK_MAX_UNITS}")
        prepared = [_bulk_item(item) for item in items]
        # Checked over the whole input: chunks alone would miss a repeat across two chunks.
        _refuse_repeats(prepared)
        results: builtins.list[BulkUnitResult] = []
        for start in range(0, len(prepared), chunk_size):
            chunk = prepared[start : start + chunk_size]
            results.extend(await self.bulk_update(chunk, storefront=storefront, embedded=embedded))
        return results
