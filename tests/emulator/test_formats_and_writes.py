"""Wire formats and generic writes: negotiation, bodies in both formats, references, lines,
validation, exported, return_object, persistence."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from pycoupa.emulator.app import Emulator
from pycoupa.wire import codec_xml
from tests.conftest import TokenFactory

XML_HEADERS = {"Content-Type": "application/xml"}


@pytest.fixture
async def xml_api(http: httpx.AsyncClient, token: TokenFactory) -> httpx.AsyncClient:
    """Authorised, and sending no Accept header: Coupa answers XML."""
    http.headers["Authorization"] = f"Bearer {await token()}"
    return http


async def test_xml_is_the_default_and_json_on_request(xml_api: httpx.AsyncClient) -> None:
    r = await xml_api.get("/api/currencies/1")
    assert r.headers["content-type"].startswith("application/xml")
    assert r.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root, cur = codec_xml.loads(r.content)
    assert root == "currency" and cur["code"] == "USD" and cur["id"] == 1
    assert b'<id type="integer">1</id>' in r.content
    r = await xml_api.get("/api/currencies/1", headers={"Accept": "application/json"})
    assert r.json()["code"] == "USD"


async def test_xml_collection_wrapper_and_item_names(xml_api: httpx.AsyncClient) -> None:
    r = await xml_api.get("/api/currencies?code[in]=USD,EUR")
    root, items = codec_xml.loads(r.content)
    assert root == "currencies" and {c["code"] for c in items} == {"USD", "EUR"}
    assert b'<currencies type="array">' in r.content and b"<currency>" in r.content


async def test_create_in_xml_and_read_back_typed(xml_api: httpx.AsyncClient) -> None:
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?><account-type><name>Ace Corporate</name>'
        b"<currency><code>EUR</code></currency><active>yes</active></account-type>"
    )
    r = await xml_api.post("/api/account_types", content=body, headers=XML_HEADERS)
    assert r.status_code == 201, r.text
    root, at = codec_xml.loads(r.content)
    assert root == "account-type"
    assert at["name"] == "Ace Corporate" and at["active"] is True
    assert at["currency"] == {"id": at["currency"]["id"], "code": "EUR", "decimals": 2}  # as Coupa nests it
    assert b'<active type="boolean">true</active>' in r.content
    assert b'type="dateTime"' in r.content


async def test_json_types_decimals_are_strings_and_datetimes_have_offsets(api: httpx.AsyncClient) -> None:
    r = await api.post("/api/items", json={"name": "Pen", "description": "Blue pen", "price": "1.50"})
    assert r.status_code == 201, r.text
    item = r.json()
    if "price" in item:
        assert item["price"] == "1.50"
    assert isinstance(item["id"], int)
    assert item["created-at"][-6] in "+-" and item["created-at"][10] == "T"
    assert item["created-at"][-6:] in ("-07:00", "-08:00")  # America/Los_Angeles by default


async def test_time_zone_is_configurable() -> None:
    emu = Emulator(time_zone="Asia/Kolkata")
    cid, secret = emu.create_oauth_client(["core.common.read"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emu.app), base_url="http://c") as c:
        tok = (
            await c.post(
                "/oauth2/token", data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret}
            )
        ).json()["access_token"]
        r = await c.get("/api/uoms/1", headers={"Authorization": f"Bearer {tok}", "Accept": "application/json"})
    assert r.json()["created-at"].endswith("+05:30")
    with pytest.raises(ValueError, match="time zone"):
        Emulator(time_zone="Mars/Olympus")


async def test_nil_and_underscore_keys(api: httpx.AsyncClient, xml_api: httpx.AsyncClient) -> None:
    r = await api.post("/api/suppliers", json={"name": "Acme", "po_email": "po@acme.test", "tax_id": None})
    assert r.status_code == 201
    sup = r.json()
    assert sup["po-email"] == "po@acme.test" and "po_email" not in sup
    x = await xml_api.get(f"/api/suppliers/{sup['id']}", headers={"Accept": "application/xml"})
    assert b'<tax-id nil="true"/>' in x.content


@pytest.mark.parametrize(
    ("content", "ctype", "status", "fragment"),
    [
        (b'{"name": ', "application/json", 400, "Malformed request body"),
        (b"[1, 2]", "application/json", 400, "JSON object"),
        (b"<supplier><name>x</supplier>", "application/xml", 400, "Malformed request body"),
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
            b"<supplier><name>&lol2;</name></supplier>",
            "application/xml",
            400,
            "Malformed request body",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><supplier><name>&x;</name>'
            b"</supplier>",
            "application/xml",
            400,
            "Malformed request body",
        ),
        (b"name=x", "text/csv", 415, "Unsupported Content-Type"),
    ],
)
async def test_bad_bodies_are_refused_with_a_clear_error(
    api: httpx.AsyncClient, content: bytes, ctype: str, status: int, fragment: str
) -> None:
    r = await api.post("/api/suppliers", content=content, headers={"Content-Type": ctype})
    assert r.status_code == status
    assert fragment in r.text
    assert b"root:" not in r.content  # nothing of /etc/passwd
    assert (await api.get("/api/suppliers")).json() == []  # nothing half-written


async def test_supplier_needs_only_a_name_and_defaults(api: httpx.AsyncClient) -> None:
    r = await api.post("/api/suppliers", json={})
    assert r.status_code == 400
    assert r.json() == {"errors": {"supplier": ["Name can't be blank"]}}
    r = await api.post("/api/suppliers", json={"name": "Acme"})
    assert r.status_code == 201
    dup = await api.post("/api/suppliers", json={"name": "Acme"})
    assert dup.status_code == 400 and dup.json()["errors"]["supplier"] == ["Name has already been taken"]


async def test_account_needs_an_existing_account_type(api: httpx.AsyncClient) -> None:
    r = await api.post("/api/accounts", json={"segment-1": "X"})
    assert r.status_code == 400 and "Account type can't be blank" in r.json()["errors"]["account"]
    r = await api.post("/api/accounts", json={"segment-1": "X", "account-type": {"name": "Nope"}})
    assert r.status_code == 400
    assert "Account type not found: no account-type with name 'Nope'" in r.json()["errors"]["account"]


async def test_references_by_id_or_natural_key_and_all_keys_must_match(api: httpx.AsyncClient) -> None:
    at = (await api.post("/api/account_types", json={"name": "Ace", "currency": {"code": "USD"}})).json()
    assert at["currency"]["id"] == 1
    by_id = await api.post("/api/accounts", json={"segment-1": "A", "account-type": {"id": at["id"]}})
    assert by_id.status_code == 201 and by_id.json()["account-type"]["name"] == "Ace"
    by_fk = await api.post("/api/accounts", json={"segment-1": "B", "account_type_id": at["id"]})
    assert by_fk.status_code == 201 and by_fk.json()["account-type"]["id"] == at["id"]
    both = await api.post("/api/accounts", json={"segment-1": "C", "account-type": {"id": at["id"], "name": "Ace"}})
    assert both.status_code == 201
    mismatch = await api.post("/api/accounts", json={"segment-1": "D", "account-type": {"id": at["id"], "name": "X"}})
    assert mismatch.status_code == 400
    assert "Account type not found" in mismatch.json()["errors"]["account"][0]
    no_key = await api.post("/api/accounts", json={"segment-1": "E", "account-type": {"active": True}})
    assert no_key.status_code == 400 and "must be given by one of: id, name" in no_key.text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "x" * 101}, "Name is too long (maximum is 100 characters)"),
        ({"name": "Ok", "status": "bogus"}, "Status is not included in the list"),
        ({"name": "Ok", "invoice-matching-level": "4-way"}, "Invoice matching level is not included in the list"),
        ({"name": "Ok", "allow-cxml-invoicing": "maybe"}, "Allow cxml invoicing is not a valid boolean"),
        ({"name": {"first": "x"}}, "Name must be a single value"),
    ],
)
async def test_validation_messages_are_rails_style(
    api: httpx.AsyncClient, body: dict[str, object], message: str
) -> None:
    r = await api.post("/api/suppliers", json=body)
    assert r.status_code == 400
    assert message in r.json()["errors"]["supplier"]


async def test_validation_errors_in_xml(xml_api: httpx.AsyncClient) -> None:
    r = await xml_api.post("/api/suppliers", content=b"<supplier><number>1</number></supplier>", headers=XML_HEADERS)
    assert r.status_code == 400
    root, value = codec_xml.loads(r.content)
    assert root == "errors" and value == {"error": "Name can't be blank"}


async def test_read_only_and_unknown_fields_are_ignored_and_reported(api: httpx.AsyncClient) -> None:
    r = await api.post(
        "/api/suppliers",
        json={"name": "Acme", "id": 999, "created-at": "2001-01-01T00:00:00Z", "frobnicate": 1, "exported": True},
    )
    assert r.status_code == 201
    sup = r.json()
    assert sup["id"] != 999 and not sup["created-at"].startswith("2001")
    assert "frobnicate" in r.headers["x-emulator-ignored-attributes"]
    assert sup["created-by"]["login"].startswith("oauth-") and sup["updated-by"]["id"] == sup["created-by"]["id"]


async def test_update_is_partial_and_unknown_id_is_404(api: httpx.AsyncClient) -> None:
    sup = (await api.post("/api/suppliers", json={"name": "Acme", "number": "N1"})).json()
    r = await api.put(f"/api/suppliers/{sup['id']}", json={"status": "active"})
    assert r.status_code == 200
    assert r.json()["number"] == "N1" and r.json()["status"] == "active"
    r = await api.patch(f"/api/suppliers/{sup['id']}", json={"number": "N2"})
    assert r.json()["number"] == "N2" and r.json()["status"] == "active"
    missing = await api.put("/api/suppliers/424242", json={"status": "active"})
    assert missing.status_code == 404
    assert missing.json() == {"errors": {"supplier": ["Couldn't find supplier with id 424242"]}}


async def test_delete_only_where_the_spec_has_it(api: httpx.AsyncClient) -> None:
    sup = (await api.post("/api/suppliers", json={"name": "Acme"})).json()
    r = await api.delete(f"/api/suppliers/{sup['id']}")
    assert r.status_code == 405 and "GET" in r.headers["allow"]
    grp = (await api.post("/api/user_groups", json={"name": "Approvers"})).json()
    member = await api.post("/api/user_group_memberships", json={"user-group": {"id": grp["id"]}, "user": {"id": 1}})
    assert member.status_code == 201, member.text
    gone = await api.delete(f"/api/user_group_memberships/{member.json()['id']}")
    assert gone.status_code == 200
    assert (await api.get(f"/api/user_group_memberships/{member.json()['id']}")).status_code == 404


async def test_unknown_route_is_404(api: httpx.AsyncClient) -> None:
    r = await api.get("/api/no_such_things")
    assert r.status_code == 404 and "No route matches /api/no_such_things" in r.text


async def test_nested_lines_add_update_delete(api: httpx.AsyncClient) -> None:
    sup = (await api.post("/api/suppliers", json={"name": "Acme"})).json()
    r = await api.post(
        "/api/purchase_orders",
        json={
            "po-number": "PO-1",
            "type": "ExternalOrderHeader",
            "supplier": {"name": "Acme"},
            "order-lines": [
                {"line-num": 1, "description": "Pens", "quantity": "10", "price": "1.25"},
                {"line-num": 2, "description": "Paper", "quantity": "2", "price": "4.00"},
            ],
        },
    )
    assert r.status_code == 201, r.text
    po = r.json()
    assert po["supplier"]["id"] == sup["id"]
    lines = po["order-lines"]
    assert [line["description"] for line in lines] == ["Pens", "Paper"]
    assert lines[0]["price"] == "1.25"
    r = await api.put(
        f"/api/purchase_orders/{po['id']}",
        json={
            "order-lines": [
                {"id": lines[0]["id"], "quantity": "12"},
                {"id": lines[1]["id"], "_delete": True},
                {"line-num": 3, "description": "Ink", "quantity": "1", "price": "9.99"},
            ]
        },
    )
    assert r.status_code == 200, r.text
    after = r.json()["order-lines"]
    assert [(line["description"], line["quantity"]) for line in after] == [("Pens", "12"), ("Ink", "1")]
    foreign = await api.put(f"/api/purchase_orders/{po['id']}", json={"order-lines": [{"id": 99999, "quantity": "1"}]})
    assert foreign.status_code == 400 and "no entry with id 99999" in foreign.text


async def test_exported_changes_only_through_its_mechanisms(api: httpx.AsyncClient) -> None:
    sup = (await api.post("/api/suppliers", json={"name": "Acme"})).json()
    po = (await api.post("/api/purchase_orders", json={"po-number": "PO-9", "supplier": {"id": sup["id"]}})).json()
    assert po["exported"] is False and po["last-exported-at"] is None
    r = await api.put(f"/api/purchase_orders/{po['id']}?exported=true")
    assert r.status_code == 200 and r.json()["exported"] is True and r.json()["last-exported-at"]
    r = await api.get("/api/purchase_orders?exported=false")
    assert r.json() == []
    r = await api.put(f"/api/purchase_orders/{po['id']}", json={"exported": False})
    assert r.json()["exported"] is False
    r = await api.put(f"/api/purchase_orders/{po['id']}?exported=maybe")
    assert r.status_code == 400
    r = await api.put(f'/api/purchase_orders/{po["id"]}?exported=true&return_object=none&fields=["id"]')
    assert r.status_code == 200 and r.content == b""
    r = await api.put(f"/api/purchase_orders/{po['id']}", params={"fields": '["id","exported"]'})
    assert r.json() == {"id": po["id"], "exported": True}


@pytest.mark.parametrize(
    ("mode", "check"),
    [
        ("none", lambda r: r.content == b""),
        ("limited", lambda r: r.json() == {"id": r.json()["id"]}),
        (
            "shallow",
            lambda r: r.json()["currency"] == {"id": 1, "code": "USD"} and "name" in r.json(),
        ),
    ],
)
async def test_return_object_on_create(api: httpx.AsyncClient, mode: str, check: object) -> None:
    r = await api.post(f"/api/account_types?return_object={mode}", json={"name": f"T-{mode}", "currency": {"id": 1}})
    assert r.status_code == 201
    assert check(r)  # type: ignore[operator]


async def test_decimals_keep_their_scale_and_reject_garbage(api: httpx.AsyncClient) -> None:
    await api.post("/api/suppliers", json={"name": "Acme"})
    r = await api.post(
        "/api/purchase_orders",
        json={
            "po-number": "P2",
            "supplier": {"name": "Acme"},
            "order-lines": [{"line-num": 1, "description": "x", "price": "10.80", "quantity": "1E+1"}],
        },
    )
    assert r.status_code == 201, r.text
    line = r.json()["order-lines"][0]
    assert line["price"] == "10.80" and Decimal(line["quantity"]) == 10
    bad = await api.post(
        "/api/purchase_orders",
        json={
            "po-number": "P3",
            "supplier": {"name": "Acme"},
            "order-lines": [{"line-num": 1, "description": "x", "price": "ten"}],
        },
    )
    assert bad.status_code == 400 and "price is not a number" in bad.text.lower()


async def test_state_survives_a_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "coupa.sqlite")
    first = Emulator(path)
    cid, secret = first.create_oauth_client(["core.supplier.read", "core.supplier.write"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=first.app), base_url="http://c") as c:
        tok = (
            await c.post(
                "/oauth2/token", data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret}
            )
        ).json()["access_token"]
        h = {"Authorization": f"Bearer {tok}", "Accept": "application/json"}
        assert (await c.post("/api/suppliers", json={"name": "Durable"}, headers=h)).status_code == 201
    first.store.close()
    second = Emulator(path)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=second.app), base_url="http://c") as c:
        r = await c.get("/api/suppliers", headers=h)  # the old token still verifies: same signing key
        assert r.status_code == 200 and [s["name"] for s in r.json()] == ["Durable"]
        assert (await c.get("/api/currencies?code=USD", headers=h)).status_code in (200, 403)
        r = await c.post(
            "/oauth2/token", data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret}
        )
        assert r.status_code == 200


async def test_reset_returns_to_a_fresh_instance(emu: Emulator, api: httpx.AsyncClient) -> None:
    await api.post("/api/suppliers", json={"name": "Acme"})
    r = await api.post("/__emulator__/reset")
    assert r.status_code == 200
    # tokens and clients are gone with the reset
    assert (await api.get("/api/suppliers")).status_code == 401
    client = (await api.post("/__emulator__/oauth-clients", json={"scopes": ["core.supplier.read"]})).json()
    tok = (
        await api.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials", **{k: client[k] for k in ("client_id", "client_secret")}},
        )
    ).json()["access_token"]
    r = await api.get("/api/suppliers", headers={"Authorization": f"Bearer {tok}"})
    assert r.json() == []
    assert emu.store.count("Currency") > 150 and emu.store.get("Country", 223)["code"] == "US"  # type: ignore[index]


@pytest.mark.parametrize(
    "body", [{}, {"scopes": "core.supplier.read"}, {"scopes": ["core.bogus.read"]}, {"scopes": [], "name": 3}]
)
async def test_oauth_client_creation_is_validated(http: httpx.AsyncClient, body: dict[str, object]) -> None:
    r = await http.post("/__emulator__/oauth-clients", json=body)
    assert r.status_code == 400 and r.json()["error"]


async def test_head_answers_as_the_get_without_a_body(api: httpx.AsyncClient) -> None:
    sup = (await api.post("/api/suppliers", json={"name": "Heady Ltd"})).json()
    got = await api.get(f"/api/suppliers/{sup['id']}")
    head = await api.head(f"/api/suppliers/{sup['id']}")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(got.content))
    assert head.headers["content-type"] == got.headers["content-type"]
    missing = await api.head("/api/suppliers/424242")
    assert missing.status_code == 404 and missing.content == b""
    assert (await api.head("/api/no_such_things")).status_code == 404
