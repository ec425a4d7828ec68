"""Every query example of coupa-api.md section 3 (and of Compass pages 0009 and 0014), replayed
against a small dataset created through the API; the right records, and only those, come back.

Queries are written as the documentation writes them (brackets, ``+`` for a space, dashes or
underscores), so the emulator sees what a client following the docs would send.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from pycoupa.wire import codec_json, codec_xml

from ..conftest import TokenFactory
from ._samples import JSON, NO_RESULTS, XML, raw, xml_root

# Sample files whose query (or answer) these tests replay; the comment says where.
QUERY_SAMPLES: dict[str, str] = {
    "0009-02.xml": "order-lines/account/code path: test_collection_association_filter",
    "0009-03.xml": "from-currency written from_currency: test_underscored_association_filter",
    "0011-03.xml": "XML answer to an empty search: test_empty_result_xml_is_404",
    "0011-04.json": "JSON answer to an empty search: test_empty_result_json_is_empty_array",
    "0014-02.xml": "order-lines/account/code path: test_collection_association_filter",
    "0014-03.xml": "exported=false&created_at[gt]=...: test_purchase_order_polls",
    "0014-04.xml": "...&supplier[name]=Fishy: test_purchase_order_polls",
    "0014-05.xml": "...&supplier[name][gt]=Fish: test_purchase_order_polls",
    "0014-06.xml": "...&order_lines[account][code]=a-c: test_collection_association_filter",
    "0014-07.xml": "invoices?status[in]=approved,voided: test_status_in",
}


async def ids(api: httpx.AsyncClient, path: str, query: str) -> list[int]:
    """Ids a JSON query answers, in answer order (the query string is sent as written)."""
    r = await api.get(f"/api{path}?{query}", headers=JSON)
    assert r.status_code == 200, f"{path}?{query}: {r.status_code} {r.text[:300]}"
    body = r.json()
    assert isinstance(body, list), body
    return [int(rec["id"]) for rec in body]


def respelled(query: str) -> str:
    """The same query with dashes and underscores swapped in the keys (values stay as written)."""
    pairs = []
    for pair in query.split("&"):
        key, sep, value = pair.partition("=")
        swapped = key.translate(str.maketrans({"-": "_", "_": "-"}))
        pairs.append(swapped + sep + value)
    return "&".join(pairs)


async def ids_alike(api: httpx.AsyncClient, path: str, query: str) -> list[int]:
    """``ids`` of a query, checked to be the same with dashes and underscores swapped in its keys."""
    found = await ids(api, path, query)
    assert await ids(api, path, respelled(query)) == found, f"{respelled(query)} differs from {query}"
    return found


async def create(api: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await api.post(f"/api{path}", json=body, headers=JSON)
    assert r.status_code == 201, f"POST {path}: {r.status_code} {r.text[:300]}"
    data: dict[str, Any] = r.json()
    return data


async def advance(api: httpx.AsyncClient, seconds: float, token: TokenFactory | None = None) -> None:
    """Move the instance clock forward (records get later created-at/updated-at); a token outlives
    at most a day, so a long jump mints a fresh one."""
    r = await api.post("/__emulator__/clock", json={"advance_seconds": seconds})
    assert r.status_code == 200
    if token is not None:
        api.headers["Authorization"] = f"Bearer {await token()}"


async def supplier(api: httpx.AsyncClient, name: str, **fields: Any) -> int:
    return int((await create(api, "/suppliers", {"name": name, **fields}))["id"])


async def purchase_order(api: httpx.AsyncClient, number: str, supplier_id: int, **fields: Any) -> int:
    body = {"po-number": number, "supplier": {"id": supplier_id}, "currency": {"code": "USD"}, **fields}
    return int((await create(api, "/purchase_orders", body))["id"])


async def invoice(api: httpx.AsyncClient, number: str, supplier_id: int, **fields: Any) -> int:
    body = {
        "invoice-number": number,
        "invoice-date": "2024-01-15",
        "supplier": {"id": supplier_id},
        "currency": {"code": "USD"},
        **fields,
    }
    return int((await create(api, "/invoices", body))["id"])


async def mark_exported(api: httpx.AsyncClient, path: str, record_id: int) -> None:
    r = await api.put(f"/api{path}/{record_id}?exported=true", headers=JSON)
    assert r.status_code == 200 and r.json()["exported"] is True


# -- pages 0014 and 0009: purchase orders ------------------------------------------------------
async def test_purchase_order_polls(api: httpx.AsyncClient) -> None:
    fishy, fish, zebra, acme = [await supplier(api, n) for n in ("Fishy", "Fish", "Zebra", "Acme")]
    po_fishy = await purchase_order(api, "PO-1", fishy)
    po_fish = await purchase_order(api, "PO-2", fish)
    po_zebra = await purchase_order(api, "PO-3", zebra)
    po_acme = await purchase_order(api, "PO-4", acme)
    po_done = await purchase_order(api, "PO-5", fishy)
    await mark_exported(api, "/purchase_orders", po_done)

    base = "exported=false&created_at[gt]=2010-01-15"
    assert await ids_alike(api, "/purchase_orders", base) == [po_fishy, po_fish, po_zebra, po_acme]
    assert await ids_alike(api, "/purchase_orders", base + "&supplier[name]=Fishy") == [po_fishy]
    # names sort after "Fish": "Fishy" and "Zebra", not "Fish" itself nor "Acme"
    assert await ids_alike(api, "/purchase_orders", base + "&supplier[name][gt]=Fish") == [po_fishy, po_zebra]
    assert await ids(api, "/purchase_orders", "exported=true") == [po_done]
    # foreign-key column directly (coupa-api.md s.3: supplier_id=4)
    assert await ids_alike(api, "/purchase_orders", f"supplier_id={fishy}") == [po_fishy, po_done]
    assert await ids(api, "/purchase_orders", "created_at[gt]=2999-01-01") == []


async def test_collection_association_filter(api: httpx.AsyncClient) -> None:
    """For a collection, the plural name and no singular element: order_lines[account][code]."""
    at = await create(api, "/account_types", {"name": "Ace", "currency": {"code": "USD"}})
    a_c = await create(
        api, "/accounts", {"segment-1": "a", "segment-2": "c", "name": "a-c", "account-type": {"id": at["id"]}}
    )
    a_d = await create(
        api, "/accounts", {"segment-1": "a", "segment-2": "d", "name": "a-d", "account-type": {"id": at["id"]}}
    )
    sup = await supplier(api, "Fishy")

    def line(account_id: int) -> dict[str, Any]:
        return {"description": "Paper", "price": "1.00", "quantity": "1", "account": {"id": account_id}}

    hit = await purchase_order(api, "PO-1", sup, **{"order-lines": [line(a_d["id"]), line(a_c["id"])]})
    await purchase_order(api, "PO-2", sup, **{"order-lines": [line(a_d["id"])]})
    await purchase_order(api, "PO-3", sup)
    # the same path on an attribute clients write themselves (the account nickname)
    for spelling in ("order_lines", "order-lines"):
        assert await ids(api, "/purchase_orders", f"{spelling}[account][name]=a-c") == [hit]
    assert a_c.get("code") == "a-c"  # the account's code is its segments joined by "-"
    for spelling in ("order_lines", "order-lines"):
        assert await ids(api, "/purchase_orders", f"{spelling}[account][code]=a-c") == [hit]
    full = "exported=false&created_at[gt]=2010-01-15&supplier[name][gt]=Fish&order_lines[account][code]=a-c"
    assert await ids(api, "/purchase_orders", full) == [hit]


async def test_underscored_association_filter(api: httpx.AsyncClient) -> None:
    """Page 0009: dashes in element names become underscores in arguments (from-currency)."""
    usd_eur = await create(
        api,
        "/exchange_rates",
        {
            "from-currency": {"code": "USD"},
            "to-currency": {"code": "EUR"},
            "rate": "0.9",
            "rate-date": "2024-01-01T00:00:00Z",
        },
    )
    await create(
        api,
        "/exchange_rates",
        {
            "from-currency": {"code": "EUR"},
            "to-currency": {"code": "USD"},
            "rate": "1.1",
            "rate-date": "2024-01-01T00:00:00Z",
        },
    )
    for query in (
        "from_currency[code]=USD",
        "from-currency[code]=USD",
        "from_currency_id=1",
        "from-currency-id=1",
        "from_currency[id]=1",
    ):
        assert await ids(api, "/exchange_rates", query) == [usd_eur["id"]], query


# -- section 3: operators and association filters ---------------------------------------------
@pytest.fixture
async def suppliers(api: httpx.AsyncClient) -> dict[str, int]:
    """Five suppliers covering each operator's hits and misses."""
    out = {}
    for name, extra in (
        ("Alpha Tools", {"po-email": "orders@alpha.example", "status": "active"}),
        ("Beta Supply", {"status": "inactive"}),
        ("Fish Market", {"po-email": "", "status": "draft"}),
        ("Fishy Goods", {"po-email": "po@fishy.example", "status": "active"}),
        ("Zeta Parts", {"status": "draft"}),
    ):
        out[name] = await supplier(api, name, **extra)
    return out


OPERATOR_CASES = [
    ("name=Beta Supply", ["Beta Supply"]),
    ("name[contains]=sh", ["Fish Market", "Fishy Goods"]),
    ("name[starts_with]=Fish", ["Fish Market", "Fishy Goods"]),
    ("name[ends_with]=Parts", ["Zeta Parts"]),
    ("name[not_eq]=Zeta Parts", ["Alpha Tools", "Beta Supply", "Fish Market", "Fishy Goods"]),
    ("name[gt]=Fish Market", ["Fishy Goods", "Zeta Parts"]),
    ("name[gt_or_eq]=Fish Market", ["Fish Market", "Fishy Goods", "Zeta Parts"]),
    ("name[lt]=Beta Supply", ["Alpha Tools"]),
    ("name[lt_or_eq]=Beta Supply", ["Alpha Tools", "Beta Supply"]),
    ("status[in]=active,inactive", ["Alpha Tools", "Beta Supply", "Fishy Goods"]),
    ("status[not_in]=active,inactive", ["Fish Market", "Zeta Parts"]),
    ("po-email[blank]=true", ["Beta Supply", "Fish Market", "Zeta Parts"]),
    ("po_email[blank]=false", ["Alpha Tools", "Fishy Goods"]),
    ("status=active&name[contains]=fish", ["Fishy Goods"]),  # conditions are ANDed
]


@pytest.mark.parametrize(("query", "names"), OPERATOR_CASES)
async def test_operators(api: httpx.AsyncClient, suppliers: dict[str, int], query: str, names: list[str]) -> None:
    assert await ids_alike(api, "/suppliers", query.replace(" ", "+")) == [suppliers[n] for n in names]


async def test_association_filters(api: httpx.AsyncClient) -> None:
    net30 = await create(api, "/payment_terms", {"code": "Net 30"})
    net45 = await create(api, "/payment_terms", {"code": "Net 45"})
    a = await supplier(api, "A", **{"payment-term": {"id": net30["id"]}, "primary-contact": {"email": "ap@coupa.com"}})
    b = await supplier(
        api, "B", **{"payment-term": {"id": net45["id"]}, "primary-contact": {"email": "ap@example.com"}}
    )
    assert await ids_alike(api, "/suppliers", "payment-term[code]=Net+30") == [a]
    assert await ids_alike(api, "/suppliers", "payment_term[code]=Net%2045") == [b]
    assert await ids_alike(api, "/suppliers", "primary-contact[email][contains]=coupa.com") == [a]

    types = [
        await create(api, "/account_types", {"name": n, "currency": {"code": "USD"}})
        for n in ("SAP100", "SAP200", "SAP300")
    ]
    accounts = [
        await create(api, "/accounts", {"segment-1": f"S{n}", "account-type": {"id": t["id"]}})
        for n, t in enumerate(types)
    ]
    assert await ids_alike(api, "/accounts", "account-type[name][in]=SAP100,SAP200") == [
        accounts[0]["id"],
        accounts[1]["id"],
    ]

    eur = await invoice(api, "INV-EUR", a, currency={"code": "EUR"})
    await invoice(api, "INV-USD", a)
    assert await ids(api, "/invoices", "currency[code]=EUR") == [eur]


async def test_requested_by_login(api: httpx.AsyncClient) -> None:
    await create(
        api, "/users", {"login": "kyle", "email": "kyle@example.com", "firstname": "Kyle", "lastname": "Eisner"}
    )
    line = {"description": "Bulbs", "unit-price": "3.00", "quantity": "1", "currency": {"code": "USD"}}
    kyles = (await create(api, "/requisitions", {"requested-by": {"login": "kyle"}, "requisition-lines": [line]}))["id"]
    await create(api, "/requisitions", {"requested-by": {"login": "coupasupport"}, "requisition-lines": [line]})
    assert await ids_alike(api, "/requisitions", "requested-by[login]=kyle") == [kyles]


async def test_status_in(api: httpx.AsyncClient) -> None:
    """Page 0014: invoices?status[in]=approved,voided. New invoices are drafts (coupa-api.md s.6);
    the state machine is another issue, so the list operator is checked on the draft status."""
    sup = await supplier(api, "Acme")
    first, second = await invoice(api, "INV-1", sup), await invoice(api, "INV-2", sup)
    assert await ids(api, "/invoices", "status[in]=approved,voided") == []
    assert await ids(api, "/invoices", "status[in]=draft,voided") == [first, second]
    assert await ids(api, "/invoices", "status[not_in]=approved,voided") == [first, second]
    await mark_exported(api, "/invoices", first)
    assert await ids(api, "/invoices", "exported=false&status[in]=draft,approved") == [second]


async def test_booleans(api: httpx.AsyncClient) -> None:
    on = (await create(api, "/departments", {"name": "Sales", "active": True}))["id"]
    off = (await create(api, "/departments", {"name": "Legal", "active": False}))["id"]
    assert await ids(api, "/departments", "active=true") == [on]
    assert await ids(api, "/departments", "active=false") == [off]


# -- dates ------------------------------------------------------------------------------------
def _at(record: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(record["created-at"])


async def test_created_at_ranges(api: httpx.AsyncClient, token: TokenFactory) -> None:
    """Ranges from two conditions; both spellings; offsets written %2B/%3A-escaped or raw."""
    early = await create(api, "/departments", {"name": "Early"})
    await advance(api, 3 * 86400, token)
    late = await create(api, "/departments", {"name": "Late"})
    t_early, t_late = _at(early), _at(late)
    middle = (t_early + timedelta(days=1)).astimezone(UTC)

    def iso(dt: datetime) -> str:
        return quote(dt.isoformat(), safe="")  # "+" must travel as %2B, ":" may be %3A

    assert await ids_alike(api, "/departments", f"created-at[gt]={iso(middle)}") == [late["id"]]
    assert await ids_alike(api, "/departments", f"created_at[lt]={iso(middle)}") == [early["id"]]
    window = f"created_at[gt_or_eq]={iso(t_early)}&created_at[lt]={iso(t_late)}"
    assert await ids_alike(api, "/departments", window) == [early["id"]]
    # Coupa's own integration code sends the local offset unescaped (…T00:00:00-08:00)
    local = t_early.replace(microsecond=0).isoformat()
    assert local[-6] == "-", "the emulator runs in a negative-offset zone (America/Los_Angeles)"
    assert await ids(api, "/departments", f"created-at[gt_or_eq]={local}") == [early["id"], late["id"]]
    assert await ids(api, "/departments", f"created-at[gt]={local}") == [late["id"]]


async def test_bare_date_is_midnight_utc(api: httpx.AsyncClient, token: TokenFactory) -> None:
    """A date without time or zone means midnight UTC of that day (coupa-api.md s.3)."""
    now = datetime.fromisoformat((await api.get("/__emulator__/clock")).json()["now"])
    # reach 03:00 UTC: the same instant is still the previous day in the instance's zone
    target = (now + timedelta(days=1)).replace(hour=3, minute=0, second=0, microsecond=0)
    await advance(api, (target - now).total_seconds(), token)
    rec = await create(api, "/departments", {"name": "Night shift"})
    day = target.date().isoformat()
    assert _at(rec).date() != target.date(), "local date differs from the UTC date"
    assert await ids(api, "/departments", f"created-at[gt]={day}") == [rec["id"]]
    assert await ids(api, "/departments", f"created-at[lt]={day}") == []


async def test_invoice_date_and_updated_at_polls(api: httpx.AsyncClient) -> None:
    sup = await supplier(api, "Acme")
    jan = await invoice(api, "INV-1", sup, **{"invoice-date": "2024-01-05T00:00:00Z"})
    feb = await invoice(api, "INV-2", sup, **{"invoice-date": "2024-02-05T00:00:00Z"})
    assert await ids_alike(api, "/invoices", "invoice-date[gt]=2024-01-15") == [feb]
    assert await ids_alike(api, "/invoices", "invoice_date[lt]=2024-01-15") == [jan]
    # integrations poll on updated-at[gt_or_eq]: a later change makes the record show up again
    await advance(api, 3600)
    r = await api.put(f"/api/invoices/{jan}", json={"supplier-note": "late change"}, headers=JSON)
    assert r.status_code == 200
    since = quote(datetime.fromisoformat(r.json()["updated-at"]).isoformat(), safe="")
    assert await ids_alike(api, "/invoices", f"updated-at[gt_or_eq]={since}") == [jan]
    assert await ids_alike(api, "/invoices", f"updated_at[lt]={since}") == [feb]


# -- id=, empty results ------------------------------------------------------------------------
async def test_id_query_is_an_array_show_is_an_object(api: httpx.AsyncClient) -> None:
    sid = await supplier(api, "Acme")
    await supplier(api, "Other")
    listed = await api.get(f"/api/suppliers?id={sid}", headers=JSON)
    shown = await api.get(f"/api/suppliers/{sid}", headers=JSON)
    assert isinstance(listed.json(), list) and [r["id"] for r in listed.json()] == [sid]
    assert isinstance(shown.json(), dict) and shown.json()["id"] == sid
    root = xml_root((await api.get(f"/api/suppliers?id={sid}", headers=XML)).content)
    assert (root.tag, root.get("type"), [c.tag for c in root]) == ("suppliers", "array", ["supplier"])
    assert xml_root((await api.get(f"/api/suppliers/{sid}", headers=XML)).content).tag == "supplier"


async def test_empty_result_json_is_empty_array(api: httpx.AsyncClient) -> None:
    r = await api.get("/api/accounts?id=999999", headers=JSON)
    assert r.status_code == 200
    assert r.json() == codec_json.loads(raw("0011-04.json")) == []
    past_end = await api.get("/api/currencies?offset=100000", headers=JSON)
    assert (past_end.status_code, past_end.json()) == (200, [])


async def test_empty_result_xml_is_404(api: httpx.AsyncClient) -> None:
    r = await api.get("/api/accounts?id=999999", headers=XML)
    assert r.status_code == 404
    assert codec_xml.loads(r.content) == codec_xml.loads(raw("0011-03.xml")) == ("errors", {"error": NO_RESULTS})
    past_end = await api.get("/api/currencies?offset=100000", headers=XML)
    assert past_end.status_code == 404 and NO_RESULTS in past_end.text


# -- paging and order (currencies: every instance holds more than 150) --------------------------
async def test_paging_defaults_and_cap(api: httpx.AsyncClient) -> None:
    first = await ids(api, "/currencies", "")
    assert first == list(range(1, 51)), "default page: 50 records, id ascending"
    assert await ids(api, "/currencies", "limit=100") == first, "limit is capped at 50"
    assert await ids(api, "/currencies", "limit=10&offset=100") == list(range(101, 111))
    assert await ids(api, "/currencies", "offset=50") == list(range(51, 101))


async def test_order_by_and_dir(api: httpx.AsyncClient) -> None:
    r = await api.get("/api/currencies?order_by=code&dir=desc&limit=20", headers=JSON)
    codes = [c["code"] for c in r.json()]
    assert len(codes) == 20 and codes == sorted(codes, reverse=True)
    r = await api.get("/api/currencies?order_by=code&limit=20", headers=JSON)
    codes = [c["code"] for c in r.json()]
    assert codes == sorted(codes) and codes[0] < "B"
    assert await ids(api, "/currencies", "dir=desc&limit=3") == sorted(
        await ids(api, "/currencies", "dir=desc&limit=3"), reverse=True
    )
    early = (await create(api, "/departments", {"name": "Early"}))["id"]
    await advance(api, 60)
    late = (await create(api, "/departments", {"name": "Late"}))["id"]
    assert await ids(api, "/departments", "order_by=created_at&dir=desc") == [late, early]
    assert await ids(api, "/departments", "order_by=name&dir=asc") == [early, late]


# -- fields= and return_object= ----------------------------------------------------------------
async def _invoice_with_lines(api: httpx.AsyncClient) -> int:
    sup = await supplier(
        api,
        "Acme",
        **{
            "primary-address": {
                "street1": "1 Via Roma",
                "city": "Rome",
                "postal-code": "00100",
                "country": {"code": "IT"},
            }
        },
    )
    lines = [
        {"description": "a", "price": "1.00", "quantity": "1", "line-num": 1},
        {"description": "b", "price": "2.00", "quantity": "1", "line-num": 2},
    ]
    return await invoice(api, "INV-7", sup, **{"invoice-lines": lines, "custom-fields": {"cost-code": "X1"}})


def _fields(spec: list[Any]) -> str:
    return "fields=" + quote(json.dumps(spec), safe="")


async def test_fields_projection(api: httpx.AsyncClient) -> None:
    inv = await _invoice_with_lines(api)
    r = await api.get(
        f"/api/invoices?{_fields(['id', 'invoice_number', {'invoice_lines': ['id', 'line_num']}])}", headers=JSON
    )
    [rec] = r.json()
    assert set(rec) == {"id", "invoice-number", "invoice-lines"}
    assert rec["invoice-number"] == "INV-7"
    assert [set(line) for line in rec["invoice-lines"]] == [{"id", "line-num"}] * 2
    assert [line["line-num"] for line in rec["invoice-lines"]] == [1, 2]

    deep = [{"supplier": ["id", "name", {"primary_address": ["city", {"country": ["code"]}]}]}]
    r = await api.get(f"/api/invoices/{inv}?{_fields(deep)}", headers=JSON)
    assert r.json() == {
        "supplier": {
            "id": r.json()["supplier"]["id"],
            "name": "Acme",
            "primary-address": {"city": "Rome", "country": {"code": "IT"}},
        }
    }

    r = await api.get(f"/api/invoices/{inv}?{_fields(['id', {'custom_fields': {}}])}", headers=JSON)
    assert r.json() == {"id": inv, "custom-fields": {"cost-code": "X1"}}

    # mark exported and answer only what was asked for
    r = await api.put(f"/api/invoices/{inv}?exported=true&{_fields(['id', 'exported'])}", headers=JSON)
    assert (r.status_code, r.json()) == (200, {"id": inv, "exported": True})

    xml = xml_root((await api.get(f"/api/invoices/{inv}?{_fields(['id', 'invoice-number'])}", headers=XML)).content)
    assert [c.tag for c in xml] == ["id", "invoice-number"]


async def test_return_object_limited_and_none(api: httpx.AsyncClient) -> None:
    sup = await supplier(api, "Acme")
    inv = await invoice(api, "INV-1", sup)
    r = await api.get("/api/invoices?return_object=limited", headers=JSON)
    assert r.json() == [{"id": inv}]
    r = await api.get(f"/api/invoices/{inv}?return_object=limited", headers=JSON)
    assert r.json() == {"id": inv}
    r = await api.post("/api/departments?return_object=none", json={"name": "Quiet"}, headers=JSON)
    assert r.status_code in (200, 201) and r.content == b""
    assert await ids(api, "/departments", "name=Quiet") != []
    r = await api.put(f"/api/invoices/{inv}?return_object=none", json={"supplier-note": "n"}, headers=JSON)
    assert (r.status_code, r.content) == (200, b"")


async def test_return_object_shallow(api: httpx.AsyncClient) -> None:
    inv = await _invoice_with_lines(api)
    rec = (await api.get(f"/api/invoices/{inv}?return_object=shallow", headers=JSON)).json()
    assert rec["invoice-number"] == "INV-7" and "invoice-date" in rec  # scalars stay
    assert set(rec["currency"]) == {"id", "code"}
    assert set(rec["created-by"]) == {"id", "login", "email"}
    assert all("description" not in line and "id" in line for line in rec["invoice-lines"])
