"""One class per Seller API path group; each takes a ``Requester``."""

from __future__ import annotations

from kaufland_sync.sellerapi.resources.attributes import Attributes
from kaufland_sync.sellerapi.resources.carriers import Carriers
from kaufland_sync.sellerapi.resources.categories import Categories
from kaufland_sync.sellerapi.resources.import_files import ImportFiles
from kaufland_sync.sellerapi.resources.info import Info
from kaufland_sync.sellerapi.resources.order_invoices import OrderInvoices
from kaufland_sync.sellerapi.resources.order_units import OrderUnits
from kaufland_sync.sellerapi.resources.orders import Orders
from kaufland_sync.sellerapi.resources.playground import Playground
from kaufland_sync.sellerapi.resources.product_data import ProductData
from kaufland_sync.sellerapi.resources.products import Products
from kaufland_sync.sellerapi.resources.reports import Reports
from kaufland_sync.sellerapi.resources.return_units import ReturnUnits
from kaufland_sync.sellerapi.resources.returns import Returns
from kaufland_sync.sellerapi.resources.shipments import Shipments
from kaufland_sync.sellerapi.resources.shipping_groups import ShippingGroups
from kaufland_sync.sellerapi.resources.status import Status
from kaufland_sync.sellerapi.resources.subscriptions import Subscriptions
from kaufland_sync.sellerapi.resources.tickets import Tickets
from kaufland_sync.sellerapi.resources.units import Units
from kaufland_sync.sellerapi.resources.warehouses import Warehouses

__all__ = [
    "Attributes",
    "Carriers",
    "Categories",
    "ImportFiles",
    "Info",
    "OrderInvoices",
    "OrderUnits",
    "Orders",
    "Playground",
    "ProductData",
    "Products",
    "Reports",
    "ReturnUnits",
    "Returns",
    "Shipments",
    "ShippingGroups",
    "Status",
    "Subscriptions",
    "Tickets",
    "Units",
    "Warehouses",
]
