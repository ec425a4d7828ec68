"""Demo mode: an embedded emulator with seeded data, one tenant, one API key and one integrated
account connected to the emulator, so ``make run`` shows the whole path on a fresh clone."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pycoupa.emulator.app import Emulator
from pycoupa.emulator.server import RunningServer, serve_in_thread
from pycoupa.server.connections import Credentials
from pycoupa.server.platform import Platform
from pycoupa.server.settings import ServerSettings

DEMO_DIR = Path(".pycoupa")
DEMO_TENANT = "demo"
# What the demo account is granted: every read the unified models need, plus the writes the
# proxy examples use.
DEMO_SCOPES = (
    "core.accounting.read",
    "core.common.read",
    "core.invoice.read",
    "core.item.read",
    "core.purchase_order.read",
    "core.requisition.read",
    "core.supplier.read",
    "core.user.read",
    "core.user_group.read",
    "core.supplier.write",
)


@dataclass
class DemoSetup:
    emulator_url: str
    api_key: str
    account_id: str


@contextmanager
def embedded_emulator(invoices: int, random_seed: int = 1) -> Iterator[tuple[RunningServer, Emulator]]:
    from pycoupa.emulator.seed import SeedCounts, seed

    emu = Emulator()
    seed(emu, SeedCounts(invoices=invoices), random_seed)
    with serve_in_thread(emu) as running:
        yield running, emu


def demo_settings(settings: ServerSettings, *, database_url_given: bool = False) -> ServerSettings:
    """Demo defaults: a fresh SQLite file and a key file under .pycoupa/ unless told otherwise.

    The database is the demo's own unless ``database_url_given`` (``--database-url`` on the command
    line): a ``PYCOUPA_DATABASE_URL`` left in the environment may name production's, and the demo
    must not add its tenant, key and loopback account there.
    """
    if not database_url_given:
        db_file = DEMO_DIR / "demo.db"
        db_file.parent.mkdir(parents=True, exist_ok=True)
        db_file.unlink(missing_ok=True)  # the embedded emulator is new each run; so is its account
        settings.database_url = f"sqlite:///{db_file}"
    if not settings.encryption_keys and not settings.key_file:
        settings.key_file = str(DEMO_DIR / "encryption.keys")
    settings.allow_private_instances = True  # the embedded emulator listens on loopback
    return settings


def known_scopes(emu: Emulator) -> list[str]:
    return [s for s in DEMO_SCOPES if s in emu.known_scopes]


async def _connect(
    settings: ServerSettings, emulator_url: str, client_id: str, secret: str, scopes: list[str]
) -> DemoSetup:
    platform = Platform(settings)
    await platform.start()
    try:
        tenant = await platform.ensure_tenant(DEMO_TENANT)
        _, key = await platform.create_key(tenant.id, "demo")
        account = await platform.create_account(
            tenant.id, Credentials(emulator_url, client_id, secret, tuple(scopes)), label="demo emulator"
        )
        return DemoSetup(emulator_url, key, account.id)
    finally:
        await platform.aclose()


def connect(settings: ServerSettings, emu: Emulator, emulator_url: str) -> DemoSetup:
    scopes = known_scopes(emu)
    client_id, secret = emu.create_oauth_client(scopes, name="pycoupa-demo")
    return asyncio.run(_connect(settings, emulator_url, client_id, secret, scopes))
