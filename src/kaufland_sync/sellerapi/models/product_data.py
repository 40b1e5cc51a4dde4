"""Seller-supplied product content (``/product-data``) and its import files.

``attributes`` maps an attribute name (see ``/attributes``) to a list of values; ``title``,
``description`` and ``picture`` are the common ones, ``product_safety_contact`` (GPSR) is an
object. A picture value is a URL or a JSON text ``{"url": …, "alt_text": …}``.
"""

from __future__ import annotations

import enum
from typing import Any

from pydantic import Field, field_validator

from kaufland_sync.sellerapi.models.common import ApiModel, Lenient, RequestModel

__all__ = [
    "ComplianceContact",
    "ImportFileRequest",
    "ProductData",
    "ProductDataAttributeState",
    "ProductDataAttributeStatus",
    "ProductDataImportFile",
    "ProductDataImportFileSort",
    "ProductDataImportFileStatus",
    "ProductDataNotReadyReason",
    "ProductDataRequest",
    "ProductDataStatus",
    "ProductDataUpdateFailReason",
    "ProductDataUpdateStatus",
]


class ComplianceContact(ApiModel):
    """``product_safety_contact``: the EU responsible person for product safety (GPSR)."""

    name: str
    address: str
    email_address: str | None = None
    phone_number: str | None = None
    url: str | None = None


class ProductData(ApiModel):
    """``GET /product-data/{ean}``: the content the seller supplied for these EANs."""

    ean: list[str]
    attributes: dict[str, Any] = Field(default_factory=dict)


class ProductDataRequest(RequestModel):
    """Body of ``PUT``/``PATCH /product-data``.

    ``attributes`` values are lists of strings (a single string is wrapped into a list), except
    ``product_safety_contact``, which is an object.
    """

    ean: list[str] = Field(min_length=1)
    attributes: dict[str, Any] = Field(min_length=1)

    @field_validator("ean", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("attributes")
    @classmethod
    def _lists(cls, value: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, v in value.items():
            if name == "product_safety_contact":
                out[name] = v.model_dump(exclude_none=True) if isinstance(v, ApiModel) else v
            elif isinstance(v, str | int | float):
                out[name] = [str(v)]
            else:
                out[name] = list(v)
        return out


class ProductDataUpdateStatus(enum.StrEnum):
    ABORTED = "ABORTED"
    FAIL = "FAIL"
    IN_PROGRESS = "IN_PROGRESS"
    PENDING = "PENDING"
    SUCCESS = "SUCCESS"


class ProductDataNotReadyReason(enum.StrEnum):
    BLACKLISTED = "BLACKLISTED"
    MISSING_ATTRIBUTES = "MISSING_ATTRIBUTES"
    NOT_YET_PROCESSED = "NOT_YET_PROCESSED"
    PORN_FORBIDDEN = "PORN_FORBIDDEN"
    PROCESSING_FAILED = "PROCESSING_FAILED"


class ProductDataUpdateFailReason(enum.StrEnum):
    ITEM_FAIL = "ITEM_FAIL"
    NOT_ENOUGH_DATA = "NOT_ENOUGH_DATA"
    NOT_ENOUGH_TEXT = "NOT_ENOUGH_TEXT"
    NO_CATEGORY = "NO_CATEGORY"
    NO_ITEM = "NO_ITEM"
    UNKNOWN = "UNKNOWN"


class ProductDataAttributeState(enum.StrEnum):
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    DELETE_REJECTED = "DELETE_REJECTED"
    EXISTS = "EXISTS"
    IGNORED = "IGNORED"
    MIN_ONE_MISSING = "MIN_ONE_MISSING"
    MISSING = "MISSING"
    MODIFIED = "MODIFIED"
    PENDING = "PENDING"
    REFUSED = "REFUSED"
    TRANSFORMED = "TRANSFORMED"


class ProductDataAttributeStatus(ApiModel):
    attribute: str
    original_value: str | None = None
    state: Lenient[ProductDataAttributeState] | None = None
    message: str | None = None


class ProductDataStatus(ApiModel):
    """``GET /product-data/status/{ean}``: whether Kaufland built a product from the data."""

    product_ready: bool
    update_status: Lenient[ProductDataUpdateStatus] | None = None
    id_product: int | None = None
    product_not_ready_reason: Lenient[ProductDataNotReadyReason] | None = None
    update_fail_reason: Lenient[ProductDataUpdateFailReason] | None = None
    attribute_values: list[ProductDataAttributeStatus] = Field(default_factory=list)
    missing_attributes: list[str] = Field(default_factory=list)
    min_one_missing_attributes: list[str] = Field(default_factory=list)


class ProductDataImportFileStatus(enum.StrEnum):
    NEW = "NEW"
    DOWNLOADING = "DOWNLOADING"
    DOWNLOADED = "DOWNLOADED"
    DOWNLOADING_FAILED = "DOWNLOADING_FAILED"
    PREPARING = "PREPARING"
    PREPARED = "PREPARED"
    PREPARING_FAILED = "PREPARING_FAILED"
    CHECKING = "CHECKING"
    CHECKED = "CHECKED"
    CHECKING_FAILED = "CHECKING_FAILED"
    PREPROCESSING = "PREPROCESSING"
    PREPROCESSED = "PREPROCESSED"
    PREPROCESSING_FAILED = "PREPROCESSING_FAILED"
    IMPORTING = "IMPORTING"
    IMPORTED = "IMPORTED"
    IMPORTING_FAILED = "IMPORTING_FAILED"
    IMPORTING_STOPPED = "IMPORTING_STOPPED"
    ERROR = "ERROR"
    ABORTED = "ABORTED"
    DONE = "DONE"


class ProductDataImportFileSort(enum.StrEnum):
    TS_CREATED_ASC = "ts_created:asc"
    TS_CREATED_DESC = "ts_created:desc"
    TS_UPDATED_ASC = "ts_updated:asc"
    TS_UPDATED_DESC = "ts_updated:desc"


class ProductDataImportFile(ApiModel):
    """A product-data (or variant-suggestion) CSV import by URL.

    The ``ts_*`` fields are **not** ISO here (``"2021-05-31 01:06:05"``) and are kept as text;
    ``common.parse_kaufland_timestamp`` turns them into datetimes.
    """

    id_import_file: int
    uri: str | None = None
    status: Lenient[ProductDataImportFileStatus] | None = None
    note: str | None = None
    total_lines: int | None = None
    current_line: int | None = None
    error_count: int | None = None
    async_import_done: int | None = None
    ts_created: str | None = None
    ts_updated: str | None = None
    ts_last_row_updated: str | None = None
    ts_completed: str | None = None


class ImportFileRequest(RequestModel):
    """``{"url": …}``: where Kaufland downloads an import file from."""

    url: str = Field(min_length=1)
