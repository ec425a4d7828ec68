"""Fully expanded JSON: the fast path (``Renderer.full_json``) and its caches across requests.

Two promises: the fast path answers exactly what the tree renderer answers, and no write of any
kind (through the API, straight to the store, raw SQL, a rollback, a reset, another thread) ever
leaves a stale record or view behind. "Expected" is always the tree renderer on the documents as
stored now, which keeps no cache across requests.
"""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest

from pycoupa.emulator import render
from pycoupa.emulator.app import Emulator
from pycoupa.emulator.seed import SeedCounts, seed
from pycoupa.emulator.store import Store
from pycoupa.wire import codec_json
from pycoupa.wire.values import format_datetime

PAGE = {"status": "approved", "updated-at[gt]": "2020-01-01T00:00:00Z", "limit": "50"}


@pytest.fixture
def emu() -> Emulator:
    instance = Emulator()
    seed(instance, SeedCounts(invoices=40), random_seed=3)
    # Every record rendered is kept at once, so that each test below reads through the cache
    # (by default a record is kept only when rendered a second time; see the test at the end).
    instance.renderer.keep_at_first_render = True
    return instance


@pytest.fixture(params=["preloaded", "one by one"])
def views(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Views of small kinds are made all at once; make them one by one too."""
    if request.param == "one by one":
        monkeypatch.setattr(render, "VIEW_PRELOAD_LIMIT", 0)
    return str(request.param)


def expected(emu: Emulator, definition: str, ids: list[int]) -> bytes:
    docs = [emu.store.get(definition, i) for i in ids]
    return codec_json.dumps(emu.renderer.render_many(definition, [d for d in docs if d], json_mode=True))


async def page(api: httpx.AsyncClient, path: str = "/api/invoices", **params: str) -> tuple[bytes, list[int]]:
    r = await api.get(path, params={**PAGE, **params} if path == "/api/invoices" else params)
    assert r.status_code == 200, r.text
    return r.content, [record["id"] for record in orjson.loads(r.content)]


async def assert_fresh(api: httpx.AsyncClient, emu: Emulator, path: str = "/api/invoices") -> list[dict[str, Any]]:
    """The page as served equals the page rendered afresh from the store; returns it parsed."""
    body, ids = await page(api, path)
    definition = "InvoiceHeader" if path == "/api/invoices" else "Supplier"
    assert body == expected(emu, definition, ids)
    return list(orjson.loads(body))


def first_invoice_with(emu: Emulator, field: str) -> dict[str, Any]:
    for doc in emu.store.select("InvoiceHeader", "json_extract(t.doc, '$.status') = 'approved'"):
        if doc.get(field):
            return doc
    raise AssertionError(f"no approved invoice with {field}")


# -- same answer as the tree renderer ------------------------------------------------------------------
def test_fast_path_matches_the_tree_renderer_for_every_stored_kind(emu: Emulator) -> None:
    kinds = [k for k in emu.schema.definitions_with_tables if emu.store.count(k)]
    assert len(kinds) > 20
    for kind in kinds:
        docs = emu.store.select(kind, limit=60)
        want = codec_json.dumps(emu.renderer.render_many(kind, docs, json_mode=True))
        assert emu.renderer.full_json(kind, docs) == want, kind
        assert emu.renderer.full_json(kind, docs) == want, kind  # from the caches this time
        one = codec_json.dumps(emu.renderer.render_one(kind, docs[0], json_mode=True))
        assert emu.renderer.full_json(kind, docs[:1])[1:-1] == one, kind
    assert emu.renderer.full_json("InvoiceHeader", []) == b"[]"


def test_odd_stored_values_render_as_the_tree_renderer_renders_them(emu: Emulator) -> None:
    """Values no writer stores, but a document might hold: each path must agree on them."""
    doc = dict(emu.store.select("InvoiceHeader", limit=1)[0])
    doc.update(
        {
            "supplier": 999_999,  # a dangling reference: null, in JSON as in XML
            "currency": "7",  # not an id
            "approvals": [999_998, "x", None],
            "invoice-lines": [*doc.get("invoice-lines", []), 999_997, [1]],
            "created-at": "not a time",
            "updated-at": 20240101,
            "custom-field-1": "kept",
            "custom-fields": {"a": 1},
            "not-an-attribute": "dropped",
            "tags": "not a list",
        }
    )
    want = codec_json.dumps(emu.renderer.render_many("InvoiceHeader", [doc], json_mode=True))
    assert emu.renderer.full_json("InvoiceHeader", [doc]) == want
    rendered = orjson.loads(want)[0]
    assert rendered["supplier"] is None and rendered["currency"] is None
    assert rendered["custom-field-1"] == "kept" and "not-an-attribute" not in rendered


def test_a_record_changed_but_not_stored_is_rendered_from_what_was_given(emu: Emulator) -> None:
    doc = emu.store.select("InvoiceHeader", limit=1)[0]
    stored = emu.renderer.full_json("InvoiceHeader", [doc])
    changed = {**doc, "internal-note": "only in this answer"}
    assert b"only in this answer" in emu.renderer.full_json("InvoiceHeader", [changed])
    assert emu.renderer.full_json("InvoiceHeader", [doc]) == stored


# -- no stale page after a write -----------------------------------------------------------------------
async def test_writes_through_the_api_show_at_once(api: httpx.AsyncClient, emu: Emulator, views: str) -> None:
    invoices = await assert_fresh(api, emu)
    supplier = invoices[0]["supplier"]["id"]
    r = await api.put(f"/api/suppliers/{supplier}", json={"name": "Renamed Supplier Ltd"})
    assert r.status_code == 200, r.text
    invoices = await assert_fresh(api, emu)
    assert any(i["supplier"] and i["supplier"]["name"] == "Renamed Supplier Ltd" for i in invoices)

    user = invoices[0]["created-by"]["id"]  # shown on invoices and on their lines
    assert (await api.put(f"/api/users/{user}", json={"firstname": "Zed"})).status_code == 200
    invoices = await assert_fresh(api, emu)
    assert invoices[0]["created-by"]["firstname"] == "Zed"

    account = next(line["account"]["id"] for i in invoices for line in i["invoice-lines"] if line["account"])
    r = await api.put(f"/api/accounts/{account}", json={"name": "Renamed account"})
    assert r.status_code == 200, r.text
    invoices = await assert_fresh(api, emu)
    names = {line["account"]["name"] for i in invoices for line in i["invoice-lines"] if line["account"]}
    assert "Renamed account" in names


async def test_editing_an_invoice_and_its_lines_through_the_api(api: httpx.AsyncClient, emu: Emulator) -> None:
    supplier = (await api.post("/api/suppliers", json={"name": "Cache Co", "status": "active"})).json()
    body = {
        "invoice-number": "CACHE-1",
        "invoice-date": "2026-01-15",
        "supplier": {"id": supplier["id"]},
        "currency": {"code": "USD"},
        "invoice-lines": [{"line-num": 1, "type": "InvoiceAmountLine", "description": "Before", "price": "10.00"}],
    }
    invoice = (await api.post("/api/invoices", json=body)).json()
    params = {"invoice-number": "CACHE-1"}
    for _ in range(2):  # the second time from the cache
        r = await api.get("/api/invoices", params=params)
        assert r.content == expected(emu, "InvoiceHeader", [invoice["id"]])
    line = invoice["invoice-lines"][0]["id"]
    r = await api.put(
        f"/api/invoices/{invoice['id']}", json={"invoice-lines": [{"id": line, "description": "After", "price": "12"}]}
    )
    assert r.status_code == 200, r.text
    r = await api.get("/api/invoices", params=params)
    assert r.content == expected(emu, "InvoiceHeader", [invoice["id"]])
    assert orjson.loads(r.content)[0]["invoice-lines"][0]["description"] == "After"
    r = await api.get(f"/api/invoices/{invoice['id']}")
    assert r.content == expected(emu, "InvoiceHeader", [invoice["id"]])[1:-1]


async def test_writes_straight_to_the_store_show_at_once(api: httpx.AsyncClient, emu: Emulator, views: str) -> None:
    await assert_fresh(api, emu)
    store = emu.store
    invoice = first_invoice_with(emu, "approvals")
    store.update("InvoiceHeader", invoice["id"], {**invoice, "internal-note": "noted"})
    assert await assert_fresh(api, emu)  # the invoice itself

    line_id = invoice["invoice-lines"][0]
    line = store.get("InvoiceLine", line_id)
    assert line is not None
    store.update("InvoiceLine", line_id, {**line, "description": "Changed line"})
    await assert_fresh(api, emu)

    store.delete("InvoiceLine", line_id)  # an owned record gone: dropped from the list
    await assert_fresh(api, emu)
    store.insert("InvoiceLine", line, record_id=line_id)  # and back
    await assert_fresh(api, emu)

    approval_id = invoice["approvals"][0]  # shown by id alone: it must still exist
    approval = store.get("Approval", approval_id)
    assert approval is not None
    store.delete("Approval", approval_id)
    invoices = await assert_fresh(api, emu)
    shown = next(i for i in invoices if i["id"] == invoice["id"])
    assert {"id": approval_id} not in shown["approvals"]
    store.insert("Approval", approval, record_id=approval_id)
    invoices = await assert_fresh(api, emu)
    assert {"id": approval_id} in next(i for i in invoices if i["id"] == invoice["id"])["approvals"]

    currency = store.get("Currency", invoice["currency"])  # a referenced record gone: null, then back
    assert currency is not None
    store.delete("Currency", invoice["currency"])
    await assert_fresh(api, emu)
    store.insert("Currency", currency, record_id=invoice["currency"])
    await assert_fresh(api, emu)

    new_supplier = store.insert("Supplier", {"name": "Made after the views", "number": "S-NEW"})
    current = store.get("InvoiceHeader", invoice["id"])
    assert current is not None
    store.update("InvoiceHeader", invoice["id"], {**current, "supplier": new_supplier})
    invoices = await assert_fresh(api, emu)
    shown = next(i for i in invoices if i["id"] == invoice["id"])
    assert shown["supplier"]["name"] == "Made after the views"


async def test_raw_sql_rollback_and_reset_empty_the_caches(api: httpx.AsyncClient, emu: Emulator) -> None:
    invoices = await assert_fresh(api, emu)
    supplier = invoices[0]["supplier"]["id"]
    emu.store.execute("UPDATE r_Supplier SET doc = json_set(doc, '$.name', 'Raw SQL name') WHERE id = ?", (supplier,))
    invoices = await assert_fresh(api, emu)
    assert invoices[0]["supplier"]["name"] == "Raw SQL name"

    doc = emu.store.get("Supplier", supplier)
    assert doc is not None
    with pytest.raises(RuntimeError), emu.store.transaction():
        emu.store.update("Supplier", supplier, {**doc, "name": "Rolled back"})
        # rendered (and cached) inside the transaction, which then fails
        docs = emu.store.select("InvoiceHeader", "t.id = ?", (invoices[0]["id"],))
        assert b"Rolled back" in emu.renderer.full_json("InvoiceHeader", docs)
        raise RuntimeError("rollback")
    invoices = await assert_fresh(api, emu)
    assert invoices[0]["supplier"]["name"] == "Raw SQL name"

    emu.reset()  # same ids, other contents
    seed(emu, SeedCounts(invoices=40), random_seed=4)
    api.headers["Authorization"] = "Bearer " + await _token(api, emu)
    await assert_fresh(api, emu)


async def _token(api: httpx.AsyncClient, emu: Emulator) -> str:
    client_id, secret = emu.create_oauth_client(sorted(emu.known_scopes))
    r = await api.post(
        "/oauth2/token", data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    )
    return str(r.json()["access_token"])


async def test_small_caches_evict_and_stay_correct(
    api: httpx.AsyncClient, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render, "RECORD_CACHE_BYTES", 40_000)
    monkeypatch.setattr(render, "VIEW_CACHE_LIMIT", 3)
    for _ in range(3):
        invoices = await assert_fresh(api, emu)
        kept = emu.renderer._records
        assert emu.renderer._record_bytes == sum(len(entry[1]) for entry in kept.values())
        assert emu.renderer._record_bytes <= 40_000 or len(kept) == 1
    supplier = invoices[-1]["supplier"]["id"]
    assert (await api.put(f"/api/suppliers/{supplier}", json={"name": "Evicted Ltd"})).status_code == 200
    await assert_fresh(api, emu)


def test_concurrent_writes_leave_nothing_stale(emu: Emulator) -> None:
    """A thread renders pages while another renames suppliers and edits lines: once both stop,
    what is served is what is stored."""
    docs = emu.store.select("InvoiceHeader", limit=40)
    ids = [d["id"] for d in docs]
    suppliers = sorted({d["supplier"] for d in docs if d.get("supplier")})
    lines = [d["invoice-lines"][0] for d in docs if d.get("invoice-lines")]
    stop = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for n in range(150):
                with emu.store.transaction():
                    sid = suppliers[n % len(suppliers)]
                    doc = emu.store.get("Supplier", sid)
                    assert doc is not None
                    emu.store.update("Supplier", sid, {**doc, "name": f"Supplier v{n}"})
                    lid = lines[n % len(lines)]
                    line = emu.store.get("InvoiceLine", lid)
                    assert line is not None
                    emu.store.update("InvoiceLine", lid, {**line, "description": f"line v{n}"})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            stop.set()

    def read() -> None:
        try:
            while not stop.is_set():
                fresh = emu.store.select("InvoiceHeader", f"t.id IN ({','.join('?' * len(ids))})", ids)
                emu.renderer.full_json("InvoiceHeader", fresh)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write), threading.Thread(target=read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    fresh = emu.store.select("InvoiceHeader", f"t.id IN ({','.join('?' * len(ids))})", ids)
    assert emu.renderer.full_json("InvoiceHeader", fresh) == expected(emu, "InvoiceHeader", ids)


# -- datetimes -----------------------------------------------------------------------------------------
def _slow(raw: Any, tz: tzinfo) -> Any:
    try:
        return format_datetime(datetime.fromisoformat(raw).replace(tzinfo=UTC), tz)
    except (TypeError, ValueError, ArithmeticError):
        return raw


@pytest.mark.parametrize(
    "zone",
    [
        "America/Los_Angeles",
        "UTC",
        "Europe/London",
        "Asia/Kolkata",  # +05:30
        "Asia/Kathmandu",  # +05:45
        "America/St_Johns",  # -03:30 / -02:30
        "Australia/Lord_Howe",  # a 30-minute daylight saving shift
        "Pacific/Apia",  # skipped a whole day in 2011
        "Europe/Dublin",  # negative daylight saving in the tz database
    ],
)
def test_local_datetime_text_matches_the_plain_conversion(zone: str) -> None:
    tz = ZoneInfo(zone)
    renderer = render.Renderer(Emulator().schema, Store(), tz)
    rng = random.Random(zone)
    start = datetime(1890, 1, 1, tzinfo=UTC)
    samples: list[Any] = []
    for _ in range(3000):
        moment = start + timedelta(seconds=rng.randrange(0, 230 * 365 * 86400))
        samples.append(moment.strftime("%Y-%m-%dT%H:%M:%S"))
    for year in (1970, 2011, 2024, 2025, 2037):  # every hour around the year's offset changes
        t = datetime(year, 1, 1, tzinfo=UTC)
        while t.year == year:
            if (t + timedelta(hours=1)).astimezone(tz).utcoffset() != t.astimezone(tz).utcoffset():
                for minutes in range(-90, 91, 7):
                    samples.append((t + timedelta(minutes=minutes, seconds=13)).strftime("%Y-%m-%dT%H:%M:%S"))
            t += timedelta(hours=1)
    samples += [
        "0001-01-01T00:00:00",
        "9999-12-31T23:59:59",
        "2024-02-29T12:00:00",
        "2023-02-29T12:00:00",
        "2024-13-01T00:00:00",
        "2024-01-01T24:00:00",
        "2024-01-01T10:60:00",
        "2024-01-01T10:00:60",
        "2024-01-01 10:00:00",
        "2024-W01-1T10:00:00",
        "2024-01-01T10:00:00.250",
        "2024-01-01T10:00:00+02:00",
        "2024-01-01",
        "garbage",
        "",
        20240101,
        None,
        ["2024-01-01T00:00:00"],
    ]
    for raw in samples:
        want = None if raw is None else _slow(raw, tz)
        assert renderer._datetime_text(raw) == want, (zone, raw)
        assert renderer._datetime_text(raw) == want, (zone, raw)  # remembered


# -- the store's part --------------------------------------------------------------------------------------
def test_the_store_reports_every_write() -> None:
    store = Store()
    seen: list[tuple[str, list[int]]] = []
    store.watch(lambda kind, ids: seen.append((kind, list(ids))))
    first = store.insert("Supplier", {"name": "a"})
    store.insert_many("Supplier", [{"id": 10, "name": "b"}, {"id": 11, "name": "c"}])
    store.update("Supplier", first, {"id": first, "name": "a2"})
    store.delete("Supplier", 10)
    assert seen == [("Supplier", [first]), ("Supplier", [10, 11]), ("Supplier", [first]), ("Supplier", [10])]
    assert store.existing("Supplier", [first, 10, 11, 12, "x"]) == {first, 11}  # type: ignore[list-item]

    generation = store.generation
    store.execute("SELECT count(*) FROM r_Supplier")
    store.execute("  pragma page_count")
    assert store.generation == generation  # reads change nothing
    store.execute("UPDATE r_Supplier SET doc = doc")
    assert store.generation == generation + 1
    with pytest.raises(ValueError), store.transaction():
        raise ValueError
    assert store.generation == generation + 2
    store.wipe()
    assert store.generation == generation + 3


def test_flags_polled_with_updated_at_have_a_covering_index(emu: Emulator) -> None:
    sql = emu.store.execute("SELECT sql FROM sqlite_master WHERE name = 'r_InvoiceHeader_status'")[0][0]
    assert sql.index("status") < sql.index(", id,") < sql.index("updated-at")
    plan = emu.store.execute(
        "EXPLAIN QUERY PLAN SELECT t.doc FROM r_InvoiceHeader t WHERE json_extract(t.doc, '$.\"status\"') = ?"
        " AND json_extract(t.doc, '$.\"updated-at\"') > ? AND t.id > ? ORDER BY t.id LIMIT 50",
        ("approved", "2025-01-01T00:00:00", 0),
    )
    assert "r_InvoiceHeader_status" in plan[0][-1]


def test_views_overflowing_mid_page_leave_nothing_stale(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """A view cache that overflows while a page renders starts over; records of that page which
    showed a view from before must not outlive a later write to the record shown."""
    monkeypatch.setattr(render, "VIEW_CACHE_LIMIT", 1)
    by_supplier: dict[int, list[dict[str, Any]]] = {}
    for doc in emu.store.select("InvoiceHeader"):
        by_supplier.setdefault(doc["supplier"], []).append(doc)
    (s, s_docs), (_, t_docs) = [(k, v) for k, v in by_supplier.items() if len(v) >= 2][:2]
    emu.renderer.full_json("InvoiceHeader", s_docs[:1])  # S's view kept
    emu.renderer.full_json("InvoiceHeader", [s_docs[1], t_docs[0]])  # S shown from the cache, then T overflows it
    supplier = emu.store.get("Supplier", s)
    assert supplier is not None
    emu.store.update("Supplier", s, {**supplier, "name": "After the overflow"})
    fresh = emu.store.get("InvoiceHeader", s_docs[1]["id"])
    assert fresh is not None
    assert emu.renderer.full_json("InvoiceHeader", [fresh]) == expected(emu, "InvoiceHeader", [s_docs[1]["id"]])


def test_a_record_rendered_under_another_definition_follows_writes(emu: Emulator) -> None:
    """``UserSimple`` is stored as ``User``: a write to the user reaches its cached rendering."""
    user = emu.store.select("User", limit=1)[0]
    before = emu.renderer.full_json("UserSimple", [user])
    emu.store.update("User", user["id"], {**user, "firstname": "Renamed"})
    fresh = emu.store.get("User", user["id"])
    assert fresh is not None
    after = emu.renderer.full_json("UserSimple", [fresh])
    assert after != before
    assert after == codec_json.dumps(emu.renderer.render_many("UserSimple", [fresh], json_mode=True))
    # the same document given again (it equals the stored one): the cached rendering must be the new one
    assert emu.renderer.full_json("UserSimple", [user | {"firstname": "Renamed"}]) == after


async def test_a_record_is_kept_the_second_time_it_is_rendered(api: httpx.AsyncClient, emu: Emulator) -> None:
    emu.renderer.keep_at_first_render = False  # the default
    first, ids = await page(api, **PAGE)
    kept = {key for key in emu.renderer._records if key[0] == "InvoiceHeader"}
    assert ids and not kept  # read once (a client paging through): nothing kept
    second, _ = await page(api, **PAGE)
    assert second == first
    kept = {key[1] for key in emu.renderer._records if key[0] == "InvoiceHeader"}
    assert kept == set(ids)  # asked for again: now kept
    third, _ = await page(api, **PAGE)
    assert third == first == expected(emu, "InvoiceHeader", ids)
    emu.store.execute("UPDATE r_InvoiceHeader SET doc = json_set(doc, '$.\"invoice-number\"', 'X-1') WHERE id = ?",
                      (ids[0],))  # fmt: skip
    fourth, _ = await page(api, **PAGE)
    assert b'"invoice-number":"X-1"' in fourth and fourth == expected(emu, "InvoiceHeader", ids)
