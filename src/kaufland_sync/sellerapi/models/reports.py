"""Report models (``/reports``). A report is requested, built asynchronously, then downloaded
from ``url``. ``date_requested`` is non-ISO text (``"2021-09-13 13:14:47"``) and kept as such."""

from __future__ import annotations

import enum
from datetime import date
from typing import Any

from pydantic import Field, model_validator

from kaufland_sync.sellerapi.models.common import ApiModel, RequestModel

__all__ = [
    "CancellationType",
    "DateRangeReportRequest",
    "ImportFileErrorsReportRequest",
    "Report",
    "ReportKind",
    "ReportParameter",
    "ReportSort",
    "RequestedReport",
]


class ReportKind(enum.StrEnum):
    """The last path segment of ``POST /reports/{kind}``."""

    ACCOUNT_LISTING = "account-listing"
    BOOKINGS_NEW = "bookings-new"
    EANS_NOT_FOUND = "eans-not-found"
    PRODUCT_DATA_CHANGES = "product-data-changes"
    CANCELLATIONS = "cancellations"
    COMPETITORS_COMPARER = "competitors-comparer"
    SALES_NEW = "sales-new"
    PRICE_COMPETITIVENESS = "price-competitiveness"
    PRODUCT_DATA_IMPORT_FILE_ERRORS = "product-data-import-file-errors"


class CancellationType(enum.StrEnum):
    ALL = "all"
    SELLER_RELATED = "seller_related"


class ReportSort(enum.StrEnum):
    ID_REPORT_ASC = "id_report:asc"
    ID_REPORT_DESC = "id_report:desc"
    DATE_REQUESTED_ASC = "date_requested:asc"
    DATE_REQUESTED_DESC = "date_requested:desc"


class ReportParameter(ApiModel):
    name: str
    value: Any = None


class RequestedReport(ApiModel):
    """The 202 answer to a report request."""

    id_report: int
    report_name: str | None = None
    storefront: str | None = None
    parameters: list[ReportParameter] = Field(default_factory=list)


class Report(RequestedReport):
    """A report; ``status`` is free text (example ``NEW``), ``url`` works once it is done."""

    status: str | None = None
    date_requested: str | None = None
    url: str | None = None


class DateRangeReportRequest(RequestModel):
    """Body of the ``bookings-new`` and ``sales-new`` requests (dates as ``YYYY-MM-DD``)."""

    date_from: date
    date_to: date

    @model_validator(mode="after")
    def _ordered(self) -> DateRangeReportRequest:
        if self.date_to < self.date_from:
            raise ValueError("date_to must not be before date_from")
        return self


class ImportFileErrorsReportRequest(RequestModel):
    id_file_import: int = Field(ge=1)
