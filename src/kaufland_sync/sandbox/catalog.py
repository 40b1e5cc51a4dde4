"""Catalogue rules shared by the seed, the catalogue routes and the marketplace.

Kaufland keeps one catalogue of products for everybody. Sellers attach *units* (offers) to
products by EAN, and send *product data* for EANs Kaufland does not know yet; a review turns
that data into a product, after which the seller's ``INCOMPLETE`` units become ``AVAILABLE``.
This module owns those rules and the views that render stored records for one storefront and
locale. Records are stored in API shape plus ``_``-prefixed internal fields (see world.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from kaufland_sync.sandbox.world import Record, Seller, World, iso
from kaufland_sync.sellerapi.storefronts import Storefront

# Where generated ids start, so sandbox ids look like Kaufland's (large, never 1, 2, 3).
PRODUCT_ID_START = 360_000_000
UNIT_ID_START = 371_000_000
SHIPPING_GROUP_ID_START = 8_000
WAREHOUSE_ID_START = 5_000
IMPORT_FILE_ID_START = 70_000

DOMAIN = {
    "de": "kaufland.de",
    "cz": "kaufland.cz",
    "sk": "kaufland.sk",
    "pl": "kaufland.pl",
    "at": "kaufland.at",
    "fr": "kaufland.fr",
    "it": "kaufland.it",
}
COUNTRY = {"de": "DE", "cz": "CZ", "sk": "SK", "pl": "PL", "at": "AT", "fr": "FR", "it": "IT"}

# VAT percentages per storefront and ``VatIndicator`` (standard rates as of 2025).
VAT_RATES: dict[str, dict[str, float]] = {
    "de": {"standard_rate": 19, "reduced_rate_1": 7, "zero_rate": 0},
    "cz": {"standard_rate": 21, "reduced_rate_1": 12, "zero_rate": 0},
    "sk": {"standard_rate": 23, "reduced_rate_1": 19, "reduced_rate_2": 5, "zero_rate": 0},
    "pl": {"standard_rate": 23, "reduced_rate_1": 8, "reduced_rate_2": 5, "zero_rate": 0},
    "at": {"standard_rate": 20, "reduced_rate_1": 10, "reduced_rate_2": 13, "zero_rate": 0},
    "fr": {
        "standard_rate": 20,
        "reduced_rate_1": 10,
        "reduced_rate_2": 5.5,
        "super_reduced_rate": 2.1,
        "zero_rate": 0,
    },
    "it": {
        "standard_rate": 22,
        "reduced_rate_1": 10,
        "reduced_rate_2": 5,
        "super_reduced_rate": 4,
        "zero_rate": 0,
    },
}

UNIT_CONDITIONS = (
    "NEW",
    "USED___AS_NEW",
    "USED___VERY_GOOD",
    "USED___GOOD",
    "USED___ACCEPTABLE",
    "REFURBISHED___AS_NEW",
    "REFURBISHED___VERY_GOOD",
    "REFURBISHED___GOOD",
    "REFURBISHED___ACCEPTABLE",
)
# Numeric condition codes of Kaufland's CSV feeds, also accepted by ``UnitRequest.condition``.
CONDITION_CODES = {
    100: "NEW",
    200: "USED___AS_NEW",
    300: "USED___VERY_GOOD",
    400: "USED___GOOD",
    500: "USED___ACCEPTABLE",
}
# ``BuyboxCondition`` spelling of each unit condition.
BUYBOX_CONDITION = {
    "NEW": "new",
    "USED___AS_NEW": "used - as new",
    "USED___VERY_GOOD": "used - very good",
    "USED___GOOD": "used - good",
    "USED___ACCEPTABLE": "used - acceptable",
    "REFURBISHED___AS_NEW": "refurbished - as new",
    "REFURBISHED___VERY_GOOD": "refurbished - very good",
    "REFURBISHED___GOOD": "refurbished - good",
    "REFURBISHED___ACCEPTABLE": "refurbished - acceptable",
}
WRITABLE_VAT_INDICATORS = (
    "standard_rate",
    "reduced_rate_1",
    "reduced_rate_2",
    "super_reduced_rate",
    "zero_rate",
)


# EANs -----------------------------------------------------------------------------------
def gtin_check_digit(body: str) -> int:
    """Check digit for a GTIN body (all digits but the last), weights 3,1,3,... from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_valid_gtin(code: str) -> bool:
    """True for an 8/12/13/14-digit GTIN whose check digit is right."""
    if not code.isdigit() or len(code) not in (8, 12, 13, 14):
        return False
    return gtin_check_digit(code[:-1]) == int(code[-1])


def ean_key(ean: str) -> str:
    """Lookup key of an EAN: GTIN-12/13/14 spellings of one code differ only by leading zeros."""
    return ean.strip().lstrip("0")


# Language and locale --------------------------------------------------------------------
def language(locale: str | None, storefront: str | None = None) -> str:
    """Two-letter language of a locale (``cs-CZ`` -> ``cs``), or the storefront's default."""
    if locale:
        return locale.split("-")[0]
    return {"de": "de", "at": "de", "cz": "cs", "sk": "sk", "pl": "pl", "fr": "fr", "it": "it"}.get(
        storefront or "de", "de"
    )


def localized(texts: dict[str, Any], lang: str) -> Any:
    """Pick a text in ``lang``, falling back to English, then German (the catalogue's base)."""
    for key in (lang, "en", "de"):
        if key in texts:
            return texts[key]
    return next(iter(texts.values()))


# Categories ------------------------------------------------------------------------------
def categories(world: World) -> dict[str, Record]:
    return world.catalog["categories"]


def category_view(
    cat: Record, storefront: str, locale: str | None, *, basic: bool = False
) -> Record:
    """Render a stored category as the spec's ``Category`` (or ``CategoryBasic``)."""
    singular, plural = localized(cat["_titles"], language(locale, storefront))
    view: Record = {
        "id_category": cat["id_category"],
        "name": cat["name"],
        "title_singular": singular,
        "title_plural": plural,
        "level": cat["level"],
        "url": f"https://www.{DOMAIN[storefront]}/category/{cat['id_category']}/",
        "is_leaf": cat["is_leaf"],
    }
    if basic:
        return view
    view.update(
        {
            "id_parent_category": cat["id_parent_category"],
            "shipping_category": cat["shipping_category"],
            "variable_fee": cat["variable_fee"],
            "fixed_fee": cat["fixed_fee"],
            "vat": VAT_RATES[storefront].get(
                cat["_vat_indicator"], VAT_RATES[storefront]["standard_rate"]
            ),
        }
    )
    return view


def children_of(world: World, id_category: int) -> list[Record]:
    return [
        c
        for c in categories(world).values()
        if c["id_parent_category"] == id_category and c["id_category"] != id_category
    ]


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^\w]+", text.lower()) if len(w) >= 3]


def decide_categories(world: World, text: str, limit: int = 5) -> list[Record]:
    """Leaf categories whose names and keywords best match ``text``, best first.

    A keyword scores when a word of the text starts with it or contains it (German compounds:
    "Akkubohrschrauber" contains "bohrschrauber"); ties go to the lower id, so it is stable."""
    words = _words(text)
    scored: list[tuple[int, int, Record]] = []
    for cat in categories(world).values():
        if not cat["is_leaf"]:
            continue
        keys = set(cat.get("_keywords", []))
        for singular, plural in cat["_titles"].values():
            keys.update(_words(singular))
            keys.update(_words(plural))
        score = sum(1 for w in words for k in keys if k in w)
        if score:
            scored.append((-score, cat["id_category"], cat))
    scored.sort(key=lambda t: (t[0], t[1]))
    return [c for _, _, c in scored[:limit]]


def find_category_by_name(world: World, value: str) -> Record | None:
    """A category given by id, internal name or any localized title (as product data does)."""
    text = value.strip().lower()
    for cat in categories(world).values():
        if str(cat["id_category"]) == text or cat["name"].lower() == text:
            return cat
        for singular, plural in cat["_titles"].values():
            if text in (singular.lower(), plural.lower()):
                return cat
    return None


# Attributes ------------------------------------------------------------------------------
def attributes(world: World) -> dict[str, Record]:
    return world.catalog["attributes"]


def attribute_by_name(world: World, name: str) -> Record | None:
    index: dict[str, Record] | None = world.indexes.get("attribute_by_name")
    if index is None or len(index) != len(attributes(world)):
        index = {a["name"]: a for a in attributes(world).values()}
        world.indexes["attribute_by_name"] = index
    return index.get(name)


def attribute_view(attr: Record, locale: str | None) -> Record:
    view = {k: v for k, v in attr.items() if not k.startswith("_")}
    view["title"] = localized(attr["_titles"], language(locale))
    return view


# Products --------------------------------------------------------------------------------
def products(world: World) -> dict[str, Record]:
    return world.catalog["products"]


def _ean_index(world: World) -> dict[str, str]:
    index: dict[str, str] | None = world.indexes.get("ean")
    if index is None:
        index = {}
        for key, product in products(world).items():
            for ean in product["eans"]:
                index[ean_key(ean)] = key
        world.indexes["ean"] = index
    return index


def product_for_ean(world: World, ean: str, *, pending: bool = False) -> Record | None:
    """The catalogue product with this EAN; reserved-but-unreviewed ones only with ``pending``."""
    key = _ean_index(world).get(ean_key(ean))
    product = products(world).get(key) if key else None
    if product is None or (product.get("_pending") and not pending):
        return None
    return product


def product_by_id(world: World, id_product: int) -> Record | None:
    product = products(world).get(str(id_product))
    if product is None or product.get("_pending"):
        return None
    return product


def add_product(world: World, product: Record) -> Record:
    """Store a product (API fields plus ``_titles``/``_descriptions``) and index its EANs."""
    key = str(product["id_product"])
    products(world)[key] = product
    index = _ean_index(world)
    for ean in product["eans"]:
        index[ean_key(ean)] = key
    world.dirty = True
    return product


def reserve_product(world: World, ean: str) -> Record:
    """Placeholder product for an EAN Kaufland does not know yet.

    A unit needs an ``id_product`` even while ``INCOMPLETE``; the id stays the same when the
    product data review later fills the product in."""
    existing = product_for_ean(world, ean, pending=True)
    if existing is not None:
        return existing
    product: Record = {
        "id_product": world.next_id("product", PRODUCT_ID_START),
        "title": "",
        "eans": [ean],
        "id_category": 1,
        "main_picture": "",
        "manufacturer": "",
        "age_rating": 0,
        "is_valid": False,
        "dangerous_goods_li_shipping": None,
        "danger_label_9A": None,
        "_titles": {},
        "_pending": True,
    }
    return add_product(world, product)


def product_view(product: Record, storefront: str, locale: str | None = None) -> Record:
    """Render a product as the spec's ``Product`` for one storefront."""
    view = {k: v for k, v in product.items() if not k.startswith("_")}
    titles = product.get("_titles") or {}
    if titles:
        view["title"] = localized(titles, language(locale, storefront))
    view["storefront"] = storefront
    view["url"] = f"https://www.{DOMAIN[storefront]}/product/{product['id_product']}/"
    return view


def search_products(world: World, query: str) -> list[Record]:
    """Products whose title (any language), manufacturer or EAN contains every word of ``query``."""
    words = [w for w in query.lower().split() if w]
    found = []
    for product in products(world).values():
        if product.get("_pending"):
            continue
        hay = " ".join(
            [
                product["title"],
                product["manufacturer"],
                *product.get("_titles", {}).values(),
                *product["eans"],
            ]
        ).lower()
        if all(w in hay for w in words):
            found.append(product)
    found.sort(key=lambda p: p["id_product"])
    return found


# Shipping groups, warehouses and units ---------------------------------------------------
def shipping_terms(group: Record | None, storefront: str) -> tuple[int, int, int]:
    """(shipping_rate, transport_time_min, transport_time_max) of a group for a storefront's
    own country; a group with no matching region falls back to its first option."""
    if group is None:
        return 0, 1, 3
    country = COUNTRY[storefront]
    options = None
    for region in group["regions"]:
        if country in region["countries"] and region["shipping_options"]:
            options = region["shipping_options"]
            break
    if options is None:
        options = next(
            (r["shipping_options"] for r in group["regions"] if r["shipping_options"]), None
        )
    if not options:
        return 0, 1, 3
    option = options[0]
    return (
        int(option["cost_first"]),
        int(option["transport_time_min"]),
        int(option["transport_time_max"]),
    )


def default_shipping_group(seller: Seller, storefront: str) -> Record | None:
    groups = [g for g in seller.table("shipping_groups").values() if g["storefront"] == storefront]
    for group in groups:
        if group["is_default"]:
            return group
    return groups[0] if groups else None


def default_warehouse(seller: Seller) -> Record | None:
    warehouses = list(seller.table("warehouses").values())
    for warehouse in warehouses:
        if warehouse["is_default"]:
            return warehouse
    return warehouses[0] if warehouses else None


def apply_shipping(seller: Seller, unit: Record) -> None:
    """Refresh the unit's shipping_rate and transport times from its shipping group."""
    group = seller.table("shipping_groups").get(str(unit["id_shipping_group"]))
    rate, tmin, tmax = shipping_terms(group, unit["storefront"])
    unit["shipping_rate"] = rate
    unit["transport_time_min"] = tmin
    unit["transport_time_max"] = tmax


def new_unit(
    world: World,
    seller: Seller,
    storefront: str,
    *,
    id_offer: str,
    product: Record,
    ean: str | None,
    listing_price: int,
    handling_time: int,
    amount: int = 1,
    minimum_price: int | None = None,
    condition: str = "NEW",
    note: str | None = None,
    id_shipping_group: int | None = None,
    id_warehouse: int | None = None,
    vat_indicator: str = "standard_rate",
    status: str | None = None,
    eco_participation: int | None = None,
    battery_participation: int | None = None,
) -> Record:
    """Create, store and return a unit record (``Unit`` shape plus internal ``_ean``).

    The status is ``INCOMPLETE`` while the product is only a reservation, else ``AVAILABLE``
    unless given. Events are the caller's business (the seed emits none)."""
    now = world.now_iso()
    if id_shipping_group is None:
        group = default_shipping_group(seller, storefront)
        id_shipping_group = group["id_shipping_group"] if group else None
    if id_warehouse is None:
        warehouse = default_warehouse(seller)
        id_warehouse = warehouse["id_warehouse"] if warehouse else None
    if product.get("_pending"):
        status = "INCOMPLETE"
    unit: Record = {
        "id_unit": world.next_id("unit", UNIT_ID_START),
        "id_product": product["id_product"],
        "id_offer": id_offer,
        "storefront": storefront,
        "currency": Storefront(storefront).currency.value,
        "condition": condition,
        "status": status or "AVAILABLE",
        "note": note,
        "listing_price": listing_price,
        "minimum_price": minimum_price if minimum_price is not None else listing_price,
        "price": listing_price,
        "amount": amount,
        "handling_time": handling_time,
        "shipping_rate": 0,
        "transport_time_min": 1,
        "transport_time_max": 3,
        "id_shipping_group": id_shipping_group,
        "id_warehouse": id_warehouse,
        "date_inserted_iso": now,
        "date_lastchange_iso": now,
        "fulfillment_type": "fulfilled_by_merchant",
        "vat_indicator": vat_indicator,
        "eco_participation": eco_participation,
        "battery_participation": battery_participation,
        "_ean": ean or (product["eans"][0] if product["eans"] else None),
    }
    apply_shipping(seller, unit)
    index = _offer_index(world, seller)  # built (if new) before the unit joins the table
    seller.table("units")[str(unit["id_unit"])] = unit
    index.setdefault(id_offer, []).append(str(unit["id_unit"]))
    world.dirty = True
    return unit


def _offer_index(world: World, seller: Seller) -> dict[str, list[str]]:
    """``id_offer`` → unit ids of one seller (all storefronts), built on first use. Entries of
    deleted units may linger; ``units_with_offer`` skips them (an ``id_offer`` never changes)."""
    key = f"units_by_offer:{seller.client_key}"
    index: dict[str, list[str]] | None = world.indexes.get(key)
    if index is None:
        index = {}
        for id_unit, unit in seller.table("units").items():
            index.setdefault(unit["id_offer"], []).append(id_unit)
        world.indexes[key] = index
    return index


def units_with_offer(world: World, seller: Seller, id_offer: str) -> list[Record]:
    """The seller's units with this ``id_offer`` on any storefront, without scanning them all
    (a catalogue of 100,000 offers would make every create and lookup linear)."""
    units = seller.table("units")
    return [units[i] for i in _offer_index(world, seller).get(id_offer, ()) if i in units]


def unit_view(
    world: World, unit: Record, embedded: Iterable[str], locale: str | None = None
) -> Record:
    """Render a unit; ``eco_participation``/``battery_participation`` only when embedded (the
    spec marks them optional and embeddable), ``product`` for ``embedded=products``."""
    wanted = set(embedded)
    view = {k: v for k, v in unit.items() if not k.startswith("_")}
    for optional in ("eco_participation", "battery_participation"):
        if optional not in wanted:
            view.pop(optional, None)
    if "products" in wanted:
        product = products(world).get(str(unit["id_product"]))
        if product is not None:
            view["product"] = product_view(product, unit["storefront"], locale)
    return view


def iter_units(world: World) -> Iterator[tuple[Seller, Record]]:
    for seller in world.sellers.values():
        for unit in seller.table("units").values():
            yield seller, unit


# Product data review ---------------------------------------------------------------------
REVIEW_NEXT = "review_next"


def product_data(world: World) -> dict[str, Record]:
    return world.catalog["product_data"]


def product_data_key(client_key: str, locale: str, ean: str) -> str:
    """Product data is the seller's own submission ("your existing one"), per locale and EAN."""
    return f"{client_key}|{locale}|{ean_key(ean)}"


def schedule_review(world: World, due: float) -> None:
    current = world.indexes.get(REVIEW_NEXT)
    if current is None or due < current:
        world.indexes[REVIEW_NEXT] = due


def _next_review(world: World) -> float:
    """Earliest pending review; computed from the table after a load (the index is cleared)."""
    if REVIEW_NEXT not in world.indexes:
        dues = [r["_due"] for r in product_data(world).values() if r.get("_state") == "PENDING"]
        world.indexes[REVIEW_NEXT] = min(dues) if dues else float("inf")
    value: float = world.indexes[REVIEW_NEXT]
    return value


def tick(world: World) -> None:
    """Run product-data reviews that are due. Cheap when none is (one comparison)."""
    now = world.now()
    if _next_review(world) > now:
        return
    upcoming = float("inf")
    for record in list(product_data(world).values()):
        if record.get("_state") != "PENDING":
            continue
        if record["_due"] <= now:
            review(world, record)
        else:
            upcoming = min(upcoming, record["_due"])
    world.indexes[REVIEW_NEXT] = upcoming


def _first(values: Any) -> str | None:
    if isinstance(values, list):
        values = values[0] if values else None
    if values is None:
        return None
    return values if isinstance(values, str) else json.dumps(values)


def picture_url(value: str) -> str:
    """A product-data picture is a URL or a JSON string ``{"url", "alt_text"}``."""
    if value.startswith("{"):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        if isinstance(parsed, dict) and isinstance(parsed.get("url"), str):
            return str(parsed["url"])
    return value


def review(world: World, record: Record) -> None:
    """Kaufland's content review of one product-data submission.

    Known EAN: the submission updates the product. Unknown EAN: the product is created when
    the category's required attributes are all present (its category from the ``category``
    attribute, else guessed from the text), otherwise the update fails with the missing list.
    A created product turns every seller's ``INCOMPLETE`` units for its EANs ``AVAILABLE``."""
    attrs: dict[str, Any] = record["attributes"]
    lang = language(record["_locale"])
    eans: list[str] = record["ean"]
    existing = next((p for e in eans if (p := product_for_ean(world, e)) is not None), None)
    values = []
    for name, value in attrs.items():
        known = attribute_by_name(world, name) is not None
        for item in value if isinstance(value, list) else [value]:
            values.append(
                {
                    "attribute": name,
                    "original_value": item if isinstance(item, str) else json.dumps(item),
                    "state": "ACCEPTED" if known else "IGNORED",
                    "message": "" if known else f"Unknown attribute '{name}'.",
                }
            )
    record["_attribute_values"] = values
    category: Record | None = None
    if existing is not None:
        category = categories(world).get(str(existing["id_category"]))
    else:
        named = _first(attrs.get("category"))
        if named:
            category = find_category_by_name(world, named)
        if category is None:
            text = " ".join(
                filter(
                    None, (_first(attrs.get(k)) for k in ("title", "description", "manufacturer"))
                )
            )
            guesses = decide_categories(world, text, limit=1)
            category = guesses[0] if guesses else None
    if existing is None and category is None:
        _finish(record, "FAIL", fail="NO_CATEGORY", not_ready="PROCESSING_FAILED")
        return
    missing: list[str] = []
    if existing is None and category is not None:
        missing = [name for name in category.get("_required", []) if not attrs.get(name)]
    if missing:
        _finish(
            record, "FAIL", fail="NOT_ENOUGH_DATA", not_ready="MISSING_ATTRIBUTES", missing=missing
        )
        return
    title = _first(attrs.get("title"))
    picture = _first(attrs.get("picture"))
    manufacturer = _first(attrs.get("manufacturer"))
    if existing is not None:
        product = existing
        if title:
            product["_titles"][lang] = title
            if lang == "de" or not product["title"]:
                product["title"] = title
        if picture:
            product["main_picture"] = picture_url(picture)
        if manufacturer:
            product["manufacturer"] = manufacturer
        for ean in eans:
            if ean not in product["eans"]:
                product["eans"].append(ean)
        add_product(world, product)
    else:
        assert category is not None
        reserved = next(
            (p for e in eans if (p := product_for_ean(world, e, pending=True)) is not None), None
        )
        product = {
            "id_product": reserved["id_product"]
            if reserved
            else world.next_id("product", PRODUCT_ID_START),
            "title": title or "",
            "eans": list(eans),
            "id_category": category["id_category"],
            "main_picture": picture_url(picture) if picture else "",
            "manufacturer": manufacturer or "",
            "age_rating": 0,
            "is_valid": True,
            "dangerous_goods_li_shipping": None,
            "danger_label_9A": None,
            "_titles": {lang: title or ""},
        }
        add_product(world, product)
        activate_units(world, product)
    _finish(record, "SUCCESS", id_product=product["id_product"])


def _finish(
    record: Record,
    state: str,
    *,
    fail: str | None = None,
    not_ready: str | None = None,
    missing: list[str] | None = None,
    id_product: int | None = None,
) -> None:
    record["_state"] = state
    record["_fail_reason"] = fail
    record["_not_ready_reason"] = not_ready
    record["_missing"] = missing or []
    if id_product is not None:
        record["_id_product"] = id_product


def activate_units(world: World, product: Record) -> None:
    """``INCOMPLETE`` units whose EAN now has a product become ``AVAILABLE``."""
    keys = {ean_key(e) for e in product["eans"]}
    now = world.now_iso()
    for seller, unit in iter_units(world):
        if unit["status"] != "INCOMPLETE":
            continue
        if (
            unit["id_product"] != product["id_product"]
            and ean_key(unit.get("_ean") or "") not in keys
        ):
            continue
        unit["status"] = "AVAILABLE"
        unit["id_product"] = product["id_product"]
        unit["date_lastchange_iso"] = now
        world.emit(
            seller.client_key,
            "item_unit_changed",
            f"/v2/units/{unit['id_unit']}",
            unit["storefront"],
            {"id_unit": unit["id_unit"], "id_offer": unit["id_offer"], "status": "AVAILABLE"},
        )


def product_data_status(world: World, record: Record) -> Record:
    """``ProductDataStatusResponse`` of a submission; PENDING turns IN_PROGRESS halfway through
    the review delay so pollers see the states Kaufland shows."""
    state = record.get("_state", "PENDING")
    eans: list[str] = record["ean"]
    product = next((p for e in eans if (p := product_for_ean(world, e)) is not None), None)
    if state == "PENDING":
        halfway = record["_submitted"] + (record["_due"] - record["_submitted"]) / 2
        if world.now() >= halfway and record["_due"] > record["_submitted"]:
            state = "IN_PROGRESS"
    not_ready = record.get("_not_ready_reason")
    if product is None and state in ("PENDING", "IN_PROGRESS"):
        not_ready = "NOT_YET_PROCESSED"
    # Every field is required by the spec; the unknown ones are null (they are nullable).
    return {
        "product_ready": product is not None,
        "update_status": state,
        "id_product": product["id_product"] if product else None,
        "product_not_ready_reason": None if product is not None else not_ready,
        "update_fail_reason": record.get("_fail_reason") if state == "FAIL" else None,
        "attribute_values": record.get("_attribute_values", [])
        if state in ("SUCCESS", "FAIL")
        else [],
        "missing_attributes": record.get("_missing", []),
        "min_one_missing_attributes": [],
    }


def timestamp_plain(ts: float) -> str:
    """``2021-05-31 01:06:05``: the non-ISO format of product-data import files."""
    return iso(ts).replace("T", " ").rstrip("Z")
