"""Exporters: push our records to Kaufland, one idempotent step per record, batched."""
