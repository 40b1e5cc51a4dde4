"""``/shipments`` (more parcels for sent units) and ``/shipping-labels`` (KSS labels)."""

from __future__ import annotations

from collections.abc import Iterable

from kaufland_sync.sellerapi.models import (
    AddShipmentRequest,
    PackageMeasurements,
    ShipmentInformation,
    ShippingLabel,
    ShippingLabelRequest,
)
from kaufland_sync.sellerapi.resources._base import Resource


class Shipments(Resource):
    async def add(self, id_order_unit: int, *, carrier_code: str, tracking_number: str) -> None:
        """``POST /shipments`` (204): record one more parcel for an order unit already sent.

        Not replay-safe: a repeat would add the parcel twice.
        """
        body = AddShipmentRequest(
            id_order_unit=id_order_unit,
            shipment_information=ShipmentInformation(
                carrier_code=carrier_code, tracking_number=tracking_number
            ),
        )
        await self._action("POST", "/shipments", json=body.to_body(), replay_safe=False)

    async def create_label(
        self,
        ids_order_units: Iterable[int],
        *,
        weight_gram: int,
        width_cm: int,
        height_cm: int,
        length_cm: int,
        carriers: Iterable[str] = ("GLS",),
    ) -> ShippingLabel:
        """``POST /shipping-labels`` (201): buy a Kaufland Shipment Solutions label.

        Not replay-safe: a repeat would buy a second label.
        """
        body = ShippingLabelRequest(
            ids_order_units=list(ids_order_units),
            carriers=list(carriers),
            package_measurements=PackageMeasurements(
                weight_gram=weight_gram, width_cm=width_cm, height_cm=height_cm, length_cm=length_cm
            ),
        )
        return await self._call(
            "POST", "/shipping-labels", ShippingLabel, json=body.to_body(), replay_safe=False
        )
