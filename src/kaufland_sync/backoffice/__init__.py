"""The seller's back office, behind one protocol the sync engine reads from.

Owns :mod:`~kaufland_sync.backoffice.protocol` (the ``BackOffice`` protocol and its records),
the built-in catalogue (:mod:`~kaufland_sync.backoffice.catalog`) and catalogue files
(:mod:`~kaufland_sync.backoffice.csv_import`). Odoo and product-feed adapters come later and
implement the same protocol.
"""
