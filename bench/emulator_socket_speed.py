"""Pages the emulator serves over a real socket with its process on one core (issue 3, item 8).

The emulator runs as ``pycoupa emulator serve`` (uvicorn) pinned to one core (``--server-cpu``);
the client runs in this process pinned to the other (``--client-cpu``), so the figure is what one
core of emulator serves, not what one core of emulator and client together manage. The client
keeps ``--concurrency`` connections busy, each paging with ``id[gt]`` through its own slice of the
id range with the filter integrations use, ``status=approved&updated-at[gt]=...``, fully expanded
JSON, 50 invoices a page, and checks every page (HTTP 200, at most 50 records, all approved, ids
ascending inside the slice). The emulator's throttle is turned off: this measures the emulator.

    .venv/bin/python bench/emulator_socket_speed.py --invoices 10000 100000

For each size it seeds a temporary file-backed instance first (or serves ``--data FILE`` as it
is), starts the server, and reports:

- pages/s by wall clock over the run (every page served cold: each record is rendered once);
- the server's CPU time per page (from /proc: the whole process, uvicorn included);
- the server's resident memory at its peak (VmHWM) and its database file's size.

Needs Linux (taskset, /proc) and 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).parent))
from _calibrate import calibration_line
from _servers import PYCOUPA, free_port, wait_for

PAGE = 50
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pid: int) -> float:
    user, system = proc_user_system(pid)
    return user + system


def proc_user_system(pid: int) -> tuple[float, float]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS  # utime, stime


def proc_status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def seed_file(path: Path, invoices: int) -> float:
    """Seed a file-backed instance (in a child process, so this one stays small); seconds taken."""
    code = (
        "import sys; from pycoupa.emulator.app import Emulator; from pycoupa.emulator.seed import SeedCounts, seed;"
        "emu = Emulator(sys.argv[1]); seed(emu, SeedCounts(invoices=int(sys.argv[2])), random_seed=1);"
        "emu.store.close()"
    )
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(path), str(invoices)], check=True)
    return time.perf_counter() - t0


class RawConnection:
    """A minimal keep-alive HTTP/1.1 GET client on asyncio streams. httpx costs ~5 ms of client CPU
    per 750 kB page, more than the emulator spends serving it, so with one core each the client
    would be what is measured; this one costs ~0.3 ms plus the orjson parse that checks the page."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": f"{host}:{port}", **headers}.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, params: dict[str, str]) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(f"GET {path}?{urlencode(params)} HTTP/1.1\r\n{self.head}\r\n".encode())
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split()[1])
        fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
        if "content-length" in fields:
            return status, await self.reader.readexactly(int(fields["content-length"]))
        if fields.get("transfer-encoding", "").lower() != "chunked":
            raise SystemExit(f"response without a length: {head[:3]}")
        chunks = []
        while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
            chunks.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)
        await self.reader.readuntil(b"\r\n")
        return status, b"".join(chunks)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def expected_pages(data: Path, since: str) -> list[list[int]]:
    """The ids every page must hold, read from the database file itself (the stored documents
    keep UTC text, so ``updated-at[gt]`` is a text comparison): the oracle the answers are
    checked against, and what lets a connection ask for a page without parsing the one before."""
    bound = since.removesuffix("Z")
    with sqlite3.connect(f"file:{data}?mode=ro", uri=True) as db:
        ids = [
            row[0]
            for row in db.execute(
                "SELECT id FROM r_InvoiceHeader WHERE json_extract(doc, '$.\"status\"') = 'approved'"
                " AND json_extract(doc, '$.\"updated-at\"') > ? ORDER BY id",
                (bound,),
            )
        ]
    return [ids[k : k + PAGE] for k in range(0, len(ids), PAGE)]


def check(body: bytes, want: list[int], full: bool) -> None:
    """Every page: its first and last invoices where they belong. Every ``--check-every``th page:
    parsed whole, exactly the expected invoices, in order, all approved."""
    if not body.startswith(b'[{"id":%d,' % want[0]) or (b'{"id":%d,' % want[-1]) not in body:
        raise SystemExit(f"page of ids {want[0]}..{want[-1]}: wrong records: {body[:200]!r}")
    if full:
        page = orjson.loads(body)
        if [rec["id"] for rec in page] != want or any(rec["status"] != "approved" for rec in page):
            raise SystemExit(f"page of ids {want[0]}..{want[-1]}: wrong records")


async def drive(port: int, args: argparse.Namespace, pages: list[list[int]]) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    r = httpx.post(f"{base}/__emulator__/oauth-clients", json={"scopes": ["core.invoice.read"]})
    r.raise_for_status()
    form = {"grant_type": "client_credentials", "client_id": r.json()["client_id"]}
    form |= {"client_secret": r.json()["client_secret"], "scope": "core.invoice.read"}
    token = httpx.post(f"{base}/oauth2/token", data=form).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    stats: dict[str, Any] = {"pages": 0, "records": 0, "bytes": 0, "latency": []}
    count = len(pages) if args.max_pages is None else min(args.max_pages, len(pages))
    queue = list(range(count))[::-1]  # page numbers, popped from the end: in id order
    conns = [RawConnection("127.0.0.1", port, headers) for _ in range(args.concurrency)]

    async def worker(conn: RawConnection, stop: float) -> None:
        while queue and time.perf_counter() < stop:
            k = queue.pop()
            after = pages[k - 1][-1] if k else 0  # the keyset bound a client paging by id[gt] sends
            params = {"status": "approved", "updated-at[gt]": args.since, "id[gt]": str(after), "limit": str(PAGE)}
            t0 = time.perf_counter()
            status, body = await conn.get("/api/invoices", params)
            stats["latency"].append(time.perf_counter() - t0)
            if status != 200:
                raise SystemExit(f"page after id {after}: HTTP {status}: {body[:300]!r}")
            check(body, pages[k], full=k % args.check_every == 0)
            stats["pages"] += 1
            stats["records"] += len(pages[k])
            stats["bytes"] += len(body)

    t0, c0 = time.perf_counter(), time.process_time()
    stop = t0 + args.seconds
    try:
        await asyncio.gather(*(worker(conn, stop) for conn in conns))
    finally:
        for conn in conns:
            conn.close()
    stats["elapsed"] = time.perf_counter() - t0
    stats["client_cpu"] = time.process_time() - c0
    return stats


def serve_once(args: argparse.Namespace, data: Path, pages: list[list[int]]) -> dict[str, Any]:
    """Start the emulator on ``data`` (its caches empty: every page is cold), page, stop it."""
    # Read the file once first, as a running instance would have: the page cache of this machine is
    # trimmed proactively (DAMON), and re-reading evicted pages shows up as the server's system time.
    with data.open("rb") as fh:
        while fh.read(1 << 24):
            pass
    port = free_port()
    server = subprocess.Popen(
        ["taskset", "-c", str(args.server_cpu), *PYCOUPA, "emulator", "serve", "--data", str(data),
         "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/__emulator__", server)
        httpx.put(f"{base}/__emulator__/rate-limit", json={"enabled": False}).raise_for_status()
        rss_idle = proc_status_mb(server.pid, "VmRSS")
        spy = None
        if args.py_spy:  # sample the server while it serves (pip install py-spy)
            spy = subprocess.Popen(
                ["py-spy", "record", "-p", str(server.pid), "-f", "raw", "-r", "250", "-o", args.py_spy],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            time.sleep(1)
        user0, sys0 = proc_user_system(server.pid)
        stats = asyncio.run(drive(port, args, pages))
        user1, sys1 = proc_user_system(server.pid)
        stats["server_cpu"] = (user1 - user0) + (sys1 - sys0)
        stats["server_sys"] = sys1 - sys0
        if spy is not None:
            spy.send_signal(2)
            spy.wait(timeout=30)
        stats["rss_idle"] = rss_idle
        stats["rss_peak"] = proc_status_mb(server.pid, "VmHWM")
        return stats
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def run_size(args: argparse.Namespace, invoices: int | None, data: Path | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        seeded = 0.0
        if data is None:
            assert invoices is not None
            data = Path(tmp) / "coupa.sqlite"
            seeded = seed_file(data, invoices)
        with sqlite3.connect(f"file:{data}?mode=ro", uri=True) as db:
            stored = db.execute("SELECT count(*) FROM r_InvoiceHeader").fetchone()[0]
        pages = expected_pages(data, args.since)
        runs = [serve_once(args, data, pages) for _ in range(args.passes)]
        total = {
            k: sum(r[k] for r in runs)
            for k in ("pages", "records", "bytes", "elapsed", "client_cpu", "server_cpu", "server_sys")
        }
        n = max(total["pages"], 1)
        return {
            "invoices": stored,
            "seconds_to_seed": seeded,
            "database_mb": data.stat().st_size / 1e6,
            "pages": total["pages"],
            "records": total["records"],
            "pages_per_s": total["pages"] / total["elapsed"],
            "server_cpu_ms_per_page": 1000 * total["server_cpu"] / n,
            "server_pages_per_cpu_s": total["pages"] / total["server_cpu"] if total["server_cpu"] else 0.0,
            "server_sys_share": total["server_sys"] / total["server_cpu"] if total["server_cpu"] else 0.0,
            "client_cpu_ms_per_page": 1000 * total["client_cpu"] / n,
            "latency_median_ms": 1000 * statistics.median([x for r in runs for x in r["latency"]]),
            "bytes_per_page": total["bytes"] / n,
            "rss_idle_mb": max(r["rss_idle"] for r in runs),
            "rss_peak_mb": max(r["rss_peak"] for r in runs),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--invoices", type=int, nargs="+", default=[10_000, 100_000], help="sizes to seed and serve")
    parser.add_argument("--data", type=Path, help="serve this seeded file instead of seeding (one size)")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to page (default 20)")
    parser.add_argument("--concurrency", type=int, default=4, help="connections paging at once (default 4)")
    parser.add_argument("--since", default="2025-01-01T00:00:00Z", help="the updated-at[gt] filter")
    parser.add_argument(
        "--max-pages",
        type=int,
        help="pages per pass (default: all the filter matches; give the smaller size's"
        " count to compare sizes over the same number of pages, each pass paying the same start-up work)",
    )
    parser.add_argument("--passes", type=int, default=3, help="server restarts per size, each cold (default 3)")
    parser.add_argument("--check-every", type=int, default=4, help="parse and check every Nth page whole (default 4)")
    parser.add_argument("--py-spy", metavar="FILE", help="profile the server with py-spy into FILE (raw format)")
    parser.add_argument("--server-cpu", type=int, default=1)
    parser.add_argument("--client-cpu", type=int, default=0)
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.client_cpu})
    print(
        f"emulator on CPU {args.server_cpu}, client on CPU {args.client_cpu}, {args.concurrency} connections,"
        f" {args.seconds:.0f} s per size; load average {os.getloadavg()}"
    )
    sizes: list[tuple[int | None, Path | None]] = (
        [(None, args.data)] if args.data else [(n, None) for n in args.invoices]
    )
    columns = [
        ("invoices", 9), ("seed s", 7), ("db MB", 7), ("pages", 6), ("pages/s", 8), ("srv ms/page", 11),
        ("srv pages/cpu-s", 15), ("srv sys %", 9), ("client ms/page", 14), ("median ms", 9), ("kB/page", 8),
        ("RSS idle", 8), ("RSS peak", 8),
    ]  # fmt: skip
    print(" ".join(f"{name:>{width}}" for name, width in columns))
    for n, data in sizes:
        r = run_size(args, n, data)
        values = [
            f"{r['invoices']:,}", f"{r['seconds_to_seed']:.1f}", f"{r['database_mb']:,.0f}", str(r["pages"]),
            f"{r['pages_per_s']:.1f}", f"{r['server_cpu_ms_per_page']:.2f}", f"{r['server_pages_per_cpu_s']:.1f}",
            f"{100 * r['server_sys_share']:.0f}",
            f"{r['client_cpu_ms_per_page']:.2f}", f"{r['latency_median_ms']:.1f}", f"{r['bytes_per_page'] / 1000:.0f}",
            f"{r['rss_idle_mb']:.0f}M", f"{r['rss_peak_mb']:.0f}M",
        ]  # fmt: skip
        print(" ".join(f"{v:>{width}}" for v, (_, width) in zip(values, columns, strict=True)), flush=True)
    print(f"load average at the end {os.getloadavg()}")
    print(calibration_line())


if __name__ == "__main__":
    main()
