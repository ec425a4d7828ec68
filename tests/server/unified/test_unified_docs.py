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
