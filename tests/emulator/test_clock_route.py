"""``POST /__emulator__/clock`` over HTTP: moving the instance's clock expires tokens and dates
records, without waiting; a bad body answers 400 naming the problem and moves nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from tests.conftest import TokenFactory

TOKEN_LIFETIME = 86399  # coupa-api.md: expires_in 86399


async def _clock(http: httpx.AsyncClient) -> float:
    r = await http.get("/__emulator__/clock")
    assert r.status_code == 200, r.text
    return float(r.json()["offset_seconds"])


async def test_advancing_the_clock_expires_a_token(http: httpx.AsyncClient, token: TokenFactory) -> None:
    tok = await token("core.supplier.read")
    headers = {"Authorization": f"Bearer {tok}", "Accept": "application/json"}
    assert (await http.get("/api/suppliers", headers=headers)).status_code == 200

    r = await http.post("/__emulator__/clock", json={"advance_seconds": TOKEN_LIFETIME - 1})
    assert r.status_code == 200, r.text
    assert r.json()["offset_seconds"] == TOKEN_LIFETIME - 1
    now = datetime.fromisoformat(r.json()["now"])
    assert now - datetime.now(now.tzinfo) > timedelta(seconds=TOKEN_LIFETIME - 10)
    assert (await http.get("/api/suppliers", headers=headers)).status_code == 200  # one second to go

    r = await http.post("/__emulator__/clock", json={"advance_seconds": 2})
    assert r.status_code == 200 and r.json()["offset_seconds"] == TOKEN_LIFETIME + 1
    expired = await http.get("/api/suppliers", headers=headers)
    assert expired.status_code == 401
    assert "expired" in expired.json()["errors"]["error"][0]
    # a token minted on the moved clock works
    fresh = await token("core.supplier.read")
    fresh_headers = {"Authorization": f"Bearer {fresh}", "Accept": "application/json"}
    assert (await http.get("/api/suppliers", headers=fresh_headers)).status_code == 200
    assert await _clock(http) == TOKEN_LIFETIME + 1


async def test_advancing_the_clock_dates_new_records(api: httpx.AsyncClient) -> None:
    first = (await api.post("/api/suppliers", json={"name": "Before"})).json()
    # six hours on (the API token, good for a day, still works)
    assert (await api.post("/__emulator__/clock", json={"advance_seconds": 6 * 3600})).status_code == 200
    second = (await api.post("/api/suppliers", json={"name": "After"})).json()
    created = datetime.fromisoformat(first["created-at"])
    assert datetime.fromisoformat(second["created-at"]) - created >= timedelta(hours=6)
    bound = (created + timedelta(hours=1)).isoformat()
    r = await api.get("/api/suppliers", params={"created-at[gt]": bound})
    assert [s["name"] for s in r.json()] == ["After"]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({}, "advance_seconds is required"),
        ({"advance_seconds": "60"}, "advance_seconds must be a number"),
        ({"advance_seconds": True}, "advance_seconds must be a number"),
        ({"advance_seconds": None}, "advance_seconds must be a number"),
        ({"advance_seconds": -5}, "advance_seconds must be at least 0"),
        ([60], "body must be a JSON object"),
        (b"{advance_seconds: 60", "body is not valid JSON"),
    ],
)
async def test_a_bad_clock_body_is_400_naming_the_problem(http: httpx.AsyncClient, body: object, problem: str) -> None:
    if isinstance(body, bytes):
        r = await http.post("/__emulator__/clock", content=body, headers={"Content-Type": "application/json"})
    else:
        r = await http.post("/__emulator__/clock", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith(problem)
    assert await _clock(http) == 0.0  # nothing moved
