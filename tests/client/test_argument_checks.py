"""Bad SDK arguments are refused before any request, inside the SDK's error tree, by an error that
names the argument and what was wrong with it; good ones still go through as before."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from pycoupa.client import AsyncCoupa, Coupa
from pycoupa.client.errors import ConfigurationError, QueryError
from pycoupa.client.ratelimit import LocalRateLimiter
from pycoupa.client.retry import RetryPolicy

URL = "https://acme.coupahost.com"
NESTED = "suppliers/{supplier_id}/addresses"
RETRY = RetryPolicy(base_delay=0.0, max_delay=0.0, max_attempts=1)


class Recorder:
    """Coupa over a MockTransport: every request that reaches the transport is kept (token too)."""

    def __init__(self) -> None:
        self.sent: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        if request.url.path == "/oauth2/token":
            return httpx.Response(
                200, json={"access_token": "tok-abcdefgh", "token_type": "bearer", "expires_in": 3600}
            )
        if request.method == "GET" and request.url.path.count("/") == 2:  # a collection: one record
            later = "id[gt]" in request.url.params or request.url.params.get("offset", "0") != "0"
            return httpx.Response(200, json=[] if later else [{"id": 1}])
        return httpx.Response(200, json={"id": 1})

    @property
    def api(self) -> list[tuple[str, str, dict[str, str]]]:
        """The API requests sent: (method, path, query)."""
        return [(r.method, r.url.path, dict(r.url.params)) for r in self.sent if r.url.path.startswith("/api/")]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def coupa(recorder: Recorder) -> Iterator[Coupa]:
    with Coupa(URL, client_id="cid", client_secret="secret-123", scopes=["core.invoice.read"],
               transport=httpx.MockTransport(recorder), rate_limiter=None, retry=RETRY,
               models=False) as client:  # fmt: skip
        yield client


@pytest.fixture
async def acoupa(recorder: Recorder) -> AsyncIterator[AsyncCoupa]:
    async with AsyncCoupa(URL, client_id="cid", client_secret="secret-123", scopes=["core.invoice.read"],
                          transport=httpx.MockTransport(recorder), rate_limiter=None, retry=RETRY,
                          models=False) as client:  # fmt: skip
        yield client


# -- record ids and parent ids ---------------------------------------------------------------------

BAD_IDS: list[tuple[Any, str]] = [
    (44.5, "float 44.5"),  # used to void invoice 44
    (1.0, "float 1.0"),
    (True, "bool True"),  # used to fetch record 1
    (False, "bool False"),
    ("abc", "str 'abc'"),  # used to raise a bare ValueError
    ("", "str ''"),
    ("1/../users", "str '1/../users'"),
    (" 7", "str ' 7'"),
    ("٣", "str '٣'"),  # a digit, but not an ASCII one
    ("0", "str '0'"),
    (0, "int 0"),
    (-3, "int -3"),
    ("-3", "str '-3'"),
    (b"12", "bytes b'12'"),
    ([12], r"list \[12\]"),
]

# Every call that takes a record id: (label, call on the resource).
RECORD_CALLS: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("get", lambda r, i: r.get(i)),
    ("update", lambda r, i: r.update(i, comments="x")),
    ("delete", lambda r, i: r.delete(i)),
    ("void", lambda r, i: r.void(i)),
    ("dispute", lambda r, i: r.dispute(i, reason_code="PRICE")),
    ("mark_exported", lambda r, i: r.mark_exported(i)),
]


@pytest.mark.parametrize(("bad", "shown"), BAD_IDS)
@pytest.mark.parametrize(("label", "call"), RECORD_CALLS, ids=[label for label, _ in RECORD_CALLS])
def test_a_bad_record_id_is_refused_before_any_request(
    coupa: Coupa, recorder: Recorder, label: str, call: Callable[[Any, Any], Any], bad: Any, shown: str
) -> None:
    with pytest.raises(
        ConfigurationError, match=rf"record_id must be a positive int or a string of digits, got {shown}"
    ):
        call(coupa.invoices, bad)
    assert recorder.sent == []


@pytest.mark.parametrize(("bad", "shown"), BAD_IDS)
async def test_a_bad_record_id_is_refused_by_the_async_client_too(
    acoupa: AsyncCoupa, recorder: Recorder, bad: Any, shown: str
) -> None:
    for label, call in RECORD_CALLS:
        with pytest.raises(ConfigurationError, match=rf"record_id .* got {shown}"):
            await call(acoupa.invoices, bad)
        assert recorder.sent == [], label


def test_a_missing_record_id_is_named(coupa: Coupa, recorder: Recorder) -> None:
    with pytest.raises(ConfigurationError, match=r"record_id is required: GET /invoices/\{id\} acts on one record"):
        coupa.invoices.get(None)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"invoices\.void acts on one record: give its id"):
        coupa.invoices.void()
    assert recorder.sent == []


@pytest.mark.parametrize(("bad", "shown"), [(bad, shown) for bad, shown in BAD_IDS if not isinstance(bad, list)])
def test_a_bad_parent_id_is_refused_when_the_resource_is_made(
    coupa: Coupa, recorder: Recorder, bad: Any, shown: str
) -> None:
    with pytest.raises(
        ConfigurationError, match=rf"parent_id must be a positive int or a string of digits, got {shown}"
    ):
        coupa.resource(NESTED, parent_id=bad)
    with pytest.raises(ConfigurationError, match=rf"parent_id\[0\] must be .* got {shown}"):
        coupa.resource(NESTED, parent_id=(bad,))  # a tuple holds the parents' ids, outermost first
    assert recorder.sent == []


def test_each_of_several_parent_ids_is_checked(coupa: Coupa, recorder: Recorder) -> None:
    name = "expense_reports/{expense_report_id}/expense_lines/{expense_line_id}/expense_artifacts"
    with pytest.raises(ConfigurationError, match=r"parent_id\[1\] must be .* got float 2\.5"):
        coupa.resource(name, parent_id=(1, 2.5))  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="not nested: drop parent_id=5"):
        coupa.resource("invoices", parent_id=5).list()
    assert recorder.sent == []


def test_int_and_digit_string_ids_address_the_record(coupa: Coupa, recorder: Recorder) -> None:
    coupa.invoices.get(12)
    coupa.invoices.get("12")
    coupa.invoices.get("0012")  # the same number
    coupa.invoices.void("44")
    coupa.invoices.mark_exported("45")
    coupa.resource(NESTED, parent_id="5").get("3")
    coupa.resource(NESTED, parent_id=(5,)).update(3, street1="1 Main St")
    coupa.resource("expense_lines/{expense_line_id}/expense_artifacts", parent_id=4).image(9)
    assert [(m, p) for m, p, _ in recorder.api] == [
        ("GET", "/api/invoices/12"),
        ("GET", "/api/invoices/12"),
        ("GET", "/api/invoices/12"),
        ("PUT", "/api/invoices/44/void"),
        ("PUT", "/api/invoices/45"),
        ("GET", "/api/suppliers/5/addresses/3"),
        ("PUT", "/api/suppliers/5/addresses/3"),
        ("GET", "/api/expense_lines/4/expense_artifacts/9/image"),  # the optional style left out
    ]


async def test_int_and_digit_string_ids_in_the_async_client(acoupa: AsyncCoupa, recorder: Recorder) -> None:
    await acoupa.invoices.get("12")
    await acoupa.invoices.delete(13)
    await acoupa.resource(NESTED, parent_id="5").get(3)
    assert [(m, p) for m, p, _ in recorder.api] == [
        ("GET", "/api/invoices/12"),
        ("DELETE", "/api/invoices/13"),
        ("GET", "/api/suppliers/5/addresses/3"),
    ]


# -- limit, offset, page_size, order_by ------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"limit": True}, r"limit must be an int from 1 to 50 \(Coupa's page ceiling\), got bool True"),
        ({"limit": "5"}, r"limit must be an int from 1 to 50 .*, got str '5'"),
        ({"limit": 5.5}, r"limit must be an int from 1 to 50 .*, got float 5\.5"),
        ({"limit": 0}, r"limit must be an int from 1 to 50 .*, got int 0"),
        ({"limit": 51}, r"limit must be an int from 1 to 50 .*, got int 51"),
        ({"offset": "2"}, r"offset must be an int >= 0, got str '2'"),
        ({"offset": 1.5}, r"offset must be an int >= 0, got float 1\.5"),
        ({"offset": True}, r"offset must be an int >= 0, got bool True"),
        ({"offset": -1}, r"offset must be an int >= 0, got int -1"),
        ({"order_by": "supplier__name"}, r"order_by='supplier__name': Coupa orders invoices only by their own"),
        ({"order_by": "id__gt"}, r"order_by='id__gt': .* takes no operator"),
        ({"order_by": "supplier"}, r"order_by='supplier' is an association.*order_by='supplier_id'"),
        ({"order_by": "invoice_lines"}, r"order_by='invoice_lines' is an association, not an attribute"),
        ({"order_by": 5}, r"order_by must be the name of one attribute, e.g\. 'created_at', got int 5"),
        ({"order_by": "nope"}, r"order_by: invoice-header has no attribute 'nope'"),
    ],
)
def test_bad_list_options_are_refused_before_any_request(
    coupa: Coupa, recorder: Recorder, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(QueryError, match=message):
        coupa.invoices.list(**options)
    assert recorder.sent == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"page_size": "10"}, r"page_size must be an int from 1 to 50 \(Coupa's page ceiling\), got str '10'"),
        ({"page_size": 5.5}, r"page_size must be an int from 1 to 50 .*, got float 5\.5"),
        ({"page_size": True}, r"page_size must be an int from 1 to 50 .*, got bool True"),
        ({"page_size": 0}, r"page_size .*, got int 0"),
        ({"page_size": 51}, r"page_size .*, got int 51"),
        ({"page_size": "10", "full_pull": True}, r"page_size .*, got str '10'"),
        ({"mode": "offset", "order_by": "supplier__name"}, r"order_by='supplier__name'"),
    ],
)
async def test_bad_iteration_options_are_refused_before_any_request(
    coupa: Coupa, acoupa: AsyncCoupa, recorder: Recorder, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(QueryError, match=message):
        list(coupa.invoices.iter(**options))
    with pytest.raises(QueryError, match=message):
        [record async for record in acoupa.invoices.iter(**options)]
    assert recorder.sent == []


async def test_good_list_options_still_work(coupa: Coupa, acoupa: AsyncCoupa, recorder: Recorder) -> None:
    coupa.invoices.list(limit=50, offset=0)
    coupa.invoices.list(limit=1, order_by="created_at", dir="desc")
    coupa.invoices.list(order_by="supplier_id")  # an association's own column, as the refusal suggests
    list(coupa.invoices.iter(page_size=50, mode="offset"))
    await acoupa.invoices.list(limit=50)
    queries = [query for _, _, query in recorder.api]
    assert queries[0] == {"limit": "50", "offset": "0"}
    assert queries[1] == {"limit": "1", "order_by": "created-at", "dir": "desc"}
    assert queries[2] == {"order_by": "supplier-id"}
    assert queries[3] == {"limit": "50", "offset": "0"}
    assert queries[4] == {"limit": "50"}


# -- client construction ---------------------------------------------------------------------------


class FakeLimiter:
    """Has a limiter's method names but is not a RateLimiter (no async half, no adaptation)."""

    def acquire_delay(self, max_wait: float | None = None) -> float:
        return 0.0


CONSTRUCTION: list[tuple[dict[str, Any], str]] = [
    ({"instance_url": None}, r"instance URL must be a str such as 'https://acme\.coupahost\.com', got NoneType"),
    ({"instance_url": 123}, r"instance URL must be a str .*, got int"),
    ({"instance_url": b"https://acme.coupahost.com"}, r"instance URL must be a str .*, got bytes"),
    ({"scopes": None}, r"scopes must be a list of scope names .*, got NoneType"),
    ({"scopes": 5}, r"scopes must be a list of scope names .*, got int"),
    ({"scopes": "core.invoice.read"}, r"scopes must be a list of scope names, not one string"),
    ({"scopes": [None]}, r"scopes: invalid scope None"),
    ({"scopes": ["core.invoice.read core.user.read"]}, r"scopes: invalid scope 'core\.invoice\.read core\.user\.read'"),
    ({"timeout": -1}, r"timeout must be a number of seconds > 0 or an httpx\.Timeout, got int -1"),
    ({"timeout": 0}, r"timeout must be a number of seconds > 0 .*, got int 0"),
    ({"timeout": float("nan")}, r"timeout must be .*, got float nan"),
    ({"timeout": "5"}, r"timeout must be .*, got str '5'"),
    ({"timeout": True}, r"timeout must be .*, got bool True"),
    ({"timeout": None}, r"timeout must be .*, got NoneType None"),
    ({"models": "no"}, r"models must be True or False, got str 'no'"),
    ({"models": 0}, r"models must be True or False, got int 0"),
    ({"models": None}, r"models must be True or False, got NoneType None"),
    ({"rate_limiter": "fast"}, r"rate_limiter must be a pycoupa\.client\.ratelimit\.RateLimiter .* got str"),
    ({"rate_limiter": FakeLimiter()}, r"rate_limiter must be .* got FakeLimiter"),
    ({"rate_limiter": None, "rps": 5.0}, r"rps configure the built-in limiter, which rate_limiter= replaces"),
    ({"auth": "token"}, r"auth must be an httpx\.Auth .* got str"),
    (
        {"token_store": "redis://localhost"},
        r"token_store must be a pycoupa\.client\.token_store\.TokenStore .* got str",
    ),
    ({"format": "XML"}, r"format must be 'json' or 'xml', got 'XML'"),
    ({"retry": 3}, r"retry must be a pycoupa\.client\.retry\.RetryPolicy"),
]


@pytest.mark.parametrize(("kwargs", "message"), CONSTRUCTION)
@pytest.mark.parametrize("client", [Coupa, AsyncCoupa])
def test_bad_client_options_are_refused_up_front(
    recorder: Recorder, client: type[Coupa] | type[AsyncCoupa], kwargs: dict[str, Any], message: str
) -> None:
    args: dict[str, Any] = {
        "instance_url": URL,
        "client_id": "cid",
        "client_secret": "secret-123",
        "scopes": ["core.invoice.read"],
        "transport": httpx.MockTransport(recorder),
    }
    with pytest.raises(ConfigurationError, match=message):
        client(**(args | kwargs))
    assert recorder.sent == []


def test_a_transport_of_the_other_kind_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"transport must be a sync httpx transport .* got AsyncHTTPTransport"):
        Coupa(URL, client_id="cid", client_secret="secret-123", transport=httpx.AsyncHTTPTransport())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"transport must be an async httpx transport .* got HTTPTransport"):
        AsyncCoupa(URL, client_id="cid", client_secret="secret-123", transport=httpx.HTTPTransport())  # type: ignore[arg-type]


def test_good_client_options_still_work(recorder: Recorder) -> None:
    scopes = (name for name in ["core.invoice.read", "core.supplier.read"])  # any iterable, read once
    with Coupa(URL, client_id="cid", client_secret="secret-123", scopes=scopes, timeout=httpx.Timeout(5.0),
               models=False, rate_limiter=LocalRateLimiter(),
               transport=httpx.MockTransport(recorder)) as coupa:  # fmt: skip
        assert coupa.options.scopes == ("core.invoice.read", "core.supplier.read")
        assert coupa.options.timeout == httpx.Timeout(5.0) and coupa.options.models is False
        coupa.invoices.list(limit=1)
    token, listed = recorder.sent
    assert parse_qs(token.content.decode())["scope"] == ["core.invoice.read core.supplier.read"]
    assert listed.url.path == "/api/invoices"
    with Coupa(URL, client_id="cid", client_secret="secret-123", timeout=2.5, models=True, scopes=[]) as coupa:
        assert coupa.options.timeout == httpx.Timeout(2.5) and coupa.options.scopes == ()


# -- scopes_for ------------------------------------------------------------------------------------


@pytest.mark.parametrize("client", [Coupa, AsyncCoupa])
def test_scopes_for_a_bare_string_says_to_pass_a_list(client: type[Coupa] | type[AsyncCoupa]) -> None:
    with pytest.raises(
        ConfigurationError, match=r"scopes_for takes a list of calls, not one string: .*\['invoices\.list'\]"
    ):
        client.scopes_for("invoices.list")
    with pytest.raises(
        ConfigurationError, match=r"scopes_for takes a list of '<resource>\.<verb>' calls.*got NoneType"
    ):
        client.scopes_for(None)  # type: ignore[arg-type]
    assert client.scopes_for(["invoices.list"]) == ["core.invoice.read"]


async def test_full_pull_takes_only_a_bool(coupa: Coupa, acoupa: AsyncCoupa, recorder: Recorder) -> None:
    with pytest.raises(ConfigurationError, match=r"full_pull must be True or False, got str 'no'"):
        list(coupa.invoices.iter(full_pull="no"))
    with pytest.raises(ConfigurationError, match=r"full_pull must be True or False, got int 1"):
        [record async for record in acoupa.invoices.iter(full_pull=1)]
    assert recorder.sent == []


def test_a_collection_action_refuses_a_record_id(coupa: Coupa, recorder: Recorder) -> None:
    # create_alert on integration history records is a collection action: a body passed where the
    # record id goes would otherwise be dropped and the action sent without it.
    records = coupa.resource("integration_history_records")
    with pytest.raises(ConfigurationError, match=r"acts on the collection, not one record: pass the body as data="):
        records.create_alert({"integration-run": {"id": 1}})
    assert recorder.sent == []


def test_coupas_actions_show_in_dir(coupa: Coupa, acoupa: AsyncCoupa) -> None:
    for invoices in (coupa.invoices, acoupa.invoices):
        names = dir(invoices)
        assert {"void", "submit", "dispute", "list", "get"} <= set(names)
        assert all(callable(getattr(invoices, n)) for n in ("void", "submit"))


@pytest.mark.parametrize("record_id", ["9" * 5000, 10**5000, 10**40], ids=["digits", "huge-int", "big-int"])
def test_an_absurdly_long_id_is_refused_clearly(coupa: Coupa, recorder: Recorder, record_id: object) -> None:
    with pytest.raises(
        ConfigurationError, match=r"record_id must be a positive int or a string of digits, got (str|int)"
    ):
        coupa.invoices.get(record_id)  # type: ignore[arg-type]
    assert recorder.sent == []
