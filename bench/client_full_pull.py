"""Full pull of 5,000 fully expanded invoices against the emulator over a real socket (issue 4, item 9).

The emulator runs in its own process (``pycoupa emulator serve``) with Coupa's throttle (25 req/s,
burst 20) and 150 ms of added latency per request. Three clients pull every invoice:

(a) pycoupa's ``AsyncCoupa.invoices.iter(full_pull=True)``;
(b) ``coupa-async-client`` from PyPI at its defaults;
(c) a plain sequential offset loop with httpx.

Prints records/s for each, as a share of the ceiling (25 req/s x 50 records), the 429s the
emulator answered and whether any reached the caller, and bytes per invoice with and without a
``fields`` projection.

    .venv/bin/python bench/client_full_pull.py [--invoices 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx

RPS, BURST, LATENCY_MS = 25.0, 20, 150


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def emulator(invoices: int) -> Iterator[str]:
    port = free_port()
    cmd = [sys.executable, "-m", "pycoupa.cli.main", "emulator", "serve", "--port", str(port),
           "--seed-invoices", str(invoices), "--random-seed", "4"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"{url}/__emulator__", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("emulator did not start")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def reset_counters(url: str) -> None:
    httpx.put(f"{url}/__emulator__/rate-limit", json={"rps": RPS, "burst": BURST, "retry_after": True})
    httpx.put(f"{url}/__emulator__/faults", json={"latency_ms": LATENCY_MS})
    httpx.delete(f"{url}/__emulator__/stats")
    time.sleep(1.0)  # let every bucket drain


def client(url: str) -> tuple[str, str]:
    r = httpx.post(f"{url}/__emulator__/oauth-clients", json={"scopes": ["core.invoice.read"], "name": "bench"})
    body = r.json()
    return body["client_id"], body["client_secret"]


async def pull_pycoupa(url: str, cid: str, secret: str, models: bool = True) -> int:
    from pycoupa.client import AsyncCoupa

    async with AsyncCoupa(
        url, client_id=cid, client_secret=secret, scopes=["core.invoice.read"], models=models
    ) as coupa:
        seen: Counter[int] = Counter()
        async for inv in coupa.invoices.iter(full_pull=True, partitions=8):
            seen[inv.id if models else inv["id"]] += 1
    assert set(seen.values()) == {1}
    return len(seen)


async def pull_coupa_async_client(url: str, cid: str, secret: str) -> int:
    from coupa_async_client import CoupaAsyncClient

    async with CoupaAsyncClient(f"{url}/api", f"{url}/oauth2/token", cid, secret, ["core.invoice.read"]) as c:
        ids = [item["id"] async for item in c.iter_items("invoices", params={})]
    return len(set(ids))


def pull_sequential(url: str, cid: str, secret: str) -> int:
    token = httpx.post(
        f"{url}/oauth2/token", data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    ids: set[int] = set()
    offset = 0
    with httpx.Client(timeout=60) as http:
        while True:
            r = http.get(f"{url}/api/invoices", params={"offset": offset, "limit": 50}, headers=headers)
            if r.status_code == 429:
                time.sleep(float(r.headers.get("retry-after", "1")))
                continue
            r.raise_for_status()
            page = r.json()
            ids.update(i["id"] for i in page)
            offset += len(page)
            if len(page) < 50:
                return len(ids)


def measure(name: str, url: str, run: Any, expected: int, creds: tuple[str, str]) -> None:
    reset_counters(url)
    cid, secret = creds
    start = time.perf_counter()
    try:
        got = run(url, cid, secret)
        error = ""
    except Exception as exc:  # a client that gives up is a result too
        got, error = 0, f"  FAILED: {type(exc).__name__}: {str(exc)[:120]}"
    elapsed = time.perf_counter() - start
    stats = httpx.get(f"{url}/__emulator__/stats").json()
    throttled = stats["by_status"].get("429", 0)
    rate = got / elapsed if elapsed else 0.0
    ceiling = RPS * 50
    print(
        f"{name:<24} {got:>6}/{expected} records in {elapsed:6.1f} s = {rate:7.0f} rec/s "
        f"({100 * rate / ceiling:5.1f}% of {ceiling:.0f}); 429s answered: {throttled}{error}"
    )


def bytes_per_invoice(url: str) -> None:
    reset_counters(url)
    cid, secret = client(url)
    token = httpx.post(
        f"{url}/oauth2/token", data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    full = httpx.get(f"{url}/api/invoices", params={"limit": 50}, headers=headers)
    lean = httpx.get(
        f"{url}/api/invoices",
        params={"limit": 50, "fields": '["id","invoice-number","status","total-with-taxes",{"supplier":["name"]}]'},
        headers=headers,
    )
    print(f"bytes/invoice: full {len(full.content) / 50:,.0f}; with a fields projection {len(lean.content) / 50:,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--invoices", type=int, default=5000)
    args = parser.parse_args()
    with emulator(args.invoices) as url:
        print(f"emulator {url}: {args.invoices} invoices, throttle {RPS:g} req/s burst {BURST}, +{LATENCY_MS} ms")
        # Clients are made first and one warm-up pull fills the emulator's render cache, so that
        # every client meets the same server and the figures measure the clients.
        creds = [client(url) for _ in range(5)]
        pull_sequential(url, *creds[4])
        runs = [
            ("(a) pycoupa full pull", lambda *a: asyncio.run(pull_pycoupa(*a))),
            ("(a') same, dicts", lambda *a: asyncio.run(pull_pycoupa(*a, models=False))),
            ("(b) coupa-async-client", lambda *a: asyncio.run(pull_coupa_async_client(*a))),
            ("(c) sequential offsets", pull_sequential),
        ]
        for (name, run), cred in zip(runs, creds, strict=False):
            measure(name, url, run, args.invoices, cred)
        bytes_per_invoice(url)


if __name__ == "__main__":
    main()
