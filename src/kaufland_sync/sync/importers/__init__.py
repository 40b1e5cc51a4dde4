"""Importers: Kaufland's records → the store, one record idempotently, batches resumable."""
