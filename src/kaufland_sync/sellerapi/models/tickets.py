"""Ticket models (``/tickets``): buyer/seller conversations about order units.

``id_ticket`` is a **string** of digits starting with ``001``; keep it as text.
"""

from __future__ import annotations

import enum

from pydantic import Field

from kaufland_sync.sellerapi.models.common import (
    ApiModel,
    Buyer,
    FulfillmentType,
    Lenient,
    RequestModel,
    UtcDateTime,
)
from kaufland_sync.sellerapi.models.order_units import OrderUnit
from kaufland_sync.sellerapi.models.products import Product

__all__ = [
    "CreateTicketMessageRequest",
    "OpenTicketRequest",
    "OpenTicketResponse",
    "Ticket",
    "TicketEmbeddable",
    "TicketFile",
    "TicketMessage",
    "TicketMessageAuthor",
    "TicketMessageFile",
    "TicketMessageSort",
    "TicketReason",
    "TicketSort",
    "TicketStatus",
    "TicketTopic",
    "TicketWithEmbedded",
]


class TicketStatus(enum.StrEnum):
    OPENED = "opened"
    BUYER_CLOSED = "buyer_closed"
    SELLER_CLOSED = "seller_closed"
    BOTH_CLOSED = "both_closed"
    CUSTOMER_SERVICE_CLOSED_FINAL = "customer_service_closed_final"


class TicketReason(enum.StrEnum):
    PRODUCT_NOT_AS_DESCRIBED = "product_not_as_described"
    PRODUCT_DEFECT = "product_defect"
    PRODUCT_NOT_DELIVERED = "product_not_delivered"
    PRODUCT_RETURN = "product_return"
    CONTACT_OTHER = "contact_other"


class TicketTopic(enum.StrEnum):
    """What a ticket is about; ``cs_nagative_rating`` is Kaufland's own spelling."""

    ORDER_CANCEL = "order_cancel"
    ORDER_PRODUCT_DEFECT = "order_product_defect"
    ORDER_OTHER_QUESTION = "order_other_question"
    DELIVERY_NOT_RECEIVED = "delivery_not_received"
    DELIVERY_DELAYED = "delivery_delayed"
    DELIVERY_WRONG_PRODUCTS = "delivery_wrong_products"
    DELIVERY_PARTS_MISSING = "delivery_parts_missing"
    DELIVERY_CHANGE_ADDRESS = "delivery_change_address"
    DELIVERY_TO_STORE = "delivery_to_store"
    DELIVERY_OTHER_QUESTION = "delivery_other_question"
    RETURN_CHECK_STATUS = "return_check_status"
    RETURN_REQUEST_LABEL = "return_request_label"
    ISSUE_PAYPAL = "issue_paypal"
    ISSUE_KLARNA = "issue_klarna"
    ISSUE_CREDITCARD = "issue_creditcard"
    ISSUE_SOFORT = "issue_sofort"
    ISSUE_CONSORSFINANZ = "issue_consorsfinanz"
    ISSUE_CASHINADVANCE = "issue_cashinadvance"
    ISSUE_PAYBACK = "issue_payback"
    ISSUE_BARZAHLEN = "issue_barzahlen"
    ISSUE_COUPON = "issue_coupon"
    INVOICE_NEEDED = "invoice_needed"
    ADMONITION = "admonition"
    ACCOUNT_NEWSLETTER = "account_newsletter"
    ACCOUNT_LOGIN = "account_login"
    ACCOUNT_CANCEL = "account_cancel"
    ACCOUNT_OTHER = "account_other"
    ACCOUNT_AGE_VERIFICATION = "account_age_verification"
    PRODUCT_PROPERTIES = "product_properties"
    PRODUCT_AVAILABILITY = "product_availability"
    PRODUCT_OTHER_QUESTION = "product_other_question"
    ACCOUNT_CASH_OUT_BALANCE = "account_cash_out_balance"
    OLD_DEVICE_TAKE_BACK = "old_device_take_back"
    OTHER_QUESTION = "other_question"
    FRAUD = "fraud"
    ISSUE_GOOGLEPAY = "issue_googlepay"
    ISSUE_APPLEPAY = "issue_applepay"
    ISSUE_CLICK_TO_PAY = "issue_click_to_pay"
    INVOICE_PROBLEM = "invoice_problem"
    ISSUE_BLIK = "issue_blik"
    KAUFLAND_CARD = "kaufland_card"
    CS_NAGATIVE_RATING = "cs_nagative_rating"


class TicketEmbeddable(enum.StrEnum):
    BUYER = "buyer"
    PRODUCT = "product"
    MESSAGES = "messages"
    ORDER_UNITS = "order_units"
    FILES = "files"


class TicketSort(enum.StrEnum):
    TS_CREATED_DESC = "ts_created_iso:desc"
    TS_UPDATED_DESC = "ts_updated_iso:desc"


class TicketMessageSort(enum.StrEnum):
    TS_CREATED_DESC = "ts_created_iso:desc"
    TS_CREATED_ASC = "ts_created_iso:asc"


class Ticket(ApiModel):
    id_ticket: str
    ids_order_units: list[int] = Field(default_factory=list)
    id_buyer: int | None = None
    ts_created_iso: UtcDateTime | None = None
    ts_updated_iso: UtcDateTime | None = None
    status: Lenient[TicketStatus] | None = None
    open_reason: Lenient[TicketReason] | None = None
    topic: Lenient[TicketTopic] | None = None
    is_seller_responsible: bool | None = None
    fulfillment_type: Lenient[FulfillmentType] | None = None


class TicketMessageAuthor(ApiModel):
    """``role`` is one of seller, buyer, system, customer_service."""

    role: str
    name: str | None = None


class TicketMessage(ApiModel):
    id_ticket_message: int
    id_ticket: str | None = None
    author: TicketMessageAuthor | None = None
    text: str | None = None
    ts_created_iso: UtcDateTime | None = None


class TicketFile(ApiModel):
    filename: str
    ts_created_iso: UtcDateTime | None = None
    uri: str | None = None


class TicketWithEmbedded(Ticket):
    """``GET /tickets/{id}``; the embedded parts appear only when asked for."""

    messages: list[TicketMessage] | None = None
    order_units: list[OrderUnit] | None = None
    buyer: Buyer | None = None
    product: Product | None = None
    files: list[TicketFile] | None = None
    storefront: str | None = None


class OpenTicketRequest(RequestModel):
    """Body of ``POST /tickets``; the JSON key is ``id_order_unit`` although it is a list."""

    id_order_unit: list[int] = Field(min_length=1)
    reason: TicketReason
    message: str = Field(min_length=1)


class OpenTicketResponse(ApiModel):
    id_ticket: str


class TicketMessageFile(RequestModel):
    """An attachment: ``data`` is the base64 content (the spec shows a ``data:`` URL form)."""

    filename: str = Field(min_length=1)
    mime_type: str = Field(min_length=1)
    data: str


class CreateTicketMessageRequest(RequestModel):
    text: str = Field(min_length=1, max_length=65535)
    interim_notice: bool | None = None
    ticket_message_files: list[TicketMessageFile] | None = None
