"""Every sample from Coupa's documentation goes through the codecs.

Samples that are not real documents (URL templates, fragments, hand-written placeholders) or carry
values that contradict their own ``type`` attribute are listed by name with the reason, and the
test checks they really do fail, so the lists stay honest.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from pycoupa.wire import codec_json, codec_xml
from pycoupa.wire.errors import WireDecodeError, parse_errors

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
EXAMPLES = SHARED / "coupa-examples"

# Not well-formed documents, as measured against the parser.
MALFORMED: dict[str, str] = {
    # XML
    "0009-01.xml": "URL template '<url>?<attribute><[operator]>=<value>&...', not XML",
    "0014-01.xml": "URL template '<url>?<attribute><[operator]>=<value>&...', not XML",
    "0014-03.xml": "query URL '<instancename>.coupahost.com/api/...?a=b&c=d', bare '&'",
    "0014-04.xml": "query URL '<instancename>.coupahost.com/api/...?a=b&c=d', bare '&'",
    "0014-05.xml": "query URL '<instancename>.coupahost.com/api/...?a=b&c=d', bare '&'",
    "0014-06.xml": "query URL '<instancename>.coupahost.com/api/...?a=b&c=d', bare '&'",
    "0014-07.xml": "query URL '<instancename>.coupahost.com/api/invoices?...', unclosed element",
    "0081-07.xml": "typo '<id>5<id>' leaves <id> unclosed",
    "0163-01.xml": "'...' placeholder and '<custom-fields>' written where '</custom-fields>' was meant",
    "0164-01.xml": "line numbers from the documentation page are pasted in front of every line",
    "0269-02.xml": "stray '</business-partners>' after a self-closed '<business-partners type=\"array\" />'",
    # JSON
    "0109-01.json": "'// ...' comment inside the object",
    "0140-05.json": "'<contract_id>' style placeholders and '//' comments instead of values",
    "0164-06.json": "Ruby interpolation '#{cycle_count_line.id}' as a value",
    "0164-07.json": "Ruby interpolation '#{cycle_count_line.id}' as a value",
    "0164-08.json": "Ruby interpolation '#{multi_uom_line.id}' as a value",
    "0164-09.json": "single-quoted string 'existing-lot-id'",
    "0270-01.json": "'// ...' comment after a value",
    "0275-01.json": "'# <---' comment after a value",
    "0452-02.json": "trailing comma in an object",
    "0453-01.json": "missing comma between two members",
    "0462-01.json": "'… 68 more markets.' ellipsis line inside an array",
    "0471-01.json": "'// ... invoice data objects ...' comment inside an array",
    "0513-01.json": "trailing comma in an array",
}

# Well-formed XML whose values contradict their type attribute: refused by the typed decoder.
INVALID_VALUES: dict[str, str] = {
    "0164-02.xml": "<id type=\"integer\"> holds the template '#{cycle_count_line.id}'",
    "0164-03.xml": "<inventory-lot-id type=\"integer\"> holds '#{balance_lot2.inventory_lot.id}'",
    "0164-04.xml": "<id type=\"integer\"> holds the template '#{multi_uom_line.id}'",
    "0213-02.xml": '<invoice-date type="datetime"> value is wrapped in literal double quotes',
    "0256-01.xml": "<created-by type=\"integer\"> holds a person's name, 'Kyle Eisner'",
}

NOT_SAMPLES = {"index.json", "README.md"}


def _samples(suffix: str) -> list[Path]:
    return sorted(p for p in EXAMPLES.iterdir() if p.suffix == suffix and p.name not in NOT_SAMPLES)


def _good(suffix: str) -> list[Path]:
    return [p for p in _samples(suffix) if p.name not in MALFORMED and p.name not in INVALID_VALUES]


def _load(name: str) -> tuple[str, object]:
    return codec_xml.loads((EXAMPLES / name).read_bytes())


def test_sample_directory_is_complete() -> None:
    names = {p.name for p in EXAMPLES.iterdir()} - NOT_SAMPLES
    assert len(_samples(".xml")) == 148
    assert len(_samples(".json")) == 52
    assert names == {p.name for p in _samples(".xml") + _samples(".json")}
    # The exception lists name real files only.
    assert set(MALFORMED) <= names
    assert set(INVALID_VALUES) <= names
    assert not set(MALFORMED) & set(INVALID_VALUES)


@pytest.mark.parametrize("path", _good(".json"), ids=lambda p: p.name)
def test_json_sample_parses(path: Path) -> None:
    value = codec_json.loads(path.read_bytes())
    assert isinstance(value, dict | list)


@pytest.mark.parametrize("path", _good(".xml"), ids=lambda p: p.name)
def test_xml_sample_parses(path: Path) -> None:
    tag, _value = codec_xml.loads(path.read_bytes())
    assert tag and isinstance(tag, str)


@pytest.mark.parametrize("name", sorted(MALFORMED), ids=str)
def test_malformed_sample_is_refused(name: str) -> None:
    data = (EXAMPLES / name).read_bytes()
    with pytest.raises(WireDecodeError) as info:
        if name.endswith(".json"):
            codec_json.loads(data)
        else:
            codec_xml.loads(data)
    assert info.value.line is not None  # malformed input always comes with a position
    if name.endswith(".xml"):
        # A syntax error, not the typed decoder.
        assert str(info.value).startswith("malformed XML")


@pytest.mark.parametrize("name", sorted(INVALID_VALUES), ids=str)
def test_sample_with_invalid_typed_value_is_refused(name: str) -> None:
    with pytest.raises(WireDecodeError) as info:
        _load(name)
    assert not str(info.value).startswith("malformed XML")
    assert info.value.line is not None


# --- spot checks ------------------------------------------------------------------------------


def test_account_0011_01() -> None:
    tag, value = _load("0011-01.xml")
    assert tag == "account"
    assert isinstance(value, dict)
    assert value["id"] == 41 and type(value["id"]) is int
    assert value["active"] is True
    assert value["segment-2"] is None
    assert value["name"] == "account_1475848602.731066227"
    assert value["created-at"] == datetime(2016, 10, 7, 13, 56, 43, tzinfo=UTC)
    assert value["created-at"].utcoffset() == timedelta(hours=-7)


def test_account_json_0011_02() -> None:
    value = codec_json.loads((EXAMPLES / "0011-02.json").read_bytes(), expect_object=True)
    assert isinstance(value, dict)
    assert value["id"] == 43 and type(value["id"]) is int
    assert value["active"] is True
    assert value["created-at"] == "2016-10-07T06:59:46-07:00"  # JSON keeps datetimes as strings


def test_invoice_0209_01() -> None:
    tag, value = _load("0209-01.xml")
    assert tag == "invoice-header"
    assert isinstance(value, dict)
    assert value["tax-amount"] == Decimal("35.14")
    assert value["payment-date"] is None  # <payment-date type="datetime" />
    assert value["invoice-description"] == ""  # <invoice-description type="string" />
    assert value["tax-rate"] == 8.25
    assert value["invoice-number"] == 500
    assert value["created-at"] == datetime(2008, 10, 28, 18, 19, 49, tzinfo=UTC)
    supplier = value["supplier"]
    assert isinstance(supplier, dict)
    assert supplier["primary-address"]["country"]["code"] == "US"
    assert value["account-type"] == {"id": 1, "name": "Ace Corporate"}


def test_address_with_separator_lines_0011_07() -> None:
    tag, value = _load("0011-07.xml")
    assert tag == "address"
    assert isinstance(value, dict)
    assert value["country"] == {"id": 223, "code": "US", "name": "United States"}
    assert value["location-code"] is None


def test_error_samples() -> None:
    xml = (EXAMPLES / "0015-12.xml").read_bytes()
    assert parse_errors(xml, "application/xml") == [
        "Login has already been taken",
        "Email has already been taken",
    ]
    json = (EXAMPLES / "0015-10.json").read_bytes()
    assert parse_errors(json, "application/json") == [
        "Login has already been taken",
        "Email has already been taken",
    ]
    unsniffed = (EXAMPLES / "0011-06.json").read_bytes()
    assert parse_errors(unsniffed, None) == ["Segment 1 - Cost Center can't be blank"]


# --- collections: incremental parsing agrees with whole-document parsing -------------------


def _collections() -> list[Path]:
    out = []
    for path in _good(".xml"):
        _tag, value = codec_xml.loads(path.read_bytes())
        if isinstance(value, list) and all(isinstance(item, dict) for item in value):
            out.append(path)
    return out


COLLECTIONS = _collections()


def test_collection_samples_found() -> None:
    names = {p.name for p in COLLECTIONS}
    assert {"0262-01.xml", "0239-01.xml", "0081-01.xml", "0051-02.xml"} <= names


@pytest.mark.parametrize("path", COLLECTIONS, ids=lambda p: p.name)
def test_iterparse_records_matches_loads(path: Path) -> None:
    data = path.read_bytes()
    _tag, value = codec_xml.loads(data)
    with path.open("rb") as stream:
        assert list(codec_xml.iterparse_records(stream)) == value
    assert list(codec_xml.iterparse_records(data)) == value


def test_iterparse_requisitions_0262_01() -> None:
    with (EXAMPLES / "0262-01.xml").open("rb") as stream:
        records = list(codec_xml.iterparse_records(stream, item_tag="requisition-header"))
    assert records
    assert all(type(r["id"]) is int for r in records)
