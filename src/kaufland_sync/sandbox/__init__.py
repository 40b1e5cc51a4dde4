"""A local stand-in for the Kaufland Seller API v2.

Same paths under ``/v2``, same signature check, same envelopes, pagination limits, problem types
and status codes as Kaufland's spec 2.27.0, plus faults on demand and a control API under
``/_sandbox/``. It imports only the pure parts of ``kaufland_sync.sellerapi`` (signing,
storefronts), never the client.
"""
