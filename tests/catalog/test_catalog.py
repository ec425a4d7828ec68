"""The committed catalog holds every R39 path, operation and scope, and is what build.py makes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pycoupa.catalog import build
from pycoupa.catalog.model import DATA_DIR, dasherize, load_catalog


def test_every_r39_path_and_operation_is_present(shared_dir: Path) -> None:
    catalog = load_catalog()
    expected_ops = []
    path_entries = 0
    for spec_file in sorted((shared_dir / "coupa-openapi" / "R39").glob("*.json")):
        spec = json.loads(spec_file.read_text())
        path_entries += len(spec["paths"])
        for path, item in spec["paths"].items():
            expected_ops += [(m.upper(), path) for m in item if m in ("get", "post", "put", "patch", "delete")]
    assert path_entries == 463
    assert len(expected_ops) == 809
    got = sorted((op.method, op.path) for op in catalog.operations)
    assert got == sorted(expected_ops)


def test_all_128_scopes_exist_and_lines_are_mapped_or_explained() -> None:
    catalog = load_catalog()
    assert len(catalog.scopes) == 128
    for scope, lines in catalog.scopes.items():
        for line in lines:
            assert line["routes"] or line["reason"], (scope, line)


def test_committed_data_is_what_the_build_script_makes(shared_dir: Path, tmp_path: Path) -> None:
    build.main(
        [
            "--openapi", str(shared_dir / "coupa-openapi" / "R39"),
            "--scopes", str(shared_dir / "seeds" / "000_939ad20a2dd80c15.txt"),
            "--out", str(tmp_path),
        ]
    )  # fmt: skip
    for name in ("catalog.json", "scopes.json"):
        assert (tmp_path / name).read_text() == (DATA_DIR / name).read_text(), f"{name} is stale: run make catalog"


def test_catalog_keeps_facts_not_prose() -> None:
    raw = json.loads((DATA_DIR / "catalog.json").read_text())
    for definition in raw["definitions"].values():
        for facts in definition["fields"].values():
            assert set(facts) <= {"type", "format", "enum", "ro", "ref", "items"}
    op_keys = {"method", "path", "area", "tag", "params", "body", "consumes", "response", "statuses"}
    for op in raw["operations"]:
        assert set(op) <= op_keys
        assert all(set(p) <= {"name", "in", "type", "required", "enum"} for p in op["params"])


def test_field_facts_come_through() -> None:
    catalog = load_catalog()
    inv = catalog.definition("InvoiceHeader")
    assert inv.element == "invoice-header"
    assert inv.fields["amount-due"].read_only and inv.fields["amount-due"].scalar_type == "decimal"
    assert inv.fields["invoice-lines"].is_collection and inv.fields["invoice-lines"].ref == "InvoiceLine"
    assert inv.fields["supplier"].is_association
    assert inv.fields["created-at"].scalar_type == "datetime"
    assert "draft" in (inv.fields["status"].enum or ())
    assert catalog.definition("Account").fields["segment-1"].max_length == 100


@pytest.mark.parametrize(
    ("name", "element"),
    [
        ("InvoiceHeader", "invoice-header"),
        ("CoupaPay-Payment", "coupa-pay-payment"),
        ("OrderHeader", "order-header"),
        ("UserSimple", "user-simple"),
        ("Payables-Order-ReconciliationLine", "payables-order-reconciliation-line"),
    ],
)
def test_dasherize(name: str, element: str) -> None:
    assert dasherize(name) == element


def test_resources_are_classified() -> None:
    catalog = load_catalog()
    invoices = catalog.resource("invoices")
    assert invoices.definition == "InvoiceHeader"
    assert invoices.xml_collection == "invoice-headers"
    assert {"void", "submit", "dispute", "abandon", "image_scan", "retrieve_image_scan"} <= set(invoices.actions)
    assert catalog.resource("coupa_pay/payments").definition == "CoupaPay-Payment"
    assert catalog.resource("coupa_pay/payments").xml_collection == "coupa-pay-payments"
    nested = catalog.resource("/suppliers/{supplier_id}/addresses")
    assert (nested.parent, nested.parent_param) == ("/suppliers", "supplier_id")
    favorites = catalog.match("GET", "/accounts/favorites")
    assert favorites is not None and favorites[0].kind == "collection_action" and favorites[0].action == "favorites"
    show = catalog.match("GET", "/accounts/12")
    assert show is not None and show[0].kind == "show" and show[1] == {"id": 12}
    assert catalog.match("GET", "/accounts/abc") is None
    assert catalog.match("POST", "/invoices") is None  # R39 lacks it; the emulator adds it


def test_operations_carry_the_scopes_that_grant_them() -> None:
    catalog = load_catalog()
    void = catalog.match("PUT", "/invoices/7/void")
    assert void is not None and "core.invoice.delete" in void[0].scopes
    listing = catalog.match("GET", "/suppliers")
    assert listing is not None and listing[0].scopes == ("core.supplier.read",)
    # Routes the table misses take the scopes of their resource's siblings.
    release = catalog.match("PUT", "/purchase_orders/3/release_from_buyer_hold")
    assert release is not None and "core.purchase_order.write" in release[0].scopes
