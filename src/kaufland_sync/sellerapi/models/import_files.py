"""CSV import files by URL (``/import-files/inventory-feed|inventory-command|order-command``)."""

from __future__ import annotations

import enum

from kaufland_sync.sellerapi.models.common import (
    ApiModel,
    Lenient,
    StorefrontValue,
    UtcDateTime,
)

__all__ = ["ImportFile", "ImportFileSort", "ImportFileType", "ImportStatus"]


class ImportStatus(enum.StrEnum):
    NEW = "NEW"
    DOWNLOADING = "DOWNLOADING"
    DOWNLOADED = "DOWNLOADED"
    DOWNLOADING_FAILED = "DOWNLOADING_FAILED"
    PENDING_CONVERSION = "PENDING_CONVERSION"
    CONVERTING = "CONVERTING"
    CONVERSION_FAILED = "CONVERSION_FAILED"
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
    ABORTED = "ABORTED"


class ImportFileType(enum.StrEnum):
    """Which feed an import file is; also the path segment (lower case, dashes)."""

    INVENTORY_FEED = "INVENTORY_FEED"
    INVENTORY_COMMAND = "INVENTORY_COMMAND"
    ORDER_COMMAND = "ORDER_COMMAND"
    PRODUCT_FEED = "PRODUCT_FEED"

    @property
    def path_segment(self) -> str:
        return self.value.lower().replace("_", "-")


class ImportFileSort(enum.StrEnum):
    ID_ASC = "id:asc"
    ID_DESC = "id:desc"
    TS_CREATED_ASC = "ts_created:asc"
    TS_CREATED_DESC = "ts_created:desc"


class ImportFile(ApiModel):
    """An import file of any of the three kinds; ``storefront`` only on inventory kinds."""

    id_import_file: int
    uri: str | None = None
    status: Lenient[ImportStatus] | None = None
    type: Lenient[ImportFileType] | None = None
    note: str | None = None
    total_lines: int | None = None
    current_line: int | None = None
    error_count: int | None = None
    storefront: StorefrontValue | None = None
    ts_created_iso: UtcDateTime | None = None
    ts_updated_iso: UtcDateTime | None = None
    ts_last_row_updated_iso: UtcDateTime | None = None
    ts_completed_iso: UtcDateTime | None = None
