"""The fast path for unified lists answers exactly what FastAPI's route answers: the same request
goes to an app with the fast path and to one without, and the answers must be equal. A spy on the
fast path's admission shows which requests it really took, so the comparison is not vacuous."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from tests.server.conftest import SCOPES, Server

from pycoupa.server import fast_path, timing
from pycoupa.server.app import create_app
from pycoupa.server.connections import Credentials
from pycoupa.server.platform import NEEDS_REAUTH


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ([("integrated_account_id", "a")], True),
        ([("integrated_account_id", "a"), ("limit", "500"), ("include_remote_data", "TRUE")], True),
        ([("integrated_account_id", "a"), ("status", "paid"), ("remote_query[x]", "1"), ("next_cursor", "")], True),
        ([], False),  # FastAPI names the missing parameter
        ([("integrated_account_id", "a"), ("integrated_account_id", "b")], False),
        ([("integrated_account_id", "a"), ("limit", "0")], False),
        ([("integrated_account_id", "a"), ("limit", "501")], False),
        ([("integrated_account_id", "a"), ("limit", "5"), ("limit", "6")], False),
        ([("integrated_account_id", "a"), ("limit", "-1")], False),
        ([("integrated_account_id", "a"), ("include_remote_data", "yes")], False),
        ([("integrated_account_id", "a"), ("next_cursor", "x"), ("next_cursor", "y")], False),
    ],
)
def test_takes_only_what_fastapi_would_accept_as_is(query: list[tuple[str, str]], expected: bool) -> None:
    assert fast_path.takes(query) is expected


@pytest.fixture
async def both(sqlite_server: Server) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """The server's client (fast path on) and a second app on the same platform without it."""
    plain = create_app(sqlite_server.platform.settings, platform=sqlite_server.platform, fast_path=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=plain), base_url="http://pycoupa.test") as http:
        yield sqlite_server.http, http


def _answer(r: httpx.Response) -> tuple[int, Any, dict[str, str | None]]:
    headers = {h: r.headers.get(h) for h in ("content-type", "retry-after", "www-authenticate")}
    # Its durations differ from call to call; which metrics it carries must not.
    headers["server-timing"] = " ".join(sorted(timing.parse(r.headers.get("server-timing", ""))))
    return r.status_code, r.json(), headers


async def test_fast_path_answers_as_fastapi_does(
    sqlite_server: Server, both: tuple[httpx.AsyncClient, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    s = sqlite_server
    fast, plain = both
    admitted: list[bool] = []
    real_takes = fast_path.takes

    def spy(query: list[tuple[str, str]]) -> bool:
        admitted.append(real_takes(query))
        return admitted[-1]

    monkeypatch.setattr(fast_path, "takes", spy)
    account = await s.connect()
    narrow = await s.connect(scopes=("core.common.read",))
    stale = await s.connect()
    await s.platform.set_status(stale, NEEDS_REAUTH, "test")
    other_tenant = await s.platform.ensure_tenant("someone-else")
    foreign = (
        await s.platform.create_account(
            other_tenant.id, Credentials("http://127.0.0.1:9", s.client_id, s.client_secret, SCOPES)
        )
    ).id
    first = await plain.get("/unified/accounting/invoices", params={"integrated_account_id": account, "limit": "3"},
                            headers=s.auth())  # fmt: skip
    cursor = first.json()["next_cursor"]
    assert cursor

    taken: list[tuple[str, dict[str, str], dict[str, str]]] = [
        ("/unified/accounting/invoices", {"integrated_account_id": account, "limit": "3"}, s.auth()),
        (
            "/unified/accounting/invoices",
            {"integrated_account_id": account, "next_cursor": cursor, "limit": "3"},
            s.auth(),
        ),
        (
            "/unified/accounting/invoices",
            {"integrated_account_id": account, "limit": "2", "include_remote_data": "true"},
            s.auth(),
        ),
        ("/unified/accounting/contacts", {"integrated_account_id": account, "status": "active"}, s.auth()),
        ("/unified/user-directory/users", {"integrated_account_id": account, "limit": "2"}, s.auth()),
        ("/unified/accounting/invoices", {"integrated_account_id": account, "no_such_filter": "1"}, s.auth()),
        ("/unified/accounting/invoices", {"integrated_account_id": account, "next_cursor": "forged"}, s.auth()),
        ("/unified/accounting/invoices", {"integrated_account_id": "missing"}, s.auth()),
        ("/unified/accounting/invoices", {"integrated_account_id": foreign}, s.auth()),
        ("/unified/accounting/invoices", {"integrated_account_id": narrow}, s.auth()),
        ("/unified/accounting/invoices", {"integrated_account_id": stale}, s.auth()),
        ("/unified/accounting/invoices", {"integrated_account_id": account}, s.auth("pck_" + "x" * 40)),
        ("/unified/accounting/invoices", {"integrated_account_id": account}, {"Authorization": "Basic abc"}),
        ("/unified/accounting/invoices", {"integrated_account_id": account}, {"Authorization": "Bearer"}),
    ]
    left: list[tuple[str, dict[str, str], dict[str, str]]] = [
        ("/unified/accounting/invoices", {"integrated_account_id": account}, {}),
        ("/unified/accounting/invoices", {}, s.auth()),
        ("/unified/accounting/invoices", {"integrated_account_id": account, "limit": "0"}, s.auth()),
        ("/unified/accounting/invoices", {"integrated_account_id": account, "limit": "many"}, s.auth()),
        ("/unified/accounting/invoices", {"integrated_account_id": account, "include_remote_data": "maybe"}, s.auth()),
        ("/unified/accounting/nonsense", {"integrated_account_id": account}, s.auth()),
    ]
    for path, params, headers in [*taken, *left]:
        admitted.clear()
        via_fast = await fast.get(path, params=params, headers=headers)
        via_plain = await plain.get(path, params=params, headers=headers)
        assert _answer(via_fast) == _answer(via_plain), (path, params)
        expect_taken = (path, params, headers) in taken
        assert admitted == ([expect_taken] if headers and path.endswith(("invoices", "contacts", "users")) else []), (
            path, params, admitted)  # fmt: skip
    answers = [_answer(await fast.get(p, params=q, headers=h)) for p, q, h in taken]
    assert {status for status, _, _ in answers} >= {200, 400, 401, 403, 404}  # successes and every refusal
    assert {h["server-timing"] for status, _, h in answers if status == 200} == {"app coupa"}


async def test_an_unexpected_error_is_a_500_without_its_text(
    sqlite_server: Server, both: tuple[httpx.AsyncClient, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pycoupa.server.unified import engine

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("secret-looking detail")

    monkeypatch.setattr(engine, "list_records", broken)
    account = await sqlite_server.connect()
    fast, _ = both
    r = await fast.get("/unified/accounting/invoices", params={"integrated_account_id": account},
                       headers=sqlite_server.auth())  # fmt: skip
    assert r.status_code == 500 and r.json()["error"] == "internal_error"
    assert "secret-looking" not in r.text and "RuntimeError" in r.text
