"""Pagination strategies, shared by the sync and async iterators.

- *offset*: ``offset`` grows by the page size; stops on a short page. Drifts when rows are
  inserted or deleted mid-scan (Coupa's offsets are not stable), so it is not the default.
- *keyset*: ``order_by=id&dir=asc&id[gt]=<last id>``; never skips or repeats a record, even when
  rows are inserted or updated during the scan. The default.
- *full pull*: the first keyset page and the highest id are fetched together; the ids between
  them are split into partitions walked by keyset concurrently, each a whole number of pages when
  ids are dense, and a closed partition ends as soon as its last page reaches its upper bound
  (no empty page to learn that). The last partition is open-ended, so records created during
  the pull are not missed. 5,000 dense records take 102 requests: 100 pages, the highest id and
  the open partition's final short page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pycoupa.client.errors import ConfigurationError, QueryError

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
        size: object = self.page_size
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 50:
            raise QueryError(
                f"page_size must be an int from 1 to 50 (Coupa's page ceiling), got {type(size).__name__} {size!r}"
            )
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
        if self.upper is not None and self.last_id is not None and self.last_id >= self.upper:
            self.done = True  # the partition's last id is in hand: an empty page would say nothing new


def check_partition_count(count: object) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ConfigurationError(f"partitions must be an integer >= 1, got {count!r}")
    return count


def partitions(after: int, high: int, count: int, page_size: int = 50) -> list[tuple[int | None, int | None]]:
    """Split the ids above ``after`` into at most ``count`` (lower-exclusive, upper-inclusive) ranges.

    Each closed range spans a whole number of pages (``page_size`` ids), so where ids are dense
    every page it asks for is full and it needs no closing short page; the ranges reach ``high``
    and the last is open-ended, so records created during the pull are included.
    """
    check_partition_count(count)
    if high <= after:
        return [(after, None)]
    pages = -(-(high - after) // page_size)
    per = -(-pages // count) * page_size
    out: list[tuple[int | None, int | None]] = []
    start = after
    while start + per < high:
        out.append((start, start + per))
        start += per
    out.append((start, None))
    return out
