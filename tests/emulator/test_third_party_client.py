"""A client we did not write works against the emulator: ``coupa-async-client`` from PyPI pages
through every invoice over a real socket (uvicorn on 127.0.0.1) and gets each exactly once."""

from __future__ import annotations

from collections import Counter

from coupa_async_client import CoupaAsyncClient

from pycoupa.emulator.app import Emulator
from pycoupa.emulator.server import serve_in_thread
from pycoupa.emulator.writes import Writer

INVOICES = 230  # not a multiple of 50: the last page is short


def _seed_invoices(emu: Emulator, n: int) -> None:
    with emu.store.transaction():
        w = Writer(emu.schema, emu.store, emu.tz, emu.clock.now(), 1)
        w.create("Supplier", {"name": "Acme", "status": "active"})
        for i in range(n):
            w.create(
                "InvoiceHeader",
                {
                    "invoice-number": f"INV-{i:05d}",
                    "invoice-date": "2026-01-15",
                    "supplier": {"name": "Acme"},
                    "currency": {"code": "USD"},
                    "invoice-lines": [{"line-num": 1, "description": "x", "price": f"{i}.00", "quantity": "1"}],
                },
            )


async def test_coupa_async_client_pages_every_invoice_exactly_once() -> None:
    emu = Emulator()
    _seed_invoices(emu, INVOICES)
    client_id, secret = emu.create_oauth_client(["core.invoice.read"])
    with serve_in_thread(emu) as running:
        async with CoupaAsyncClient(
            base_url=f"{running.url}/api",
            token_url=f"{running.url}/oauth2/token",
            client_id=client_id,
            client_secret=secret,
            scopes=["core.invoice.read"],
            default_concurrent=4,
        ) as client:
            seen = Counter()
            async for invoice in client.iter_items("invoices", params={}):
                seen[invoice["id"]] += 1
    assert len(seen) == INVOICES
    assert set(seen.values()) == {1}
    stats = emu.stats.snapshot()
    assert stats["by_status"].get("200", 0) >= INVOICES // 50 + 1
