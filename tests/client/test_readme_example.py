"""The README's SDK example runs as written, against the emulator (only the URL and the OAuth
client are swapped for the emulator's)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pycoupa.emulator.app import Emulator
from pycoupa.emulator.seed import SeedCounts, seed
from pycoupa.emulator.server import serve_in_thread

README = Path(__file__).resolve().parents[2] / "README.md"


def sdk_example() -> str:
    text = README.read_text()
    section = text.split("## The SDK\n", 1)[1]
    m = re.search(r"```python\n(.*?)```", section, re.S)
    assert m, "the SDK section has no python example"
    return m.group(1)


def _approved(emu: Emulator) -> int:
    rows = emu.store.execute("SELECT COUNT(*) FROM r_InvoiceHeader WHERE json_extract(doc, '$.status') = 'approved'")
    return int(rows[0][0])


def test_the_readme_sdk_example_runs_against_the_emulator(capsys: pytest.CaptureFixture[str]) -> None:
    code = sdk_example()
    emu = Emulator()
    seed(emu, SeedCounts(invoices=60, payments=10), random_seed=3)
    client_id, secret = emu.create_oauth_client(sorted(emu.known_scopes), name="readme")
    with serve_in_thread(emu) as running:
        code, swaps = re.subn(r'URL = "https://acme\.coupahost\.com"', f'URL = "{running.url}"', code)
        assert swaps == 1
        code, swaps = re.subn(r'"your-client-id", "your-client-secret"', f'"{client_id}", "{secret}"', code)
        assert swaps == 1
        approved = _approved(emu)
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    assert out.strip().endswith(f"{emu.store.count('InvoiceHeader')} invoices")
    assert _approved(emu) == approved - 1  # the example voided one approved invoice
