"""The ``pycoupa`` command line: one thin command per capability."""

from __future__ import annotations

import shlex
import tempfile
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from pycoupa._serving import tune_gc_for_serving

app = typer.Typer(help="pycoupa: Coupa emulator, SDK and unified API server.", no_args_is_help=True)
emulator_app = typer.Typer(help="Run a local Coupa instance.", no_args_is_help=True)
app.add_typer(emulator_app, name="emulator")
console = Console()

DEMO_SCOPES = (
    "core.supplier.read core.supplier.write core.invoice.read core.common.read core.accounting.read "
    "core.accounting.write core.user.read"
)


@emulator_app.command("serve")
def emulator_serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8765,
    data: Annotated[
        Path | None, typer.Option(help="SQLite file to keep state in across restarts (default: a temporary file).")
    ] = None,
    in_memory: Annotated[
        bool, typer.Option("--in-memory", help="Keep state in memory instead (fast to start; ~1 GB per 100k invoices).")
    ] = False,
    time_zone: Annotated[str, typer.Option(help="The instance's time zone (IANA name).")] = "America/Los_Angeles",
    demo: Annotated[bool, typer.Option(help="Load demo records; create an OAuth client with every scope.")] = False,
    legacy_api_keys: Annotated[bool, typer.Option(help="Accept the deprecated X-COUPA-API-KEY header.")] = False,
    seed_invoices: Annotated[
        int, typer.Option(min=0, help="Generate this many invoices with realistic related data (0: none).")
    ] = 0,
    random_seed: Annotated[int, typer.Option(help="Random seed of the data generator.")] = 0,
) -> None:
    """Serve the emulator over HTTP until interrupted."""
    import uvicorn

    from pycoupa.emulator.app import Emulator
    from pycoupa.emulator.demo import load_demo_data

    if data is not None and data.exists() and not data.is_file():
        raise typer.BadParameter(f"{data} is not a file", param_hint="--data")
    if data is not None and in_memory:
        raise typer.BadParameter("give --data FILE or --in-memory, not both", param_hint="--in-memory")
    base = f"http://{host}:{port}"
    # Without --data the state goes to a temporary file, removed at exit: SQLite then keeps only a
    # small page cache in the process (the OS caches the file), so a 100,000-invoice instance
    # serves in under 200 MB instead of holding its ~1.1 GB database in the heap.
    scratch = None if data is not None or in_memory else tempfile.TemporaryDirectory(prefix="pycoupa-emulator-")
    path = str(data) if data is not None else (f"{scratch.name}/coupa.sqlite" if scratch else None)
    try:
        emu = Emulator(path, time_zone=time_zone, base_url=base, legacy_api_keys=legacy_api_keys)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    console.print(f"[bold]Coupa emulator[/] ({emu.catalog.release}) on {base}  time zone {time_zone}")
    if seed_invoices:
        from pycoupa.emulator.seed import SeedCounts, seed

        if emu.store.count("InvoiceHeader"):
            # Seeding adds data: a file-backed instance restarted with the flag must not grow each time.
            console.print("data file already holds invoices: not seeding again")
        else:
            with console.status(f"seeding {seed_invoices:,} invoices..."):
                made = seed(emu, SeedCounts(invoices=seed_invoices), random_seed)
            console.print(f"seeded {sum(made.values()):,} records ({made.get('InvoiceHeader', 0):,} invoices)")
    if demo:
        load_demo_data(emu)
        client_id, secret = emu.create_oauth_client(sorted(emu.known_scopes), name="demo")
        token_cmd = (
            f"curl -s -X POST {base}/oauth2/token -d grant_type=client_credentials "
            f"-d client_id={client_id} -d client_secret={shlex.quote(secret)} -d scope={shlex.quote(DEMO_SCOPES)}"
        )
        console.print(f"OAuth client (every scope): client_id={client_id} client_secret={secret}")
        console.print("Get a token and call the API:", style="bold")
        print(f"  TOKEN=$({token_cmd} | python3 -c 'import sys,json; print(json.load(sys.stdin)[\"access_token\"])')")
        print(f"  curl -s {base}/api/suppliers -H \"Authorization: Bearer $TOKEN\" -H 'Accept: application/json'")
        print(
            f"  curl -s '{base}/api/accounts?account-type[name]=Acme%20Corporate' -H \"Authorization: Bearer $TOKEN\""
        )
    console.print(f"Control plane: {base}/__emulator__  (reset, oauth-clients, rate-limit, stats, clock)")
    tune_gc_for_serving()
    try:
        uvicorn.run(emu.app, host=host, port=port, log_level="info", access_log=False)
    finally:
        emu.store.close()
        if scratch is not None:
            scratch.cleanup()


# -- the unified API server ------------------------------------------------------------------------
keys_app = typer.Typer(help="Platform API keys (each belongs to one tenant).", no_args_is_help=True)
vault_app = typer.Typer(help="The credential vault's encryption keys.", no_args_is_help=True)
db_app = typer.Typer(help="The server's database schema.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(vault_app, name="vault")
app.add_typer(db_app, name="db")

DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="sqlite:///file.db or postgresql://... (env PYCOUPA_DATABASE_URL; default sqlite:///pycoupa.db)",
    ),
]
KeysOpt = Annotated[
    str | None,
    typer.Option(
        "--encryption-keys",
        help="kid:base64key, comma-separated; the first encrypts (env PYCOUPA_ENCRYPTION_KEYS; default none)",
    ),
]
KeyFileOpt = Annotated[
    str | None,
    typer.Option("--key-file", help="File holding the keys (env PYCOUPA_KEY_FILE; default .pycoupa/encryption.keys)"),
]
RedisOpt = Annotated[
    str | None,
    typer.Option(
        "--redis-url", help="redis://host:6379/0 to share limits and tokens (env PYCOUPA_REDIS_URL; default none)"
    ),
]


def _server_settings(**overrides: object) -> object:
    from pycoupa.server.settings import ServerSettings, SettingsError

    try:
        return ServerSettings.load(overrides)
    except SettingsError as exc:
        raise typer.BadParameter(str(exc)) from None


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Interface (env PYCOUPA_HOST; default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port (env PYCOUPA_PORT; default 8000)")] = None,
    database_url: DatabaseOpt = None,
    encryption_keys: KeysOpt = None,
    key_file: KeyFileOpt = None,
    redis_url: RedisOpt = None,
    coupa_rps: Annotated[
        float | None,
        typer.Option(
            help="Requests/s allowed per Coupa instance, all workers together (env PYCOUPA_COUPA_RPS; default 25)"
        ),
    ] = None,
    coupa_burst: Annotated[
        int | None, typer.Option(help="Burst per Coupa instance (env PYCOUPA_COUPA_BURST; default 20)")
    ] = None,
    coupa_headroom: Annotated[
        int | None,
        typer.Option(
            help="Of that burst, the slots left unused to absorb jitter that bunches requests on arrival "
            "(env PYCOUPA_COUPA_HEADROOM; default half the burst)"
        ),
    ] = None,
    coupa_max_wait: Annotated[
        float | None,
        typer.Option(
            help="Seconds a call may wait for its instance's budget before answering 429 "
            "(env PYCOUPA_COUPA_MAX_WAIT; default 10)"
        ),
    ] = None,
    key_rps: Annotated[
        float | None, typer.Option(help="Requests/s per API key (env PYCOUPA_KEY_RPS; default 50)")
    ] = None,
    key_burst: Annotated[
        int | None, typer.Option(help="Burst per API key (env PYCOUPA_KEY_BURST; default 100)")
    ] = None,
    account_rps: Annotated[
        float | None, typer.Option(help="Requests/s per integrated account (env PYCOUPA_ACCOUNT_RPS; default 25)")
    ] = None,
    account_burst: Annotated[
        int | None, typer.Option(help="Burst per integrated account (env PYCOUPA_ACCOUNT_BURST; default 50)")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (env PYCOUPA_WORKERS; default 1)")
    ] = None,
    demo: Annotated[
        bool | None,
        typer.Option(
            "--demo/--no-demo",
            help="Embedded emulator, seeded, with an account and a key; uses its own SQLite database "
            "(.pycoupa/demo.db), not PYCOUPA_DATABASE_URL, unless --database-url is given (env PYCOUPA_DEMO; "
            "default off)",
        ),
    ] = None,
    allow_private_instances: Annotated[
        bool | None,
        typer.Option(
            "--allow-private-instances/--public-instances-only",
            help="Let accounts point at loopback and private addresses: local emulators, on-premise instances "
            "(env PYCOUPA_ALLOW_PRIVATE_INSTANCES; default off, on in demo mode)",
        ),
    ] = None,
    log_level: Annotated[
        str | None,
        typer.Option(help="critical, error, warning, info, debug or trace (env PYCOUPA_LOG_LEVEL; default info)"),
    ] = None,
    demo_invoices: Annotated[int, typer.Option(min=1, help="Invoices to seed the demo emulator with")] = 500,
) -> None:
    """Run the unified API server (OpenAPI docs at /docs)."""
    import os

    import uvicorn

    from pycoupa.server.settings import ServerSettings

    settings = _server_settings(
        host=host, port=port, database_url=database_url, encryption_keys=encryption_keys, key_file=key_file,
        redis_url=redis_url, coupa_rps=coupa_rps, coupa_burst=coupa_burst, coupa_headroom=coupa_headroom,
        coupa_max_wait=coupa_max_wait,
        key_rps=key_rps, key_burst=key_burst, account_rps=account_rps, account_burst=account_burst, workers=workers,
        demo=demo, allow_private_instances=allow_private_instances, log_level=log_level,
    )  # fmt: skip
    assert isinstance(settings, ServerSettings)
    base = f"http://{settings.host}:{settings.port}"
    if settings.demo:
        from pycoupa.server.demo import demo_settings

        # The demo writes a tenant, a key and an account: never into a database only the
        # environment names (it may be production's); a --database-url given here is used.
        settings = demo_settings(settings, database_url_given=database_url is not None)
    _check_keys(settings)
    if settings.demo:
        from pycoupa.server.demo import connect, embedded_emulator

        with console.status(f"starting the demo emulator with {demo_invoices:,} invoices..."):
            context = embedded_emulator(demo_invoices)
            running, emu = context.__enter__()
        setup = connect(settings, emu, running.url)
        # Plain print for lines people copy: rich would wrap long ids.
        print(f"pycoupa unified API (demo) on {base}   docs: {base}/docs")
        print(f"embedded Coupa emulator: {running.url}")
        print(f"integrated account: {setup.account_id}")
        print("API key of tenant 'demo' (shown once); try:")
        print(f"  export PYCOUPA_KEY={setup.api_key}")
        print(
            f"  curl -s '{base}/unified/accounting/invoices?integrated_account_id={setup.account_id}&limit=2' "
            '-H "Authorization: Bearer $PYCOUPA_KEY"'
        )
        print(
            f"  curl -s '{base}/proxy/suppliers?integrated_account_id={setup.account_id}&limit=1' "
            '-H "Authorization: Bearer $PYCOUPA_KEY"'
        )
    else:
        console.print(f"[bold]pycoupa unified API[/] on {base}  docs: {base}/docs  database: {settings!r}")
    if settings.workers > 1 and not settings.redis_url:
        console.print(
            f"[yellow]{settings.workers} workers without --redis-url: each gets 1/{settings.workers} of every budget "
            "(Coupa's, per key, per account), so together they stay within them; set PYCOUPA_REDIS_URL to share "
            "them instead.[/]"
        )
    if settings.workers > 1:
        for name, env in ServerSettings.ENV.items():
            value = getattr(settings, name)
            os.environ[env] = str(value).lower() if isinstance(value, bool) else str(value)
        uvicorn.run("pycoupa.server.asgi:create", factory=True, host=settings.host, port=settings.port,
                    workers=settings.workers, log_level=settings.log_level, access_log=False)  # fmt: skip
        return
    from pycoupa.server.app import create_app

    server_app = create_app(settings)
    uvicorn.run(server_app, host=settings.host, port=settings.port, log_level=settings.log_level,
                access_log=False)  # fmt: skip


def _check_keys(settings: object) -> None:
    """Exit with the vault's one-line reason when the server could not open its credentials."""
    from pycoupa.server.cursor import CursorSigner
    from pycoupa.server.platform import load_keyring
    from pycoupa.server.settings import ServerSettings
    from pycoupa.server.vault import VaultError

    assert isinstance(settings, ServerSettings)
    try:
        CursorSigner(load_keyring(settings).derived("cursor"))
    except VaultError as exc:
        _fail(f"vault: {exc}")


def _fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr, no traceback."""
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _database_problem(exc: BaseException, url: str) -> str:
    """What went wrong with the database, on one line, the URL's password masked wherever it appears."""
    from urllib.parse import unquote, urlsplit

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from pycoupa.client.errors import redact, redact_url

    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    text = lines[0].strip() if lines else type(cause).__name__
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        shown = redact_url(url)
    secrets = [password, unquote(password)] if password else []
    return redact(f"database {shown}: {text}", secrets=secrets)


def _platform(database_url: str | None, encryption_keys: str | None = None, key_file: str | None = None) -> object:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from pycoupa.server.platform import Platform
    from pycoupa.server.settings import ServerSettings

    settings = _server_settings(database_url=database_url, encryption_keys=encryption_keys, key_file=key_file)
    assert isinstance(settings, ServerSettings)
    try:
        make_url(settings.database_url)
    except (ArgumentError, ValueError) as exc:  # a URL SQLAlchemy cannot parse (a bad port...)
        _fail(_database_problem(exc, settings.database_url))
    try:
        return Platform(settings)
    except (ArgumentError, ImportError) as exc:  # no such database driver, or it is not installed
        _fail(_database_problem(exc, settings.database_url))


def _run_platform(platform: object, work: object) -> object:
    import asyncio

    from sqlalchemy.exc import ArgumentError, OperationalError

    from pycoupa.server.errors import APIError
    from pycoupa.server.platform import Platform

    assert isinstance(platform, Platform)

    async def go() -> object:
        try:
            await platform.start()
            return await work(platform)  # type: ignore[operator]
        finally:
            await platform.aclose()

    try:
        return asyncio.run(go())
    except APIError as exc:  # what the API would answer 4xx, e.g. a blank tenant name
        _fail(f"error: {exc.message}")
    except (OperationalError, ArgumentError) as exc:  # unreachable database, bad URL
        _fail(_database_problem(exc, platform.settings.database_url))


@keys_app.command("create")
def keys_create(
    tenant: Annotated[str, typer.Option(help="Tenant name (created if new)")],
    name: Annotated[str, typer.Option(help="A label for the key")] = "",
    database_url: DatabaseOpt = None,
) -> None:
    """Create an API key; the key itself is printed on the last line, once."""

    async def work(p: object) -> str:
        from pycoupa.server.platform import Platform

        assert isinstance(p, Platform)
        t = await p.ensure_tenant(tenant)
        row, key = await p.create_key(t.id, name)
        console.print(f"key {row.id} for tenant {t.name!r} ({row.prefix}...): store it now, it is not shown again")
        return key

    print(_run_platform(_platform(database_url), work))


@keys_app.command("list")
def keys_list(tenant: Annotated[str, typer.Option(help="Tenant name")], database_url: DatabaseOpt = None) -> None:
    """List a tenant's keys (ids and prefixes, never the keys)."""

    async def work(p: object) -> bool:
        from pycoupa.server.platform import Platform

        assert isinstance(p, Platform)
        t = await p.find_tenant(tenant)  # listing must not create a tenant from a typo
        if t is None:
            return False
        for row in await p.list_keys(t.id):
            state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
            print(f"{row.id}  {row.prefix}...  {state}  {row.name}")
        return True

    if not _run_platform(_platform(database_url), work):
        console.print(f"no tenant named {tenant!r} (keys create --tenant makes one)", style="red")
        raise typer.Exit(1)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id")], database_url: DatabaseOpt = None) -> None:
    """Revoke a key (takes effect in every worker within a few seconds)."""

    async def work(p: object) -> bool:
        from pycoupa.server.platform import Platform

        assert isinstance(p, Platform)
        return await p.revoke_key(None, key_id)

    if not _run_platform(_platform(database_url), work):
        console.print(f"no active key {key_id}", style="red")
        raise typer.Exit(1)
    console.print(f"revoked {key_id}")


@vault_app.command("new-key")
def vault_new_key(kid: Annotated[str | None, typer.Option(help="Key id (default: random)")] = None) -> None:
    """Print a new kid:base64key entry for PYCOUPA_ENCRYPTION_KEYS (put it first to rotate)."""
    from pycoupa.server.vault import VaultError, new_key_spec

    try:
        from pycoupa.server.vault import KeyRing

        spec = new_key_spec(kid)
        KeyRing.parse(spec)
    except VaultError as exc:
        raise typer.BadParameter(str(exc)) from None
    print(spec)


@vault_app.command("re-encrypt")
def vault_re_encrypt(
    database_url: DatabaseOpt = None, encryption_keys: KeysOpt = None, key_file: KeyFileOpt = None
) -> None:
    """Reseal every integrated account's credentials with the first (primary) key."""
    from pycoupa.server.vault import VaultError

    async def work(p: object) -> int:
        from pycoupa.server.platform import Platform

        assert isinstance(p, Platform)
        return await p.re_encrypt()

    try:
        changed = _run_platform(_platform(database_url, encryption_keys, key_file), work)
    except VaultError as exc:
        _fail(f"vault: {exc}")
    console.print(f"re-encrypted {changed} integrated account(s) with the primary key")


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseOpt = None) -> None:
    """Apply the Alembic migrations (the server also does this when it starts)."""
    from sqlalchemy.exc import ArgumentError, OperationalError

    from pycoupa.server import db
    from pycoupa.server.settings import ServerSettings

    settings = _server_settings(database_url=database_url)
    assert isinstance(settings, ServerSettings)
    try:
        db.upgrade(settings.database_url)
    except (OperationalError, ArgumentError) as exc:
        _fail(_database_problem(exc, settings.database_url))
    console.print("database schema is up to date")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
