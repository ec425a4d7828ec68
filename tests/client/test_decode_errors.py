"""A success whose body cannot be read raises the SDK's ResponseDecodeError, naming what is wrong."""

from __future__ import annotations

import httpx
import orjson
import pytest

from pycoupa.client import AsyncCoupa, Coupa
from pycoupa.client.errors import CoupaError, ResponseDecodeError
from pycoupa.wire.errors import WireDecodeError

INVOICES = [
    {"id": 1, "invoice-number": "A-1", "total-with-taxes": "10.00"},
    {"id": 2, "invoice-number": "A-2", "total-with-taxes": "not a number"},
]


def _coupa(body: bytes, content_type: str = "application/json") -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            return httpx.Response(200, json={"access_token": "tok", "token_type": "bearer", "expires_in": 3600})
        return httpx.Response(200, content=body, headers={"content-type": content_type})

    return httpx.MockTransport(answer)


def _client(body: bytes, content_type: str = "application/json", **options: object) -> Coupa:
    return Coupa("https://acme.coupahost.com", client_id="cid", client_secret="secret-123",
                 transport=_coupa(body, content_type), **options)  # type: ignore[arg-type]  # fmt: skip


def test_a_record_its_model_refuses_is_named_with_its_field() -> None:
    with _client(orjson.dumps(INVOICES)) as coupa, pytest.raises(ResponseDecodeError) as caught:
        coupa.invoices.list(limit=2)
    error = caught.value
    assert isinstance(error, CoupaError) and error.record_id == 2
    assert any(p.startswith("total-with-taxes") for p in error.problems), error.problems
    assert "record 2" in str(error) and "models=False" in str(error)


def test_models_false_returns_the_raw_records_instead() -> None:
    with _client(orjson.dumps(INVOICES), models=False) as coupa:
        assert coupa.invoices.list(limit=2) == INVOICES


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b'[{"id": 1,', "application/json"), (b"<invoice-headers><invoice-header>", "application/xml")],
)
def test_a_malformed_body_is_a_response_decode_error(body: bytes, content_type: str) -> None:
    with _client(body, content_type) as coupa, pytest.raises(ResponseDecodeError) as caught:
        coupa.invoices.list(limit=2)
    assert isinstance(caught.value, WireDecodeError)  # what code catching the codecs' error still sees
    assert "200 answer to GET https://acme.coupahost.com/api/invoices" in str(caught.value)


async def test_the_async_client_raises_the_same() -> None:
    async def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            return httpx.Response(200, json={"access_token": "tok", "token_type": "bearer", "expires_in": 3600})
        return httpx.Response(200, content=orjson.dumps(INVOICES), headers={"content-type": "application/json"})

    async with AsyncCoupa("https://acme.coupahost.com", client_id="cid", client_secret="secret-123",
                          transport=httpx.MockTransport(answer)) as coupa:  # fmt: skip
        with pytest.raises(ResponseDecodeError) as caught:
            await coupa.invoices.list(limit=2)
    assert caught.value.record_id == 2
