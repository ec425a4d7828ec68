"""Fault injection: validation, seeded determinism, scripted faults, each fault kind's answer,
resets over a real socket, latency, and the control plane staying out of it."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from pycoupa.emulator.app import Emulator
from pycoupa.emulator.faults import FaultInjector, FaultMiddleware, InjectedReset, routes
from pycoupa.emulator.server import serve_in_thread

JSON = {"Accept": "application/json"}


def wired(emu: Emulator) -> Emulator:
    """Wire faults in as app.py does; once app.py does it itself this is a no-op."""
    if not hasattr(emu, "faults"):
        injector = emu.faults = FaultInjector()  # type: ignore[attr-defined]
        front = Starlette(routes=[*routes(emu), Mount("/", app=emu.app)])  # type: ignore[arg-type]
        emu.app = FaultMiddleware(front, injector)  # type: ignore[assignment]
    return emu


@pytest.fixture
def faulty(emu: Emulator) -> Emulator:
    return wired(emu)


@asynccontextmanager
async def authorised(emu: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client with every scope; its token is minted before any fault is set, and the
    emulator's own throttle is off so that every 429 seen is an injected one."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emu.app), base_url="http://coupa.test") as c:
        assert (await c.put("/__emulator__/rate-limit", json={"enabled": False})).status_code == 200
        cid, secret = emu.create_oauth_client(sorted(emu.known_scopes))
        r = await c.post(
            "/oauth2/token", data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret}
        )
        assert r.status_code == 200, r.text
        c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        yield c


@pytest.fixture
async def client(faulty: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    async with authorised(faulty) as c:
        yield c


async def put_faults(c: httpx.AsyncClient, settings: dict[str, Any]) -> dict[str, Any]:
    r = await c.put("/__emulator__/faults", json=settings)
    assert r.status_code == 200, r.text
    return dict(r.json())


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"rates": {"504": 0.1}}, "'504'"),
        ({"rates": {"500": 1.5}}, "rates['500']"),
        ({"rates": {"500": -0.1}}, "rates['500']"),
        ({"rates": {"500": "0.1"}}, "rates['500']"),
        ({"rates": {"500": 0.6, "503": 0.5}}, "sum"),
        ({"rates": [0.1]}, "rates"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"latency_ms_per_kb": "slow"}, "latency_ms_per_kb"),
        ({"script": [{"nth": 0, "fault": "503"}]}, "script[0].nth"),
        ({"script": [{"nth": 2.5, "fault": "503"}]}, "script[0].nth"),
        ({"script": [{"nth": 1, "fault": "503"}, {"nth": 2, "fault": "teapot"}]}, "script[1].fault"),
        ({"script": [{"nth": 1}]}, "script[0].fault"),
        ({"script": [{"nth": 1, "fault": "503"}, {"nth": 1, "fault": "500"}]}, "script[1].nth"),
        ({"random_seed": "abc"}, "random_seed"),
        ({"random_seed": 1.5}, "random_seed"),
        ({"rate": {"500": 0.1}}, "'rate'"),
    ],
)
async def test_bad_settings_answer_400_naming_the_problem(
    client: httpx.AsyncClient, settings: dict[str, Any], named: str
) -> None:
    before = (await client.get("/__emulator__/faults")).json()
    r = await client.put("/__emulator__/faults", json=settings)
    assert r.status_code == 400
    assert named in r.json()["error"]
    assert (await client.get("/__emulator__/faults")).json() == before  # nothing half-applied


async def test_bad_json_is_refused(client: httpx.AsyncClient) -> None:
    r = await client.put("/__emulator__/faults", content=b"{not json")
    assert r.status_code == 400 and "JSON" in r.json()["error"]
    r = await client.put("/__emulator__/faults", json=[1])
    assert r.status_code == 400 and "object" in r.json()["error"]


def test_injector_validates_directly() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        FaultInjector().configure({"rates": {"418": 0.5}})


async def _statuses(c: httpx.AsyncClient, count: int) -> list[int]:
    return [(await c.get("/api/currencies/1", headers=JSON)).status_code for _ in range(count)]


async def test_seeded_faults_repeat_across_fresh_emulators() -> None:
    settings = {"rates": {"500": 0.2, "503": 0.1, "429": 0.1}, "random_seed": 42}
    runs = []
    for _ in range(2):
        async with authorised(wired(Emulator())) as c:
            await put_faults(c, settings)
            runs.append(await _statuses(c, 50))
    assert runs[0] == runs[1]
    assert {200, 500, 503, 429} <= set(runs[0])


async def test_rates_are_roughly_honoured_and_counted(client: httpx.AsyncClient) -> None:
    await put_faults(client, {"rates": {"500": 0.2, "502": 0.1, "429": 0.1}, "random_seed": 7})
    seen = Counter(await _statuses(client, 500))
    for status, rate in ((500, 0.2), (502, 0.1), (429, 0.1)):
        assert abs(seen[status] / 500 - rate) <= 0.07, seen
    assert seen[200] + seen[500] + seen[502] + seen[429] == 500
    counters = (await client.get("/__emulator__/faults")).json()["counters"]
    assert counters["requests"] == 500
    assert counters["injected"] == {
        "500": seen[500],
        "502": seen[502],
        "503": 0,
        "html_503": 0,
        "429": seen[429],
        "reset": 0,
    }


async def test_script_faults_exactly_the_nth_request(client: httpx.AsyncClient) -> None:
    await put_faults(client, {"script": [{"nth": 3, "fault": "503"}]})
    assert await _statuses(client, 6) == [200, 200, 503, 200, 200, 200]


async def test_script_wins_over_rates_and_does_not_shift_the_draws(client: httpx.AsyncClient) -> None:
    base = {"rates": {"500": 0.5}, "random_seed": 3}
    await put_faults(client, base)
    plain = await _statuses(client, 10)
    await put_faults(client, {**base, "script": [{"nth": 4, "fault": "502"}]})
    scripted = await _statuses(client, 10)
    assert scripted[3] == 502
    assert scripted[:3] + scripted[4:] == plain[:3] + plain[4:]


async def test_a_post_under_503_creates_nothing(faulty: Emulator, client: httpx.AsyncClient) -> None:
    await put_faults(client, {"rates": {"503": 1}})
    r = await client.post("/api/items", json={"name": "Pen", "description": "Blue pen"}, headers=JSON)
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {"errors": {"error": ["Service Unavailable"]}}
    assert faulty.store.count("Item") == 0
    await client.delete("/__emulator__/faults")
    r = await client.post("/api/items", json={"name": "Pen", "description": "Blue pen"}, headers=JSON)
    assert r.status_code == 201 and faulty.store.count("Item") == 1


async def test_error_envelope_is_xml_unless_json_is_asked_for(client: httpx.AsyncClient) -> None:
    await put_faults(client, {"rates": {"500": 1}})
    r = await client.get("/api/currencies/1")
    assert r.status_code == 500 and r.headers["content-type"].startswith("application/xml")
    assert r.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert b"<errors><error>We're sorry, but something went wrong.</error></errors>" in r.content


async def test_html_503_is_an_html_page_whatever_the_accept(client: httpx.AsyncClient) -> None:
    await put_faults(client, {"rates": {"html_503": 1}})
    r = await client.get("/api/currencies/1", headers=JSON)
    assert r.status_code == 503 and r.headers["content-type"].startswith("text/html")
    assert b"Service Temporarily Unavailable" in r.content


async def test_429_says_when_to_retry(client: httpx.AsyncClient) -> None:
    await put_faults(client, {"script": [{"nth": 1, "fault": "429"}]})
    r = await client.get("/api/currencies/1", headers=JSON)
    assert r.status_code == 429 and r.headers["retry-after"] == "1"
    assert "errors" in r.json()


async def test_oauth_token_requests_fault_too(faulty: Emulator, client: httpx.AsyncClient) -> None:
    await put_faults(client, {"rates": {"502": 1}})
    cid, secret = faulty.create_oauth_client(["core.common.read"])
    r = await client.post(
        "/oauth2/token", data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret}
    )
    assert r.status_code == 502


async def test_reset_in_process_raises_instead_of_a_short_body(client: httpx.AsyncClient) -> None:
    await put_faults(client, {"script": [{"nth": 1, "fault": "reset"}]})
    with pytest.raises(InjectedReset, match="reset after"):
        await client.get("/api/currencies/1")
    assert (await client.get("/api/currencies/1")).status_code == 200


def test_reset_over_a_socket_breaks_the_read_never_a_short_200(faulty: Emulator) -> None:
    cid, secret = faulty.create_oauth_client(["core.common.read"])
    with serve_in_thread(faulty) as running, httpx.Client(base_url=running.url) as c:
        tok = c.post(
            "/oauth2/token", data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret}
        ).json()["access_token"]
        c.headers["Authorization"] = f"Bearer {tok}"
        assert (
            c.put(
                "/__emulator__/faults", json={"script": [{"nth": 1, "fault": "reset"}, {"nth": 2, "fault": "reset"}]}
            ).status_code
            == 200
        )
        with pytest.raises(httpx.RemoteProtocolError):
            c.get("/api/currencies/1")
        # A small JSON body too (the XML one above is larger): still cut, still loud.
        with pytest.raises(httpx.RemoteProtocolError):
            c.get("/api/currencies/1", headers=JSON)
        r = c.get("/api/currencies/1")
        assert r.status_code == 200 and b"<code>USD</code>" in r.content
        assert c.get("/__emulator__/faults").json()["counters"]["injected"]["reset"] == 2


async def test_latency_is_added(client: httpx.AsyncClient) -> None:
    await put_faults(client, {"latency_ms": 150})
    started = time.monotonic()
    assert (await client.get("/api/currencies/1")).status_code == 200
    assert 0.14 <= time.monotonic() - started < 5


async def test_latency_is_a_round_trip_the_request_is_handled_on_arrival(
    faulty: Emulator, client: httpx.AsyncClient
) -> None:
    """The answer is held, not the request: a write is applied while its answer is still on the way
    (so a client that times out meanwhile has an ambiguous write, as against a real instance), and
    concurrent requests wait out their latency together instead of queueing behind each other."""
    import asyncio

    await put_faults(client, {"latency_ms": 1500})
    before = faulty.store.count("Supplier")
    started = time.monotonic()
    write = asyncio.create_task(client.post("/api/suppliers", json={"name": "Held Answer Ltd"}, headers=JSON))
    while faulty.store.count("Supplier") == before and time.monotonic() - started < 5:
        await asyncio.sleep(0.01)
    applied_after = time.monotonic() - started
    assert applied_after < 1.0, f"the write was applied only after {applied_after:.2f} s"
    assert not write.done()
    assert (await write).status_code == 201
    assert time.monotonic() - started >= 1.45

    reads = [client.get("/api/currencies/1", headers=JSON) for _ in range(8)]
    started = time.monotonic()
    answers = await asyncio.gather(*reads)
    assert {r.status_code for r in answers} == {200}
    assert 1.45 <= time.monotonic() - started < 2.9


async def test_latency_per_kb_scales_with_the_response_body(client: httpx.AsyncClient) -> None:
    size = len((await client.get("/api/currencies/1")).content)
    per_kb = 150 / (size / 1024)  # this body should take about 150 ms longer
    await put_faults(client, {"latency_ms_per_kb": per_kb})
    started = time.monotonic()
    assert (await client.get("/api/currencies/1")).status_code == 200
    assert 0.14 <= time.monotonic() - started < 5


async def test_delete_clears_settings_and_counters(client: httpx.AsyncClient) -> None:
    settings = {
        "rates": {"503": 1},
        "latency_ms": 1,
        "latency_ms_per_kb": 2,
        "script": [{"nth": 2, "fault": "reset"}],
        "random_seed": 5,
    }
    shown = await put_faults(client, settings)
    assert shown["rates"]["503"] == 1 and shown["script"] == settings["script"] and shown["random_seed"] == 5
    assert shown["latency_ms"] == 1 and shown["latency_ms_per_kb"] == 2
    assert (await client.get("/api/currencies/1")).status_code == 503
    assert (await client.get("/__emulator__/faults")).json()["counters"] == {
        "requests": 1,
        "injected": {"500": 0, "502": 0, "503": 1, "html_503": 0, "429": 0, "reset": 0},
    }
    cleared = (await client.delete("/__emulator__/faults")).json()
    assert cleared["counters"]["requests"] == 0 and set(cleared["rates"].values()) == {0}
    assert cleared["script"] == [] and cleared["random_seed"] is None and cleared["latency_ms"] == 0
    assert (await client.get("/api/currencies/1")).status_code == 200


async def test_the_control_plane_never_faults_nor_counts(client: httpx.AsyncClient) -> None:
    await put_faults(client, {"rates": {"503": 1}, "script": [{"nth": 1, "fault": "reset"}]})
    for _ in range(3):
        assert (await client.get("/__emulator__")).status_code == 200
        assert (await client.get("/__emulator__/stats")).status_code == 200
    assert (await client.get("/__emulator__/faults")).json()["counters"]["requests"] == 0
