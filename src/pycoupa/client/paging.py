"""Pagination strategies, shared by the sync and async iterators.

- *offset*: ``offset`` grows by the page size; stops on a short page. Drifts when rows are
  inserted or deleted mid-scan (Coupa's offsets are not stable), so it is not the default.
- *keyset*: ``order_by=id&dir=asc&id[gt]=<last id>``; never skips or repeats a record, even when
  rows are inserted or updated during the scan. The default.
- *full pull*: the id range is split into partitions, each walked by keyset concurrently; the last
  partition is open-ended so records created during the pull are not missed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pycoupa.client.errors import ConfigurationError

MODES = ("keyset", "offset")


@dataclass
class Page:
    records: list[Any]


@dataclass
class Pager:
    """Produces the query pairs of the next page and learns from each page it is fed."""

    base: list[tuple[str, str]]
    page_size: int = 50
    mode: str = "keyset"
    lower: int | None = None  # id > lower (keyset partitions)
    upper: int | None = None  # id <= upper
    offset: int = 0
    last_id: int | None = None
    done: bool = False
    seen: int = field(default=0)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigurationError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if not 1 <= self.page_size <= 50:
            raise ConfigurationError(f"page_size must be 1..50 (Coupa's page ceiling), got {self.page_size}")
        if self.mode == "keyset":
            reserved = {"order_by", "order-by", "dir", "offset"}
            clash = sorted({k for k, _ in self.base if k in reserved})
            if clash:
                raise ConfigurationError(
                    f"keyset paging orders by id itself; drop {', '.join(clash)} or use mode='offset'"
                )

    def next_pairs(self) -> list[tuple[str, str]] | None:
        if self.done:
            return None
        pairs = [(k, v) for k, v in self.base if k not in ("limit",)]
        pairs.append(("limit", str(self.page_size)))
        if self.mode == "offset":
            pairs = [(k, v) for k, v in pairs if k != "offset"] + [("offset", str(self.offset))]
            return pairs
        floor = self.last_id if self.last_id is not None else self.lower
        if floor is not None:
            pairs.append(("id[gt]", str(floor)))
        if self.upper is not None:
            pairs.append(("id[lt_or_eq]", str(self.upper)))
        pairs += [("order_by", "id"), ("dir", "asc")]
        return pairs

    def feed(self, page: Page) -> None:
        self.seen += len(page.records)
        if len(page.records) < self.page_size:
            self.done = True
        if self.mode == "offset":
            self.offset += len(page.records)
            return
        raw = [r["id"] if isinstance(r, dict) else getattr(r, "id", None) for r in page.records]
        ids = [i for i in raw if isinstance(i, int)]
        if page.records and not ids:
            raise ConfigurationError("keyset paging needs the records' ids: keep 'id' in the fields projection")
        if ids:
            self.last_id = max(ids)


def partitions(low: int, high: int, count: int) -> list[tuple[int | None, int | None]]:
    """Split ids ``low..high`` into ``count`` (lower-exclusive, upper-inclusive) ranges; the last is
    open-ended so that records created during the pull are included."""
    if count < 1:
        raise ConfigurationError(f"partitions must be >= 1, got {count}")
    if high < low:
        return [(None, None)]
    span = high - low + 1
    count = min(count, span)
    size = -(-span // count)
    out: list[tuple[int | None, int | None]] = []
    start = low - 1
    for n in range(count):
        end = min(start + size, high)
        out.append((start, None if n == count - 1 else end))
        start = end
    return out
