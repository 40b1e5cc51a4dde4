"""Check real HTTP exchanges against Kaufland's OpenAPI spec 2.27.0.

The spec file is not strictly valid OpenAPI (REFERENCE.md's tooling note), so it is loaded with
spec validation switched off; requests and responses are validated against it as usual.
``SpecRecorder`` is an httpx response hook: give it to the client's ``httpx.AsyncClient`` and every
exchange is validated, collected by operation and failure, for the test to assert on.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_NAME = "openapi-2.27.0.json"
# The contract lives in shared/kaufland-api/ beside the repository (as CI lays it out);
# KAUFLAND_SYNC_SPEC points elsewhere when the checkout is somewhere else.
SPEC_PATH = Path(
    os.environ.get(
        "KAUFLAND_SYNC_SPEC",
        Path(__file__).resolve().parents[2] / "shared" / "kaufland-api" / SPEC_NAME,
    )
)


def load_spec() -> dict[str, Any]:
    if not SPEC_PATH.exists():
        raise FileNotFoundError(
            f"Kaufland's OpenAPI spec is expected at {SPEC_PATH} (shared/kaufland-api/ beside "
            "the repository, or set KAUFLAND_SYNC_SPEC)"
        )
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _nullable_refs(node: Any, schemas: dict[str, Any]) -> Any:
    """Rewrite ``{"allOf": [{"$ref": enum}], "nullable": true}`` as the enum itself made
    nullable. The spec uses that form for nullable enums (e.g. ``product_not_ready_reason``);
    the validator applies ``nullable`` only to the wrapper and then refuses null in the enum."""
    if isinstance(node, list):
        return [_nullable_refs(item, schemas) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _nullable_refs(value, schemas) for key, value in node.items()}
    all_of = out.get("allOf")
    if out.get("nullable") is True and isinstance(all_of, list) and len(all_of) == 1:
        ref = all_of[0].get("$ref", "") if isinstance(all_of[0], dict) else ""
        target = schemas.get(ref.rsplit("/", 1)[-1]) if ref else None
        if isinstance(target, dict) and "enum" in target:
            inlined = {**target, "nullable": True, "enum": [*target["enum"], None]}
            return {k: v for k, v in out.items() if k != "allOf"} | inlined
    return out


@lru_cache(maxsize=1)
def openapi() -> OpenAPI:
    spec = load_spec()
    spec = _nullable_refs(spec, spec["components"]["schemas"])
    # Relative server "/v2": give it an absolute form so any loopback host matches.
    spec["servers"] = [{"url": "http://{host}/v2", "variables": {"host": {"default": "localhost"}}}]
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


class _Request:
    """openapi-core's Request protocol over an httpx.Request."""

    def __init__(self, request: httpx.Request) -> None:
        self._request = request
        url = request.url
        self.host_url = f"{url.scheme}://{url.netloc.decode('ascii')}"
        self.path = url.path
        self.method = request.method.lower()
        self.body: bytes | None = request.content or None
        self.content_type = request.headers.get("content-type", "application/json")
        # ``embedded`` goes out comma-joined, the form Kaufland's own signing example uses
        # (``embedded=category%2Cunits``); the spec describes it as exploded repeated keys.
        # Both are accepted in circulation (REFERENCE §3), so validate the values one by one.
        query = [
            (key, part)
            for key, value in url.params.multi_items()
            for part in (value.split(",") if key == "embedded" else [value])
        ]
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(query),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(),
        )

    @property
    def full_url_pattern(self) -> str:
        return self.host_url + self.path


class _Response:
    def __init__(self, response: httpx.Response) -> None:
        self.data = response.content
        self.status_code = response.status_code
        self.content_type = response.headers.get("content-type", "application/json")
        self.headers = Headers(list(response.headers.items()))


@dataclass
class SpecRecorder:
    """Validates every exchange it sees; ``failures`` lists what did not conform."""

    check_requests: bool = True
    failures: list[str] = field(default_factory=list)
    operations: dict[str, int] = field(default_factory=dict)  # "METHOD /path/{template}" -> count
    urls: list[httpx.URL] = field(default_factory=list)  # every request URL, in order

    # Answers from the infrastructure in front of the API (rate limiter, proxies) that the spec
    # does not list per operation: their shape is checked by the fault tests instead.
    infrastructure_statuses: frozenset[int] = frozenset({429, 502, 503, 504})
    # Operations that exist on Kaufland's playground but not in spec 2.27.0: not validated.
    outside_spec: tuple[str, ...] = ("/v2/playground/",)

    async def __call__(self, response: httpx.Response) -> None:
        await response.aread()
        self.check(response)

    def check(self, response: httpx.Response) -> None:
        request = response.request
        self.urls.append(request.url)
        if any(request.url.path.startswith(prefix) for prefix in self.outside_spec):
            return
        if response.status_code in self.infrastructure_statuses:
            return
        api = openapi()
        oreq = _Request(request)
        try:
            result = api.unmarshal_request(oreq) if self.check_requests else None
        except Exception as exc:  # openapi-core raises on unknown paths before validation
            self.failures.append(f"{request.method} {request.url}: {exc}")
            return
        # A request the server accepted must be one the spec allows; a refused one (4xx) is
        # usually a test sending bad input on purpose, so only its answer is checked.
        if result is not None and result.errors and response.status_code < 400:
            self.failures.append(
                f"request {request.method} {request.url}: "
                + "; ".join(_explain(e) for e in result.errors)
            )
        try:
            api.validate_response(oreq, _Response(response))
        except Exception as exc:
            self.failures.append(
                f"response {response.status_code} to {request.method} {request.url}: "
                + _explain(exc)
            )
        operation = _operation_of(api, oreq)
        if operation:
            self.operations[operation] = self.operations.get(operation, 0) + 1


def _operation_of(api: OpenAPI, request: _Request) -> str | None:
    try:
        path_result = api.request_validator.path_finder.find(
            request.method, request.full_url_pattern
        )
    except Exception:
        return None
    return f"{request.method.upper()} {path_result.path.parts[-1]}"


def _explain(exc: BaseException) -> str:
    parts = [str(exc)]
    cause = exc.__cause__
    while cause is not None:
        parts.append(str(cause))
        for sub in getattr(cause, "schema_errors", []) or []:
            parts.append(f"{list(sub.path)}: {sub.message}")
        cause = cause.__cause__
    return " <- ".join(parts)
