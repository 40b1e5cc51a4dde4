"""``/import-files``: CSV files Kaufland downloads from a URL and applies.

Three kinds, each with create / list / iter_all / get: ``inventory_feed`` and
``inventory_command`` (per storefront) and ``order_command`` (no storefront).
Creating is not replay-safe: a repeat imports the file twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from kaufland_sync.sellerapi._requester import Requester
from kaufland_sync.sellerapi.models import (
    ImportFile,
    ImportFileRequest,
    ImportFileSort,
    ImportFileType,
    ImportStatus,
    Page,
)
from kaufland_sync.sellerapi.resources._base import Resource, StorefrontArg, iso, query, text

MAX_LIMIT = 30


class ImportFileKind(Resource):
    """The operations of one kind of import file under ``/import-files/{kind}``."""

    def __init__(self, requester: Requester, kind: ImportFileType) -> None:
        super().__init__(requester)
        self.kind = kind
        self._path = f"/import-files/{kind.path_segment}"
        self._per_storefront = kind is not ImportFileType.ORDER_COMMAND

    def _sf(self, storefront: StorefrontArg) -> str | None:
        if not self._per_storefront:
            if storefront is not None:
                raise ValueError(f"{self.kind.value} import files take no storefront")
            return None
        return self._storefront(storefront)

    def _params(
        self,
        storefront: StorefrontArg,
        status: ImportStatus | str | None,
        ts_created_iso: datetime | str | None,
        ts_updated_iso: datetime | str | None,
        sort: ImportFileSort | str | None,
    ) -> dict[str, Any]:
        return query(
            storefront=self._sf(storefront),
            status=text(status),
            ts_created_iso=iso(ts_created_iso),
            ts_updated_iso=iso(ts_updated_iso),
            sort=text(sort),
        )

    async def create(self, url: str, *, storefront: StorefrontArg = None) -> ImportFile:
        """``POST /import-files/{kind}`` (201): import the CSV at ``url``."""
        return await self._call(
            "POST",
            self._path,
            ImportFile,
            params=query(storefront=self._sf(storefront)),
            json=ImportFileRequest(url=url).to_body(),
            replay_safe=False,
        )

    async def list(
        self,
        *,
        storefront: StorefrontArg = None,
        status: ImportStatus | str | None = None,
        ts_created_iso: datetime | str | None = None,
        ts_updated_iso: datetime | str | None = None,
        sort: ImportFileSort | str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Page[ImportFile]:
        """``GET /import-files/{kind}``: one page (at most 30)."""
        params = self._params(storefront, status, ts_created_iso, ts_updated_iso, sort)
        return await self._page(
            self._path, ImportFile, params, limit=limit, offset=offset, max_limit=MAX_LIMIT
        )

    def iter_all(
        self,
        *,
        storefront: StorefrontArg = None,
        status: ImportStatus | str | None = None,
        ts_created_iso: datetime | str | None = None,
        ts_updated_iso: datetime | str | None = None,
        sort: ImportFileSort | str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[ImportFile]:
        params = self._params(storefront, status, ts_created_iso, ts_updated_iso, sort)
        return self._iter(self._path, ImportFile, params, max_limit=MAX_LIMIT, page_size=page_size)

    async def get(self, id_import_file: int, *, storefront: StorefrontArg = None) -> ImportFile:
        """``GET /import-files/{kind}/{id_import_file}``."""
        params = query(storefront=self._sf(storefront))
        return await self._get(f"{self._path}/{id_import_file}", ImportFile, params)


class ImportFiles(Resource):
    """Entry point: ``client.import_files.inventory_feed.create(url, storefront="de")``."""

    def __init__(self, requester: Requester) -> None:
        super().__init__(requester)
        self.inventory_feed = ImportFileKind(requester, ImportFileType.INVENTORY_FEED)
        self.inventory_command = ImportFileKind(requester, ImportFileType.INVENTORY_COMMAND)
        self.order_command = ImportFileKind(requester, ImportFileType.ORDER_COMMAND)
