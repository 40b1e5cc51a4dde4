"""kaufland-sync: a seller's back office and the Kaufland Global Marketplace (Seller API v2).

Layers point one way: ``cli, web, jobs -> sync -> sellerapi, backoffice, store``.
``sellerapi`` is the typed HTTP client and imports nothing else from this package;
``sandbox`` is a local stand-in for Kaufland that imports only sellerapi's pure parts.
"""

__version__ = "0.1.0"
