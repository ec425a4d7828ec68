"""A handful of records so that a freshly started demo instance has something to show."""

from __future__ import annotations

from pycoupa.emulator.app import Emulator
from pycoupa.emulator.writes import Writer

DEMO_SUPPLIERS = (
    {"name": "Acme Office Supplies", "number": "SUP-1001", "status": "active"},
    {"name": "Globex Logistics", "number": "SUP-1002", "status": "active"},
    {"name": "Initech Software", "number": "SUP-1003"},
)


def load_demo_data(emu: Emulator) -> None:
    """Idempotent: does nothing when the demo suppliers already exist."""
    if emu.store.execute("SELECT 1 FROM sqlite_master WHERE name = 'r_Supplier'") and emu.store.execute(
        "SELECT 1 FROM r_Supplier WHERE json_extract(doc, '$.name') = ?", (DEMO_SUPPLIERS[0]["name"],)
    ):
        return
    with emu.store.transaction():
        w = Writer(emu.schema, emu.store, emu.tz, emu.clock.now(), 1)
        for s in DEMO_SUPPLIERS:
            w.create("Supplier", dict(s))
        w.create("AccountType", {"name": "Acme Corporate", "currency": {"code": "USD"}, "active": True})
        for seg in ("Marketing", "Engineering", "Finance"):
            w.create(
                "Account",
                {
                    "name": f"US {seg}",
                    "segment-1": "US",
                    "segment-2": seg,
                    "active": True,
                    "account-type": {"name": "Acme Corporate"},
                },
            )
        w.create("Department", {"name": "Finance", "active": True})
        w.create(
            "User",
            {
                "login": "jdoe",
                "email": "jdoe@example.com",
                "firstname": "Jane",
                "lastname": "Doe",
                "active": True,
            },
        )
