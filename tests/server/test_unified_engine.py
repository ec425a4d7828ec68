"""Unified lists and gets end to end through the server app: envelope, cursors, concurrency,
filters, remote_query, remote_data and the fields projection."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import httpx
import pytest
from tests.server.conftest import Server


class Recording(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    def api_calls(self, path: str) -> list[dict[str, str]]:
        return [dict(parse_qsl(r.url.query.decode())) for r in self.requests if r.url.path == path]


async def _recorded(s: Server) -> tuple[str, Recording]:
    recording = Recording(httpx.ASGITransport(app=s.coupa.app))
    s.platform.pool._transport_factory = lambda _url: recording
    account = await s.connect()
    return account, recording


def _invoice_ids(s: Server) -> list[int]:
    return [int(r[0]) for r in s.coupa.store.execute("SELECT id FROM r_InvoiceHeader ORDER BY id")]


async def test_cursor_walks_every_invoice_once_in_order(server: Server) -> None:
    account = await server.connect()
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params = {"integrated_account_id": account, "limit": "45"}
        if cursor:
            params["next_cursor"] = cursor
        r = await server.http.get("/unified/accounting/invoices", params=params, headers=server.auth())
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"result", "next_cursor", "result_count"}
        assert body["result_count"] == len(body["result"])
        seen.extend(int(x["id"]) for x in body["result"])
        cursor = body["next_cursor"]
        pages += 1
        if cursor is None:
            break
        assert pages < 20
    assert seen == _invoice_ids(server)


async def test_a_large_limit_is_filled_from_concurrent_coupa_pages(server: Server) -> None:
    s = server
    account, rec = await _recorded(s)
    r = await s.http.get(
        "/unified/accounting/invoices", params={"integrated_account_id": account, "limit": "110"}, headers=s.auth()
    )
    assert r.status_code == 200
    assert r.json()["result_count"] == 110
    calls = rec.api_calls("/api/invoices")
    # Each later page overlaps the one before by a record (positions 0-49, 49-98, 98-109).
    assert sorted((int(c.get("offset", "0")), int(c["limit"])) for c in calls) == [(0, 50), (49, 50), (98, 12)]
    assert all(c["order_by"] == "id" and c["dir"] == "asc" for c in calls)
    # The projection: only what the mapping needs crosses the wire.
    assert all("fields" in c for c in calls)
    # The next call resumes with a keyset anchor, not an offset from the start.
    nxt = await s.http.get(
        "/unified/accounting/invoices",
        params={"integrated_account_id": account, "limit": "5", "next_cursor": r.json()["next_cursor"]},
        headers=s.auth(),
    )
    last = rec.api_calls("/api/invoices")[-1]
    assert last["id[gt]"] == r.json()["result"][-1]["id"] and "offset" not in last
    assert [x["id"] for x in nxt.json()["result"]] == [str(i) for i in _invoice_ids(s)[110:115]]


async def test_remote_data_only_when_asked_and_then_unprojected(server: Server) -> None:
    s = server
    account, rec = await _recorded(s)
    plain = await s.http.get(
        "/unified/accounting/invoices", params={"integrated_account_id": account, "limit": "2"}, headers=s.auth()
    )
    assert all("remote_data" not in x for x in plain.json()["result"])
    full = await s.http.get(
        "/unified/accounting/invoices",
        params={"integrated_account_id": account, "limit": "2", "include_remote_data": "true"},
        headers=s.auth(),
    )
    records = full.json()["result"]
    assert all(x["remote_data"]["id"] == int(x["id"]) for x in records)
    assert "invoice-lines" in records[0]["remote_data"]
    assert "fields" not in rec.api_calls("/api/invoices")[-1]


async def test_forged_and_foreign_cursors_are_refused(server: Server) -> None:
    s = server
    account = await s.connect()
    r = await s.http.get(
        "/unified/accounting/invoices", params={"integrated_account_id": account, "limit": "3"}, headers=s.auth()
    )
    cursor = r.json()["next_cursor"]
    body, sig = cursor.split(".")
    import base64

    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["a"] = 1
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode() + "." + sig
    for bad in (forged, "garbage", cursor + "x"):
        r = await s.http.get(
            "/unified/accounting/invoices",
            params={"integrated_account_id": account, "next_cursor": bad},
            headers=s.auth(),
        )
        assert r.status_code == 400 and r.json()["error"] == "invalid_cursor", bad
    other = await s.http.get(
        "/unified/accounting/contacts", params={"integrated_account_id": account, "next_cursor": cursor},
        headers=s.auth(),
    )  # fmt: skip
    assert other.status_code == 400 and "another request" in other.json()["message"]


async def test_unsupported_filter_lists_the_supported_ones(server: Server) -> None:
    s = server
    account = await s.connect()
    r = await s.http.get(
        "/unified/accounting/invoices", params={"integrated_account_id": account, "colour": "red"}, headers=s.auth()
    )
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "unsupported_filter"
    assert "updated_at" in body["details"]["supported_filters"] and "updated_at" in body["message"]
    r = await s.http.get(
        "/unified/accounting/invoices",
        params={"integrated_account_id": account, "updated_at[gt]": "yesterday"},
        headers=s.auth(),
    )
    assert r.status_code == 400 and "ISO 8601" in r.json()["message"]
    r = await s.http.get(
        "/unified/accounting/invoices", params={"integrated_account_id": account, "limit": "501"}, headers=s.auth()
    )
    assert r.status_code == 400
    r = await s.http.get(
        "/unified/accounting/invoices", params={"integrated_account_id": account, "status": "lost"}, headers=s.auth()
    )
    assert r.status_code == 400 and r.json()["message"].startswith("status: 'lost' is not one of authorised")


async def test_updated_at_filter_is_translated(server: Server) -> None:
    s = server
    account, rec = await _recorded(s)
    stamps = sorted(
        r[0] for r in s.coupa.store.execute("SELECT json_extract(doc, '$.\"updated-at\"') FROM r_InvoiceHeader")
    )
    middle = stamps[len(stamps) // 2]
    r = await s.http.get(
        "/unified/accounting/invoices",
        params={"integrated_account_id": account, "updated_at[gt]": middle, "limit": "500"},
        headers=s.auth(),
    )
    assert r.status_code == 200, r.text
    assert rec.api_calls("/api/invoices")[-1]["updated-at[gt]"] == middle
    expected = sum(1 for x in stamps if x > middle)
    assert r.json()["result_count"] == expected and r.json()["next_cursor"] is None
    assert all(x["updated_at"] > middle for x in r.json()["result"]) or expected == 0


async def test_remote_query_passes_raw_coupa_filters(server: Server) -> None:
    s = server
    account, rec = await _recorded(s)
    first = await s.http.get(
        "/unified/accounting/invoices",
        params={"integrated_account_id": account, "limit": "1", "include_remote_data": "true"},
        headers=s.auth(),
    )
    supplier_id = first.json()["result"][0]["remote_data"]["supplier"]["id"]
    r = await s.http.get(
        "/unified/accounting/invoices",
        params={"integrated_account_id": account, "remote_query[supplier][id]": str(supplier_id), "limit": "500",
                "include_remote_data": "true"},
        headers=s.auth(),
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert rec.api_calls("/api/invoices")[-1]["supplier[id]"] == str(supplier_id)
    result = r.json()["result"]
    assert result and all(x["remote_data"]["supplier"]["id"] == supplier_id for x in result)
    bad = await s.http.get(
        "/unified/accounting/invoices",
        params={"integrated_account_id": account, "remote_query[no_such_field]": "1"},
        headers=s.auth(),
    )
    assert bad.status_code == 400 and bad.json()["remote_error"]["status_code"] == 400


@pytest.mark.parametrize(
    "option", ["offset", "limit", "dir", "order_by", "order-by", "fields", "return_object", "Offset"]
)
async def test_remote_query_cannot_take_over_paging_or_projection(sqlite_server: Server, option: str) -> None:
    """Passed through, ``offset`` would silently skip records and ``dir``/``order_by`` would break the keyset."""
    s = sqlite_server
    account, rec = await _recorded(s)
    before = len(rec.requests)
    r = await s.http.get(
        "/unified/accounting/invoices",
        params={"integrated_account_id": account, f"remote_query[{option}]": "10"},
        headers=s.auth(),
    )
    assert r.status_code == 400 and r.json()["details"] == {"parameter": f"remote_query[{option}]"}
    assert "limit, next_cursor" in r.json()["message"]
    assert len(rec.requests) == before  # refused before anything reached Coupa


async def test_a_get_refuses_unknown_parameters_and_loose_booleans(sqlite_server: Server) -> None:
    s = sqlite_server
    account = await s.connect()
    first = _invoice_ids(s)[0]
    path = f"/unified/accounting/invoices/{first}"
    typo = await s.http.get(path, params={"integrated_account_id": account, "include_remote_dta": "true"},
                            headers=s.auth())  # fmt: skip
    assert typo.status_code == 400 and typo.json()["details"] == {"parameters": ["include_remote_dta"]}
    loose = await s.http.get(path, params={"integrated_account_id": account, "include_remote_data": "yes"},
                             headers=s.auth())  # fmt: skip
    assert loose.status_code == 400 and loose.json()["details"] == {"parameter": "include_remote_data"}
    listed = await s.http.get("/unified/accounting/invoices", params={"integrated_account_id": account,
                              "include_remote_data": "yes"}, headers=s.auth())  # fmt: skip
    assert listed.status_code == 400  # the list spells booleans the same way
    strict = await s.http.get(path, params={"integrated_account_id": account, "include_remote_data": "1"},
                              headers=s.auth())  # fmt: skip
    assert strict.status_code == 200 and "remote_data" in strict.json()


async def test_get_one_record(server: Server) -> None:
    s = server
    account = await s.connect()
    first = _invoice_ids(s)[0]
    r = await s.http.get(f"/unified/accounting/invoices/{first}", params={"integrated_account_id": account},
                         headers=s.auth())  # fmt: skip
    assert r.status_code == 200 and r.json()["id"] == str(first)
    listed = await s.http.get(
        "/unified/accounting/invoices", params={"integrated_account_id": account, "limit": "1"}, headers=s.auth()
    )
    assert listed.json()["result"][0] == r.json()
    missing = await s.http.get("/unified/accounting/invoices/999999", params={"integrated_account_id": account},
                               headers=s.auth())  # fmt: skip
    assert missing.status_code == 404 and missing.json()["remote_error"]["status_code"] == 404
    bad = await s.http.get("/unified/accounting/invoices/abc", params={"integrated_account_id": account},
                           headers=s.auth())  # fmt: skip
    assert bad.status_code == 400


async def test_tracking_categories_page_across_sources(server: Server) -> None:
    s = server
    account = await s.connect()
    ids: list[str] = []
    cursor = None
    while True:
        params = {"integrated_account_id": account, "limit": "7"}
        if cursor:
            params["next_cursor"] = cursor
        r = await s.http.get("/unified/accounting/tracking_categories", params=params, headers=s.auth())
        assert r.status_code == 200, r.text
        ids.extend(x["id"] for x in r.json()["result"])
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert len(ids) == len(set(ids))
    count = s.coupa.store.count
    assert sum(1 for i in ids if i.startswith("department")) == count("Department")
    assert sum(1 for i in ids if i.startswith("lookup_value")) == count("LookupValue")
    for x in ids[:3]:
        one = await s.http.get(
            f"/unified/accounting/tracking_categories/{x}", params={"integrated_account_id": account}, headers=s.auth()
        )
        assert one.status_code == 200 and one.json()["id"] == x


@pytest.mark.parametrize(("model", "name"), [("user-directory", "users"), ("user-directory", "groups"),
                                             ("accounting", "contacts"), ("accounting", "employees")])  # fmt: skip
async def test_every_listed_record_can_be_fetched_alone(server: Server, model: str, name: str) -> None:
    s = server
    account = await s.connect()
    r = await s.http.get(f"/unified/{model}/{name}", params={"integrated_account_id": account, "limit": "3"},
                         headers=s.auth())  # fmt: skip
    assert r.status_code == 200, r.text
    for record in r.json()["result"]:
        one = await s.http.get(f"/unified/{model}/{name}/{record['id']}", params={"integrated_account_id": account},
                               headers=s.auth())  # fmt: skip
        assert one.json() == record


async def test_unknown_resource_and_missing_account(server: Server) -> None:
    s = server
    r = await s.http.get("/unified/accounting/widgets?integrated_account_id=x", headers=s.auth())
    assert r.status_code == 404 and "accounting/invoices" in r.json()["message"]
    r = await s.http.get("/unified/accounting/invoices", headers=s.auth())
    assert r.status_code == 400 and "integrated_account_id" in r.json()["message"]


async def test_tracking_categories_by_parent_and_by_id(sqlite_server: Server) -> None:
    s = sqlite_server
    account = await s.connect()

    async def listed(**params: str) -> httpx.Response:
        return await s.http.get("/unified/accounting/tracking_categories",
                                params={"integrated_account_id": account, "limit": "500", **params},
                                headers=s.auth())  # fmt: skip

    everything = (await listed()).json()["result"]
    for parent in {c["parent_category"]["id"] for c in everything if c["parent_category"]}:
        r = await listed(parent_category_id=parent)
        assert r.status_code == 200, r.text
        want = sorted(c["id"] for c in everything if (c["parent_category"] or {}).get("id") == parent)
        assert sorted(c["id"] for c in r.json()["result"]) == want and want, parent
    some = [everything[0]["id"], everything[-1]["id"]]
    r = await listed(**{"id[in]": ",".join(some)})
    assert sorted(c["id"] for c in r.json()["result"]) == sorted(some)
    mixed = await listed(**{"parent_category_id[in]": "lookup:1,lookup_value:5"})
    assert mixed.status_code == 400 and "cannot be matched in one Coupa query" in mixed.json()["message"]
    malformed = await listed(parent_category_id="5")
    assert malformed.status_code == 400 and "such as lookup:3" in malformed.json()["message"]


async def test_trutos_truto_ignore_remote_data_is_understood_on_lists_and_gets(sqlite_server: Server) -> None:
    s = sqlite_server
    account = await s.connect()
    first = _invoice_ids(s)[0]
    base = {"integrated_account_id": account}
    for path, pick in ((f"/unified/accounting/invoices/{first}", lambda b: b),
                       ("/unified/accounting/invoices", lambda b: b["result"][0])):  # fmt: skip
        kept = await s.http.get(path, params={**base, "truto_ignore_remote_data": "false"}, headers=s.auth())
        assert kept.status_code == 200 and "remote_data" in pick(kept.json())  # Truto's default: included
        ignored = await s.http.get(path, params={**base, "truto_ignore_remote_data": "true"}, headers=s.auth())
        assert ignored.status_code == 200 and "remote_data" not in pick(ignored.json())
        twice = {**base, "truto_ignore_remote_data": "true", "include_remote_data": "true"}
        both = await s.http.get(path, params=twice, headers=s.auth())
        assert both.status_code == 400 and "not both" in both.json()["message"]
        loose = await s.http.get(path, params={**base, "truto_ignore_remote_data": "yes"}, headers=s.auth())
        assert loose.status_code == 400 and "truto_ignore_remote_data must be true or false" in loose.json()["message"]
