"""Reports on an account's local data: commission, fee estimates and seller performance.

Reports only read the store (no Kaufland calls, no writes): run an import first for fresh
figures. Each report is a function ``(session, account, ...) -> report`` in its module
(:mod:`.commission`, :mod:`.fees`, :mod:`.performance`) whose result has an ``as_dict()`` for
JSON and CSV; ``kaufland-sync report`` prints them. Formulas, their sources and the choices
made where Kaufland documents nothing are in docs/reports.md.

This package module imports nothing, so the command line can load the small period helpers
(:mod:`._period`) without the store.
"""
