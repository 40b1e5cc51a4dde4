"""Each resource method against a recording fake ``Requester``: the right method, path, query,
body and replay flag go out, and the canned answer (from the spec's examples) comes back parsed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import BaseModel

from kaufland_sync.sellerapi import models as m
from kaufland_sync.sellerapi import resources as r
from kaufland_sync.sellerapi._requester import ApiResponse, QueryValue
from kaufland_sync.sellerapi.storefronts import Storefront
from tests.conformance import load_spec

SPEC = load_spec()
SCHEMAS = SPEC["components"]["schemas"]


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, QueryValue]
    json: Any
    replay_safe: bool | None


@dataclass
class Walk:
    path: str
    model: type[BaseModel]
    params: dict[str, QueryValue]
    max_limit: int
    page_size: int | None


@dataclass
class FakeRequester:
    """Records every call; answers with ``body`` (status ``status``) or items for ``iterate``."""

    default_storefront: str | None = "de"
    body: Any = None
    status: int = 200
    items: list[Any] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    walks: list[Walk] = field(default_factory=list)

    def storefront_param(
        self, storefront: Storefront | str | None, *, required: bool
    ) -> str | None:
        if storefront is not None:
            return Storefront.parse(storefront).value
        if self.default_storefront is None and required:
            raise ValueError("storefront is required")
        return self.default_storefront

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        json: Any = None,
        replay_safe: bool | None = None,
    ) -> ApiResponse:
        self.calls.append(Call(method, path, dict(params or {}), json, replay_safe))
        return ApiResponse(self.status, {}, self.body)

    def iterate(
        self,
        path: str,
        model: type[Any],
        *,
        params: Mapping[str, QueryValue] | None = None,
        max_limit: int,
        page_size: int | None = None,
    ) -> AsyncIterator[Any]:
        self.walks.append(Walk(path, model, dict(params or {}), max_limit, page_size))
        items = self.items

        async def walk() -> AsyncIterator[Any]:
            for item in items:
                yield model.model_validate(item)

        return walk()

    @property
    def last(self) -> Call:
        assert len(self.calls) == 1, self.calls
        return self.calls[0]


def example(path: str, method: str = "get", code: str = "200") -> Any:
    """The first example answer the spec gives for an operation."""
    content = SPEC["paths"][path][method]["responses"][code]["content"]["application/json"]
    return next(iter(content["examples"].values()))["value"]


def prop_example(schema: str) -> dict[str, Any]:
    """An object built from a schema's property examples (for schemas without a full example)."""
    return {
        name: spec["example"]
        for name, spec in SCHEMAS[schema]["properties"].items()
        if "example" in spec
    }


PAGE = {"offset": 0, "limit": 30, "total": 1}
ORDER_UNIT = prop_example("OrderUnit") | {"is_marketplace_deemed_supplier": False}
UNIT = example("/units", "post")["data"]


def page_of(item: Any) -> dict[str, Any]:
    return {"data": [item], "pagination": PAGE}


@pytest.fixture
def fake() -> FakeRequester:
    return FakeRequester()


Op = Callable[[FakeRequester], Awaitable[Any]]


@dataclass
class Case:
    """One resource call and what must go out for it."""

    name: str
    op: Op
    method: str
    path: str
    params: dict[str, QueryValue]
    json: Any = None
    replay_safe: bool | None = None
    answer: Any = None
    result: type | None = None


CASES = [
    Case(
        "status.ping",
        lambda f: r.Status(f).ping(),
        "GET",
        "/status/ping",
        {},
        answer={"data": prop_example("PingMessage")},
        result=m.PingMessage,
    ),
    Case(
        "info.storefronts",
        lambda f: r.Info(f).storefronts(),
        "GET",
        "/info/storefront",
        {},
        answer={"data": ["de", "cz"]},
        result=list,
    ),
    Case(
        "info.locales",
        lambda f: r.Info(f).locales(),
        "GET",
        "/info/locale",
        {},
        answer={"data": ["de-DE"]},
        result=list,
    ),
    Case(
        "info.vat_indicators",
        lambda f: r.Info(f).vat_indicators("DE"),
        "GET",
        "/info/vat-indicators",
        {"storefront": "de"},
        answer={
            "data": [
                {"storefront": "de", "vat_rates": [{"vat_indicator": "standard_rate", "value": 19}]}
            ]
        },
        result=list,
    ),
    Case(
        "categories.list",
        lambda f: r.Categories(f).list(
            q="Katzen", id_parent=3, locale="de-DE", limit=100, offset=100
        ),
        "GET",
        "/categories",
        {
            "storefront": "de",
            "q": "Katzen",
            "id_parent": 3,
            "locale": "de-DE",
            "limit": 100,
            "offset": 100,
        },
        answer=example("/categories"),
        result=m.Page,
    ),
    Case(
        "categories.tree",
        lambda f: r.Categories(f).tree(storefront="cz"),
        "GET",
        "/categories/tree",
        {"storefront": "cz"},
        answer=example("/categories/tree"),
        result=m.CategoryTree,
    ),
    Case(
        "categories.get",
        lambda f: r.Categories(f).get(1, embedded=[m.CategoryEmbeddable.PARENT, "children"]),
        "GET",
        "/categories/1",
        {"storefront": "de", "embedded": "parent,children"},
        answer=example("/categories/{id_category}"),
        result=m.CategoryWithEmbedded,
    ),
    Case(
        "categories.decide",
        lambda f: r.Categories(f).decide(
            title="Kratzbaum", description="Für Katzen", manufacturer="Trixie", price=49.99
        ),
        "POST",
        "/categories/decide",
        {"storefront": "de"},
        json={
            "item": {"title": "Kratzbaum", "description": "Für Katzen", "manufacturer": "Trixie"},
            "price": 49.99,
        },
        replay_safe=True,
        answer=example("/categories"),
        result=list,
    ),
    Case(
        "attributes.list",
        lambda f: r.Attributes(f).list(locale="de-DE"),
        "GET",
        "/attributes",
        {"storefront": "de", "locale": "de-DE"},
        answer=example("/attributes"),
        result=m.Page,
    ),
    Case(
        "attributes.search",
        lambda f: r.Attributes(f).search("manu"),
        "GET",
        "/attributes/search",
        {"storefront": "de", "q": "manu"},
        answer=example("/attributes/search"),
        result=m.Page,
    ),
    Case(
        "attributes.get",
        lambda f: r.Attributes(f).get(21),
        "GET",
        "/attributes/21",
        {"storefront": "de"},
        answer=example("/attributes/{id_attribute}"),
        result=m.Attribute,
    ),
    Case(
        "attributes.by_name",
        lambda f: r.Attributes(f).by_name("colour family"),
        "GET",
        "/attributes/by-name/colour%20family",
        {"storefront": "de"},
        answer=example("/attributes/by-name/{name}"),
        result=m.Attribute,
    ),
    Case(
        "attributes.shared_set",
        lambda f: r.Attributes(f).shared_set(141, locale="de-DE", q="Sch"),
        "GET",
        "/attributes/141/shared-set",
        {"locale": "de-DE", "q": "Sch"},
        answer=example("/attributes/{id_attribute}/shared-set"),
        result=m.Page,
    ),
    Case(
        "attributes.shared_set_values",
        lambda f: r.Attributes(f).shared_set_values(141, locale="de-DE"),
        "GET",
        "/attributes/141/shared-set-values",
        {"locale": "de-DE"},
        answer=example("/attributes/{id_attribute}/shared-set-values"),
        result=str,
    ),
    Case(
        "products.by_ean",
        lambda f: r.Products(f).by_ean("4010884503135", embedded=["category", "units"]),
        "GET",
        "/products/ean/4010884503135",
        {"storefront": "de", "embedded": "category,units"},
        answer={"data": example("/products/search")["data"][0]},
        result=m.ProductWithEmbedded,
    ),
    Case(
        "products.get",
        lambda f: r.Products(f).get(2),
        "GET",
        "/products/2",
        {"storefront": "de"},
        answer={"data": example("/products/search")["data"][0]},
        result=m.ProductWithEmbedded,
    ),
    Case(
        "products.search",
        lambda f: r.Products(f).search("Angebot", limit=20),
        "GET",
        "/products/search",
        {"storefront": "de", "q": "Angebot", "limit": 20},
        answer=example("/products/search"),
        result=m.Page,
    ),
    Case(
        "products.buybox",
        lambda f: r.Products(f).buybox(8475634, storefront="cz", limit=10),
        "GET",
        "/buybox",
        {"id_product": 8475634, "storefront": "cz", "condition": "new", "limit": 10},
        answer=example("/buybox"),
        result=m.OffersRankings,
    ),
    Case(
        "products.assortment_insights",
        lambda f: r.Products(f).assortment_insights(limit=5000),
        "GET",
        "/assortment-coverage/insights",
        {"limit": 5000},
        answer=example("/assortment-coverage/insights"),
        result=m.Page,
    ),
    Case(
        "product_data.put",
        lambda f: r.ProductData(f).put("4009750243800", {"title": "Chocolat"}),
        "PUT",
        "/product-data",
        {"locale": "de-DE"},
        json={"ean": ["4009750243800"], "attributes": {"title": ["Chocolat"]}},
        replay_safe=True,
        answer={"data": None},
    ),
    Case(
        "product_data.patch",
        lambda f: r.ProductData(f).patch(["1", "2"], {"description": ["x"]}, storefront="cz"),
        "PATCH",
        "/product-data",
        {"locale": "cs-CZ"},
        json={"ean": ["1", "2"], "attributes": {"description": ["x"]}},
        replay_safe=True,
        answer={"data": None},
    ),
    Case(
        "product_data.get",
        lambda f: r.ProductData(f).get("4009750243800", locale="fr-FR"),
        "GET",
        "/product-data/4009750243800",
        {"locale": "fr-FR"},
        answer=example("/product-data/{ean}"),
        result=m.ProductData,
    ),
    Case(
        "product_data.delete",
        lambda f: r.ProductData(f).delete("4009750243800"),
        "DELETE",
        "/product-data/4009750243800",
        {"locale": "de-DE"},
        replay_safe=True,
        answer={"data": None},
    ),
    Case(
        "product_data.status",
        lambda f: r.ProductData(f).status("4009750243800"),
        "GET",
        "/product-data/status/4009750243800",
        {"locale": "de-DE"},
        answer={"data": {"product_ready": False, "update_status": "PENDING", "id_product": None}},
        result=m.ProductDataStatus,
    ),
    Case(
        "product_data.create_import_file",
        lambda f: r.ProductData(f).create_import_file("http://www.example.com/my_products.csv"),
        "POST",
        "/product-data/import-files",
        {},
        json={"url": "http://www.example.com/my_products.csv"},
        replay_safe=False,
        answer=example("/product-data/import-files", "post"),
        result=m.ProductDataImportFile,
    ),
    Case(
        "product_data.list_import_files",
        lambda f: r.ProductData(f).list_import_files(status="DONE", sort="ts_created:desc"),
        "GET",
        "/product-data/import-files",
        {"status": "DONE", "sort": "ts_created:desc"},
        answer=example("/product-data/import-files"),
        result=m.Page,
    ),
    Case(
        "product_data.get_import_file",
        lambda f: r.ProductData(f).get_import_file(123),
        "GET",
        "/product-data/import-files/123",
        {},
        answer=example("/product-data/import-files", "post"),
        result=m.ProductDataImportFile,
    ),
    Case(
        "product_data.upload_variant_suggestions",
        lambda f: r.ProductData(f).upload_variant_suggestions("http://x/v.csv"),
        "POST",
        "/variant-suggestions/feed/upload-by-url",
        {},
        json={"url": "http://x/v.csv"},
        replay_safe=False,
        answer=example("/variant-suggestions/feed/upload-by-url", "post"),
        result=m.ProductDataImportFile,
    ),
    Case(
        "product_data.list_variant_suggestion_feeds",
        lambda f: r.ProductData(f).list_variant_suggestion_feeds(),
        "GET",
        "/variant-suggestions/feed",
        {},
        answer=example("/variant-suggestions/feed"),
        result=m.Page,
    ),
    Case(
        "product_data.get_variant_suggestion_feed",
        lambda f: r.ProductData(f).get_variant_suggestion_feed(123),
        "GET",
        "/variant-suggestions/feed/123",
        {},
        answer=example("/variant-suggestions/feed/upload-by-url", "post"),
        result=m.ProductDataImportFile,
    ),
    Case(
        "units.list",
        lambda f: r.Units(f).list(
            id_offer="SKU",
            ean="123",
            embedded=["products"],
            fulfillment_type="fulfilled_by_merchant",
        ),
        "GET",
        "/units",
        {
            "storefront": "de",
            "id_offer": "SKU",
            "ean": "123",
            "embedded": "products",
            "fulfillment_type": ["fulfilled_by_merchant"],
        },
        answer=page_of(UNIT),
        result=m.Page,
    ),
    Case(
        "units.get",
        lambda f: r.Units(f).get(1, storefront=Storefront.AT),
        "GET",
        "/units/1",
        {"storefront": "at"},
        answer={"data": UNIT},
        result=m.Unit,
    ),
    Case(
        "units.create",
        lambda f: r.Units(f).create(
            {
                "ean": "4011905437873",
                "listing_price": 4550,
                "handling_time": 1,
                "id_offer": "SKU-4711",
            }
        ),
        "POST",
        "/units",
        {"storefront": "de"},
        json={
            "ean": "4011905437873",
            "listing_price": 4550,
            "handling_time": 1,
            "id_offer": "SKU-4711",
        },
        replay_safe=False,
        answer={"data": UNIT},
        result=m.Unit,
    ),
    Case(
        "units.update",
        lambda f: r.Units(f).update(1, m.UnitPatchRequest(amount=3, listing_price=999)),
        "PATCH",
        "/units/1",
        {"storefront": "de"},
        json={"amount": 3, "listing_price": 999},
        replay_safe=True,
        answer={"data": UNIT},
        result=m.Unit,
    ),
    Case(
        "units.delete",
        lambda f: r.Units(f).delete(1),
        "DELETE",
        "/units/1",
        {"storefront": "de"},
        replay_safe=True,
    ),
    Case(
        "units.bulk_update",
        lambda f: r.Units(f).bulk_update([(1000, {"listing_price": 0 + 1}), (1, {"amount": 2})]),
        "POST",
        "/units/bulk",
        {"storefront": "de"},
        json=[
            {"id_unit": 1000, "unit_data": {"listing_price": 1}},
            {"id_unit": 1, "unit_data": {"amount": 2}},
        ],
        replay_safe=True,
        answer=SCHEMAS["UnitsBulkUpdateResponse"]["example"],
        result=list,
    ),
    Case(
        "orders.list",
        lambda f: r.Orders(f).list(
            storefront="de",
            ts_units_updated_from_iso=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
            fulfillment_type=["fulfilled_by_merchant", "fulfilled_by_kaufland"],
        ),
        "GET",
        "/orders",
        {
            "storefront": "de",
            "ts_units_updated_from_iso": "2024-05-01T12:00:00Z",
            "fulfillment_type": ["fulfilled_by_merchant", "fulfilled_by_kaufland"],
        },
        answer=page_of(prop_example("Order")),
        result=m.Page,
    ),
    Case(
        "orders.get",
        lambda f: r.Orders(f).get("MB7UWLD", embedded=["order_invoices"]),
        "GET",
        "/orders/MB7UWLD",
        {"embedded": "order_invoices"},
        answer={
            "data": prop_example("OrderDetails")
            | {
                "order_units": [ORDER_UNIT | {"kss_eligible": True, "tickets": []}],
                "buyer": prop_example("Buyer"),
                "billing_address": prop_example("Address"),
                "shipping_address": prop_example("Address"),
            }
        },
        result=m.OrderDetails,
    ),
    Case(
        "order_units.list",
        lambda f: r.OrderUnits(f).list(
            status=["need_to_be_sent", m.OrderUnitStatus.OPEN],
            ts_created_from_iso="2024-01-01T00:00:00Z",
            sort="ts_updated:desc",
            limit=100,
        ),
        "GET",
        "/order-units",
        {
            "status": ["need_to_be_sent", "open"],
            "ts_created_from_iso": "2024-01-01T00:00:00Z",
            "sort": "ts_updated:desc",
            "limit": 100,
        },
        answer=page_of(ORDER_UNIT),
        result=m.Page,
    ),
    Case(
        "order_units.get",
        lambda f: r.OrderUnits(f).get(314567896580917, embedded=["return_unit", "tickets"]),
        "GET",
        "/order-units/314567896580917",
        {"embedded": "return_unit,tickets"},
        answer={"data": prop_example("OrderUnitDetails")},
        result=m.OrderUnitDetails,
    ),
    Case(
        "order_units.fulfil",
        lambda f: r.OrderUnits(f).fulfil(7),
        "PATCH",
        "/order-units/7/fulfil",
        {},
        replay_safe=True,
    ),
    Case(
        "order_units.send",
        lambda f: r.OrderUnits(f).send(
            123456789, carrier_code="DHL", tracking_numbers=["0034123456789", "0034987654321"]
        ),
        "PATCH",
        "/order-units/123456789/send",
        {},
        json={"tracking_numbers": "0034123456789,0034987654321", "carrier_code": "DHL"},
        replay_safe=True,
    ),
    Case(
        "order_units.cancel",
        lambda f: r.OrderUnits(f).cancel(7, "NoInventory"),
        "PATCH",
        "/order-units/7/cancel",
        {},
        json={"reason": "NoInventory"},
        replay_safe=True,
    ),
    Case(
        "order_units.refund",
        lambda f: r.OrderUnits(f).refund(7, amount=1299, reason="delivery_delay"),
        "PATCH",
        "/order-units/7/refund",
        {},
        json={"amount": 1299, "reason": "delivery_delay"},
        replay_safe=False,
    ),
    Case(
        "shipments.add",
        lambda f: r.Shipments(f).add(
            123456789, carrier_code="DHL", tracking_number="0034987654321"
        ),
        "POST",
        "/shipments",
        {},
        json={
            "id_order_unit": 123456789,
            "shipment_information": {"carrier_code": "DHL", "tracking_number": "0034987654321"},
        },
        replay_safe=False,
    ),
    Case(
        "shipments.create_label",
        lambda f: r.Shipments(f).create_label(
            [123456789, 987654321], weight_gram=1500, width_cm=10, height_cm=20, length_cm=30
        ),
        "POST",
        "/shipping-labels",
        {},
        json={
            "ids_order_units": [123456789, 987654321],
            "carriers": ["GLS"],
            "package_measurements": {
                "weight_gram": 1500,
                "width_cm": 10,
                "height_cm": 20,
                "length_cm": 30,
            },
        },
        replay_safe=False,
        answer={"data": prop_example("CreateShippingLabelResponse")},
        result=m.ShippingLabel,
    ),
    Case(
        "order_invoices.list",
        lambda f: r.OrderInvoices(f).list(storefront="pl"),
        "GET",
        "/order-invoices",
        {"storefront": "pl"},
        answer=page_of(prop_example("OrderInvoice")),
        result=m.Page,
    ),
    Case(
        "order_invoices.get",
        lambda f: r.OrderInvoices(f).get("MB7UWLD", 918273645),
        "GET",
        "/order-invoices/MB7UWLD/918273645",
        {},
        answer={"data": prop_example("OrderInvoice")},
        result=m.OrderInvoice,
    ),
    Case(
        "order_invoices.delete",
        lambda f: r.OrderInvoices(f).delete("MB7UWLD", 918273645),
        "DELETE",
        "/order-invoices/MB7UWLD/918273645",
        {},
        replay_safe=True,
    ),
    Case(
        "order_invoices.upload",
        lambda f: r.OrderInvoices(f).upload(
            "MB7UWLD", original_name="invoice.pdf", mime_type="application/pdf", content=b"%PDF-1.4"
        ),
        "POST",
        "/order-invoices/MB7UWLD",
        {},
        json={
            "original_name": "invoice.pdf",
            "mime_type": "application/pdf",
            "data": "JVBERi0xLjQ=",
        },
        replay_safe=False,
        answer={"data": prop_example("OrderInvoice")},
        result=m.OrderInvoice,
    ),
    Case(
        "returns.list",
        lambda f: r.Returns(f).list(status="return_requested", tracking_code="4078"),
        "GET",
        "/returns",
        {"status": ["return_requested"], "tracking_code": "4078"},
        answer=page_of(prop_example("Return")),
        result=m.Page,
    ),
    Case(
        "returns.get",
        lambda f: r.Returns(f).get(675849321, embedded=["buyer", "return_units"]),
        "GET",
        "/returns/675849321",
        {"embedded": "buyer,return_units"},
        answer={
            "data": prop_example("ReturnDetails") | {"return_units": [prop_example("ReturnUnit")]}
        },
        result=m.ReturnDetails,
    ),
    Case(
        "returns.initiate",
        lambda f: r.Returns(f).initiate(
            [{"id_order_unit": 314567898654242, "reason": "wrong_size", "note": "A note"}]
        ),
        "POST",
        "/returns",
        {},
        json=[{"id_order_unit": 314567898654242, "reason": "wrong_size", "note": "A note"}],
        replay_safe=False,
        answer={"data": prop_example("InitializeReturn") | {"return_units": []}},
        result=m.ReturnWithUnits,
    ),
    Case(
        "returns.update",
        lambda f: r.Returns(f).update(
            675849321,
            [
                m.ReturnItemRequest(
                    id_order_unit=1, reason=m.ReturnReason.DEFECT, note="broken glass"
                )
            ],
        ),
        "PUT",
        "/returns/675849321",
        {},
        json=[{"id_order_unit": 1, "reason": "defect", "note": "broken glass"}],
        replay_safe=True,
        answer={"data": prop_example("UpdateReturn") | {"return_units": []}},
        result=m.ReturnWithUnits,
    ),
    Case(
        "return_units.list",
        lambda f: r.ReturnUnits(f).list(status=["return_arrived"], storefront="de"),
        "GET",
        "/return-units",
        {"status": ["return_arrived"], "storefront": "de"},
        answer=page_of(prop_example("ReturnUnit")),
        result=m.Page,
    ),
    Case(
        "return_units.get",
        lambda f: r.ReturnUnits(f).get(7896580917, embedded=["return", "order_unit"]),
        "GET",
        "/return-units/7896580917",
        {"embedded": "return,order_unit"},
        answer={
            "data": prop_example("ReturnUnitDetails")
            | {"return": prop_example("Return"), "order_unit": ORDER_UNIT}
        },
        result=m.ReturnUnitDetails,
    ),
    Case(
        "return_units.accept",
        lambda f: r.ReturnUnits(f).accept(5),
        "PATCH",
        "/return-units/5/accept",
        {},
        replay_safe=True,
    ),
    Case(
        "return_units.reject",
        lambda f: r.ReturnUnits(f).reject(5, "Can not be returned"),
        "PATCH",
        "/return-units/5/reject",
        {},
        json={"message": "Can not be returned"},
        replay_safe=True,
    ),
    Case(
        "return_units.clarify",
        lambda f: r.ReturnUnits(f).clarify(5, "needs clarification"),
        "PATCH",
        "/return-units/5/clarify",
        {},
        json={"message": "needs clarification"},
        replay_safe=True,
    ),
    Case(
        "return_units.repair",
        lambda f: r.ReturnUnits(f).repair(5),
        "PATCH",
        "/return-units/5/repair",
        {},
        replay_safe=True,
    ),
    Case(
        "shipping_groups.list",
        lambda f: r.ShippingGroups(f).list(limit=30),
        "GET",
        "/shipping-groups",
        {"storefront": "de", "limit": 30},
        answer=page_of({"id_shipping_group": 1, "name": "Standard", "type": "PACKAGE"}),
        result=m.Page,
    ),
    Case(
        "shipping_groups.get",
        lambda f: r.ShippingGroups(f).get(1),
        "GET",
        "/shipping-groups/1",
        {"storefront": "de"},
        answer={"data": {"id_shipping_group": 1, "regions": []}},
        result=m.ShippingGroup,
    ),
    Case(
        "warehouses.list",
        lambda f: r.Warehouses(f).list(),
        "GET",
        "/warehouses",
        {},
        answer=page_of({"id_warehouse": 1, "name": "Main", "type": "normal"}),
        result=m.Page,
    ),
    Case(
        "warehouses.get",
        lambda f: r.Warehouses(f).get(1),
        "GET",
        "/warehouses/1",
        {},
        answer={"data": {"id_warehouse": 1}},
        result=m.Warehouse,
    ),
    Case(
        "warehouses.create",
        lambda f: r.Warehouses(f).create(
            {
                "name": "Main",
                "is_default": True,
                "address": {
                    "street": "Hauptstr.",
                    "house_number": "1",
                    "postcode": "10115",
                    "city": "Berlin",
                    "country": "DE",
                },
            }
        ),
        "POST",
        "/warehouses",
        {},
        json={
            "name": "Main",
            "address": {
                "street": "Hauptstr.",
                "house_number": "1",
                "postcode": "10115",
                "city": "Berlin",
                "country": "DE",
            },
            "is_default": True,
        },
        replay_safe=False,
        answer={"data": {"id_warehouse": 2}},
        result=m.Warehouse,
    ),
    Case(
        "warehouses.update",
        lambda f: r.Warehouses(f).update(
            2,
            m.WarehouseRequest(
                name="B",
                is_default=False,
                address=m.WarehouseAddressRequest(
                    street="S", house_number="2", postcode="1", city="C", country="CZ"
                ),
            ),
        ),
        "PUT",
        "/warehouses/2",
        {},
        json={
            "name": "B",
            "address": {
                "street": "S",
                "house_number": "2",
                "postcode": "1",
                "city": "C",
                "country": "CZ",
            },
            "is_default": False,
        },
        replay_safe=True,
        answer={"data": {"id_warehouse": 2}},
        result=m.Warehouse,
    ),
    Case(
        "warehouses.delete",
        lambda f: r.Warehouses(f).delete(2),
        "DELETE",
        "/warehouses/2",
        {},
        replay_safe=True,
    ),
    Case(
        "carriers.list",
        lambda f: r.Carriers(f).list(),
        "GET",
        "/carriers",
        {},
        answer={"data": {"carriers": [prop_example("Carrier")]}},
        result=list,
    ),
    Case(
        "reports.list",
        lambda f: r.Reports(f).list(sort="date_requested:desc"),
        "GET",
        "/reports",
        {"sort": "date_requested:desc"},
        answer=page_of(prop_example("Report")),
        result=m.Page,
    ),
    Case(
        "reports.get",
        lambda f: r.Reports(f).get(11011),
        "GET",
        "/reports/11011",
        {},
        answer={
            "data": prop_example("Report") | {"parameters": [prop_example("ReportParameterValue")]}
        },
        result=m.Report,
    ),
    Case(
        "reports.account_listing",
        lambda f: r.Reports(f).account_listing(),
        "POST",
        "/reports/account-listing",
        {"storefront": "de"},
        replay_safe=False,
        answer=example("/reports/price-competitiveness", "post", "202"),
        result=m.RequestedReport,
    ),
    Case(
        "reports.bookings_new",
        lambda f: r.Reports(f).bookings_new(date(2024, 1, 1), date(2024, 1, 31), storefront="sk"),
        "POST",
        "/reports/bookings-new",
        {"version": "v2", "storefront": "sk"},
        json={"date_from": "2024-01-01", "date_to": "2024-01-31"},
        replay_safe=False,
        answer=example("/reports/price-competitiveness", "post", "202"),
        result=m.RequestedReport,
    ),
    Case(
        "reports.eans_not_found",
        lambda f: r.Reports(f).eans_not_found(),
        "POST",
        "/reports/eans-not-found",
        {"storefront": "de"},
        replay_safe=False,
        answer=example("/reports/price-competitiveness", "post", "202"),
        result=m.RequestedReport,
    ),
    Case(
        "reports.product_data_changes",
        lambda f: r.Reports(f).product_data_changes(),
        "POST",
        "/reports/product-data-changes",
        {"storefront": "de"},
        replay_safe=False,
        answer=example("/reports/price-competitiveness", "post", "202"),
        result=m.RequestedReport,
    ),
    Case(
        "reports.cancellations",
        lambda f: r.Reports(f).cancellations("seller_related"),
        "POST",
        "/reports/cancellations",
        {"cancellation_type": "seller_related", "storefront": "de"},
        replay_safe=False,
        answer=example("/reports/price-competitiveness", "post", "202"),
        result=m.RequestedReport,
    ),
    Case(
        "reports.competitors_comparer",
        lambda f: r.Reports(f).competitors_comparer(),
        "POST",
        "/reports/competitors-comparer",
        {"storefront": "de"},
        replay_safe=False,
        answer=example("/reports/price-competitiveness", "post", "202"),
        result=m.RequestedReport,
    ),
    Case(
        "reports.sales_new",
        lambda f: r.Reports(f).sales_new(date(2024, 2, 1), date(2024, 2, 29)),
        "POST",
        "/reports/sales-new",
        {"storefront": "de"},
        json={"date_from": "2024-02-01", "date_to": "2024-02-29"},
        replay_safe=False,
        answer=example("/reports/price-competitiveness", "post", "202"),
        result=m.RequestedReport,
    ),
    Case(
        "reports.price_competitiveness",
        lambda f: r.Reports(f).price_competitiveness(),
        "POST",
        "/reports/price-competitiveness",
        {"storefront": "de"},
        replay_safe=False,
        answer=example("/reports/price-competitiveness", "post", "202"),
        result=m.RequestedReport,
    ),
    Case(
        "reports.product_data_import_file_errors",
        lambda f: r.Reports(f).product_data_import_file_errors(123456789),
        "POST",
        "/reports/product-data-import-file-errors",
        {},
        json={"id_file_import": 123456789},
        replay_safe=False,
        answer=example("/reports/price-competitiveness", "post", "202"),
        result=m.RequestedReport,
    ),
    Case(
        "tickets.list",
        lambda f: r.Tickets(f).list(status="opened", storefront=["de", "cz"], topic="fraud"),
        "GET",
        "/tickets",
        {"status": ["opened"], "storefront": ["de", "cz"], "topic": ["fraud"]},
        answer=page_of(prop_example("Ticket")),
        result=m.Page,
    ),
    Case(
        "tickets.get",
        lambda f: r.Tickets(f).get("0011234567", embedded=["messages", "files"]),
        "GET",
        "/tickets/0011234567",
        {"embedded": "messages,files"},
        answer={
            "data": prop_example("TicketWithEmbedded")
            | {"messages": example("/tickets/messages"), "files": [prop_example("TicketFile")]}
        },
        result=m.TicketWithEmbedded,
    ),
    Case(
        "tickets.open",
        lambda f: r.Tickets(f).open([123], reason="product_defect", message="Please check"),
        "POST",
        "/tickets",
        {},
        json={"id_order_unit": [123], "reason": "product_defect", "message": "Please check"},
        replay_safe=False,
        answer={"data": prop_example("OpenTicketResponse")},
        result=m.OpenTicketResponse,
    ),
    Case(
        "tickets.close",
        lambda f: r.Tickets(f).close("0011234567"),
        "PATCH",
        "/tickets/0011234567/close",
        {},
        replay_safe=True,
    ),
    Case(
        "tickets.add_message",
        lambda f: r.Tickets(f).add_message(
            "0011234567", "Sample text", files=[r.tickets.attachment("a.txt", "text/plain", b"hi")]
        ),
        "POST",
        "/tickets/0011234567/messages",
        {},
        json={
            "text": "Sample text",
            "ticket_message_files": [
                {"filename": "a.txt", "mime_type": "text/plain", "data": "aGk="}
            ],
        },
        replay_safe=False,
    ),
    Case(
        "tickets.list_messages",
        lambda f: r.Tickets(f).list_messages(sort="ts_created_iso:asc"),
        "GET",
        "/tickets/messages",
        {"sort": "ts_created_iso:asc"},
        answer=example("/tickets/messages"),
        result=m.Page,
    ),
    Case(
        "subscriptions.list",
        lambda f: r.Subscriptions(f).list(event_name="order_new"),
        "GET",
        "/subscriptions",
        {"event_name": "order_new"},
        answer=page_of(prop_example("Subscription")),
        result=m.Page,
    ),
    Case(
        "subscriptions.get",
        lambda f: r.Subscriptions(f).get(11011),
        "GET",
        "/subscriptions/11011",
        {},
        answer={"data": prop_example("Subscription")},
        result=m.Subscription,
    ),
    Case(
        "subscriptions.create",
        lambda f: r.Subscriptions(f).create(
            callback_url="https://shop.example/hook", event_name="order_new", fallback_email="a@b.c"
        ),
        "POST",
        "/subscriptions",
        {"storefront": "de"},
        json={
            "callback_url": "https://shop.example/hook",
            "fallback_email": "a@b.c",
            "event_name": "order_new",
        },
        replay_safe=False,
        answer={"data": prop_example("Subscription")},
        result=m.Subscription,
    ),
    Case(
        "subscriptions.update",
        lambda f: r.Subscriptions(f).update(11011, is_active=False),
        "PATCH",
        "/subscriptions/11011",
        {},
        json={"is_active": False},
        replay_safe=True,
        answer={"data": prop_example("Subscription")},
        result=m.Subscription,
    ),
    Case(
        "subscriptions.delete",
        lambda f: r.Subscriptions(f).delete(11011),
        "DELETE",
        "/subscriptions/11011",
        {},
        replay_safe=True,
    ),
    Case(
        "import_files.inventory_feed.create",
        lambda f: r.ImportFiles(f).inventory_feed.create("https://x/feed.csv", storefront="de"),
        "POST",
        "/import-files/inventory-feed",
        {"storefront": "de"},
        json={"url": "https://x/feed.csv"},
        replay_safe=False,
        answer={"data": {"id_import_file": 1, "type": "INVENTORY_FEED", "status": "NEW"}},
        result=m.ImportFile,
    ),
    Case(
        "import_files.inventory_command.list",
        lambda f: r.ImportFiles(f).inventory_command.list(status="IMPORTED", sort="id:desc"),
        "GET",
        "/import-files/inventory-command",
        {"storefront": "de", "status": "IMPORTED", "sort": "id:desc"},
        answer=page_of({"id_import_file": 1, "type": "INVENTORY_COMMAND", "storefront": "de"}),
        result=m.Page,
    ),
    Case(
        "import_files.inventory_feed.get",
        lambda f: r.ImportFiles(f).inventory_feed.get(1),
        "GET",
        "/import-files/inventory-feed/1",
        {"storefront": "de"},
        answer={"data": {"id_import_file": 1}},
        result=m.ImportFile,
    ),
    Case(
        "import_files.order_command.create",
        lambda f: r.ImportFiles(f).order_command.create("https://x/orders.csv"),
        "POST",
        "/import-files/order-command",
        {},
        json={"url": "https://x/orders.csv"},
        replay_safe=False,
        answer={"data": {"id_import_file": 2, "type": "ORDER_COMMAND"}},
        result=m.ImportFile,
    ),
    Case(
        "import_files.order_command.get",
        lambda f: r.ImportFiles(f).order_command.get(2),
        "GET",
        "/import-files/order-command/2",
        {},
        answer={"data": {"id_import_file": 2}},
        result=m.ImportFile,
    ),
    Case(
        "playground.create_orders",
        lambda f: r.Playground(f).create_orders([(111, 2), ("222", 1)]),
        "POST",
        "/playground/orders",
        {"storefront": "de"},
        json={"data": [{"id_item_unit": "111", "amount": 2}, {"id_item_unit": "222", "amount": 1}]},
        replay_safe=False,
        answer={"data": [{"id_order": "MB7UWLD"}], "total": 1},
        result=list,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_resource_call(case: Case) -> None:
    fake = FakeRequester(body=case.answer)
    result = await case.op(fake)
    call = fake.last
    assert (call.method, call.path) == (case.method, case.path)
    assert call.params == case.params
    assert call.json == case.json
    if case.method != "GET":
        assert call.replay_safe is case.replay_safe, "replay_safe must be explicit on writes"
    if case.result is None:
        assert result is None
    else:
        assert isinstance(result, case.result)
        if isinstance(result, m.Page):
            assert result.items
            assert all(isinstance(i, BaseModel) for i in result.items)
        if isinstance(result, list):
            assert result


# -- iteration -----------------------------------------------------------------------------------

WALKS: list[
    tuple[str, Callable[[FakeRequester], AsyncIterator[Any]], str, dict[str, Any], int, Any]
] = [
    (
        "units",
        lambda f: r.Units(f).iter_all(id_product=5),
        "/units",
        {"storefront": "de", "id_product": 5},
        100,
        UNIT,
    ),
    ("orders", lambda f: r.Orders(f).iter_all(), "/orders", {}, 100, prop_example("Order")),
    (
        "order_units",
        lambda f: r.OrderUnits(f).iter_all(status="need_to_be_sent", page_size=50),
        "/order-units",
        {"status": ["need_to_be_sent"]},
        100,
        ORDER_UNIT,
    ),
    (
        "order_invoices",
        lambda f: r.OrderInvoices(f).iter_all(),
        "/order-invoices",
        {},
        100,
        prop_example("OrderInvoice"),
    ),
    ("returns", lambda f: r.Returns(f).iter_all(), "/returns", {}, 100, prop_example("Return")),
    (
        "return_units",
        lambda f: r.ReturnUnits(f).iter_all(),
        "/return-units",
        {},
        100,
        prop_example("ReturnUnit"),
    ),
    (
        "categories",
        lambda f: r.Categories(f).iter_all(q="x"),
        "/categories",
        {"storefront": "de", "q": "x"},
        100,
        example("/categories")["data"][0],
    ),
    (
        "attributes",
        lambda f: r.Attributes(f).iter_all(),
        "/attributes",
        {"storefront": "de"},
        100,
        example("/attributes")["data"][0],
    ),
    (
        "attribute_search",
        lambda f: r.Attributes(f).iter_search("m"),
        "/attributes/search",
        {"storefront": "de", "q": "m"},
        100,
        example("/attributes")["data"][0],
    ),
    (
        "shared_set",
        lambda f: r.Attributes(f).iter_shared_set(1, locale="de-DE"),
        "/attributes/1/shared-set",
        {"locale": "de-DE"},
        100,
        {"label": "a", "value": "a"},
    ),
    (
        "products",
        lambda f: r.Products(f).iter_search("q"),
        "/products/search",
        {"storefront": "de", "q": "q"},
        100,
        example("/products/search")["data"][0],
    ),
    (
        "insights",
        lambda f: r.Products(f).iter_assortment_insights(),
        "/assortment-coverage/insights",
        {},
        5000,
        example("/assortment-coverage/insights")["data"][0],
    ),
    (
        "pd_files",
        lambda f: r.ProductData(f).iter_import_files(),
        "/product-data/import-files",
        {},
        100,
        {"id_import_file": 1},
    ),
    (
        "variant_feeds",
        lambda f: r.ProductData(f).iter_variant_suggestion_feeds(),
        "/variant-suggestions/feed",
        {},
        100,
        {"id_import_file": 1},
    ),
    (
        "shipping_groups",
        lambda f: r.ShippingGroups(f).iter_all(),
        "/shipping-groups",
        {"storefront": "de"},
        30,
        {"id_shipping_group": 1},
    ),
    (
        "warehouses",
        lambda f: r.Warehouses(f).iter_all(),
        "/warehouses",
        {},
        30,
        {"id_warehouse": 1},
    ),
    ("reports", lambda f: r.Reports(f).iter_all(), "/reports", {}, 30, prop_example("Report")),
    (
        "subscriptions",
        lambda f: r.Subscriptions(f).iter_all(),
        "/subscriptions",
        {},
        30,
        prop_example("Subscription"),
    ),
    ("tickets", lambda f: r.Tickets(f).iter_all(), "/tickets", {}, 30, prop_example("Ticket")),
    (
        "ticket_messages",
        lambda f: r.Tickets(f).iter_messages(),
        "/tickets/messages",
        {},
        30,
        example("/tickets/messages")[0],
    ),
    (
        "inventory_feed",
        lambda f: r.ImportFiles(f).inventory_feed.iter_all(),
        "/import-files/inventory-feed",
        {"storefront": "de"},
        30,
        {"id_import_file": 1},
    ),
    (
        "order_command",
        lambda f: r.ImportFiles(f).order_command.iter_all(),
        "/import-files/order-command",
        {},
        30,
        {"id_import_file": 1},
    ),
]


@pytest.mark.parametrize(
    ("name", "op", "path", "params", "max_limit", "item"), WALKS, ids=[w[0] for w in WALKS]
)
async def test_iter_all_walks_with_endpoint_limit(
    name: str,
    op: Callable[[FakeRequester], AsyncIterator[Any]],
    path: str,
    params: dict[str, Any],
    max_limit: int,
    item: Any,
) -> None:
    fake = FakeRequester(items=[item, item])
    got = [x async for x in op(fake)]
    assert len(got) == 2
    assert all(isinstance(x, BaseModel) for x in got)
    (walk,) = fake.walks
    assert (walk.path, walk.params, walk.max_limit) == (path, params, max_limit)
    assert not fake.calls


async def test_page_size_is_passed_and_checked(fake: FakeRequester) -> None:
    _ = [x async for x in r.OrderUnits(fake).iter_all(page_size=50)]
    assert fake.walks[0].page_size == 50
    with pytest.raises(ValueError, match="between 1 and 30"):
        r.Tickets(fake).iter_all(page_size=31)


# -- local refusals ------------------------------------------------------------------------------


async def test_list_refuses_limit_above_endpoint_maximum(fake: FakeRequester) -> None:
    with pytest.raises(ValueError, match="between 1 and 30"):
        await r.Warehouses(fake).list(limit=31)
    with pytest.raises(ValueError, match="between 1 and 100"):
        await r.Units(fake).list(limit=101)
    with pytest.raises(ValueError, match="offset"):
        await r.Units(fake).list(offset=-1)
    assert not fake.calls


def patch_items(n: int) -> list[tuple[int, dict[str, Any]]]:
    return [(i + 1, {"amount": i}) for i in range(n)]


async def test_bulk_refuses_more_than_150(fake: FakeRequester) -> None:
    with pytest.raises(ValueError, match="at most 150 units, got 151"):
        await r.Units(fake).bulk_update(patch_items(151))
    assert not fake.calls


async def test_bulk_refuses_duplicates(fake: FakeRequester) -> None:
    with pytest.raises(ValueError, match=r"repeated: \[2\]"):
        await r.Units(fake).bulk_update(
            [(1, {"amount": 1}), (2, {"amount": 1}), (2, {"amount": 3})]
        )
    assert not fake.calls


async def test_bulk_with_nothing_sends_nothing(fake: FakeRequester) -> None:
    assert await r.Units(fake).bulk_update([]) == []
    assert not fake.calls


async def test_bulk_update_all_chunks_by_150() -> None:
    answer = {"data": [{"id_unit": 1, "status_code": 200}]}
    fake = FakeRequester(body=answer)
    results = await r.Units(fake).bulk_update_all(patch_items(320))
    assert [len(c.json) for c in fake.calls] == [150, 150, 20]
    assert len(results) == 3  # one canned result per chunk
    ids = [item["id_unit"] for call in fake.calls for item in call.json]
    assert ids == list(range(1, 321))


async def test_bulk_update_all_refuses_repeats_across_chunks(fake: FakeRequester) -> None:
    items = [*patch_items(150), (1, {"amount": 9})]
    with pytest.raises(ValueError, match=r"repeated: \[1\]"):
        await r.Units(fake).bulk_update_all(items)
    assert not fake.calls


async def test_unit_create_validates_before_sending(fake: FakeRequester) -> None:
    with pytest.raises(ValueError, match="handling_time"):
        await r.Units(fake).create(
            {"ean": "1", "listing_price": 1, "handling_time": 101, "id_offer": "x"}
        )
    assert not fake.calls


async def test_required_storefront_without_default_names_the_parameter() -> None:
    fake = FakeRequester(default_storefront=None)
    with pytest.raises(ValueError, match="storefront"):
        await r.Units(fake).get(1)
    assert not fake.calls


async def test_optional_storefront_filter_ignores_the_default(fake: FakeRequester) -> None:
    fake.body = page_of(ORDER_UNIT)
    await r.OrderUnits(fake).list()
    assert "storefront" not in fake.last.params


async def test_product_data_locale_comes_from_the_default_storefront() -> None:
    fake = FakeRequester(default_storefront="pl")
    await r.ProductData(fake).delete("123")
    assert fake.last.params == {"locale": "pl-PL"}


async def test_cancel_refuses_unknown_reason(fake: FakeRequester) -> None:
    with pytest.raises(ValueError, match="Teleported"):
        await r.OrderUnits(fake).cancel(1, "Teleported")
    assert not fake.calls


async def test_order_command_import_files_take_no_storefront(fake: FakeRequester) -> None:
    with pytest.raises(ValueError, match="no storefront"):
        await r.ImportFiles(fake).order_command.create("https://x", storefront="de")


async def test_subscription_update_needs_a_field(fake: FakeRequester) -> None:
    with pytest.raises(ValueError, match="nothing to update"):
        await r.Subscriptions(fake).update(1)


async def test_bulk_results_parse_per_unit() -> None:
    fake = FakeRequester(body=SCHEMAS["UnitsBulkUpdateResponse"]["example"])
    results = await r.Units(fake).bulk_update([(1000, {"amount": 1}), (1, {"amount": 1})])
    assert [(x.id_unit, x.ok) for x in results] == [(1000, False), (1, True)]


def test_every_resource_is_exported() -> None:
    names: Sequence[str] = r.__all__
    assert len(names) == 21
    for name in names:
        cls = getattr(r, name)
        assert cls(FakeRequester())._r is not None
