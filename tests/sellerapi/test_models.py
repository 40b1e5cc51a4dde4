"""The models against Kaufland's spec: its examples parse, its field names are ours, request
bodies validate the way the API does, and unknown values do not break parsing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from kaufland_sync.sellerapi import models as m
from kaufland_sync.sellerapi.storefronts import Storefront
from tests.conformance import load_spec

SPEC = load_spec()
SCHEMAS: dict[str, Any] = SPEC["components"]["schemas"]

# Spec schema → our model, for every response object the client parses.
RESPONSE_MODELS: dict[str, type[BaseModel]] = {
    "AssortmentInsight": m.AssortmentInsight,
    "CreateShippingLabelResponse": m.ShippingLabel,
    "CountryVatRates": m.CountryVatRates,
    "OffersRankings": m.OffersRankings,
    "ProductCategoriesImportFileResponse": m.ProductDataImportFile,
    "ProductDataImportFileResponse": m.ProductDataImportFile,
    "Attribute": m.Attribute,
    "SharedSet": m.SharedSetValue,
    "CategoryTree": m.CategoryTree,
    "Category": m.Category,
    "CategoryBasic": m.CategoryBasic,
    "CategoryWithEmbedded": m.CategoryWithEmbedded,
    "ProductWithEmbedded": m.ProductWithEmbedded,
    "Product": m.Product,
    "ProductUnitEmbedded": m.ProductUnitEmbedded,
    "ProductDataObject": m.ProductData,
    "ProductDataStatusResponse": m.ProductDataStatus,
    "Carriers": m.Carriers,
    "Order": m.Order,
    "OrderDetails": m.OrderDetails,
    "ImportFileOrderCommand": m.ImportFile,
    "ImportFileInventoryFeed": m.ImportFile,
    "ImportFileInventoryCommand": m.ImportFile,
    "OrderInvoice": m.OrderInvoice,
    "OrderUnit": m.OrderUnit,
    "OrderUnitDetails": m.OrderUnitDetails,
    "ReturnUnit": m.ReturnUnit,
    "Return": m.Return,
    "ReturnDetails": m.ReturnDetails,
    "InitializeReturn": m.ReturnWithUnits,
    "UpdateReturn": m.ReturnWithUnits,
    "ReturnUnitDetails": m.ReturnUnitDetails,
    "ShippingGroup": m.ShippingGroup,
    "UnitEmbedded": m.UnitEmbedded,
    "Unit": m.Unit,
    "UnitsBulkUpdatedUnit": m.BulkUnitResult,
    "UnitsBulkUpdateErrorDetails": m.BulkUnitResult,
    "UnitsBulkUpdateInternalError": m.BulkUnitResult,
    "Warehouse": m.Warehouse,
    "Report": m.Report,
    "RequestedReport": m.RequestedReport,
    "PingMessage": m.PingMessage,
    "Subscription": m.Subscription,
    "OpenTicketResponse": m.OpenTicketResponse,
    "Ticket": m.Ticket,
    "TicketMessage": m.TicketMessage,
    "TicketWithEmbedded": m.TicketWithEmbedded,
}

# Spec request schema → our request model (extra="forbid", so a misspelt field fails).
REQUEST_MODELS: dict[str, type[BaseModel]] = {
    "CreateShippingLabelRequest": m.ShippingLabelRequest,
    "ProductCategoriesImportFileRequestBody": m.ImportFileRequest,
    "ImportFileRequestBody": m.ImportFileRequest,
    "ImportFileOrderCommandPostRequest": m.ImportFileRequest,
    "ImportFileInventoryFeedPostRequest": m.ImportFileRequest,
    "ImportFileInventoryCommandPostRequest": m.ImportFileRequest,
    "CategoryDecideRequestBody": m.CategoryDecideRequest,
    "ProductDataObject": m.ProductDataRequest,
    "OrderInvoiceUploadRequest": m.OrderInvoiceUploadRequest,
    "OrderUnitCancelRequest": m.OrderUnitCancelRequest,
    "OrderUnitSendRequest": m.OrderUnitSendRequest,
    "OrderUnitRefundRequest": m.OrderUnitRefundRequest,
    "InitializeReturnRequest": m.ReturnItemRequest,
    "UpdateReturnRequest": m.ReturnItemRequest,
    "ReturnUnitClarifyRequest": m.ReturnUnitMessageRequest,
    "ReturnUnitRejectRequest": m.ReturnUnitMessageRequest,
    "AddShipmentRequest": m.AddShipmentRequest,
    "UnitRequest": m.UnitRequest,
    "UnitPatchRequest": m.UnitPatchRequest,
    "UnitsBulkUpdateRequest": m.BulkUnitUpdate,
    "WarehouseBodyRequest": m.WarehouseRequest,
    "RequestBookingsReportRequest": m.DateRangeReportRequest,
    "RequestNewSalesReportRequest": m.DateRangeReportRequest,
    "RequestProductDataImportFileErrorsReportRequest": m.ImportFileErrorsReportRequest,
    "CreateSubscriptionRequest": m.SubscriptionCreateRequest,
    "UpdateSubscriptionRequest": m.SubscriptionUpdateRequest,
    "OpenTicketRequest": m.OpenTicketRequest,
    "CreateTicketMessageRequest": m.CreateTicketMessageRequest,
}


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    for key in ("allOf", "anyOf", "oneOf"):
        if key in schema:
            return resolve(schema[key][0])
    return schema


def properties(name: str) -> dict[str, Any]:
    return dict(resolve(SCHEMAS[name]).get("properties", {}))


def synthesize(schema: dict[str, Any], depth: int = 0) -> Any:
    """A full instance of a schema: the spec's property examples where given, else typical
    values; every property present (the strictest shape a real answer can have)."""
    if "example" in schema and "$ref" not in schema:
        return schema["example"]
    schema = resolve(schema)
    if "example" in schema:
        return schema["example"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "array":
        return [synthesize(schema.get("items", {}), depth + 1)] if depth < 4 else []
    if kind == "object" or "properties" in schema:
        return {p: synthesize(s, depth + 1) for p, s in schema.get("properties", {}).items()}
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        # Integral: counts the spec types as "number" are whole numbers in every example.
        return 200.0 if schema.get("minimum") == 200 else 3.0
    if kind == "boolean":
        return True
    if schema.get("format") == "date-time":
        return "2021-07-24T19:26:05Z"
    if schema.get("format") == "date":
        return "2024-01-31"
    return "some text"


def response_examples() -> list[tuple[str, str, Any]]:
    """Every example answer the spec gives for a 2xx response, with the schema of its data."""
    found = []
    for path, operations in SPEC["paths"].items():
        for method, op in operations.items():
            for code, response in op.get("responses", {}).items():
                if not code.startswith("2"):
                    continue
                content = response.get("content", {}).get("application/json", {})
                envelope = content.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
                for name, example in (content.get("examples") or {}).items():
                    found.append((f"{method.upper()} {path} {name}", envelope, example["value"]))
    return found


def data_model(envelope: str) -> type[BaseModel]:
    inner = properties(envelope)["data"]
    item = inner.get("items", inner)
    return RESPONSE_MODELS[resolve_name(item)]


def resolve_name(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"].rsplit("/", 1)[-1])
    if "anyOf" in schema:
        return resolve_name(schema["anyOf"][0])
    raise KeyError(schema)


MODEL_ENVELOPES = [
    e
    for e in response_examples()
    if resolve(properties(e[1]).get("data", {})).get("type") != "string"
]


@pytest.mark.parametrize(("label", "envelope", "body"), MODEL_ENVELOPES, ids=lambda v: str(v)[:60])
def test_spec_response_examples_parse(label: str, envelope: str, body: Any) -> None:
    # One spec example (GET /tickets/messages) is a bare array instead of the envelope.
    data = body["data"] if isinstance(body, dict) else body
    model = data_model(envelope)
    items = data if isinstance(data, list) else [data]
    for item in items:
        parsed = model.model_validate(item)
        assert parsed.model_dump() is not None


def test_there_are_many_spec_examples() -> None:
    assert len(MODEL_ENVELOPES) >= 20


@pytest.mark.parametrize("schema_name", sorted(RESPONSE_MODELS))
def test_full_synthesized_response_parses(schema_name: str) -> None:
    model = RESPONSE_MODELS[schema_name]
    data = synthesize(SCHEMAS[schema_name])
    parsed = model.model_validate(data)  # raises on any field that does not fit
    assert set(data) <= set(parsed.model_dump(by_alias=True))  # nothing was dropped


@pytest.mark.parametrize("schema_name", sorted(RESPONSE_MODELS))
def test_response_models_declare_every_spec_field(schema_name: str) -> None:
    """Field names exactly as the spec: each spec property is a declared field (or alias)."""
    model = RESPONSE_MODELS[schema_name]
    declared = set()
    for name, info in model.model_fields.items():
        declared.add(info.alias or name)
    assert set(properties(schema_name)) <= declared


@pytest.mark.parametrize("schema_name", sorted(REQUEST_MODELS))
def test_request_models_accept_a_full_spec_body(schema_name: str) -> None:
    model = REQUEST_MODELS[schema_name]
    body = synthesize(SCHEMAS[schema_name])
    if schema_name == "UnitRequest":
        body["condition"] = "NEW"  # anyOf(int, enum): the synthesizer picks the int branch
    if schema_name in ("UpdateSubscriptionRequest", "CreateSubscriptionRequest"):
        body = synthesize(resolve(SCHEMAS[schema_name]))
    parsed = model.model_validate(body)
    # Everything the spec names survives into the body we send.
    sent = parsed.to_body()  # type: ignore[attr-defined]
    assert set(sent) <= set(properties(schema_name)) | set(
        resolve(SCHEMAS[schema_name]).get("properties", {})
    )


def request_examples() -> list[tuple[str, str, Any]]:
    found = []
    for path, operations in SPEC["paths"].items():
        for method, op in operations.items():
            content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            if "example" not in content:
                continue
            schema = content["schema"]
            name = resolve_name(schema.get("items", schema))
            found.append((f"{method.upper()} {path}", name, content["example"]))
    return found


@pytest.mark.parametrize(("label", "schema_name", "example"), request_examples())
def test_spec_request_examples_validate(label: str, schema_name: str, example: Any) -> None:
    model = REQUEST_MODELS[schema_name]
    for item in example if isinstance(example, list) else [example]:
        parsed = model.model_validate(item)  # raises when our strict model refuses Kaufland's own
        assert set(item) <= set(parsed.model_dump(by_alias=True))


# -- leniency ---------------------------------------------------------------------------------


def test_unknown_fields_and_enum_values_are_kept() -> None:
    unit = m.OrderUnit.model_validate(
        {
            "id_order_unit": 1,
            "id_order": "MB7UWLD",
            "status": "teleported",
            "storefront": "DE",
            "brand_new_field": {"x": 1},
        }
    )
    assert unit.status == "teleported"
    assert unit.storefront is Storefront.DE
    assert unit.model_extra == {"brand_new_field": {"x": 1}}


def test_documented_enum_values_become_members() -> None:
    unit = m.OrderUnit.model_validate({"id_order_unit": 1, "id_order": "A", "status": "sent"})
    assert unit.status is m.OrderUnitStatus.SENT


def test_missing_optional_fields_default_to_none() -> None:
    unit = m.Unit.model_validate({"id_unit": 5})
    assert unit.listing_price is None
    assert unit.product is None


def test_iso_timestamps_become_aware_utc() -> None:
    ticket = m.Ticket.model_validate(
        {"id_ticket": "0011", "ts_created_iso": "2021-07-24T21:26:05+02:00"}
    )
    assert ticket.ts_created_iso == datetime(2021, 7, 24, 19, 26, 5, tzinfo=UTC)
    naive = m.Ticket.model_validate({"id_ticket": "0011", "ts_created_iso": "2021-07-24 19:26:05"})
    assert naive.ts_created_iso is not None
    assert naive.ts_created_iso.tzinfo is UTC


def test_non_iso_timestamps_are_kept_and_parseable() -> None:
    f = m.ProductDataImportFile.model_validate(
        {"id_import_file": 1, "ts_created": "2021-05-31 01:06:05"}
    )
    assert f.ts_created == "2021-05-31 01:06:05"
    assert m.parse_kaufland_timestamp(f.ts_created) == datetime(2021, 5, 31, 1, 6, 5, tzinfo=UTC)
    assert m.parse_kaufland_timestamp("2021-07-24T19:26:05Z") == datetime(
        2021, 7, 24, 19, 26, 5, tzinfo=UTC
    )
    assert m.parse_kaufland_timestamp("soon") is None
    assert m.parse_kaufland_timestamp(None) is None


def test_carrier_is_hauler_alias() -> None:
    carriers = m.Carriers.model_validate(
        {"carriers": [{"name": "DHL", "isHauler": False}, {"name": "Dachser", "isHauler": True}]}
    )
    assert [(c.name, c.is_hauler) for c in carriers.carriers] == [
        ("DHL", False),
        ("Dachser", True),
    ]


def test_return_unit_details_embeds_return_under_its_spec_name() -> None:
    details = m.ReturnUnitDetails.model_validate(
        {"id_return_unit": 1, "return": {"id_return": 9, "status": "package_sent"}}
    )
    assert details.return_ is not None
    assert details.return_.status is m.ReturnStatus.PACKAGE_SENT


def test_bulk_results_tell_success_from_failure() -> None:
    example = SCHEMAS["UnitsBulkUpdateResponse"]["example"]["data"]
    results = [m.BulkUnitResult.model_validate(r) for r in example]
    assert [r.ok for r in results] == [False, True]
    assert results[0].errors is not None
    assert results[0].errors[0].field == "listing_price"
    assert results[1].unit is not None
    assert (
        m.BulkUnitResult.model_validate(
            {"id_unit": 3, "status_code": 500.0, "key": "k", "message": "boom"}
        ).status_code
        == 500
    )


def test_subscription_id_number_becomes_int() -> None:
    assert m.Subscription.model_validate({"id_subscription": 11011.0}).id_subscription == 11011


# -- request validation ------------------------------------------------------------------------


def unit_request(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ean": "4011905437873",
        "condition": "NEW",
        "listing_price": 4550,
        "minimum_price": 3990,
        "amount": 9,
        "handling_time": 1,
        "id_offer": "SKU-4711",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def test_unit_request_body_matches_reference_vector() -> None:
    # REFERENCE.md §1.3 V3: the body as Kaufland receives it.
    sent = m.UnitRequest.model_validate(unit_request()).to_body()
    assert sent == {
        "ean": "4011905437873",
        "condition": "NEW",
        "listing_price": 4550,
        "minimum_price": 3990,
        "amount": 9,
        "handling_time": 1,
        "id_offer": "SKU-4711",
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"handling_time": 101}, "handling_time"),
        ({"handling_time": -1}, "handling_time"),
        ({"handling_time": None}, "handling_time"),
        ({"listing_price": 0}, "listing_price"),
        ({"id_offer": None}, "id_offer"),
        ({"amount": -1}, "amount"),
        ({"note": "x" * 251}, "note"),
        ({"vat_indicator": "unspecified"}, "vat_indicator"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_unit_request_errors_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        m.UnitRequest.model_validate(unit_request(**changes))
    assert field in str(excinfo.value)


def test_unit_request_needs_ean_or_id_product() -> None:
    with pytest.raises(ValidationError, match="ean or id_product"):
        m.UnitRequest.model_validate(unit_request(ean=None))
    by_product = m.UnitRequest.model_validate(unit_request(ean=None, id_product=42))
    assert by_product.to_body()["id_product"] == 42


def test_unit_request_accepts_numeric_condition() -> None:
    assert m.UnitRequest.model_validate(unit_request(condition=100)).to_body()["condition"] == 100


def test_unit_patch_sends_only_what_is_set() -> None:
    patch = m.UnitPatchRequest(amount=0, status=m.WriteableUnitStatus.ONHOLD)
    assert patch.to_body() == {"amount": 0, "status": "ONHOLD"}
    with pytest.raises(ValidationError, match="handling_time"):
        m.UnitPatchRequest(handling_time=200)


def test_send_request_joins_tracking_numbers() -> None:
    body = m.OrderUnitSendRequest.model_validate(
        {"carrier_code": "DHL", "tracking_numbers": ["0034123456789", " 0034987654321 "]}
    )
    assert body.to_body() == {
        "carrier_code": "DHL",
        "tracking_numbers": "0034123456789,0034987654321",
    }


def test_product_data_request_wraps_single_values() -> None:
    body = m.ProductDataRequest.model_validate(
        {"ean": "4009750243800", "attributes": {"title": "Chocolat", "picture": ["a", "b"]}}
    ).to_body()
    assert body == {
        "ean": ["4009750243800"],
        "attributes": {"title": ["Chocolat"], "picture": ["a", "b"]},
    }


def test_date_range_report_request_checks_order() -> None:
    ok = m.DateRangeReportRequest(date_from=date(2024, 1, 1), date_to=date(2024, 1, 31))
    assert ok.to_body() == {"date_from": "2024-01-01", "date_to": "2024-01-31"}
    with pytest.raises(ValidationError, match="date_to"):
        m.DateRangeReportRequest(date_from=date(2024, 2, 1), date_to=date(2024, 1, 31))


def test_invoice_upload_encodes_base64() -> None:
    body = m.OrderInvoiceUploadRequest.from_bytes("a.pdf", "application/pdf", b"%PDF-1.4")
    assert body.data == "JVBERi0xLjQ="


# -- helpers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (4550, "EUR", "45.50 EUR"),
        (5, "CZK", "0.05 CZK"),
        (-1999, "PLN", "-19.99 PLN"),
        (0, "EUR", "0.00 EUR"),
    ],
)
def test_format_minor(amount: int, currency: str, text: str) -> None:
    assert m.format_minor(amount, currency) == text


def test_page_reports_more() -> None:
    from kaufland_sync.sellerapi._requester import Pagination

    page = m.Page([1, 2], Pagination(offset=0, limit=2, total=3))
    assert list(page) == [1, 2]
    assert len(page) == 2
    assert page.total == 3
    assert page.has_more
    assert not m.Page([3], Pagination(offset=2, limit=2, total=3)).has_more
    assert not m.Page([], None).has_more
