"""Shared helpers for the conformance tests over Coupa's documented samples.

The samples live in ``../shared/coupa-examples`` (200 files, one request or response body each,
described by ``index.json``). Every file is either replayed by ``test_samples_shape`` (responses),
``test_samples_requests`` (request bodies), ``test_documented_queries`` (query examples), or
listed in :data:`EXCLUDED` with the reason it cannot be used.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from lxml import etree

from pycoupa.catalog.model import Catalog, load_catalog
from pycoupa.wire import codec_json, codec_xml

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
EXAMPLES = SHARED / "coupa-examples"
NOT_SAMPLES = frozenset({"index.json", "README.md"})

XML = {"Accept": "application/xml"}
JSON = {"Accept": "application/json"}
NO_RESULTS = "No results match your search criteria."


def catalog() -> Catalog:
    return load_catalog()


def sample_names() -> list[str]:
    return sorted(p.name for p in EXAMPLES.iterdir() if p.name not in NOT_SAMPLES)


def index() -> dict[str, dict[str, Any]]:
    return {e["file"]: e for e in json.loads((EXAMPLES / "index.json").read_text())}


def raw(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


def xml_root(data: bytes) -> etree._Element:
    return codec_xml.parse_root(data)


def load(name: str) -> Any:
    """A sample's value: the root record (dict) or collection (list), hyphenated keys."""
    if name.endswith(".json"):
        return codec_json.normalise_keys(codec_json.loads(raw(name)))
    return codec_json.normalise_keys(codec_xml.loads(raw(name))[1])


# Files no test can replay, with the reason. Each reason is specific to the file.
EXCLUDED: dict[str, str] = {
    # -- fragments and templates on Coupa's general pages ---------------------------------------
    "0009-01.xml": "query syntax template '<url>?<attribute><[operator]>=<value>', no concrete query",
    "0014-01.xml": "query syntax template '<url>?<attribute><[operator]>=<value>', no concrete query",
    "0010-01.xml": "custom-fields fragment, not a whole record; no resource or URL given",
    "0010-02.json": "custom-fields fragment, not a whole record; no resource or URL given",
    "0011-05.xml": "validation message from an instance-specific account type rule (segment 1 required)",
    "0011-06.json": "validation message from an instance-specific account type rule (segment 1 required)",
    "0011-08.json": "2016 address JSON with underscore keys and country as a string; coupa-api.md s.2 "
    "calls it an outdated anomaly",
    "0016-01.xml": "placeholder error text ('This is a sample error message'), no request behind it",
    # -- remaining core-API samples the emulator cannot produce -----------------------------------
    "0051-01.xml": "data file sources are created by file loads only (R39 has no create route)",
    "0051-02.xml": "data file sources are created by file loads only (R39 has no create route)",
    "0051-03.xml": "empty data-file-sources wrapper shown as a format note, no record",
    "0051-04.xml": "data file sources are created by file loads only (R39 has no create route)",
    "0051-05.xml": "data file sources are created by file loads only (R39 has no create route)",
    "0081-07.xml": "malformed: '<id>5<id>' is never closed",
    "0098-01.xml": "tax-rate section cut out of a larger payload; no route of its own",
    "0109-01.json": "malformed: '//' comments inside the JSON object",
    "0129-01.xml": "invoice-lines/taggings fragment, not a request body of its own",
    "0140-05.json": "malformed: '<contract_id>' placeholders and '//' comments",
    "0159-01.json": "delegates API is not an R39 route the emulator serves",
    "0160-01.xml": "expense delegations API is not an R39 route the emulator serves",
    "0163-01.xml": "malformed: '...' placeholder and a mistyped closing tag",
    "0164-01.xml": "malformed: documentation line numbers pasted into the XML",
    "0164-02.xml": "cycle count lines cannot be created through the API (R39 has no create route)",
    "0164-03.xml": "cycle count lines cannot be created through the API (R39 has no create route)",
    "0164-04.xml": "cycle count lines cannot be created through the API (R39 has no create route)",
    "0164-05.xml": "cycle count lines cannot be created through the API (R39 has no create route)",
    "0164-06.json": "malformed: Ruby interpolation '#{...}' as a value",
    "0164-07.json": "malformed: Ruby interpolation '#{...}' as a value",
    "0164-08.json": "malformed: Ruby interpolation '#{...}' as a value",
    "0164-09.json": "malformed: single-quoted JSON string",
    "0213-02.xml": "invalid: datetime value wrapped in literal double quotes",
    "0213-05.json": "payment dates written '9/12/2019' (day/month order unknown, outside the ISO 8601 "
    "subset of coupa-api.md s.3); no stored value could be checked",
    "0213-06.json": "payment dates written '9/12/2019' (day/month order unknown, outside the ISO 8601 "
    "subset of coupa-api.md s.3); no stored value could be checked",
    "0213-07.json": "payment dates written '9/12/2019' (day/month order unknown, outside the ISO 8601 "
    "subset of coupa-api.md s.3); no stored value could be checked",
    "0227-01.xml": "fulfillment reservations come from inventory flows; R39 has no create route",
    "0227-02.xml": "updates an existing fulfillment reservation, which cannot be created via the API",
    "0233-02.xml": "reason insights are reference data with no create route; id 1 cannot exist",
    "0233-03.xml": "reason insights are reference data with no create route; the code cannot exist",
    "0238-05.xml": "placeholder error list ('List of errors' comment), no request behind it",
    "0239-02.xml": "PO cancel through _cancel is the PO state machine (business rules, another issue)",
    "0239-03.xml": "PO close through _close is the PO state machine (business rules, another issue)",
    "0241-01.xml": "account fragment of a PO line change payload, not a request of its own",
    "0241-02.xml": "account fragment of a PO line change payload, not a request of its own",
    "0242-01.xml": "revision diff fragment (status from/to), not a record",
    "0242-02.xml": "revision diff fragment (updated-by from/to), not a record",
    "0242-03.xml": "order header revisions are not an R39 route the emulator serves",
    "0243-01.json": "quality collaboration API (camelCase) is not part of Coupa's core R39 API",
    "0243-02.json": "quality collaboration API (camelCase) is not part of Coupa's core R39 API",
    "0256-01.xml": 'invalid: <created-by type="integer"> holds a person\'s name',
    "0269-02.xml": "malformed: stray closing tag after a self-closed element",
    "0269-03.xml": "quote responses are created by suppliers; R39 has no create route",
    "0269-04.xml": "award payload with a bare <root> element for a quote response that cannot exist",
    "0270-01.json": "malformed: '//' comment after a value",
    "0275-01.json": "malformed: '#' comment after a value",
    "0292-01.json": "workers API is not an R39 route the emulator serves",
    "0298-01.xml": "worker assignments API is not an R39 route the emulator serves",
    "0094-02.json": "POST /quote_requests/{id}/tasks is not an R39 route",
    # -- request bodies the emulator cannot honour for a documented reason ------------------------
    "0209-02.xml": "needs tax code 'Reduced 1' (reference data with no create route) and an account "
    "found by code '100' (computed account codes are business rules, another issue)",
    "0209-03.xml": "invoice_description is an instance-specific custom field, not an R39 field",
    "0209-04.xml": "invoice line account named by its code, which Coupa computes from segments "
    "(business rules, another issue)",
    "0239-04.xml": "PO line account named by its code, which Coupa computes from segments (business rules)",
    "0239-05.xml": "PO line account named by its code, which Coupa computes from segments (business rules)",
    "0239-07.xml": "PO line account named by its code, which Coupa computes from segments (business rules)",
    "0256-02.xml": "receipt account named by id 14 together with its code; codes are computed (business "
    "rules) and the order line, warehouse and inspection code cannot be created",
    "0262-04.xml": "requisition line account named by its code 'Cleaning Services' (computed codes are "
    "business rules, another issue)",
    "0262-05.xml": "requisition line account named by its code 'Cleaning Services' (computed codes are "
    "business rules, another issue)",
    "0262-06.xml": "requisition line account named by its code 'Cleaning Services' (computed codes are "
    "business rules, another issue)",
    "0262-07.xml": "submit_for_approval of lines whose account is named by its computed code "
    "(business rules, another issue)",
    # -- non-core APIs (CCW, CSO, supplier risk): other hosts and formats -------------------------
    "0452-01.json": "CCW (contingent workforce) API, not Coupa core",
    "0452-02.json": "CCW (contingent workforce) API, not Coupa core",
    "0453-01.json": "CCW (contingent workforce) API, not Coupa core",
    "0453-02.json": "CCW (contingent workforce) API, not Coupa core",
    "0454-01.json": "CCW (contingent workforce) API, not Coupa core",
    "0462-01.json": "CSO (sourcing optimization) API, not Coupa core",
    "0462-02.json": "CSO (sourcing optimization) API, not Coupa core",
    "0462-03.json": "CSO (sourcing optimization) API, not Coupa core",
    "0462-04.json": "CSO (sourcing optimization) API, not Coupa core",
    "0462-05.json": "CSO (sourcing optimization) API, not Coupa core",
    "0463-01.json": "CSO (sourcing optimization) API, not Coupa core",
    "0464-01.json": "CSO (sourcing optimization) API, not Coupa core",
    "0465-01.json": "CSO (sourcing optimization) API, not Coupa core",
    "0466-01.json": "CSO (sourcing optimization) API, not Coupa core",
    "0467-01.json": "CSO (sourcing optimization) API, not Coupa core",
    "0468-01.json": "CSO (sourcing optimization) API, not Coupa core",
    "0471-01.json": "supplier-risk / external invoices API (UUID ids), not Coupa core",
    "0513-01.json": "supplier risk (Hiperos) API, not Coupa core",
    "0516-01.json": "supplier risk (Hiperos) API, not Coupa core",
    "0520-01.json": "supplier risk (Hiperos) API, not Coupa core",
    "0521-01.json": "supplier risk (Hiperos) API, not Coupa core",
}


# -- JSON-ready values ------------------------------------------------------------------------
def jsonable(value: Any) -> Any:
    """A parsed sample value as a JSON request body value (Coupa's own spellings)."""
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return str(value)


# -- records that prerequisites point at ------------------------------------------------------
# Reference data every fresh instance holds (coupa-api.md s.7: USD is 1, US is 223, user 1).
PRELOADED: dict[str, dict[str, Any]] = {
    "Currency": {"code": "USD"},
    "Country": {"code": "US"},
    "Uom": {"code": "EA"},
    "User": {"login": "coupasupport"},
    "UserSimple": {"login": "coupasupport"},
    "Role": {"name": "User"},
}

BodyFn = Callable[["Seeder"], Awaitable[dict[str, Any]]]


async def _account(s: Seeder) -> dict[str, Any]:
    return {"segment-1": "SF", "segment-2": "Marketing", "account-type": await s.ref("AccountType")}


async def _address(s: Seeder) -> dict[str, Any]:
    return {
        "name": "HQ",
        "street1": "1 Main St",
        "city": "San Mateo",
        "postal-code": "94404",
        "country": {"code": "US"},
    }


def _plain(body: dict[str, Any]) -> BodyFn:
    async def make(s: Seeder) -> dict[str, Any]:
        return dict(body)

    return make


# Minimal valid bodies (coupa-api.md s.6 required fields) for records other records refer to.
FACTORIES: dict[str, tuple[str, BodyFn]] = {
    "AccountType": ("/account_types", _plain({"name": "Ace Corporate", "currency": {"code": "USD"}})),
    "Account": ("/accounts", _account),
    "Supplier": ("/suppliers", _plain({"name": "Fishy Supplies"})),
    "Address": ("/addresses", _address),
    "Department": ("/departments", _plain({"name": "Marketing"})),
    "PaymentTerm": ("/payment_terms", _plain({"code": "Net 30"})),
    "ShippingTerm": ("/shipping_terms", _plain({"code": "UPS"})),
    "Commodity": ("/commodities", _plain({"name": "IT"})),
    "Lookup": ("/lookups", _plain({"name": "Account"})),
    "Item": ("/items", _plain({"name": "Window Cleaner", "description": "Window cleaner"})),
    "BusinessGroup": ("/business_groups", _plain({"name": "Everyone"})),
}


class Seeder:
    """Creates, through the API, the records a sample needs; one per test (fresh emulator)."""

    def __init__(self, api: httpx.AsyncClient) -> None:
        self.api = api
        self.ids: dict[str, int] = {}

    async def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = await self.api.post("/api" + path, json=body, headers=JSON)
        assert r.status_code == 201, f"POST /api{path} -> {r.status_code} {r.text[:500]}"
        data: dict[str, Any] = r.json()
        return data

    async def ref(self, kind: str) -> dict[str, Any]:
        """A reference body (``{"id": n}`` or natural key) to a record of ``kind``."""
        if kind in PRELOADED:
            return dict(PRELOADED[kind])
        if kind not in self.ids:
            path, make = FACTORIES[kind]
            self.ids[kind] = int((await self.create(path, await make(self)))["id"])
        return {"id": self.ids[kind]}

    async def id_of(self, kind: str) -> int:
        ref = await self.ref(kind)
        if "id" in ref:
            return int(ref["id"])
        r = await self.api.get("/api" + RESOURCE_OF[kind], params=ref, headers=JSON)
        return int(r.json()[0]["id"])


RESOURCE_OF = {"User": "/users", "UserSimple": "/users", "Currency": "/currencies"}


def walk_keys(value: Any) -> Iterator[str]:
    """Every object key in a JSON tree."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from walk_keys(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk_keys(v)
