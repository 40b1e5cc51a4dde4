"""Signature vectors (REFERENCE §1.3) and the signature on the client's real outgoing requests."""

from __future__ import annotations

import json

import httpx
import pytest

from kaufland_sync.sellerapi._auth import KauflandAuth
from kaufland_sync.sellerapi._signing import sign_request, signatures_match, string_to_sign
from tests.sellerapi.conftest import CLIENT_KEY, NOW, SECRET_KEY, MakeClient, verifies

DOC_SECRET = "a7d0cb1da1ddbc86c96ee5fedd341b7d8ebfbb2f5c83cfe0909f4e57f05dd403"
V_SECRET = "b3575f222f7b768c25160b879699118b331c6883dd6010864b7ead130be77cd5"
# Non-ASCII in several scripts, plus an en dash and a euro sign.
NOTE = "Grüße aus Köln \N{EN DASH} 10 € žluťoučký"
UNIT_BODY = (
    '{"ean":"4011905437873","condition":"NEW","listing_price":4550,"minimum_price":3990,'
    '"amount":9,"handling_time":1,"id_offer":"SKU-4711"}'
)

VECTORS = [
    pytest.param(
        "POST",
        "https://sellerapi.kaufland.com/v2/units/",
        "",
        1411055926,
        DOC_SECRET,
        "da0b65f51c0716c1d3fa658b7eaf710583630a762a98c9af8e9b392bd9df2e2a",
        id="official-example",
    ),
    pytest.param(
        "GET",
        "https://sellerapi.kaufland.com/v2/products/20574181/?embedded=category%2Cunits",
        "",
        1700000000,
        V_SECRET,
        "26e1d479d370b57fb76c33246676f0cf2d02d61445d234eae8144b788a38a71c",
        id="V2-get-embedded",
    ),
    pytest.param(
        "POST",
        "https://sellerapi.kaufland.com/v2/units?storefront=de",
        UNIT_BODY,
        1700000000,
        V_SECRET,
        "a110764312bdbeed687b69d67664b2d96cce1796571070ebef3478c1b70f1858",
        id="V3-post-unit",
    ),
    pytest.param(
        "PATCH",
        "https://sellerapi.kaufland.com/v2/order-units/123456789/send",
        '{"tracking_numbers":"0034123456789","carrier_code":"DHL"}',
        1700000000,
        V_SECRET,
        "111c8f38224e0c6ad5165a8fca84a210f707f839c7082e444f0670a2f03712f4",
        id="V4-patch-send",
    ),
    pytest.param(
        "GET",
        "https://sellerapi.kaufland.com/v2/order-units?storefront=de&status=need_to_be_sent&limit=100&offset=0",
        "",
        1700000000,
        V_SECRET,
        "ebc8a48e95618edda4faa1218817f1ccfe7cbc204c57d15a051a41e54332397d",
        id="V5-get-order-units",
    ),
]


@pytest.mark.parametrize(("method", "url", "body", "timestamp", "secret", "expected"), VECTORS)
def test_reference_vectors(
    method: str, url: str, body: str, timestamp: int, secret: str, expected: str
) -> None:
    assert sign_request(method, url, body, timestamp, secret) == expected
    # bytes bodies and string timestamps sign the same
    assert sign_request(method, url, body.encode(), str(timestamp), secret) == expected


def test_empty_body_gives_two_consecutive_newlines() -> None:
    text = string_to_sign("get", "https://x/v2/status/ping", b"", 1)
    assert text == "GET\nhttps://x/v2/status/ping\n\n1"


def test_signatures_match_is_case_insensitive_and_strict() -> None:
    sig = "da0b65f51c0716c1d3fa658b7eaf710583630a762a98c9af8e9b392bd9df2e2a"
    assert signatures_match(sig, sig.upper())
    assert not signatures_match(sig, sig[:-1] + "b")


def test_auth_repr_hides_secret() -> None:
    auth = KauflandAuth(CLIENT_KEY, SECRET_KEY, lambda: 1)
    assert SECRET_KEY not in repr(auth)
    assert CLIENT_KEY not in repr(auth)


def test_auth_refuses_empty_credentials() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        KauflandAuth("", SECRET_KEY, lambda: 1)


async def test_outgoing_requests_carry_verifiable_signatures(make_client: MakeClient) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"data": {}})

    client = make_client(handler)
    await client.request("GET", "/status/ping")
    await client.request(
        "GET",
        "/order-units",
        params={
            "storefront": "de",
            "status": ["need_to_be_sent", "sent"],
            "embedded": ["return_unit", "tickets"],
            "ts_created_from_iso": "2024-01-02T03:04:05Z",
            "q": "Grüße & mehr",
        },
    )
    await client.request(
        "PATCH",
        "/units/4711",
        params={"storefront": "cz"},
        json={"note": NOTE, "amount": 3},
    )
    await client.request("PATCH", "/order-units/1/send", json={"carrier_code": "DHL"})
    await client.request("DELETE", "/units/4711")

    assert len(sent) == 5
    for request in sent:
        assert request.headers["Shop-Client-Key"] == CLIENT_KEY
        assert request.headers["Shop-Timestamp"] == str(int(NOW))
        assert verifies(request), f"{request.method} {request.url} does not verify"

    listing = sent[1]
    assert listing.url.raw_path.decode() == (
        "/v2/order-units?storefront=de&status=need_to_be_sent&status=sent"
        "&embedded=return_unit&embedded=tickets&ts_created_from_iso=2024-01-02T03%3A04%3A05Z"
        "&q=Gr%C3%BC%C3%9Fe+%26+mehr"
    )
    patch = sent[2]
    assert patch.content == (
        f'{{"note":"{NOTE}","amount":3}}'.encode()  # compact, raw UTF-8
    )
    assert json.loads(patch.content) == {"note": NOTE, "amount": 3}
    assert patch.headers["Content-Type"] == "application/json"


async def test_signature_matches_reference_vector_v3_end_to_end(
    make_client: MakeClient,
) -> None:
    """Sending vector V3's request through the client reproduces its published signature."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"data": {}})

    client = make_client(handler)
    await client.request("POST", "/units", params={"storefront": "de"}, json=json.loads(UNIT_BODY))
    assert sent[0].content.decode() == UNIT_BODY
    assert sent[0].headers["Shop-Signature"] == (
        "a110764312bdbeed687b69d67664b2d96cce1796571070ebef3478c1b70f1858"
    )
