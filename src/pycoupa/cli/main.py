"""The ``pycoupa`` command line: one thin command per capability."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

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
    data: Annotated[Path | None, typer.Option(help="SQLite file to keep state in (default: memory).")] = None,
    time_zone: Annotated[
        str, typer.Option(help="The instance's time zone (IANA name).")
    ] = "America/Los_Angeles",
    demo: Annotated[
        bool, typer.Option(help="Load demo records; create an OAuth client with every scope.")
    ] = False,
    legacy_api_keys: Annotated[
        bool, typer.Option(help="Accept the deprecated X-COUPA-API-KEY header.")
    ] = False,
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
    base = f"http://{host}:{port}"
    try:
        emu = Emulator(
            str(data) if data else None, time_zone=time_zone, base_url=base, legacy_api_keys=legacy_api_keys
        )
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
        print(
            f"  TOKEN=$({token_cmd} | python3 -c 'import sys,json; print(json.load(sys.stdin)[\"access_token\"])')"
        )
        print(
            f"  curl -s {base}/api/suppliers -H \"Authorization: Bearer $TOKEN\" -H 'Accept: application/json'"
        )
        print(
            f"  curl -s '{base}/api/accounts?account-type[name]=Acme%20Corporate' -H \"Authorization: Bearer $TOKEN\""
        )
    console.print(f"Control plane: {base}/__emulator__  (reset, oauth-clients, rate-limit, stats, clock)")
    uvicorn.run(emu.app, host=host, port=port, log_level="info", access_log=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
