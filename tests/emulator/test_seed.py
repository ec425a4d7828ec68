"""Bulk seeding (``pycoupa.emulator.seed``): request parsing, exact counts, determinism, referential
integrity, totals the real derivers agree with, and seeded data that the API answers about."""

from __future__ import annotations

import copy
import gc
import re
from collections import Counter
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest

from pycoupa.emulator.app import Emulator
from pycoupa.emulator.demo import load_demo_data
from pycoupa.emulator.reference_data import SUPPORT_USER_ID
from pycoupa.emulator.seed import MAX_COUNT, SeedCounts, parse_seed_request, seed
from pycoupa.emulator.store import table_name
from pycoupa.emulator.writes import Writer

STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
INVOICE_TOTALS = (
    "gross-total",
    "total-with-taxes",
    "amount-due",
    "amount-due-less-discount",
    "gross-total-less-discount",
    "net-total-less-discount",
    "total-taxes-less-discount",
    "tax-due-to-supplier",
    "line-count",
    "document-type",
)


def _docs(emu: Emulator, kind: str) -> list[dict[str, Any]]:
    if not emu.store.has_table(kind):
        return []
    return [orjson.loads(r[0]) for r in emu.store.execute(f'SELECT doc FROM "{table_name(kind)}" ORDER BY id')]


def _seeded(emu: Emulator, kind: str) -> list[dict[str, Any]]:
    """Documents of a kind minus what a fresh instance already holds (the support user)."""
    return [d for d in _docs(emu, kind) if not (kind == "User" and d["id"] == SUPPORT_USER_ID)]


def _ids(emu: Emulator, kind: str) -> set[int]:
    if not emu.store.has_table(kind):
        return set()
    return {int(r[0]) for r in emu.store.execute(f'SELECT id FROM "{table_name(kind)}"')}


def _by_id(emu: Emulator, kind: str) -> dict[int, dict[str, Any]]:
    return {d["id"]: d for d in _docs(emu, kind)}


def _dangling(emu: Emulator, kinds: list[str]) -> list[str]:
    """Every association of every stored record of these kinds that names no existing record."""
    targets: dict[str, set[int]] = {}
    problems: list[str] = []
    for kind in kinds:
        plans = [p for p in emu.schema.plan(kind) if p.target]
        for doc in _docs(emu, kind):
            for p in plans:
                value = doc.get(p.field.name)
                if value is None:
                    continue
                listed = p.role in ("reference_list", "owned_list")
                if listed != isinstance(value, list):
                    problems.append(f"{kind} {doc['id']} {p.field.name}: {value!r} is not a {p.role}")
                    continue
                target = p.target or ""
                if target not in targets:
                    targets[target] = _ids(emu, target)
                ids = targets[target]
                for v in value if listed else [value]:
                    if not isinstance(v, int) or isinstance(v, bool) or v not in ids:
                        problems.append(f"{kind} {doc['id']} {p.field.name} -> {p.target} {v!r}")
    return problems


@pytest.fixture(scope="module")
def seeded() -> tuple[Emulator, dict[str, int]]:
    """One instance seeded once for the read-only checks (module scope keeps the suite fast)."""
    emu = Emulator()
    made = seed(emu, SeedCounts(invoices=400, suppliers=40), random_seed=11)
    return emu, made


# -- request parsing ---------------------------------------------------------------------------------------
def test_parse_defaults_follow_the_invoice_count() -> None:
    counts, random_seed = parse_seed_request({"invoices": 100_000})
    assert random_seed == 0
    assert counts.invoices == 100_000
    assert (counts.suppliers, counts.users, counts.accounts, counts.items) == (2_000, 500, 1_000, 1_000)
    assert (counts.requisitions, counts.purchase_orders, counts.payments) == (100_000, 90_000, 50_000)
    assert counts.lookup_values == 12 * counts.lookups
    small, _ = parse_seed_request({"invoices": 10})
    assert (small.suppliers, small.users, small.accounts, small.account_types) == (5, 5, 10, 1)


def test_parse_honours_given_counts_and_spellings() -> None:
    counts, random_seed = parse_seed_request(
        {"invoices": 300, "random_seed": -7, "suppliers": 3, "user-groups": 4, "payments": 10.0}
    )
    assert random_seed == -7
    assert (counts.invoices, counts.suppliers, counts.user_groups, counts.payments) == (300, 3, 4, 10)
    assert counts.users == 5  # still derived
    assert parse_seed_request({})[0] == SeedCounts()


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"invoice": 5}, "'invoice'"),
        ({"invoices": -1}, "invoices"),
        ({"invoices": MAX_COUNT + 1}, "invoices"),
        ({"suppliers": "10"}, "suppliers"),
        ({"items": 2.5}, "items"),
        ({"accounts": True}, "accounts"),
        ({"random_seed": "abc"}, "random_seed"),
        ({"random_seed": 1.5}, "random_seed"),
        ({"invoices": 5, "suppliers": 0}, "suppliers"),
        ({"accounts": 3, "account_types": 0}, "account_types"),
        ({"lookup_values": 3, "lookups": 0}, "lookups"),
        ({"user_groups": 1, "user-groups": 2}, "user-groups"),
    ],
)
def test_parse_errors_name_the_key(body: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match=re.escape(named)):
        parse_seed_request(body)


def test_parse_refuses_a_body_that_is_not_an_object() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        parse_seed_request([1, 2])


def test_counts_validate_when_built_directly() -> None:
    with pytest.raises(ValueError, match="users"):
        SeedCounts(invoices=10, users=-2)
    with pytest.raises(ValueError, match="invoices"):
        SeedCounts(invoices=-1)
    assert SeedCounts(invoices=0).as_dict()["requisitions"] == 0


# -- what gets made ----------------------------------------------------------------------------------------
def test_given_counts_are_exact() -> None:
    emu = Emulator()
    counts = SeedCounts(
        invoices=250, suppliers=7, users=12, user_groups=3, departments=4, addresses=3, account_types=2,
        accounts=15, lookups=2, lookup_values=9, items=11, requisitions=200, purchase_orders=230, payments=90,
    )  # fmt: skip
    made = seed(emu, counts, random_seed=3)
    expected = {
        "InvoiceHeader": 250, "Supplier": 7, "User": 12, "UserGroup": 3, "Department": 4, "Address": 3,
        "AccountType": 2, "Account": 15, "Lookup": 2, "LookupValue": 9, "Item": 11, "RequisitionHeader": 200,
        "OrderHeader": 230, "CoupaPay-Payment": 90,
    }  # fmt: skip
    for kind, n in expected.items():
        assert made[kind] == n, kind
        assert emu.store.count(kind) == n + (1 if kind == "User" else 0), kind  # + the support user
    # 30 more orders than requisitions: those were entered as external purchase orders.
    orders = _docs(emu, "OrderHeader")
    assert Counter(o["type"] for o in orders) == {"OrderHeader": 200, "ExternalOrderHeader": 30}
    assert all(o["requisition-header"] is None for o in orders if o["type"] == "ExternalOrderHeader")
    assert made["InvoiceLine"] == emu.store.count("InvoiceLine")


def test_master_data_only_without_invoices() -> None:
    emu = Emulator()
    made = seed(emu, SeedCounts(), random_seed=1)
    assert made["Supplier"] == 5 and made["User"] == 5 and made["Account"] == 10
    assert not {"InvoiceHeader", "OrderHeader", "RequisitionHeader", "CoupaPay-Payment"} & set(made)


def test_same_seed_same_database_other_seed_other_data() -> None:
    def dump(random_seed: int) -> tuple[dict[str, int], dict[str, list[Any]]]:
        emu = Emulator()
        made = seed(emu, SeedCounts(invoices=150), random_seed=random_seed)
        tables = {
            k: emu.store.execute(f'SELECT id, doc FROM "{table_name(k)}" WHERE id != ? ORDER BY id', (skip,))
            for k in made
            for skip in [SUPPORT_USER_ID if k == "User" else 0]  # the support user is stamped "now"
        }
        return made, tables

    made_a, a = dump(42)
    made_b, b = dump(42)
    assert made_a == made_b
    assert a["InvoiceHeader"] == b["InvoiceHeader"]  # SELECT doc FROM r_InvoiceHeader ORDER BY id
    assert a == b
    _, c = dump(43)
    assert c["InvoiceHeader"] != a["InvoiceHeader"]


def test_realistic_mix(seeded: tuple[Emulator, dict[str, int]]) -> None:
    emu, made = seeded
    invoices = _docs(emu, "InvoiceHeader")
    statuses = Counter(i["status"] for i in invoices)
    assert statuses["approved"] > 0.7 * len(invoices)
    assert {"draft", "pending_approval", "voided", "disputed"} <= set(statuses)
    assert all(i["status"] == "approved" for i in invoices if i["paid"] or i["exported"])
    approved = [i for i in invoices if i["status"] == "approved"]
    assert 0.2 < sum(i["paid"] for i in approved) / len(approved) < 0.9
    assert 0.3 < sum(i["exported"] for i in approved) / len(approved) < 0.95
    assert all(i["last-exported-at"] for i in invoices if i["exported"])
    currencies = {c["id"]: c["code"] for c in _docs(emu, "Currency") if c["code"] in ("USD", "EUR", "GBP")}
    mix = Counter(currencies.get(i["currency"], "other") for i in invoices)
    assert mix["USD"] > 0.6 * len(invoices) and mix["EUR"] > 0 and mix["GBP"] > 0 and "other" not in mix
    line_counts = Counter(len(i["invoice-lines"]) for i in invoices)
    assert set(line_counts) <= set(range(1, 11)) and line_counts[1] > line_counts[8]
    lines = _docs(emu, "InvoiceLine")
    assert {"InvoiceQuantityLine", "InvoiceAmountLine"} == {line["type"] for line in lines}
    assert all(line["account"] and line["description"] and line["price"] for line in lines)
    backed = sum(1 for i in invoices if emu.store.get("InvoiceLine", i["invoice-lines"][0]).get("order-line-id"))
    assert 0.75 < backed / len(invoices) < 0.95  # most invoices bill a purchase order
    suppliers = _docs(emu, "Supplier")
    assert Counter(s["status"] for s in suppliers)["active"] > 0.7 * len(suppliers)
    assert all(s["primary-contact"] in s["contacts"] and s["primary-address"] for s in suppliers)
    groups = _docs(emu, "UserGroup")
    assert all(g["users"] for g in groups)
    assert made["CoupaPay-Payment"] == 200 and made["CoupaPay-PaymentDetail"] >= 200


def test_unique_values(seeded: tuple[Emulator, dict[str, int]]) -> None:
    emu, _ = seeded
    for kind, fields in (
        ("Supplier", ("name", "number")),
        ("User", ("login", "email", "mention-name")),
        ("OrderHeader", ("po-number",)),
        ("Item", ("item-number",)),
        ("LookupValue", ("external-ref-code",)),
        ("Department", ("name",)),
        ("UserGroup", ("name",)),
    ):
        docs = _seeded(emu, kind)
        for f in fields:
            values = [d[f] for d in docs]
            assert len(values) == len(set(values)), (kind, f)
    numbers = [(i["supplier"], i["invoice-number"]) for i in _docs(emu, "InvoiceHeader")]
    assert len(numbers) == len(set(numbers))
    accounts = [(a["account-type"], a["code"]) for a in _docs(emu, "Account")]
    assert len(accounts) == len(set(accounts))


def test_every_reference_points_at_a_record(seeded: tuple[Emulator, dict[str, int]]) -> None:
    emu, made = seeded
    assert _dangling(emu, sorted(made)) == []
    seeded_users = {u["id"] for u in _docs(emu, "User")} - {SUPPORT_USER_ID}
    for kind in made:
        for doc in _seeded(emu, kind):
            if kind == "User" and doc["created-by"] == SUPPORT_USER_ID:
                continue  # the seeded administrator, set up by the support user
            assert doc["created-by"] in seeded_users and doc["updated-by"] in seeded_users, (kind, doc["id"])


def test_documents_chain_requisition_order_invoice_payment(seeded: tuple[Emulator, dict[str, int]]) -> None:
    emu, _ = seeded
    reqs, req_lines = _by_id(emu, "RequisitionHeader"), _by_id(emu, "RequisitionLine")
    orders, order_lines = _by_id(emu, "OrderHeader"), _by_id(emu, "OrderLine")
    invoices, invoice_lines = _by_id(emu, "InvoiceHeader"), _by_id(emu, "InvoiceLine")
    for po in orders.values():
        req = reqs[po["requisition-header"]]
        assert req["status"] == "approved" and req["created-at"] <= po["created-at"]
        wanted = [req_lines[i]["order-line-id"] for i in req["requisition-lines"]]
        assert wanted == po["order-lines"]
        for line_id in po["order-lines"]:
            line = order_lines[line_id]
            assert line["supplier"] == po["supplier"] and line["order-header-id"] == po["id"]
            assert req_lines[int(line["requisition-line-id"])]["total"] == line["total"]
    for inv in invoices.values():
        for line_id in inv["invoice-lines"]:
            line = invoice_lines[line_id]
            if line.get("order-line-id") is None:
                continue
            order_line = order_lines[line["order-line-id"]]
            po = orders[order_line["order-header-id"]]
            assert line["po-number"] == po["po-number"] and po["supplier"] == inv["supplier"]
            assert (line["price"], line["account"]) == (order_line["price"], order_line["account"])
            assert po["created-at"] <= inv["created-at"]
    partners = _by_id(emu, "CoupaPay-PaymentPartner")
    from_accounts, to_accounts = _by_id(emu, "CoupaPay-CompanyPaymentAccount"), _by_id(emu, "CoupaPay-PayToAccount")
    details = _by_id(emu, "CoupaPay-PaymentDetail")
    paid_by_completed: set[int] = set()
    for pay in _docs(emu, "CoupaPay-Payment"):
        assert pay["payment-partner"] == from_accounts[pay["pay-from-account"]]["payment-partner"]
        assert partners[pay["payment-partner"]]["issuing-bank"]
        assert to_accounts[pay["pay-to-account"]]["supplier"] == pay["payee"]
        assert pay["payment-batch-id"] == pay["payment-batch"]
        total = Decimal(0)
        for detail_id in pay["payment-details"]:
            detail = details[detail_id]
            inv = invoices[int(detail["source-transaction-id"])]
            assert detail["source-transaction-type"] == "InvoiceHeader"
            assert detail["source-transaction-reference"] == inv["invoice-number"]
            assert detail["payment-total"] == inv["amount-due"] and detail["currency"] == inv["currency"]
            assert inv["supplier"] == pay["payee"] and inv["status"] == "approved"
            total += Decimal(detail["payment-total"])
            if pay["status"] == "completed_successfully":
                paid_by_completed.add(inv["id"])
        assert Decimal(pay["pay-to-total"]) == total
    assert paid_by_completed == {i["id"] for i in invoices.values() if i["paid"]}
    approvals = _docs(emu, "Approval")
    assert Counter(r["status"] for r in reqs.values())["pending_approval"] >= 1
    for req in reqs.values():
        chain = {
            a["id"]: a
            for a in approvals
            if a["approvable-type"] == "RequisitionHeader" and a["approvable-id"] == req["id"]
        }
        assert sorted(chain) == sorted(req["approvals"])
        if req["status"] == "pending_approval":
            assert chain[req["current-approval"]]["status"] == "pending_approval"
        if req["status"] == "approved":
            assert chain and all(a["status"] == "approved" for a in chain.values())
    for inv in invoices.values():
        chain = [a for a in approvals if a["approvable-type"] == "InvoiceHeader" and a["approvable-id"] == inv["id"]]
        assert sorted(a["id"] for a in chain) == sorted(inv["approvals"])
        if inv["status"] == "approved":
            assert chain and all(a["status"] == "approved" for a in chain)
        if inv["status"] == "pending_approval":
            assert [a["status"] for a in chain].count("pending_approval") == 1
        if inv["status"] == "draft":
            assert chain == []


def test_times_are_spread_and_consistent(seeded: tuple[Emulator, dict[str, int]]) -> None:
    emu, made = seeded
    for kind in made:
        for doc in _seeded(emu, kind):
            assert STAMP.match(doc["created-at"]) and STAMP.match(doc["updated-at"]), kind
            assert "2024-01-01T00:00:00" <= doc["created-at"] <= doc["updated-at"] < "2026-01-01T00:00:00", kind
    updated = sorted(i["updated-at"] for i in _docs(emu, "InvoiceHeader"))
    quarter = len(updated) // 4
    assert updated[quarter][:7] < "2025-01" < updated[3 * quarter][:7]  # two years, not one day


def test_totals_are_what_the_derivers_compute(seeded: tuple[Emulator, dict[str, int]]) -> None:
    emu, _ = seeded
    writer = Writer(emu.schema, emu.store, emu.tz, emu.clock.now(), None)
    with emu.store.transaction():
        for inv in _docs(emu, "InvoiceHeader")[::3]:
            lines_before = [emu.store.get("InvoiceLine", i) for i in inv["invoice-lines"]]
            again = copy.deepcopy(inv)
            writer.derive("InvoiceHeader", again, creating=False)
            assert {k: again[k] for k in INVOICE_TOTALS} == {k: inv[k] for k in INVOICE_TOTALS}, inv["id"]
            assert [emu.store.get("InvoiceLine", i) for i in inv["invoice-lines"]] == lines_before
        for req in _docs(emu, "RequisitionHeader")[::3]:
            lines_before = [emu.store.get("RequisitionLine", i) for i in req["requisition-lines"]]
            again = copy.deepcopy(req)
            writer.derive("RequisitionHeader", again, creating=False)
            assert (again["total"], again["line-count"]) == (req["total"], req["line-count"]), req["id"]
            assert [emu.store.get("RequisitionLine", i) for i in req["requisition-lines"]] == lines_before
        for kind in ("Account", "LookupValue", "CoupaPay-Payment", "User", "Supplier"):
            for doc in _docs(emu, kind):
                again = copy.deepcopy(doc)
                writer.derive(kind, again, creating=False)
                assert again == doc, (kind, doc["id"])
        assert writer.errors == []


def test_seeding_twice_adds_without_clashes() -> None:
    emu = Emulator()
    load_demo_data(emu)  # someone's own records first: names the seed must not reuse
    first = seed(emu, SeedCounts(invoices=120), random_seed=5)
    invoices_before = _ids(emu, "InvoiceHeader")
    second = seed(emu, SeedCounts(invoices=120), random_seed=5)  # the same seed again
    assert first == second
    assert emu.store.count("InvoiceHeader") == 240 and min(_ids(emu, "InvoiceHeader") - invoices_before) > max(
        invoices_before
    )
    assert emu.store.count("Supplier") == 2 * first["Supplier"] + 3
    for kind, field in (("Supplier", "name"), ("User", "login"), ("Department", "name"), ("OrderHeader", "po-number")):
        values = [d[field] for d in _docs(emu, kind)]
        assert len(values) == len(set(values)), (kind, field)
    assert _dangling(emu, sorted(first)) == []


def test_a_failed_seed_leaves_nothing_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    from pycoupa.emulator import seed as seeding

    emu = Emulator()

    def boom(self: object) -> None:
        raise RuntimeError("disk full")

    with monkeypatch.context() as m:
        m.setattr(seeding._Seeder, "_build_payments", boom)
        with pytest.raises(RuntimeError, match="disk full"):
            seed(emu, SeedCounts(invoices=50), random_seed=1)
    assert emu.store.count("InvoiceHeader") == 0 and emu.store.count("User") == 1
    assert gc.isenabled()  # seeding pauses the cyclic collector and must always turn it back on
    assert seed(emu, SeedCounts(invoices=50), random_seed=1)["InvoiceHeader"] == 50


# -- the API answers about seeded data -------------------------------------------------------------------
async def _all(api: httpx.AsyncClient, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        r = await api.get(path, params={**params, "limit": "50", "offset": str(len(out))})
        assert r.status_code == 200, r.text
        page = r.json()
        out.extend(page)
        if len(page) < 50:
            return out


async def test_api_filters_seeded_invoices_by_status_and_updated_at(emu: Emulator, api: httpx.AsyncClient) -> None:
    seed(emu, SeedCounts(invoices=300), random_seed=8)
    invoices = _docs(emu, "InvoiceHeader")
    cutoff = sorted(i["updated-at"] for i in invoices)[len(invoices) // 2]
    expected = {i["id"] for i in invoices if i["status"] == "approved" and i["updated-at"] > cutoff}
    got = await _all(api, "/api/invoices", {"status": "approved", "updated-at[gt]": cutoff + "Z"})
    assert expected and {i["id"] for i in got} == expected
    assert all(i["status"] == "approved" and i["updated-at"] > cutoff for i in invoices if i["id"] in expected)


async def test_api_answers_the_coupa_pay_queries(emu: Emulator, api: httpx.AsyncClient) -> None:
    seed(emu, SeedCounts(invoices=300), random_seed=9)
    accounts = _by_id(emu, "CoupaPay-CompanyPaymentAccount")
    partners = _by_id(emu, "CoupaPay-PaymentPartner")
    to_accounts = _by_id(emu, "CoupaPay-PayToAccount")
    payments = _docs(emu, "CoupaPay-Payment")

    def bank(p: dict[str, Any]) -> str:
        return str(partners[accounts[p["pay-from-account"]]["payment-partner"]]["issuing-bank"])

    expected = {p["id"] for p in payments if not p["exported"] and bank(p) == "XYZBank"}
    got = await _all(api, "/api/coupa_pay/payments", {"exported": "false", "payment-partner[issuing-bank]": "XYZBank"})
    assert expected and {p["id"] for p in got} == expected
    assert all(p["pay-from-account"]["payment-partner"]["issuing-bank"] == "XYZBank" for p in got)
    # The documentation's combined query, verbatim.
    r = await api.get(
        "/api/coupa_pay/payments?status[in]=completed_successfully,completed_with_errors&exported=false"
        "&payment-partner[issuing-bank]=XYZBank&pay_to_account[type]=CoupaPay::SupplierPaymentAccount&limit=50"
    )
    wanted = {
        p["id"]
        for p in payments
        if p["status"] in ("completed_successfully", "completed_with_errors")
        and not p["exported"]
        and bank(p) == "XYZBank"
        and to_accounts[p["pay-to-account"]]["type"] == "CoupaPay::SupplierPaymentAccount"
    }
    assert r.status_code == 200 and {p["id"] for p in r.json()} == set(sorted(wanted)[:50])
    detail = r.json()[0]["payment-details"][0]
    invoice = (await api.get(f"/api/invoices/{detail['source-transaction-id']}")).json()
    assert detail["source-transaction-reference"] == invoice["invoice-number"]
    assert detail["payment-total"] == invoice["amount-due"]


async def test_api_renders_seeded_invoices_with_lines_and_accounts(emu: Emulator, api: httpx.AsyncClient) -> None:
    seed(emu, SeedCounts(invoices=60), random_seed=10)
    backed = next(
        i
        for i in _docs(emu, "InvoiceHeader")
        if (emu.store.get("InvoiceLine", i["invoice-lines"][0]) or {}).get("order-line-id")
    )
    r = await api.get(f"/api/invoices/{backed['id']}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["supplier"]["name"] and body["currency"]["code"] in ("USD", "EUR", "GBP")
    assert body["created-by"]["login"] and body["approvals"]
    assert len(body["invoice-lines"]) == len(backed["invoice-lines"])
    for line in body["invoice-lines"]:
        assert line["account"]["id"] and line["account"]["code"].count("-") >= 2
        assert line["order-line-id"] and line["po-number"]
    assert Decimal(body["gross-total"]) >= sum(Decimal(line["total"]) for line in body["invoice-lines"])
    po = (await api.get("/api/purchase_orders", params={"po-number": body["invoice-lines"][0]["po-number"]})).json()
    assert [line["id"] for line in po[0]["order-lines"]].count(body["invoice-lines"][0]["order-line-id"]) == 1


async def test_seeded_documents_take_api_writes(emu: Emulator, api: httpx.AsyncClient) -> None:
    seed(emu, SeedCounts(invoices=300), random_seed=12)
    invoices = _docs(emu, "InvoiceHeader")
    draft = next(i for i in invoices if i["status"] == "draft")
    r = await api.put(f"/api/invoices/{draft['id']}/submit")
    assert r.status_code == 200 and r.json()["status"] == "pending_approval", r.text
    assert r.json()["amount-due"] == draft["amount-due"]
    approvals = _docs(emu, "Approval")
    pending = next(
        a for a in approvals if a["status"] == "pending_approval" and a["approvable-type"] == "InvoiceHeader"
    )
    r = await api.put(f"/api/approvals/{pending['id']}/approve")
    assert r.status_code == 200, r.text
    payment = next(p for p in _docs(emu, "CoupaPay-Payment") if not p["exported"])
    r = await api.put(f"/api/coupa_pay/payments/{payment['id']}?exported=true")
    assert r.status_code == 200 and r.json()["exported"] is True


async def test_every_seeded_collection_renders_in_json_and_xml(emu: Emulator, api: httpx.AsyncClient) -> None:
    made = seed(emu, SeedCounts(invoices=40), random_seed=13)
    await api.put("/__emulator__/rate-limit", json={"enabled": False})  # ~40 requests in a burst
    paths = sorted(
        op.path
        for op in emu.catalog.operations
        if op.method == "GET" and op.kind == "list" and "{" not in op.path
        for resource in [emu.catalog.resources.get(op.resource)]
        if resource and resource.definition and emu.schema.storage_kind(resource.definition) in made
    )
    assert {"/invoices", "/coupa_pay/payments", "/requisitions", "/purchase_orders", "/approvals"} <= set(paths)
    for path in paths:
        r = await api.get(f"/api{path}", params={"limit": "5", "order_by": "id", "dir": "desc"})
        assert r.status_code == 200 and r.json(), (path, r.text[:300])
        r = await api.get(f"/api{path}", params={"limit": "5"}, headers={"Accept": "application/xml"})
        assert r.status_code == 200 and r.text.startswith("<?xml"), (path, r.text[:300])
