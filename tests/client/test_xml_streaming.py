"""XML collections are parsed while their body arrives (``stream_xml_collections``).

The body of a successful XML answer goes chunk by chunk into an incremental parser and is not kept;
records are converted as their elements end and the elements freed. What the caller gets, and the
errors it sees, are those of parsing the whole body afterwards (``codec_xml``).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from pycoupa.client import AsyncCoupa, Coupa
from pycoupa.client._base import RAW_BODY, STREAMED_XML, CoreClient, XmlCollectionDecoder
from pycoupa.client.errors import ResponseDecodeError
from pycoupa.client.models import Invoice
from pycoupa.client.retry import RetryPolicy
from pycoupa.emulator.app import Emulator
from pycoupa.emulator.seed import SeedCounts, seed
from pycoupa.emulator.server import serve_in_thread
from pycoupa.wire import codec_xml
from pycoupa.wire.errors import WireDecodeError

SCOPES = ["core.invoice.read", "core.supplier.read"]
NO_RETRY = RetryPolicy(max_attempts=1)

RECORDS = "".join(
    f"""
  <invoice-header>
    <id type="integer">{n}</id>
    <invoice-number>INV-{n}</invoice-number>
    <total-with-taxes type="decimal">{n}.50</total-with-taxes>
    <created-at type="dateTime">2016-10-07T06:59:46-07:00</created-at>
    <invoice-lines type="array">
      <invoice-line><id type="integer">{n}0</id><total type="decimal">1.25</total></invoice-line>
    </invoice-lines>
    <supplier><id type="integer">7</id><name>Acme &amp; Sons</name></supplier>
    <custom-field-1>x{n}</custom-field-1>
  </invoice-header>"""
    for n in range(1, 41)
)
COLLECTION = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<invoice-headers type="array">{RECORDS}\n</invoice-headers>\n'.encode()
)
ONE = b'<?xml version="1.0" encoding="UTF-8"?>\n<invoice-header><id type="integer">5</id></invoice-header>\n'


def chunks(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


class Chunked(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body handed over in small pieces, as a network would."""

    def __init__(self, parts: list[bytes]) -> None:
        self.parts = parts

    def __iter__(self) -> Iterator[bytes]:
        yield from self.parts

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self.parts:
            yield part


def handler(body: bytes, *, status: int = 200, size: int = 97, headers: dict[str, str] | None = None) -> Any:
    """A mock Coupa: a token for the OAuth request, ``body`` in chunks for everything else."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            return httpx.Response(200, json={"access_token": "t", "token_type": "bearer", "expires_in": 3600})
        return httpx.Response(
            status,
            headers={"content-type": "application/xml; charset=utf-8", **(headers or {})},
            stream=Chunked(chunks(body, size)),
        )

    return handle


def spy(monkeypatch: pytest.MonkeyPatch) -> list[httpx.Response]:
    """Responses as ``decode`` sees them."""
    seen: list[httpx.Response] = []
    decode = CoreClient.decode

    def recording(self: CoreClient, response: httpx.Response) -> Any:
        seen.append(response)
        return decode(self, response)

    monkeypatch.setattr(CoreClient, "decode", recording)
    return seen


def sync_client(handle: Callable[[httpx.Request], httpx.Response]) -> Coupa:
    return Coupa(
        "https://acme.coupahost.com",
        client_id="c",
        client_secret="s",
        scopes=SCOPES,
        transport=httpx.MockTransport(handle),
        format="xml",
        retry=NO_RETRY,
    )


def async_client(handle: Callable[[httpx.Request], httpx.Response]) -> AsyncCoupa:
    return AsyncCoupa(
        "https://acme.coupahost.com",
        client_id="c",
        client_secret="s",
        scopes=SCOPES,
        transport=httpx.MockTransport(handle),
        format="xml",
        retry=NO_RETRY,
    )


EXPECTED = list(codec_xml.iterparse_records(COLLECTION))


@pytest.mark.parametrize("size", [1, 7, 97, 4096, len(COLLECTION)])
def test_sync_collection_is_parsed_while_read(size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = spy(monkeypatch)
    with sync_client(handler(COLLECTION, size=size)) as coupa:
        got = coupa.invoices.list()
        raw = coupa.resource("invoices").list()  # same path, through the resource factory
    assert [i.id for i in got] == list(range(1, 41)) == [i.id for i in raw]
    assert got == [Invoice.model_validate(r) for r in EXPECTED]
    assert got[0].supplier is not None and got[0].supplier.name == "Acme & Sons"
    api = [r for r in seen if r.url.path.startswith("/api/")]
    assert api and all(r.content == b"" for r in api), "the body is parsed as it arrives, not kept"
    decoder = api[0].extensions[STREAMED_XML]
    assert isinstance(decoder, XmlCollectionDecoder) and decoder.records == EXPECTED


@pytest.mark.parametrize("size", [1, 97, 4096])
async def test_async_collection_is_parsed_while_read(size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = spy(monkeypatch)
    async with async_client(handler(COLLECTION, size=size)) as coupa:
        got = await coupa.invoices.list()
    assert got == [Invoice.model_validate(r) for r in EXPECTED]
    api = [r for r in seen if r.url.path.startswith("/api/")]
    assert api and all(r.content == b"" for r in api)


def test_elements_are_freed_as_records_end() -> None:
    decoder = XmlCollectionDecoder()
    sizes = []
    for part in chunks(COLLECTION, 200):
        decoder.feed(part)
        if decoder._root is not None:
            sizes.append(len(decoder._root))
    decoder.close()
    assert decoder.records == EXPECTED
    assert max(sizes) <= 1, "at most the item being read is in the tree"


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as some servers send it
        ("identity", lambda b: b),
    ],
    ids=["gzip", "deflate", "raw-deflate", "identity"],
)
async def test_compressed_bodies(encoding: str, compress: Callable[[bytes], bytes]) -> None:
    body = compress(COLLECTION)
    handle = handler(body, size=50, headers={"content-encoding": encoding})
    with sync_client(handle) as coupa:
        assert [i.id for i in coupa.invoices.list()] == list(range(1, 41))
    async with async_client(handle) as acoupa:
        assert [i.id for i in await acoupa.invoices.list()] == list(range(1, 41))


def test_single_records_and_errors_are_decoded_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = spy(monkeypatch)
    with sync_client(handler(ONE, size=10)) as coupa:
        one = coupa.invoices.get(5)
    assert one.id == 5
    assert seen[-1].content == ONE and STREAMED_XML not in seen[-1].extensions
    not_found = b'<?xml version="1.0"?>\n<errors><error>No results match your search criteria.</error></errors>'
    with sync_client(handler(not_found, status=404, size=10)) as coupa:
        assert coupa.invoices.list(invoice_number="nope") == []
    empty = b'<?xml version="1.0" encoding="UTF-8"?>\n<invoice-headers type="array"/>\n'
    with sync_client(handler(empty, size=5)) as coupa:
        assert coupa.invoices.list() == []
    with sync_client(handler(b"", size=5)) as coupa:
        assert coupa.invoices.get(5) is None  # an empty 200 body: nothing, as before


BROKEN = [
    COLLECTION.replace(b"</invoice-number>", b"</invoice-numbr>", 1),  # malformed after a few records
    COLLECTION[: len(COLLECTION) // 2],  # cut off
    COLLECTION.replace(b'<id type="integer">3</id>', b'<id type="integer">three</id>'),  # a bad typed value
    COLLECTION.replace(b"<invoice-headers ", b'<!DOCTYPE x [<!ENTITY e "boom">]>\n<invoice-headers '),
    COLLECTION.replace(b"<invoice-headers ", b"<!DOCTYPE x SYSTEM 'http://example.com/x.dtd'>\n<invoice-headers "),
    COLLECTION.replace(b"<custom-field-1>x1</custom-field-1>", b"<custom-field-1>&e;</custom-field-1>"),
    COLLECTION.replace(b"<custom-field-1>x2</custom-field-1>", b'<custom-field-1><!ENTITY y "z"></custom-field-1>'),
    b'<invoice-headers type="array"><invoice-header>5</invoice-header></invoice-headers>',  # item is not a record
]


# libxml2 words some errors differently depending on where the chunks end (an undefined entity, a
# declaration cut in two): for those only the refusal itself is compared.
CHUNKING_DEPENDENT_MESSAGE = {5, 6}


@pytest.mark.parametrize("case", range(len(BROKEN)))
@pytest.mark.parametrize("size", [3, 64, 100_000])
def test_broken_bodies_fail_as_whole_body_parsing_does(case: int, size: int) -> None:
    body = BROKEN[case]
    with pytest.raises(WireDecodeError) as expected:
        list(codec_xml.iterparse_records(body))
    with sync_client(handler(body, size=size)) as coupa, pytest.raises(WireDecodeError) as got:
        coupa.invoices.list()
    # The SDK's error (in its tree, and still a WireDecodeError) wraps the parser's, whose words match.
    assert isinstance(got.value, ResponseDecodeError) and isinstance(got.value.__cause__, WireDecodeError)
    if case not in CHUNKING_DEPENDENT_MESSAGE:
        assert str(got.value.__cause__) == str(expected.value)


def test_dtd_marker_split_across_chunks_is_refused() -> None:
    body = COLLECTION.replace(b"<custom-field-1>x9</custom-field-1>", b"<custom-field-1><!DOCTYPE q></custom-field-1>")
    start = body.index(b"<!DOCTYPE")
    for cut in range(1, 9):  # the marker cut anywhere, into pieces smaller than itself too
        parts = [body[: start + cut], body[start + cut : start + cut + 2], body[start + cut + 2 :]]
        decoder = XmlCollectionDecoder()
        with pytest.raises(WireDecodeError, match=r"DOCTYPE|malformed"):
            for part in parts:
                decoder.feed(part)
            decoder.close()
    prolog = b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e "boom">]>\n<invoice-headers type="array"/>'
    for size in (1, 2, 5):
        decoder = XmlCollectionDecoder()
        with pytest.raises(WireDecodeError, match="refused"):
            for part in chunks(prolog, size):
                decoder.feed(part)


@pytest.fixture
def seeded() -> Emulator:
    emu = Emulator()
    seed(emu, SeedCounts(invoices=130), random_seed=5)
    return emu


def test_real_socket_xml_matches_json(seeded: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = spy(monkeypatch)
    cid, secret = seeded.create_oauth_client(SCOPES)
    kwargs: dict[str, Any] = {"client_id": cid, "client_secret": secret, "scopes": SCOPES}
    with (
        serve_in_thread(seeded) as running,
        Coupa(running.url, format="xml", **kwargs) as xml,
        Coupa(running.url, **kwargs) as json,
    ):
        from_xml = list(xml.invoices.iter(full_pull=True, partitions=3))
        from_json = list(json.invoices.iter(full_pull=True, partitions=3))
    assert sorted(i.id for i in from_xml) == sorted(i.id for i in from_json)
    assert len(from_xml) == 130
    by_id = {i.id: i for i in from_json}
    for invoice in from_xml:
        other = by_id[invoice.id]
        assert (invoice.total_with_taxes, invoice.created_at, invoice.status) == (
            other.total_with_taxes,
            other.created_at,
            other.status,
        )
        assert [line.total for line in invoice.invoice_lines] == [line.total for line in other.invoice_lines]
    xml_pages = [r for r in seen if "xml" in r.headers.get("content-type", "") and r.url.path == "/api/invoices"]
    assert xml_pages and all(STREAMED_XML in r.extensions and r.content == b"" for r in xml_pages)


def test_requests_marked_raw_keep_their_body() -> None:
    """The server's proxy passes Coupa's bytes on: ``RAW_BODY`` turns the streaming parse off."""
    with sync_client(handler(COLLECTION, size=64)) as coupa:
        request = httpx.Request(
            "GET", "https://acme.coupahost.com/api/invoices", headers={"accept": "application/xml"},
            extensions={RAW_BODY: True},
        )  # fmt: skip
        response = coupa._http.send(request)
    assert response.content == COLLECTION and STREAMED_XML not in response.extensions
