"""``/product-data``: the seller's content for EANs (titles, pictures, …), its processing
status, bulk import files, and variant-suggestion feeds.

``locale`` is required by every product-data operation; when it is not given, the default
locale of the storefront (argument, else the client's default) is used.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from kaufland_sync.sellerapi.models import (
    ImportFileRequest,
    Page,
    ProductDataImportFile,
    ProductDataImportFileSort,
    ProductDataImportFileStatus,
    ProductDataRequest,
    ProductDataStatus,
)
from kaufland_sync.sellerapi.models import ProductData as ProductDataContent
from kaufland_sync.sellerapi.resources._base import Resource, StorefrontArg, query, seg, text
from kaufland_sync.sellerapi.storefronts import Storefront

MAX_LIMIT = 100


class ProductData(Resource):
    def _locale(self, locale: str | None, storefront: StorefrontArg) -> str:
        if locale:
            return locale
        code = self._storefront(storefront)
        if code is None:  # storefront_param(required=True) raises instead; kept for typing
            raise ValueError("locale is required (or a storefront to take its locale from)")
        return Storefront.parse(code).locale

    def _body(self, ean: str | Iterable[str], attributes: Mapping[str, Any]) -> dict[str, Any]:
        eans = [ean] if isinstance(ean, str) else list(ean)
        return ProductDataRequest(ean=eans, attributes=dict(attributes)).to_body()

    async def put(
        self,
        ean: str | Iterable[str],
        attributes: Mapping[str, Any],
        *,
        locale: str | None = None,
        storefront: StorefrontArg = None,
    ) -> None:
        """``PUT /product-data``: add or **replace** the content for these EANs.

        Values are lists of strings (a single value is wrapped). Kaufland processes the data
        asynchronously; follow up with ``status``. Replay-safe: the same PUT twice is harmless.
        """
        await self._action(
            "PUT",
            "/product-data",
            params=query(locale=self._locale(locale, storefront)),
            json=self._body(ean, attributes),
            replay_safe=True,
        )

    async def patch(
        self,
        ean: str | Iterable[str],
        attributes: Mapping[str, Any],
        *,
        locale: str | None = None,
        storefront: StorefrontArg = None,
    ) -> None:
        """``PATCH /product-data``: merge these attributes into the existing content.

        Replay-safe: merging the same values again leaves the same content.
        """
        await self._action(
            "PATCH",
            "/product-data",
            params=query(locale=self._locale(locale, storefront)),
            json=self._body(ean, attributes),
            replay_safe=True,
        )

    async def get(
        self, ean: str, *, locale: str | None = None, storefront: StorefrontArg = None
    ) -> ProductDataContent:
        """``GET /product-data/{ean}``; 404 when the seller supplied nothing for it."""
        params = query(locale=self._locale(locale, storefront))
        return await self._get(f"/product-data/{seg(ean)}", ProductDataContent, params)

    async def delete(
        self, ean: str, *, locale: str | None = None, storefront: StorefrontArg = None
    ) -> None:
        """``DELETE /product-data/{ean}``: withdraw the seller's content for this EAN."""
        params = query(locale=self._locale(locale, storefront))
        await self._action("DELETE", f"/product-data/{seg(ean)}", params=params, replay_safe=True)

    async def status(
        self, ean: str, *, locale: str | None = None, storefront: StorefrontArg = None
    ) -> ProductDataStatus:
        """``GET /product-data/status/{ean}``: whether the product is live and, if not, why."""
        params = query(locale=self._locale(locale, storefront))
        return await self._get(f"/product-data/status/{seg(ean)}", ProductDataStatus, params)

    # -- import files (CSV by URL; Kaufland allows about 30 a day, 423 beyond) ----------------

    async def create_import_file(self, url: str) -> ProductDataImportFile:
        """``POST /product-data/import-files``: Kaufland downloads and imports the file at ``url``.

        Not replay-safe: a second POST would queue a second import and spend daily quota.
        """
        return await self._call(
            "POST",
            "/product-data/import-files",
            ProductDataImportFile,
            json=ImportFileRequest(url=url).to_body(),
            replay_safe=False,
        )

    @staticmethod
    def _file_params(
        status: ProductDataImportFileStatus | str | None,
        ts_created: str | None,
        ts_updated: str | None,
        sort: ProductDataImportFileSort | str | None,
    ) -> dict[str, Any]:
        return query(
            status=text(status), ts_created=ts_created, ts_updated=ts_updated, sort=text(sort)
        )

    async def list_import_files(
        self,
        *,
        status: ProductDataImportFileStatus | str | None = None,
        ts_created: str | None = None,
        ts_updated: str | None = None,
        sort: ProductDataImportFileSort | str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Page[ProductDataImportFile]:
        """``GET /product-data/import-files``: one page."""
        return await self._page(
            "/product-data/import-files",
            ProductDataImportFile,
            self._file_params(status, ts_created, ts_updated, sort),
            limit=limit,
            offset=offset,
            max_limit=MAX_LIMIT,
        )

    def iter_import_files(
        self,
        *,
        status: ProductDataImportFileStatus | str | None = None,
        ts_created: str | None = None,
        ts_updated: str | None = None,
        sort: ProductDataImportFileSort | str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[ProductDataImportFile]:
        return self._iter(
            "/product-data/import-files",
            ProductDataImportFile,
            self._file_params(status, ts_created, ts_updated, sort),
            max_limit=MAX_LIMIT,
            page_size=page_size,
        )

    async def get_import_file(self, id_import_file: int) -> ProductDataImportFile:
        """``GET /product-data/import-files/{id_import_file}``."""
        return await self._get(
            f"/product-data/import-files/{id_import_file}", ProductDataImportFile
        )

    # -- variant suggestions (same file shape; 429 beyond the daily quota) -------------------

    async def upload_variant_suggestions(self, url: str) -> ProductDataImportFile:
        """``POST /variant-suggestions/feed/upload-by-url`` (not replay-safe, like any upload)."""
        return await self._call(
            "POST",
            "/variant-suggestions/feed/upload-by-url",
            ProductDataImportFile,
            json=ImportFileRequest(url=url).to_body(),
            replay_safe=False,
        )

    async def list_variant_suggestion_feeds(
        self,
        *,
        status: ProductDataImportFileStatus | str | None = None,
        ts_created: str | None = None,
        ts_updated: str | None = None,
        sort: ProductDataImportFileSort | str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Page[ProductDataImportFile]:
        """``GET /variant-suggestions/feed``: one page."""
        return await self._page(
            "/variant-suggestions/feed",
            ProductDataImportFile,
            self._file_params(status, ts_created, ts_updated, sort),
            limit=limit,
            offset=offset,
            max_limit=MAX_LIMIT,
        )

    def iter_variant_suggestion_feeds(
        self, *, page_size: int | None = None
    ) -> AsyncIterator[ProductDataImportFile]:
        return self._iter(
            "/variant-suggestions/feed",
            ProductDataImportFile,
            {},
            max_limit=MAX_LIMIT,
            page_size=page_size,
        )

    async def get_variant_suggestion_feed(self, id_import_file: int) -> ProductDataImportFile:
        """``GET /variant-suggestions/feed/{id_import_file}``."""
        return await self._get(f"/variant-suggestions/feed/{id_import_file}", ProductDataImportFile)
