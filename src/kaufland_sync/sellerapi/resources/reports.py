"""``/reports``: request a report, poll it, download it from ``url`` once done.

Every request is **not** replay-safe: a repeat queues a second report.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import date
from typing import Any

from kaufland_sync.sellerapi._requester import QueryValue
from kaufland_sync.sellerapi.models import (
    CancellationType,
    DateRangeReportRequest,
    ImportFileErrorsReportRequest,
    Page,
    Report,
    ReportKind,
    ReportSort,
    RequestedReport,
)
from kaufland_sync.sellerapi.resources._base import Resource, StorefrontArg, query, text

MAX_LIMIT = 30

# Kinds that Kaufland builds for the seller as a whole, without a storefront.
_NO_STOREFRONT = {ReportKind.PRODUCT_DATA_IMPORT_FILE_ERRORS}


class Reports(Resource):
    async def list(
        self,
        *,
        storefront: StorefrontArg = None,
        sort: ReportSort | str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Page[Report]:
        """``GET /reports``: one page (at most 30)."""
        params = query(storefront=self._storefront_filter(storefront), sort=text(sort))
        return await self._page(
            "/reports", Report, params, limit=limit, offset=offset, max_limit=MAX_LIMIT
        )

    def iter_all(
        self,
        *,
        storefront: StorefrontArg = None,
        sort: ReportSort | str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[Report]:
        params = query(storefront=self._storefront_filter(storefront), sort=text(sort))
        return self._iter("/reports", Report, params, max_limit=MAX_LIMIT, page_size=page_size)

    async def get(self, id_report: int) -> Report:
        """``GET /reports/{id_report}``."""
        return await self._get(f"/reports/{id_report}", Report)

    async def request(
        self,
        kind: ReportKind | str,
        *,
        storefront: StorefrontArg = None,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, QueryValue] | None = None,
    ) -> RequestedReport:
        """``POST /reports/{kind}`` (202). ``storefront`` is required except for
        ``product-data-import-file-errors``; ``body``/``params`` are the kind's extra input."""
        report = ReportKind(kind)
        full: dict[str, QueryValue] = dict(params or {})
        if report not in _NO_STOREFRONT:
            full["storefront"] = self._storefront(storefront)
        return await self._call(
            "POST",
            f"/reports/{report.value}",
            RequestedReport,
            params=query(**full),
            json=dict(body) if body is not None else None,
            replay_safe=False,
        )

    async def account_listing(self, *, storefront: StorefrontArg = None) -> RequestedReport:
        """All the seller's units on the storefront."""
        return await self.request(ReportKind.ACCOUNT_LISTING, storefront=storefront)

    async def bookings_new(
        self, date_from: date, date_to: date, *, storefront: StorefrontArg = None
    ) -> RequestedReport:
        """Bookings (fees, payouts) between two days, in the ``v2`` format."""
        body = DateRangeReportRequest(date_from=date_from, date_to=date_to).to_body()
        return await self.request(
            ReportKind.BOOKINGS_NEW, storefront=storefront, body=body, params={"version": "v2"}
        )

    async def eans_not_found(self, *, storefront: StorefrontArg = None) -> RequestedReport:
        return await self.request(ReportKind.EANS_NOT_FOUND, storefront=storefront)

    async def product_data_changes(self, *, storefront: StorefrontArg = None) -> RequestedReport:
        return await self.request(ReportKind.PRODUCT_DATA_CHANGES, storefront=storefront)

    async def cancellations(
        self,
        cancellation_type: CancellationType | str | None = None,
        *,
        storefront: StorefrontArg = None,
    ) -> RequestedReport:
        """Cancelled order units, all or only those the seller caused."""
        params = query(cancellation_type=text(cancellation_type))
        return await self.request(ReportKind.CANCELLATIONS, storefront=storefront, params=params)

    async def competitors_comparer(self, *, storefront: StorefrontArg = None) -> RequestedReport:
        return await self.request(ReportKind.COMPETITORS_COMPARER, storefront=storefront)

    async def sales_new(
        self, date_from: date, date_to: date, *, storefront: StorefrontArg = None
    ) -> RequestedReport:
        """Sales between two days."""
        body = DateRangeReportRequest(date_from=date_from, date_to=date_to).to_body()
        return await self.request(ReportKind.SALES_NEW, storefront=storefront, body=body)

    async def price_competitiveness(self, *, storefront: StorefrontArg = None) -> RequestedReport:
        return await self.request(ReportKind.PRICE_COMPETITIVENESS, storefront=storefront)

    async def product_data_import_file_errors(self, id_file_import: int) -> RequestedReport:
        """The error lines of one product-data import file (no storefront)."""
        body = ImportFileErrorsReportRequest(id_file_import=id_file_import).to_body()
        return await self.request(ReportKind.PRODUCT_DATA_IMPORT_FILE_ERRORS, body=body)
