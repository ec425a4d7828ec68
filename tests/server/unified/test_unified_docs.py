"""docs/unified-models.md names every field and filter of every unified resource."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pycoupa.server.unified.registry import RESOURCES
from pycoupa.server.unified.spec import UnifiedResource

DOC = Path(__file__).resolve().parents[3] / "docs" / "unified-models.md"


def section(name: str) -> str:
    text = DOC.read_text()
    m = re.search(rf"^### {re.escape(name)}\n(.*?)(?=^##)", text, re.S | re.M)
    assert m, f"docs/unified-models.md has no section ### {name}"
    return m.group(1)


@pytest.mark.parametrize("res", list(RESOURCES.values()), ids=[n for _, n in RESOURCES])
def test_every_field_and_filter_is_documented(res: UnifiedResource) -> None:
    text = section(res.name)
    fields = {k for src in res.sources for k in src.map({})}
    missing = sorted(f for f in fields if f"`{f}`" not in text)
    assert not missing, f"{res.name}: fields missing from the docs: {missing}"
    filters = sorted(f for f in res.filter_names if f"`{f}`" not in text)
    assert not filters, f"{res.name}: filters missing from the docs: {filters}"
    for src in res.sources:
        for flt in src.filters.values():
            assert f"`{flt.coupa}" in text, f"{res.name}: Coupa attribute {flt.coupa} of {flt.name} not documented"


def test_line_fields_are_documented() -> None:
    text = section("invoices")
    invoices = RESOURCES[("accounting", "invoices")].sources[0]
    line = invoices.map({"invoice-lines": [{}]})["line_items"][0]
    assert not sorted(f for f in line if f"`{f}`" not in text)


RAW_LINES = {"invoices": "invoice-lines", "purchase_orders": "order-lines", "requisitions": "requisition-lines"}


def _null_fields() -> dict[str, tuple[list[str], list[str]]]:
    """resource -> (header fields, line fields) the docs call null, from the bullets under
    "Fields with no Coupa source are null"."""
    text = DOC.read_text()
    block = text.split("- **Fields with no Coupa source are null**", 1)[1].split("\n- **", 1)[0]
    out: dict[str, tuple[list[str], list[str]]] = {}
    for m in re.finditer(r"^  - ([a-z_]+): (.*?)(?=^  - |^\s*$)", block, re.M | re.S):
        header, _, lines = " ".join(m.group(2).split()).partition("; lines")
        header = re.sub(r"\(.*?\)", "", header, flags=re.S)  # asides name fields that are not null
        out[m.group(1)] = (re.findall(r"`([a-z_0-9]+)`", header), re.findall(r"`([a-z_0-9]+)`", lines))
    return out


def test_the_fields_the_docs_call_null_are_present_and_null() -> None:
    documented = _null_fields()
    assert len(documented) >= 10, documented.keys()
    by_name = {name: res for (_, name), res in RESOURCES.items()}
    for name, (header, lines) in documented.items():
        assert header, name
        for src in by_name[name].sources:
            record = src.map({})
            assert {f: record.get(f, "absent") for f in header} == dict.fromkeys(header), (name, src.coupa_resource)
            if lines:
                raw = RAW_LINES[src.coupa_resource]
                line = src.map({raw: [{"id": 1}]})["line_items"][0]
                assert {f: line.get(f, "absent") for f in lines} == dict.fromkeys(lines), (name, "lines")
