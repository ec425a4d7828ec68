"""How fast the emulator serves fully expanded JSON pages of invoices (issue 3, item 8).

Seeds N invoices (1 to 10 lines each), then pulls pages of 50 filtered by ``status=approved`` and
``updated-at[gt]`` with keyset paging (``id[gt]``), the way an integration pages through, and
prints pages/s, ms per page, bytes per page and peak RSS. Give two sizes to see that the cost of a
page does not grow with the number of stored invoices; each size runs in a child process of its
own (same interpreter, same CPU affinity), and a table compares them at the end:

    taskset -c 1 .venv/bin/python bench/emulator_page_speed.py --invoices 10000 100000

With several sizes (file-backed), the parent then opens every size's database and serves cold
pages from each in turn, so that the comparison between sizes is not skewed by what else the
machine was doing while one of them ran (its absolute figures run ~10% above the others: the
instances evict each other from the CPU caches).

Passes, each from empty render caches unless said otherwise:

- ``cold (server)``: pages never served before, as a client paging through gets them. Each
  request goes straight into the ASGI app (the whole /api stack: authentication, throttle check,
  routing, query, rendering); only the time inside the app is counted, both wall-clock and CPU
  time of this process (``time.process_time``), so the client's work of parsing a 700 kB page is
  not charged to the server. Pages/s by CPU time is the figure to read on a shared machine: other
  processes on the core inflate wall time, much less this process's CPU time. The pass runs
  ``--repeat`` times, from empty caches each time, and the median run is shown.
- ``warm (server)``: the first ``--warm-pages`` pages requested three times, the third time
  measured (no write between: rendered records come from the cache, which keeps a record the
  second time it is rendered).
- ``cold (end-to-end)``: like the first pass but through httpx's ASGI transport with the client
  parsing each page with orjson, all on the same core (what earlier figures measured).

Every page is checked (status 200, at most 50 invoices, all ``approved``, ids ascending).
Pin to one core with ``taskset -c N``; the affinity and the load average are printed.

The database is a temporary file unless ``--memory`` is given: 100,000 invoices make a database
of about 1.1 GB, which held in memory puts the process at ~1.4 GB, while a file-backed instance
serves in under 200 MB (the peak RSS of serving is measured apart from seeding's).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson

from pycoupa.emulator.app import Emulator
from pycoupa.emulator.seed import SeedCounts, seed

PAGE = 50


@dataclass
class Pass:
    label: str
    pages: int
    records: int
    bytes: int
    cpu: list[float]
    wall: list[float]

    def summary(self) -> dict[str, Any]:
        return {
            "pass": self.label,
            "pages": self.pages,
            "records": self.records,
            "pages_per_s_cpu": self.pages / sum(self.cpu) if self.cpu and sum(self.cpu) else 0.0,
            "pages_per_s_wall": self.pages / sum(self.wall) if self.wall else 0.0,
            "median_ms_cpu": 1000 * statistics.median(self.cpu) if self.cpu else 0.0,
            "median_ms_wall": 1000 * statistics.median(self.wall) if self.wall else 0.0,
            "first_ms_wall": 1000 * self.wall[0] if self.wall else 0.0,
            "bytes_per_page": self.bytes / max(self.pages, 1),
        }


def rss_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak since the last reset) from /proc, in MB; 0 where unavailable."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def reset_peak_rss() -> bool:
    """Start a new VmHWM (Linux: writing 5 to clear_refs), so serving's peak is seen apart from seeding's."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def ru_maxrss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class Direct:
    """Requests straight into an ASGI app, timing only the app's own work."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def request(
        self, method: str, path: str, query: str = "", headers: list[tuple[str, str]] | None = None, body: bytes = b""
    ) -> tuple[int, bytes, float, float]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers or []],
            "server": ("bench", 80),
            "client": ("127.0.0.1", 1),
        }
        status: list[int] = []
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        cpu0, wall0 = time.process_time(), time.perf_counter()
        await self.app(scope, receive, send)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        return status[0], b"".join(chunks), cpu, wall


def check_page(status: int, body: bytes, last_id: int) -> tuple[int, int]:
    """(records on the page, the last id), after checking it. The ~30,000 objects of a parsed
    page are the client's: the garbage collector is paused while they live, so that they do not
    set off collections inside the server's measured time."""
    if status != 200:
        raise SystemExit(f"page after id {last_id}: HTTP {status}: {body[:300]!r}")
    gc.disable()
    try:
        page = orjson.loads(body)
        if not isinstance(page, list) or len(page) > PAGE:
            raise SystemExit(f"page after id {last_id}: not a list of at most {PAGE} records")
        ids = [r["id"] for r in page]
        if ids != sorted(ids) or (ids and ids[0] <= last_id) or any(r["status"] != "approved" for r in page):
            raise SystemExit(f"page after id {last_id}: wrong records")
        del page
        return len(ids), ids[-1] if ids else last_id
    finally:
        gc.enable()


def params(since: str, last_id: int) -> dict[str, str]:
    return {"status": "approved", "updated-at[gt]": since, "id[gt]": str(last_id), "limit": str(PAGE)}


async def server_pass(
    client: Direct, headers: list[tuple[str, str]], label: str, since: str, pages: int, repeat_first: bool = False
) -> Pass:
    result = Pass(label, 0, 0, 0, [], [])
    last_id = 0
    for _ in range(3 if repeat_first else 1):  # a record is kept the second time it is rendered
        result = Pass(label, 0, 0, 0, [], [])
        last_id = 0
        while result.pages < pages:
            query = urlencode(params(since, last_id))
            status, body, cpu, wall = await client.request("GET", "/api/invoices", query, headers)
            count, next_id = check_page(status, body, last_id)
            result.pages += 1
            result.records += count
            result.bytes += len(body)
            result.cpu.append(cpu)
            result.wall.append(wall)
            if count < PAGE:
                break  # the filter's last page
            last_id = next_id
    return result


def median_pass(runs: list[Pass]) -> Pass:
    """The run whose pages/s by CPU time is the median of the runs (all alike otherwise)."""
    ranked = sorted(runs, key=lambda p: sum(p.cpu))
    chosen = ranked[len(ranked) // 2]
    if len(runs) > 1:
        chosen.label = f"cold (server) x{len(runs)}"
    return chosen


async def end_to_end_pass(emu: Emulator, token: str, since: str, pages: int) -> Pass:
    result = Pass("cold (end-to-end)", 0, 0, 0, [], [])
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emu.app), base_url="http://bench") as http:
        last_id = 0
        while result.pages < pages:
            cpu0, wall0 = time.process_time(), time.perf_counter()
            r = await http.get("/api/invoices", params=params(since, last_id), headers=headers)
            page = orjson.loads(r.content)  # the client's parse is part of this pass
            result.wall.append(time.perf_counter() - wall0)
            result.cpu.append(time.process_time() - cpu0)
            check_page(r.status_code, r.content, last_id)
            result.pages += 1
            result.records += len(page)
            result.bytes += len(r.content)
            if len(page) < PAGE:
                break
            last_id = page[-1]["id"]
    return result


async def connect(emu: Emulator) -> tuple[Direct, str, list[tuple[str, str]]]:
    """A client for the app, an access token, and the headers of a JSON request."""
    client_id, secret = emu.create_oauth_client(["core.invoice.read"])
    emu.buckets.settings.enabled = False  # measure the emulator, not its throttle
    client = Direct(emu.app)
    form = urlencode({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
    _, body, _, _ = await client.request(
        "POST", "/oauth2/token", headers=[("content-type", "application/x-www-form-urlencoded")], body=form.encode()
    )
    token = orjson.loads(body)["access_token"]
    return client, token, [("authorization", f"Bearer {token}"), ("accept", "application/json")]


async def interleaved(paths: dict[int, str], args: argparse.Namespace) -> dict[int, Pass]:
    """Cold pages from every size in turn (a page of one, a page of the next...), so that whatever
    else runs on the machine weighs on all sizes alike; as many pages from each as the smallest
    has, ``--repeat`` times from empty caches."""
    sides = []
    for n, path in paths.items():
        emu = Emulator(path)
        client, _, headers = await connect(emu)
        sides.append((n, emu, client, headers))
    results = {n: Pass("cold (server), interleaved", 0, 0, 0, [], []) for n in paths}
    for _ in range(args.repeat):
        last = dict.fromkeys(paths, 0)
        for _, emu, _, _ in sides:
            emu.renderer.clear_caches()
        for _ in range(args.pages):
            ended = False
            for n, _, client, headers in sides:
                query = urlencode(params(args.since, last[n]))
                status, body, cpu, wall = await client.request("GET", "/api/invoices", query, headers)
                count, last[n] = check_page(status, body, last[n])
                result = results[n]
                result.pages += 1
                result.records += count
                result.bytes += len(body)
                result.cpu.append(cpu)
                result.wall.append(wall)
                ended = ended or count < PAGE
            if ended:
                break
    return results


async def measure(emu: Emulator, args: argparse.Namespace) -> list[Pass]:
    client, token, headers = await connect(emu)
    passes = []
    colds = []
    for _ in range(args.repeat):  # the same pages, from empty caches each time
        emu.renderer.clear_caches()
        colds.append(await server_pass(client, headers, "cold (server)", args.since, args.pages))
    passes.append(median_pass(colds))
    passes.append(await server_pass(client, headers, "warm (server)", args.since, args.warm_pages, repeat_first=True))
    if not args.no_end_to_end:
        emu.renderer.clear_caches()
        passes.append(await end_to_end_pass(emu, token, args.since, args.pages))
    return passes


def run_one(args: argparse.Namespace, invoices: int) -> dict[str, Any]:
    tmp = tempfile.TemporaryDirectory()
    path = None if args.memory else (args.keep_db or f"{tmp.name}/coupa.sqlite")
    emu = Emulator(path)
    t0 = time.perf_counter()
    made = seed(emu, SeedCounts(invoices=invoices), random_seed=1)
    seeded = time.perf_counter() - t0
    db_mb = emu.store.execute("PRAGMA page_count")[0][0] * emu.store.execute("PRAGMA page_size")[0][0] / 1e6
    seed_peak = rss_mb("VmHWM") or ru_maxrss_mb()
    separate = reset_peak_rss()
    passes = asyncio.run(measure(emu, args))
    out = {
        "invoices": made.get("InvoiceHeader", invoices),
        "records": sum(made.values()),
        "seconds_to_seed": seeded,
        "database": "in memory" if args.memory else "file",
        "database_mb": db_mb,
        "peak_rss_seeding_mb": seed_peak,
        "peak_rss_serving_mb": rss_mb("VmHWM") if separate else ru_maxrss_mb(),
        "rss_now_mb": rss_mb("VmRSS"),
        "passes": [p.summary() for p in passes],
    }
    tmp.cleanup()
    return out


def print_run(run: dict[str, Any]) -> None:
    print(
        f"\n{run['invoices']:,} invoices ({run['records']:,} records) seeded in {run['seconds_to_seed']:.1f} s;"
        f" database {run['database']}, {run['database_mb']:,.0f} MB"
    )
    print(
        f"{'pass':20} {'pages':>5} {'pages/s cpu':>11} {'pages/s wall':>12} {'median ms cpu':>13}"
        f" {'median ms wall':>14} {'first ms':>9} {'bytes/page':>11}"
    )
    for p in run["passes"]:
        print(
            f"{p['pass']:20} {p['pages']:>5} {p['pages_per_s_cpu']:>11.1f} {p['pages_per_s_wall']:>12.1f}"
            f" {p['median_ms_cpu']:>13.2f} {p['median_ms_wall']:>14.2f} {p['first_ms_wall']:>9.1f}"
            f" {p['bytes_per_page']:>11,.0f}"
        )
    print(
        f"peak RSS: {run['peak_rss_seeding_mb']:,.0f} MB while seeding, {run['peak_rss_serving_mb']:,.0f} MB while"
        f" serving ({run['rss_now_mb']:,.0f} MB at the end)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--invoices", type=int, nargs="+", default=[10_000, 100_000], help="one or more sizes")
    parser.add_argument("--pages", type=int, default=300, help="pages per cold pass (fewer if the filter ends)")
    parser.add_argument("--warm-pages", type=int, default=20, help="pages requested twice in the warm pass")
    parser.add_argument("--repeat", type=int, default=3, help="cold server passes (the median is shown)")
    parser.add_argument("--since", default="2025-01-01T00:00:00Z", help="the updated-at[gt] filter")
    parser.add_argument("--memory", action="store_true", help="keep the database in memory (default: a temp file)")
    parser.add_argument("--no-end-to-end", action="store_true", help="skip the pass through httpx")
    parser.add_argument("--json-out", help=argparse.SUPPRESS)  # a child process's results
    parser.add_argument("--keep-db", help=argparse.SUPPRESS)  # where a child seeds (kept for interleaving)
    args = parser.parse_args()

    if args.json_out:
        Path(args.json_out).write_text(json.dumps(run_one(args, args.invoices[0])))
        return
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    print(
        f"fully expanded JSON, {PAGE} invoices/page, status=approved&updated-at[gt]={args.since}, keyset id[gt];"
        f" CPUs allowed: {affinity or '?'} (pin with taskset -c N); load average {os.getloadavg()}"
    )
    runs = []
    kept = tempfile.TemporaryDirectory()  # the children's databases, for the interleaved pass
    paths: dict[int, str] = {}
    for n in args.invoices:
        if len(args.invoices) == 1:
            run = run_one(args, n)
        else:  # a fresh process per size: its own memory peak, nothing cached from the other
            with tempfile.NamedTemporaryFile(suffix=".json") as out:
                argv = [sys.executable, __file__, "--invoices", str(n), "--json-out", out.name]
                argv += ["--pages", str(args.pages), "--warm-pages", str(args.warm_pages), "--since", args.since]
                argv += ["--repeat", str(args.repeat)]
                argv += ["--memory"] * args.memory + ["--no-end-to-end"] * args.no_end_to_end
                if not args.memory:
                    paths[n] = f"{kept.name}/{n}.sqlite"
                    argv += ["--keep-db", paths[n]]
                subprocess.run(argv, check=True)
                run = json.loads(Path(out.name).read_text())
        print_run(run)
        runs.append(run)
    if len(runs) > 1:
        print("\ncost of a cold page (server), by stored invoices, each size on its own:")
        for run in runs:
            cold = run["passes"][0]
            print(
                f"  {run['invoices']:>9,}: {cold['median_ms_cpu']:.2f} ms CPU median,"
                f" {cold['pages_per_s_cpu']:.1f} pages/s by CPU, {cold['pages_per_s_wall']:.1f} by wall clock"
            )
    if len(paths) > 1:
        both = asyncio.run(interleaved(paths, args))
        print(
            "interleaved (a page of each size in turn, the same moments for all; read the sizes against each other:"
            " two instances alternating in one process evict each other from the CPU caches, which costs"
            " every size ~10%):"
        )
        for n, result in both.items():
            cold = result.summary()
            print(
                f"  {n:>9,}: {cold['median_ms_cpu']:.2f} ms CPU median, {cold['pages_per_s_cpu']:.1f} pages/s by"
                f" CPU, {cold['pages_per_s_wall']:.1f} by wall clock ({cold['pages']} pages)"
            )
    kept.cleanup()
    print(f"load average at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
