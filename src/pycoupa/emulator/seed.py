"""Bulk, realistic, referentially consistent data for an emulated instance.

``POST /__emulator__/seed`` and ``pycoupa emulator serve --seed-invoices N`` call :func:`seed`:
suppliers (contacts, addresses, remit-to addresses), users, user groups, departments, company
addresses, account types and accounts, lookups with values, items, requisitions that became
purchase orders that became invoices, approvals, and Coupa Pay payments whose details point at
real invoices. Everything is drawn from one ``random.Random(random_seed)`` and dated relative to a
fixed epoch, so one seed always gives the same database.

Speed is the point (100,000 invoices in well under two minutes): documents are built as plain
dicts in the storage format (see :mod:`pycoupa.emulator.store`) and bulk-inserted in chunks,
never through the API or the ``Writer``. Derived fields follow the behaviours' rules: totals use
:func:`~pycoupa.emulator.behaviours.invoices.line_total` and the invoice deriver's rounding,
account codes :func:`~pycoupa.emulator.behaviours.accounts.account_code`; the tests re-derive
seeded records through the real derivers and expect no change.

How it works: a cheap first pass plans every document's skeleton (times, supplier, status, which
purchase order an invoice bills, which payment pays it), so that header ids follow creation time,
counts are exact and an invoice knows whether it is paid before it is written; a second pass
builds the documents chain by chain (requisition, purchase order, its invoices) and streams them
to SQLite, keeping in memory only what later documents refer to.
"""

from __future__ import annotations

import gc
import random
import re
from bisect import bisect
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from itertools import accumulate
from typing import TYPE_CHECKING, Any, Final, TypeVar

import orjson

from pycoupa.emulator.behaviours.accounts import account_code
from pycoupa.emulator.behaviours.invoices import line_total
from pycoupa.emulator.reference_data import SUPPORT_USER_ID, US_COUNTRY_ID, USD_CURRENCY_ID
from pycoupa.emulator.store import Store, table_name
from pycoupa.wire.values import format_decimal

if TYPE_CHECKING:
    from pycoupa.emulator.app import Emulator

_T = TypeVar("_T")

__all__ = ["AUTO", "MAX_COUNT", "SeedCounts", "parse_seed_request", "seed"]

AUTO: Final = -1  # a SeedCounts field left at AUTO is derived from the invoice count
MAX_COUNT: Final = 2_000_000
CHUNK: Final = 5_000  # documents per executemany: big enough to amortise, small enough to stay lean

DAY: Final = 86_400
HOUR: Final = 3_600
EPOCH: Final = 1_767_225_600  # 2026-01-01T00:00:00Z: every seeded time lies in the two years before
START: Final = EPOCH - 730 * DAY
DOC_START: Final = START + 60 * DAY  # master data exists for two months before documents use it


# -- what to make ------------------------------------------------------------------------------------------
def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if not 0 <= value <= MAX_COUNT:
        raise ValueError(f"{name} must be between 0 and {MAX_COUNT:,}, got {value}")
    return value


@dataclass(frozen=True)
class SeedCounts:
    """How many records to make. Fields left at :data:`AUTO` follow ``invoices`` in realistic
    proportions (a supplier per ~50 invoices, a user per ~200, an account per ~100, a requisition
    per invoice, a purchase order for nine in ten, a payment per two invoices...)."""

    invoices: int = 0
    suppliers: int = AUTO
    users: int = AUTO
    user_groups: int = AUTO
    departments: int = AUTO
    addresses: int = AUTO
    account_types: int = AUTO
    accounts: int = AUTO
    lookups: int = AUTO
    lookup_values: int = AUTO
    items: int = AUTO
    requisitions: int = AUTO
    purchase_orders: int = AUTO
    payments: int = AUTO

    def __post_init__(self) -> None:
        n = _check_count("invoices", self.invoices)
        defaults: dict[str, Callable[[], int]] = {
            "suppliers": lambda: max(5, n // 50),
            "users": lambda: max(5, n // 200),
            "user_groups": lambda: max(2, n // 2_000),
            "departments": lambda: max(3, n // 5_000),
            "addresses": lambda: max(2, n // 10_000),
            "account_types": lambda: max(1, n // 25_000),
            "accounts": lambda: max(10, n // 100),
            "lookups": lambda: max(2, n // 20_000),
            "lookup_values": lambda: min(MAX_COUNT, 12 * self.lookups),  # lookups is resolved first
            "items": lambda: max(10, n // 100),
            "requisitions": lambda: n,
            "purchase_orders": lambda: n - n // 10,
            "payments": lambda: n // 2,
        }
        for name, default in defaults.items():
            value = getattr(self, name)
            object.__setattr__(self, name, default() if value == AUTO else _check_count(name, value))
        if self.suppliers == 0 and (self.invoices or self.requisitions or self.purchase_orders or self.payments):
            raise ValueError("suppliers must be at least 1 to seed invoices, requisitions, purchase orders or payments")
        if self.account_types == 0 and self.accounts:
            raise ValueError("account_types must be at least 1 to seed accounts")
        if self.lookups == 0 and self.lookup_values:
            raise ValueError("lookups must be at least 1 to seed lookup_values")

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


COUNT_KEYS: Final = tuple(f.name for f in fields(SeedCounts))


def parse_seed_request(body: Any) -> tuple[SeedCounts, int]:
    """``{"invoices": N, "random_seed": S, "suppliers": M, ...}`` -> (counts, seed).

    Keys may be written with ``_`` or ``-``. Raises ValueError naming the offending key: unknown
    keys, counts that are not whole numbers in 0..2,000,000, a random_seed that is not an integer.
    """
    if not isinstance(body, dict):
        raise ValueError("the seed request must be a JSON object")
    given: dict[str, int] = {}
    random_seed = 0
    seen_seed = False
    for raw_key, value in body.items():
        key = str(raw_key).replace("-", "_")
        if key == "random_seed":
            if seen_seed:
                raise ValueError(f"{raw_key} is given twice")
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"random_seed must be an integer, got {value!r}")
            random_seed, seen_seed = value, True
            continue
        if key not in COUNT_KEYS:
            raise ValueError(f"unknown key {raw_key!r}; expected random_seed or one of {', '.join(COUNT_KEYS)}")
        if key in given:
            raise ValueError(f"{raw_key} is given twice")
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON writers may send 100.0
        given[key] = _check_count(str(raw_key), value)
    return SeedCounts(**given), random_seed


def seed(emu: Emulator, counts: SeedCounts, random_seed: int = 0) -> dict[str, int]:
    """Add ``counts`` worth of records to ``emu`` (on top of what it holds) in one transaction;
    returns how many records of each kind (storage definition) were made."""
    # The documents hold no reference cycles, yet millions of fresh dicts make the cyclic
    # collector walk every long-lived object over and over: off, seeding is ~40% faster.
    # Tables are made before the transaction: were it rolled back, the store (which remembers the
    # tables it created) and the database would still agree.
    for kind in _Seeder.KINDS:
        emu.store.ensure_table(kind)
    collecting = gc.isenabled()
    gc.disable()
    try:
        with emu.store.transaction():
            return _Seeder(emu.store, emu.tz, counts, random_seed).run()
    finally:
        if collecting:
            gc.enable()


# -- vocabulary --------------------------------------------------------------------------------------------
FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Carlos", "Karen",
    "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Betty", "Mark", "Sandra", "Priya", "Ashley",
    "Steven", "Emily", "Paul", "Donna", "Andrew", "Michelle", "Kenji", "Carol", "Joshua", "Amanda",
    "Wei", "Melissa", "Ahmed", "Deborah", "Olga", "Stephanie", "Luca", "Rebecca", "Fatima", "Laura",
    "Sofia", "Hannah", "Noah", "Chloe", "Mateo", "Aisha", "Lars", "Ingrid", "Raj", "Mei",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
    "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Patel", "Kim", "Chen", "Singh", "Mueller", "Schmidt", "Rossi", "Dubois", "Kowalski", "Tanaka",
)  # fmt: skip
SUPPLIER_PREFIXES = (
    "Acme", "Apex", "Atlas", "Beacon", "Blue Ridge", "Cascade", "Cedar", "Summit", "Pioneer", "Horizon",
    "Keystone", "Liberty", "Meridian", "Northwind", "Orion", "Pinnacle", "Redwood", "Sterling", "Triton", "Vertex",
    "Evergreen", "Granite", "Harbor", "Ironclad", "Juniper", "Lakeside", "Maple", "Nova", "Oakridge", "Pacific",
    "Quantum", "Riverbend", "Silverline", "Titan", "Union", "Vanguard", "Westfield", "Zenith", "Crescent", "Falcon",
)  # fmt: skip
SUPPLIER_TRADES = (
    "Office Supplies", "Logistics", "Software", "Consulting", "Facilities Services", "Industrial Supply",
    "Electronics", "Packaging", "Print & Media", "Catering", "Staffing", "Security Services", "IT Solutions",
    "Cleaning Services", "Freight", "Engineering", "Medical Supply", "Telecom", "Furniture", "Marketing Group",
)  # fmt: skip
LEGAL_SUFFIXES = {
    "USD": ("Inc.", "LLC", "Corp.", "Co."),
    "EUR": ("GmbH", "SAS", "B.V.", "S.p.A."),
    "GBP": ("Ltd", "PLC", "LLP"),
}
# currency -> ((city, state, postal code or US ZIP prefix, country code), ...)
CITIES = {
    "USD": (
        ("San Mateo", "CA", "944", "US"), ("Austin", "TX", "787", "US"), ("Chicago", "IL", "606", "US"),
        ("New York", "NY", "100", "US"), ("Seattle", "WA", "981", "US"), ("Denver", "CO", "802", "US"),
        ("Atlanta", "GA", "303", "US"), ("Boston", "MA", "021", "US"), ("Columbus", "OH", "432", "US"),
        ("Phoenix", "AZ", "850", "US"),
    ),
    "EUR": (
        ("Berlin", "", "10115", "DE"), ("Munich", "", "80331", "DE"), ("Hamburg", "", "20095", "DE"),
        ("Paris", "", "75002", "FR"), ("Lyon", "", "69002", "FR"), ("Amsterdam", "", "1012 AB", "NL"),
        ("Rotterdam", "", "3011 AA", "NL"), ("Dublin", "", "D02 X285", "IE"),
    ),
    "GBP": (
        ("London", "", "EC1A 1BB", "GB"), ("Manchester", "", "M1 1AE", "GB"), ("Leeds", "", "LS1 4AP", "GB"),
        ("Bristol", "", "BS1 4DJ", "GB"),
    ),
}  # fmt: skip
STREETS = (
    "Main St", "Oak Ave", "Market St", "Park Blvd", "Elm St", "Harbor Way", "Industrial Pkwy", "Commerce Dr",
    "Bridge Rd", "High St", "Station Rd", "Mill Ln", "Innovation Way", "Lake Shore Dr",
)  # fmt: skip
DEPARTMENTS = (
    "Finance", "Engineering", "Marketing", "Sales", "Human Resources", "IT", "Legal", "Operations",
    "Facilities", "Procurement", "Customer Support", "Research & Development", "Manufacturing", "Logistics",
    "Quality Assurance", "Product Management", "Security", "Communications", "Executive Office", "Training",
)  # fmt: skip
GL_ACCOUNTS = (
    ("6100", "Office Supplies"), ("6110", "Computer Equipment"), ("6120", "Software Subscriptions"),
    ("6200", "Professional Services"), ("6210", "Consulting"), ("6300", "Travel"),
    ("6400", "Facilities Maintenance"), ("6410", "Utilities"), ("6500", "Marketing & Advertising"),
    ("6600", "Freight & Shipping"), ("6700", "Telecommunications"), ("6800", "Training"),
    ("6900", "Catering & Events"), ("7000", "Contract Labor"), ("7100", "Repairs & Maintenance"),
    ("1500", "Fixed Assets"),
)  # fmt: skip
# (account type name, currency, legal entity, segment-1 entity code)
ENTITIES = (
    ("Acme US", "USD", "Acme Corporation", "100"), ("Acme UK", "GBP", "Acme UK Ltd", "200"),
    ("Acme Germany", "EUR", "Acme GmbH", "300"), ("Acme France", "EUR", "Acme France SAS", "400"),
    ("Acme Netherlands", "EUR", "Acme B.V.", "500"), ("Acme Ireland", "EUR", "Acme Ireland Ltd", "600"),
    ("Acme US Services", "USD", "Acme Services LLC", "700"),
)  # fmt: skip
# (name, unit of measure code, lowest price, highest price) in whole currency units
CATALOG = (
    ("Copy Paper A4, 500 sheets", "PK", 4, 9), ("Ballpoint Pens, box of 12", "BX", 3, 12),
    ("Laptop 14in", "EA", 700, 1900), ("27in Monitor", "EA", 180, 450), ("USB-C Dock", "EA", 90, 260),
    ("Office Chair", "EA", 150, 900), ("Standing Desk", "EA", 300, 1200), ("Toner Cartridge", "EA", 60, 180),
    ("Shipping Boxes, medium", "BX", 20, 60), ("Packing Tape", "CS", 25, 70), ("Safety Gloves", "DZ", 15, 45),
    ("Hard Hat", "EA", 15, 40), ("Cleaning Solution", "GAL", 8, 25), ("Coffee Beans", "KG", 12, 35),
    ("Bottled Water", "CS", 5, 15), ("Network Switch 24-port", "EA", 250, 1400), ("Wireless Keyboard", "EA", 25, 110),
    ("Headset", "EA", 40, 220), ("Whiteboard Markers", "PK", 5, 15), ("Laser Printer", "EA", 200, 1500),
    ("Ethernet Cable 3m", "EA", 3, 12), ("First Aid Kit", "EA", 25, 90), ("Cable Ties", "PK", 3, 10),
    ("Steel Bolts M8", "BX", 10, 35), ("Lubricant Oil", "L", 6, 20), ("Copper Wire", "M", 1, 4),
    ("Pallet Wrap", "LOT", 40, 120), ("Design Software License", "YR", 100, 2400),
    ("Cloud Storage", "MO", 20, 800), ("Forklift Rental", "DAY", 150, 400),
)  # fmt: skip
MANUFACTURERS = (
    "Contoso", "Fabrikam", "Northwind", "Globex", "Initech", "Umbrella", "Hooli", "Soylent", "Stark", "Wayne",
    "Wonka", "Tyrell",
)  # fmt: skip
SERVICES = (
    "Consulting services", "Implementation services", "Cleaning service", "Security guard service",
    "Temporary staffing", "Legal advisory", "Marketing campaign", "Equipment maintenance", "Freight charges",
    "Event catering", "Software support renewal", "Translation services", "Training workshop", "Office relocation",
    "Print production",
)  # fmt: skip
LOOKUPS = (
    ("Cost Center", "CC"), ("Project", "PRJ"), ("Region", "RGN"), ("Product Line", "PL"), ("Site", "SITE"),
    ("Expense Type", "EXP"), ("Program", "PGM"), ("Channel", "CHN"),
)  # fmt: skip
# (partner name, issuing bank, payment-partner-type, currency, company account kind). XYZBank is the
# bank of the Coupa Pay documentation's example query, so that query finds seeded payments.
PARTNERS = (
    ("XYZBank Virtual Card", "XYZBank", "conferma", "USD", "virtual_card"),
    ("Conferma - WEX", "WEX", "conferma", "USD", "virtual_card"),
    ("JPMorgan Chase Payments", "JPMorgan Chase", "jpmc", "USD", "bank_account"),
    ("American Express Payments", "American Express", "amex", "USD", "virtual_card"),
    ("Mastercard Europe", "Mastercard", "mastercard", "EUR", "virtual_card"),
    ("JPMorgan Chase London", "JPMorgan Chase", "jpmc", "GBP", "bank_account"),
)
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # fmt: skip
TAX_RATES = {"USD": ("6.25", "7.25", "8.25", "9.0"), "EUR": ("19.0", "20.0", "21.0"), "GBP": ("20.0",)}
LINE_WEIGHTS = tuple(accumulate((22, 18, 15, 12, 10, 8, 6, 4, 3, 2)))  # 1..10 lines, 3.7 on average
FRACTIONAL_UOMS = frozenset({"HR", "DAY", "KG", "LB", "M", "L", "GAL"})


# -- helpers -----------------------------------------------------------------------------------------------
def _money(value: Decimal, places: int) -> str:
    # The invoice deriver's rounding (behaviours/invoices.py ``_money``): half up, currency places.
    return format_decimal(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _cents(c: int) -> str:
    return f"{'-' if c < 0 else ''}{abs(c) // 100}.{abs(c) % 100:02d}"


def _quantity(halves: int) -> str:
    return str(halves // 2) if halves % 2 == 0 else f"{halves // 2}.5"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _unique(base: str, taken: set[str], limit: int | None = None, sep: str = " ") -> str:
    name, n = base, 1
    while name in taken:
        n += 1
        suffix = f"{sep}{n}"
        name = (base[: limit - len(suffix)] if limit else base) + suffix
    taken.add(name)
    return name


@cache
def _clock_faces() -> tuple[str, ...]:
    """Every second of a day as "HH:MM:SS": formatting times is the hottest path of seeding."""
    return tuple(f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60))


class _Times:
    """Seconds since 1970 -> stored datetime text (UTC, fixed width), with per-day caches."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self.faces = _clock_faces()
        self.days: dict[int, str] = {}
        self.midnights: dict[int, str] = {}

    def day(self, t: int) -> str:
        d = t // DAY
        text = self.days.get(d)
        if text is None:
            text = self.days[d] = (date(1970, 1, 1) + timedelta(days=d)).isoformat()
        return text

    def at(self, t: int) -> str:
        return f"{self.day(t)}T{self.faces[t % DAY]}"

    def local_midnight(self, t: int) -> str:
        """A bare business date (an invoice date) is midnight in the instance's zone, like a body's."""
        d = t // DAY
        text = self.midnights.get(d)
        if text is None:
            day = date(1970, 1, 1) + timedelta(days=d)
            local = datetime(day.year, day.month, day.day, tzinfo=self.tz)
            text = self.midnights[d] = local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return text


class _Sink:
    """Per-kind buffers flushed to the store in chunks; counts what was made."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.buffers: dict[str, list[dict[str, Any]]] = {}
        self.made: dict[str, int] = {}

    def adder(self, kind: str) -> Callable[[dict[str, Any]], None]:
        buf = self.buffers.setdefault(kind, [])
        store = self.store

        def add(doc: dict[str, Any]) -> None:
            buf.append(doc)
            if len(buf) >= CHUNK:
                store.insert_many(kind, buf)
                self.made[kind] = self.made.get(kind, 0) + len(buf)
                buf.clear()

        return add

    def close(self) -> dict[str, int]:
        for kind, buf in self.buffers.items():
            if buf:
                self.store.insert_many(kind, buf)
                self.made[kind] = self.made.get(kind, 0) + len(buf)
                buf.clear()
        return {k: v for k, v in sorted(self.made.items()) if v}


@dataclass(slots=True)
class _Supplier:
    id: int
    name: str
    currency: str
    status: str
    number_format: int  # how this supplier numbers its invoices
    next_number: int
    remit_to: int
    pay_to: int = 0


@dataclass(slots=True)
class _Item:
    id: int
    name: str
    uom: int | None
    price_cents: int
    fractional: bool


@dataclass(slots=True)
class _Invoice:
    """An invoice's skeleton, decided before any document is built."""

    time: int
    po: int  # index into the planned purchase orders, or -1
    part: int  # this invoice bills the part-th share of the order's lines...
    parts: int  # ...out of this many invoices for the order
    supplier: int
    lines: int  # line count of an invoice with no order
    id: int = 0
    number: str = ""
    status: str = "draft"
    chain: str = ""  # "approved", "pending" or "" (no approval chain)
    submitted: int = 0
    approved_at: int = 0
    moved_at: int = 0  # voided or disputed
    exported_at: int = 0
    paid_at: int = 0


@dataclass(slots=True)
class _Payment:
    time: int
    supplier: int
    currency: str
    invoices: list[int]  # indexes into the planned invoices
    status: str = "draft"
    retry: bool = False


# -- the generator -----------------------------------------------------------------------------------------
class _Seeder:
    KINDS = (
        "User", "Department", "UserGroup", "Address", "AccountType", "Account", "Lookup", "LookupValue", "Item",
        "Supplier", "Contact", "SupplierAddress", "RemitToAddress", "RequisitionHeader", "RequisitionLine",
        "OrderHeader", "OrderLine", "InvoiceHeader", "InvoiceLine", "Approval", "CoupaPay-PaymentPartner",
        "CoupaPay-CompanyPaymentAccount", "CoupaPay-PayToAccount", "CoupaPay-PaymentBatch", "CoupaPay-Payment",
        "CoupaPay-PaymentDetail",
    )  # fmt: skip

    def __init__(self, store: Store, tz: tzinfo, counts: SeedCounts, random_seed: int) -> None:
        self.store = store
        self.counts = counts
        self.rng = random.Random(random_seed)
        self.rnd = self.rng.random
        self.times = _Times(tz)
        self.sink = _Sink(store)
        self.next_id: dict[str, int] = {}
        for kind in self.KINDS:
            store.ensure_table(kind)
            self.next_id[kind] = self._max_id(kind) + 1
        self._reference_data()

    # -- plumbing ----------------------------------------------------------------------------------------
    def _max_id(self, kind: str) -> int:
        name = table_name(kind)
        top = int(self.store.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{name}"')[0][0])
        # AUTOINCREMENT never hands out a deleted id again; neither do we.
        if self.store.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"):
            rows = self.store.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (name,))
            if rows and rows[0][0] is not None:
                top = max(top, int(rows[0][0]))
        return top

    def _ids(self, kind: str, n: int) -> int:
        """Reserve n consecutive ids of a kind; returns the first."""
        first = self.next_id[kind]
        self.next_id[kind] = first + n
        return first

    def _taken(self, kind: str, field: str) -> set[str]:
        rows = self.store.execute(f'SELECT json_extract(doc, \'$."{field}"\') FROM "{table_name(kind)}"')
        return {str(r[0]) for r in rows if r[0] is not None}

    def _reference_data(self) -> None:
        def by(kind: str, key: str) -> dict[str, dict[str, Any]]:
            rows = self.store.execute(f'SELECT doc FROM "{table_name(kind)}"')
            docs = [orjson.loads(r[0]) for r in rows]
            return {str(d.get(key)): d for d in docs if d.get(key) is not None}

        currencies = by("Currency", "code")
        self.currency_ids: dict[str, int] = {
            c: int(currencies[c]["id"]) for c in ("USD", "EUR", "GBP") if c in currencies
        }
        if "USD" not in self.currency_ids:
            self.currency_ids["USD"] = USD_CURRENCY_ID
        self.places = {c: int(currencies[c].get("decimals") or 2) if c in currencies else 2 for c in self.currency_ids}
        countries = by("Country", "code")
        self.country_ids = {code: int(doc["id"]) for code, doc in countries.items()}
        self.country_ids.setdefault("US", US_COUNTRY_ID)
        uoms = by("Uom", "code")
        self.uom_ids = {code: int(doc["id"]) for code, doc in uoms.items()}
        roles = by("Role", "name")
        self.role_ids = {name: int(doc["id"]) for name, doc in roles.items()}

    def _currency(self) -> str:
        """USD mostly, some EUR and GBP (when the instance has them)."""
        x = self.rnd()
        if x < 0.12 and "EUR" in self.currency_ids:
            return "EUR"
        if x < 0.20 and "GBP" in self.currency_ids:
            return "GBP"
        return "USD"

    def _master_times(self) -> tuple[int, int]:
        created = START + int(self.rnd() * (DOC_START - START))
        updated = created if self.rnd() < 0.6 else created + int(self.rnd() * (EPOCH - 1 - created))
        return created, updated

    def _after(self, t: int, lo: float, hi: float) -> int:
        """A moment lo..hi seconds after t, squeezed into what is left before the epoch."""
        d = lo + self.rnd() * (hi - lo)
        room = EPOCH - 1 - t
        if d > room:
            d = max(0.0, room) * self.rnd()
        return t + int(d)

    def _pick(self, seq: Sequence[_T]) -> _T:
        # random.choice goes through getrandbits twice per call; this is the hot path's pick.
        return seq[int(self.rnd() * len(seq))]

    def _int(self, lo: int, hi: int) -> int:
        """lo..hi inclusive."""
        return lo + int(self.rnd() * (hi - lo + 1))

    def _nlines(self) -> int:
        return bisect(LINE_WEIGHTS, self.rnd() * LINE_WEIGHTS[-1]) + 1

    # -- run -------------------------------------------------------------------------------------------------
    def run(self) -> dict[str, int]:
        self._users()
        self._departments()
        self._groups()
        self._addresses()
        self._account_types()
        self._accounts()
        self._lookups()
        self._items()
        self._suppliers()
        self._flush_users()
        self._plan()
        self._payment_masters()
        self._build_chains()
        self._build_payments()
        return self.sink.close()

    # -- master data -----------------------------------------------------------------------------------------
    def _users(self) -> None:
        n = self.counts.users
        first = self._ids("User", n)
        self.user_ids = list(range(first, first + n))
        self.dept_first = self.next_id["Department"]  # departments are made next: reserve their ids now
        self.dept_ids = list(range(self.dept_first, self.dept_first + self.counts.departments))
        self.address_ids = list(range(self.next_id["Address"], self.next_id["Address"] + self.counts.addresses))
        logins, emails = self._taken("User", "login"), self._taken("User", "email")
        mentions = self._taken("User", "mention-name")
        rnd, times = self.rnd, self.times
        role = self.role_ids
        self.users: list[dict[str, Any]] = []
        self.user_departments: dict[int, int | None] = {}
        self.admin = first if n else SUPPORT_USER_ID
        active: list[int] = []
        approvers: list[int] = []
        buyers: list[int] = []
        ap_clerks: list[int] = []
        for k in range(n):
            uid = first + k
            given, family = self._pick(FIRST_NAMES), self._pick(LAST_NAMES)
            login, n_same = f"{given[0]}{family}".lower(), 1
            while login in logins or f"{login}@acme.example" in emails:
                n_same += 1
                login = f"{given[0]}{family}{n_same}".lower()
            logins.add(login)
            email = f"{login}@acme.example"
            emails.add(email)
            mention = _unique(_slug(login), mentions, sep="")
            created, updated = self._master_times()
            if k == 0:
                created = START  # the administrator who set the instance up
            kind = "admin" if k == 0 else ("approver" if k % 7 == 1 else self._pick(("user",) * 6 + ("buyer", "ap")))
            roles = [role.get("User", 2)]
            if kind == "admin":
                roles = [role.get("Admin", 1), role.get("Integration Admin", 3)]
            elif kind == "buyer":
                roles.append(role.get("Buyer", 5))
            elif kind == "ap":
                roles.append(role.get("AP Manager", 4))
            is_active = k == 0 or rnd() > 0.05
            doc: dict[str, Any] = {
                "id": uid,
                "created-at": times.at(created),
                "updated-at": times.at(updated),
                "created-by": SUPPORT_USER_ID if k == 0 else first,
                "updated-by": SUPPORT_USER_ID if k == 0 else first,
                "login": login,
                "email": email,
                "firstname": given,
                "lastname": family,
                "fullname": f"{given} {family}",
                "mention-name": mention,
                "employee-number": f"E{uid:06d}",
                "active": is_active,
                "api-user": False,
                "expense-user": False,
                "sourcing-user": False,
                "inventory-user": False,
                "purchasing-user": kind in ("admin", "buyer", "approver") or rnd() < 0.5,
                "invoicing-user": kind in ("admin", "ap"),
                "account-security-type": 0,
                "authentication-method": "saml" if rnd() < 0.7 else "coupa_credentials",
                "default-currency": self.currency_ids[self._currency()] if k else self.currency_ids["USD"],
                "default-locale": "en",
                "roles": roles,
                "department": self._pick(self.dept_ids) if self.dept_ids else None,
                "default-address": self._pick(self.address_ids) if self.address_ids else None,
                "manager": self._pick(approvers) if approvers and kind != "admin" else None,
                "user-groups": [],
                "approval-groups": [],
            }
            self.users.append(doc)
            self.user_departments[uid] = doc["department"]
            if is_active:
                active.append(uid)
                if kind in ("admin", "approver"):
                    approvers.append(uid)
                elif kind == "buyer":
                    buyers.append(uid)
                elif kind == "ap":
                    ap_clerks.append(uid)
        fallback = active or [SUPPORT_USER_ID]
        self.active_users = fallback
        self.approvers = approvers or fallback
        self.buyers = buyers or fallback
        self.ap_clerks = ap_clerks or fallback

    def _flush_users(self) -> None:
        # Users are written last among master data: their groups and default accounts come later.
        add = self.sink.adder("User")
        for doc in self.users:
            add(doc)
        self.users = []

    def _departments(self) -> None:
        taken = self._taken("Department", "name")
        add = self.sink.adder("Department")
        first = self._ids("Department", self.counts.departments)
        self.dept_names: dict[int, str] = {}
        for k in range(self.counts.departments):
            base = DEPARTMENTS[k % len(DEPARTMENTS)]
            if k >= len(DEPARTMENTS):
                base = f"{base} {self._pick(('North', 'South', 'East', 'West', 'Central', 'EMEA', 'APAC'))}"
            name = _unique(base, taken)
            created, updated = self._master_times()
            self.dept_names[first + k] = name
            add(
                {
                    "id": first + k,
                    "created-at": self.times.at(created),
                    "updated-at": self.times.at(updated),
                    "created-by": self.admin,
                    "updated-by": self.admin,
                    "name": name,
                    "active": self.rnd() > 0.05,
                }
            )

    def _groups(self) -> None:
        n = self.counts.user_groups
        taken = self._taken("UserGroup", "name")
        add = self.sink.adder("UserGroup")
        first = self._ids("UserGroup", n)
        fixed = ("AP Team", "Buyers", "Finance Approvers", "Executive Approvers", "IT Approvers")
        depts = list(self.dept_names.values()) or list(DEPARTMENTS)
        by_id = {u["id"]: u for u in self.users}
        members_pool = [u["id"] for u in self.users if u["active"]]
        for k in range(n):
            gid = first + k
            base = fixed[k] if k < len(fixed) else f"{depts[k % len(depts)]} {'Approvers' if k % 2 else 'Team'}"
            name = _unique(base, taken)
            can_approve = "Approvers" in name
            size = min(len(members_pool), self._int(3, 15))
            members = sorted(self.rng.sample(members_pool, size)) if size else []
            for uid in members:
                by_id[uid]["user-groups"].append(gid)
                if can_approve:
                    by_id[uid]["approval-groups"].append(gid)
            created, updated = self._master_times()
            add(
                {
                    "id": gid,
                    "created-at": self.times.at(created),
                    "updated-at": self.times.at(updated),
                    "created-by": self.admin,
                    "updated-by": self.admin,
                    "name": name,
                    "description": f"{name} ({len(members)} members)",
                    "mention-name": _slug(name),
                    "active": True,
                    "can-approve": can_approve,
                    "open": False,
                    "users": members,
                }
            )

    def _address_fields(self, currency: str) -> dict[str, Any]:
        city, state, postal, country = self._pick(CITIES[currency])
        if country == "US":
            postal = f"{postal}{self._int(0, 99):02d}"
        return {
            "street1": f"{self._int(1, 9999)} {self._pick(STREETS)}",
            "city": city,
            "state": state or None,
            "postal-code": postal,
            "country": self.country_ids.get(country, self.country_ids["US"]),
        }

    def _addresses(self) -> None:
        taken = self._taken("Address", "location-code")
        add = self.sink.adder("Address")
        first = self._ids("Address", self.counts.addresses)
        for k in range(self.counts.addresses):
            aid = first + k
            currency = "USD" if k == 0 else self._currency()
            fields_ = self._address_fields(currency)
            created, updated = self._master_times()
            kind = "Headquarters" if k == 0 else self._pick(("Office", "Warehouse", "Plant", "Campus"))
            add(
                {
                    "id": aid,
                    "created-at": self.times.at(created),
                    "updated-at": self.times.at(updated),
                    "created-by": self.admin,
                    "updated-by": self.admin,
                    "name": f"{fields_['city']} {kind}",
                    "location-code": _unique(f"LOC-{aid:05d}", taken),
                    **fields_,
                    "active": True,
                }
            )

    def _account_types(self) -> None:
        taken = self._taken("AccountType", "name")
        add = self.sink.adder("AccountType")
        first = self._ids("AccountType", self.counts.account_types)
        self.types: list[tuple[int, str, str, str]] = []  # (id, name, currency, entity code)
        for k in range(self.counts.account_types):
            if k < len(ENTITIES):
                base, currency, legal, entity = ENTITIES[k]
            else:
                base, currency, legal, entity = f"Acme Entity {k + 1}", "USD", f"Acme Entity {k + 1} Inc.", str(k + 1)
            if currency not in self.currency_ids:
                currency = "USD"
            name = _unique(base, taken, limit=50)
            self.types.append((first + k, name, currency, entity))
            created, updated = self._master_times()
            add(
                {
                    "id": first + k,
                    "created-at": self.times.at(created),
                    "updated-at": self.times.at(updated),
                    "created-by": self.admin,
                    "updated-by": self.admin,
                    "name": name,
                    "legal-entity-name": legal,
                    "currency": self.currency_ids[currency],
                    "active": True,
                    "dynamic-flag": False,
                    "primary-address": self.address_ids[0] if self.address_ids else None,
                }
            )

    def _accounts(self) -> None:
        add = self.sink.adder("Account")
        n = self.counts.accounts
        first = self._ids("Account", n)
        self.accounts_by_currency: dict[str, list[int]] = {}
        all_accounts: list[int] = []
        if not n:
            self.all_accounts = all_accounts
            return
        # The first (home) entity carries most of the chart, as in most instances.
        weights = list(accumulate(3.0 if k == 0 else 1.0 for k in range(len(self.types))))
        taken: dict[int, set[str]] = {}
        for t in self.types:
            taken[t[0]] = {
                str(r[0])
                for r in self.store.execute(
                    "SELECT json_extract(doc, '$.code') FROM r_Account "
                    "WHERE json_extract(doc, '$.\"account-type\"') = ?",
                    (t[0],),
                )
            }
        for k in range(n):
            aid = first + k
            type_id, type_name, currency, entity = self.types[bisect(weights, self.rnd() * weights[-1])]
            dept = self._int(0, len(DEPARTMENTS) - 1)
            gl_code, gl_name = self._pick(GL_ACCOUNTS)
            doc: dict[str, Any] = {
                "id": aid,
                "segment-1": entity,
                "segment-2": str(1000 + 100 * dept),
                "segment-3": gl_code,
            }
            if self.rnd() < 0.3:
                doc["segment-4"] = f"P{self._int(1, 400):03d}"
            code = account_code(doc)
            serial = 1
            while code in taken[type_id]:  # a code is unique within its chart of accounts
                serial += 1
                doc["segment-5"] = str(serial)
                code = account_code(doc)
            taken[type_id].add(code)
            created, updated = self._master_times()
            doc.update(
                {
                    "created-at": self.times.at(created),
                    "updated-at": self.times.at(updated),
                    "created-by": self.admin,
                    "updated-by": self.admin,
                    "name": f"{type_name} {DEPARTMENTS[dept]} {gl_name}",
                    "code": code,
                    "account-type": type_id,
                    "account-type-id": type_id,
                    "active": self.rnd() > 0.05,
                }
            )
            add(doc)
            if doc["active"]:
                self.accounts_by_currency.setdefault(currency, []).append(aid)
                all_accounts.append(aid)
        self.all_accounts = all_accounts
        for user in self.users:
            if all_accounts and self.rnd() < 0.8:
                user["default-account"] = self._pick(all_accounts)

    def _lookups(self) -> None:
        taken = self._taken("Lookup", "name")
        codes = self._taken("LookupValue", "external-ref-code")
        add, add_value = self.sink.adder("Lookup"), self.sink.adder("LookupValue")
        n, m = self.counts.lookups, self.counts.lookup_values
        first = self._ids("Lookup", n)
        lookups: list[tuple[int, str, str]] = []
        for k in range(n):
            base, prefix = LOOKUPS[k % len(LOOKUPS)]
            name = _unique(base if k < len(LOOKUPS) else f"{base} {k // len(LOOKUPS) + 1}", taken)
            lookups.append((first + k, name, prefix))
            created, updated = self._master_times()
            add(
                {
                    "id": first + k,
                    "created-at": self.times.at(created),
                    "updated-at": self.times.at(updated),
                    "created-by": self.admin,
                    "updated-by": self.admin,
                    "name": name,
                    "description": f"{name} values",
                    "active": True,
                    "fixed-depth": False,
                }
            )
        first_value = self._ids("LookupValue", m)
        tops: dict[int, list[int]] = {}  # lookup id -> its first-level values, possible parents
        for k in range(m):
            vid = first_value + k
            lookup_id, lookup_name, prefix = lookups[k % n]
            parents = tops.setdefault(lookup_id, [])
            parent = self._pick(parents) if parents and self.rnd() < 0.3 else None
            if parent is None:
                parents.append(vid)
            ordinal = k // n + 1
            created, updated = self._master_times()
            add_value(
                {
                    "id": vid,
                    "created-at": self.times.at(created),
                    "updated-at": self.times.at(updated),
                    "created-by": self.admin,
                    "updated-by": self.admin,
                    "name": f"{prefix}-{ordinal:04d}",
                    "description": f"{lookup_name} {ordinal}",
                    "external-ref-code": _unique(f"{prefix}-{vid}", codes),
                    "external-ref-num": str(vid),
                    "lookup": lookup_id,
                    "lookup-id": lookup_id,
                    "parent": parent,
                    "parent-id": parent,
                    "depth": 1 if parent is None else 2,
                    "active": self.rnd() > 0.05,
                    "is-default": ordinal == 1,
                }
            )

    def _items(self) -> None:
        taken = self._taken("Item", "item-number")
        add = self.sink.adder("Item")
        n = self.counts.items
        first = self._ids("Item", n)
        self.items: list[_Item] = []
        for k in range(n):
            iid = first + k
            base, uom_code, low, high = CATALOG[k % len(CATALOG)]
            maker = self._pick(MANUFACTURERS)
            fractional = uom_code in FRACTIONAL_UOMS
            price = self._int(low * 100, high * 100)
            if fractional:
                price -= price % 2  # even cents: half quantities then give whole-cent totals
            created, updated = self._master_times()
            active = self.rnd() > 0.03
            doc = {
                "id": iid,
                "created-at": self.times.at(created),
                "updated-at": self.times.at(updated),
                "created-by": self.admin,
                "updated-by": self.admin,
                "name": f"{maker} {base}",
                "description": f"{base} by {maker}",
                "item-number": _unique(f"ITM-{iid:06d}", taken),
                "manufacturer-name": maker,
                "manufacturer-part-number": f"{maker[:3].upper()}-{self._int(10000, 99999)}",
                "uom": self.uom_ids.get(uom_code),
                "active": active,
            }
            add(doc)
            if active:
                self.items.append(_Item(iid, str(doc["name"]), self.uom_ids.get(uom_code), price, fractional))

    def _suppliers(self) -> None:
        n = self.counts.suppliers
        names, numbers = self._taken("Supplier", "name"), self._taken("Supplier", "number")
        add = self.sink.adder("Supplier")
        add_contact, add_address = self.sink.adder("Contact"), self.sink.adder("SupplierAddress")
        add_remit = self.sink.adder("RemitToAddress")
        first = self._ids("Supplier", n)
        self.suppliers: list[_Supplier] = []
        rnd, times = self.rnd, self.times
        for k in range(n):
            sid = first + k
            currency = self._currency()
            name = _unique(
                f"{self._pick(SUPPLIER_PREFIXES)} {self._pick(SUPPLIER_TRADES)} {self._pick(LEGAL_SUFFIXES[currency])}",
                names,
                limit=100,
            )
            domain = f"{_slug(name)[:40]}{sid}.example"
            x = rnd()
            status = "active" if x < 0.90 else ("inactive" if x < 0.96 else "draft")
            created, updated = self._master_times()
            stamp = {
                "created-at": times.at(created),
                "updated-at": times.at(created),
                "created-by": self.admin,
                "updated-by": self.admin,
            }
            place = self._address_fields(currency)
            contact_ids = []
            for c in range(self._pick((1, 1, 2, 3))):
                cid = self._ids("Contact", 1)
                given, family = self._pick(FIRST_NAMES), self._pick(LAST_NAMES)
                add_contact(
                    {
                        "id": cid,
                        **stamp,
                        "name-given": given,
                        "name-family": family,
                        "name-fullname": f"{given} {family}",
                        "email": f"{given.lower()}.{family.lower()}{c or ''}@{domain}",
                        "active": True,
                    }
                )
                contact_ids.append(cid)
            address_id = self._ids("SupplierAddress", 1)
            add_address({"id": address_id, **stamp, "name": "Main", **place, "active": True})
            remit_id = self._ids("RemitToAddress", 1)
            add_remit(
                {
                    "id": remit_id,
                    **stamp,
                    "name": f"{name} remit-to",
                    "remit-to-code": f"RT-{remit_id}",
                    **place,
                    "active": True,
                }
            )
            add(
                {
                    "id": sid,
                    **stamp,
                    "updated-at": times.at(updated),
                    "name": name,
                    "display-name": name,
                    "number": _unique(f"SUP-{sid:06d}", numbers),
                    "status": status,
                    "payment-method": "invoice",
                    "po-method": self._pick(("email", "email", "cxml", "prompt")),
                    "po-email": f"orders@{domain}",
                    "invoice-matching-level": self._pick(("2-way", "3-way")),
                    "tax-id": f"{self._int(10, 99)}-{self._int(1000000, 9999999)}",
                    "website": f"https://www.{domain}",
                    "on-hold": False,
                    "primary-contact": contact_ids[0],
                    "contacts": contact_ids,
                    "primary-address": address_id,
                    "supplier-addresses": [address_id],
                    "remit-to-addresses": [remit_id],
                }
            )
            self.suppliers.append(
                _Supplier(sid, name, currency, status, self._int(0, 3), self._int(1000, 90000), remit_id)
            )
        # Purchasing goes to active suppliers, a few of them getting most of the spend (Zipf-like).
        active = [k for k, s in enumerate(self.suppliers) if s.status == "active"] or list(range(n))
        self.rng.shuffle(active)
        self.supplier_pool = active
        self.supplier_weights = list(accumulate(1.0 / (r + 1) ** 0.9 for r in range(len(active))))

    def _supplier_pick(self) -> int:
        w = self.supplier_weights
        return self.supplier_pool[bisect(w, self.rnd() * w[-1])]

    # -- planning --------------------------------------------------------------------------------------------
    def _plan(self) -> None:
        """Decide every document's skeleton: times, supplier, lines, statuses, who pays what."""
        c, rng, rnd = self.counts, self.rng, self.rnd
        n_req, n_po, n_inv = c.requisitions, c.purchase_orders, c.invoices
        span = EPOCH - DOC_START
        # Requisitions, oldest first (ids follow creation time).
        req_times = sorted(DOC_START + int(rnd() * span) for _ in range(n_req))
        n_ordered = min(n_po, n_req)
        ordered = bytearray(n_req)
        for r in rng.sample(range(n_req), n_ordered) if n_ordered < n_req else range(n_req):
            ordered[r] = 1
        self.reqs: list[tuple[int, int, int, str]] = []  # (time, supplier, lines, status)
        pos: list[tuple[int, int, int, int, int]] = []  # (time, tie, requisition or -1, supplier, lines)
        for r, t in enumerate(req_times):
            supplier, lines = self._supplier_pick(), self._nlines()
            if ordered[r]:
                status = "approved"
                pos.append((self._after(t, HOUR, 4 * DAY), r, r, supplier, lines))
            else:
                # Recent requisitions wait for approval; old unordered ones are abandoned drafts.
                status = "pending_approval" if t > EPOCH - 20 * DAY else "draft"
            self.reqs.append((t, supplier, lines, status))
        for k in range(n_po - n_ordered):  # external purchase orders, entered without a requisition
            pos.append((DOC_START + int(rnd() * span), n_req + k, -1, self._supplier_pick(), self._nlines()))
        pos.sort()
        self.pos = pos
        self.po_of_req = [-1] * n_req
        for p, entry in enumerate(pos):
            if entry[2] >= 0:
                self.po_of_req[entry[2]] = p
        # Invoices: most bill a purchase order (up to three invoices per order), the rest stand alone.
        backed = min(round(n_inv * 0.85), 3 * n_po) if n_po else 0
        per_po = [0] * n_po
        if backed <= n_po:
            # The orders still waiting for an invoice are mostly the recent ones.
            keyed = sorted((pos[p][0] + int(rnd() * 120 * DAY), p) for p in range(n_po))
            for _, p in keyed[:backed]:
                per_po[p] = 1
        else:
            per_po = [1] * n_po
            extra = [p for p in range(n_po) for _ in (0, 1)]
            rng.shuffle(extra)
            for p in extra[: backed - n_po]:
                per_po[p] += 1
        plans: list[_Invoice] = []
        for p, m in enumerate(per_po):
            t = pos[p][0]
            for j in range(m):
                t = self._after(t, 2 * DAY if j == 0 else 7 * DAY, 45 * DAY if j == 0 else 40 * DAY)
                plans.append(_Invoice(t, p, j, m, pos[p][3], 0))
        for _ in range(n_inv - backed):
            plans.append(_Invoice(DOC_START + int(rnd() * span), -1, 0, 1, self._supplier_pick(), self._nlines()))
        plans.sort(key=lambda i: (i.time, i.po, i.part))
        first = self._ids("InvoiceHeader", len(plans))
        self.invoices_of_po: dict[int, list[int]] = {}
        for k, inv in enumerate(plans):
            inv.id = first + k
            if inv.po >= 0:
                self.invoices_of_po.setdefault(inv.po, []).append(k)
            self._plan_invoice(inv)
        self.plans = plans
        self._plan_payments()

    def _plan_invoice(self, inv: _Invoice) -> None:
        rnd = self.rnd
        supplier = self.suppliers[inv.supplier]
        n = supplier.next_number
        supplier.next_number += 1
        year = self.times.day(inv.time)[:4]
        fmt = supplier.number_format
        initials = "".join(w[0] for w in supplier.name.split()[:3]).upper()
        inv.number = (f"INV-{n:06d}", str(n), f"{year}-{n:05d}", f"{initials}{n:07d}")[fmt]
        age = EPOCH - inv.time
        x = rnd()
        if age < 3 * DAY:
            status = "draft" if x < 0.35 else ("pending_approval" if x < 0.9 else "approved")
        elif age < 15 * DAY:
            status = (
                "draft" if x < 0.08 else "pending_approval" if x < 0.38 else "approved" if x < 0.93
                else "disputed" if x < 0.98 else "voided"
            )  # fmt: skip
        else:
            status = (
                "draft" if x < 0.015 else "pending_approval" if x < 0.04 else "approved" if x < 0.92
                else "disputed" if x < 0.96 else "voided"
            )  # fmt: skip
        inv.status = status
        if status == "pending_approval" or (status == "disputed" and rnd() < 0.5):
            inv.chain = "pending"
            inv.submitted = self._after(inv.time, 10 * 60, 2 * DAY)
        elif status in ("approved", "disputed") or (status == "voided" and rnd() < 0.6):
            inv.chain = "approved"
            inv.submitted = self._after(inv.time, 10 * 60, DAY)
            inv.approved_at = self._after(inv.submitted, HOUR, 5 * DAY)
        if status in ("voided", "disputed"):
            inv.moved_at = self._after(max(inv.time, inv.submitted, inv.approved_at), HOUR, 20 * DAY)
        if status == "approved" and inv.approved_at < EPOCH - DAY and rnd() < 0.75:
            inv.exported_at = self._after(inv.approved_at, HOUR, 3 * DAY)

    def _plan_payments(self) -> None:
        """Exactly ``payments`` payments over ~1.4 times as many approved invoices: one payment per
        supplier and currency for invoices approved close together; the last runs are still in
        flight; approved invoices left out were paid outside Coupa Pay or are waiting for a run."""
        wanted = self.counts.payments
        self.payments: list[_Payment] = []
        if not wanted:
            return
        rnd = self.rnd
        pool = [k for k, inv in enumerate(self.plans) if inv.status == "approved"]
        # Any approved invoice may be paid but those approved too recently for a run (see _payment_run).
        recent = EPOCH - 4 * DAY
        keyed = sorted((rnd() + (self.plans[k].approved_at > recent), k) for k in pool)
        covered = sorted(
            (k for _, k in keyed[: min(len(pool), max(wanted, round(wanted * 1.4)))]),
            key=lambda k: (self.plans[k].approved_at, k),
        )
        groups: dict[tuple[int, str], list[int]] = {}
        for k in covered:
            inv = self.plans[k]
            groups.setdefault((inv.supplier, self.suppliers[inv.supplier].currency), []).append(k)
        order = list(groups)
        self.rng.shuffle(order)
        merges, candidates = len(covered) - wanted, len(covered) - len(groups)
        batches: list[tuple[int, str, list[int]]] = []
        for key in order:
            invs = groups[key]
            merged = [[invs[0]]]
            for k in invs[1:]:
                last = merged[-1]
                close = self.plans[k].approved_at - self.plans[last[0]].approved_at < 14 * DAY
                # Spread the merges over all suppliers rather than using them up on the first ones.
                if merges > 0 and len(last) < 3 and close and rnd() * candidates < merges:
                    last.append(k)
                    merges -= 1
                else:
                    merged.append([k])
                candidates -= 1
            batches.extend((key[0], key[1], run) for run in merged)
        if len(batches) > wanted:  # too few merges were possible: some invoices stay unpaid
            keep = sorted(self.rng.sample(range(len(batches)), wanted))
            batches = [batches[n] for n in keep]
        for supplier, currency, invs in batches:
            approved = max(self.plans[k].approved_at for k in invs)
            self.payments.append(_Payment(self._payment_run(approved), supplier, currency, invs))
        # More payments than approved invoices: the rest are failed attempts at paying some again.
        for j in range(wanted - len(batches)):
            if pool:
                k = pool[j % len(pool)]
                inv = self.plans[k]
                pay = _Payment(self._after(inv.approved_at, DAY, 10 * DAY), inv.supplier, "", [k], retry=True)
            else:
                s = self._supplier_pick()
                pay = _Payment(DOC_START + int(rnd() * (EPOCH - DOC_START)), s, "", [], retry=True)
            pay.currency = self.suppliers[pay.supplier].currency
            self.payments.append(pay)
        self.payments.sort(key=lambda p: (p.time, p.invoices[0] if p.invoices else -1))
        for pay in self.payments:
            age = EPOCH - pay.time
            x = rnd()
            if pay.retry:
                pay.status = "completed_with_errors"
            elif age < 2 * DAY:
                pay.status = "draft" if x < 0.3 else ("approved" if x < 0.7 else "payment_initiated")
            elif age < 7 * DAY:
                pay.status = (
                    "approved" if x < 0.1 else "payment_initiated" if x < 0.3 else "payment_in_progress" if x < 0.8
                    else "completed_successfully"
                )  # fmt: skip
            else:
                pay.status = "completed_successfully" if x < 0.95 else "completed_with_errors"
            if pay.status == "completed_successfully":
                for k in pay.invoices:
                    self.plans[k].paid_at = self._after(pay.time, HOUR, 2 * DAY)

    def _payment_run(self, after: int) -> int:
        """Payment runs happen on Tuesdays and Fridays at 16:00 UTC, at least three days after approval."""
        t = after + 3 * DAY
        day = t // DAY
        for d in range(day, day + 8):
            run = d * DAY + 16 * HOUR
            if (d + 3) % 7 in (1, 4) and run >= t:  # 1970-01-01 was a Thursday
                return run if run < EPOCH else self._after(after, HOUR, 3 * DAY)
        return t

    # -- documents ------------------------------------------------------------------------------------------
    def _lines_for(self, n: int, currency: str, t: int) -> list[tuple[Any, ...]]:
        """Line contents: (amount line?, description, quantity, price, cents total, uom, item, account)."""
        rnd = self.rnd
        accounts = self.accounts_by_currency.get(currency) or self.all_accounts
        main = self._pick(accounts) if accounts else None
        month = self.times.day(t)
        label = f"{MONTHS[int(month[5:7]) - 1]} {month[:4]}"
        hour = self.uom_ids.get("HR")
        out: list[tuple[Any, ...]] = []
        for _ in range(n):
            account = main if rnd() < 0.75 or not accounts else self._pick(accounts)
            x = rnd()
            if self.items and x < 0.65:
                item = self._pick(self.items)
                price = item.price_cents * self._int(90, 110) // 100
                if item.fractional:
                    price -= price % 2
                    halves = self._int(1, 40)
                else:
                    halves = 2 * self._int(1, 20)
                out.append(
                    (
                        False,
                        item.name,
                        _quantity(halves),
                        _cents(price),
                        halves * price // 2,
                        item.uom,
                        item.id,
                        account,
                    )
                )
            elif x < 0.85:
                price = self._int(200, 25000) * 100 + self._int(0, 99)
                out.append((True, f"{self._pick(SERVICES)} - {label}", None, _cents(price), price, None, None, account))
            else:
                halves = self._int(8, 160)
                price = self._int(60, 250) * 100  # whole hourly rates: half hours give whole cents
                out.append(
                    (False, f"{self._pick(SERVICES)} (hours) - {label}", _quantity(halves), _cents(price),
                     halves * price // 2, hour, None, account)
                )  # fmt: skip
        return out

    def _chain(
        self, add: Callable[[dict[str, Any]], None], kind: str, doc_id: int, mode: str, start: int, end: int, by: int
    ) -> tuple[list[int], int | None]:
        """An approval chain as ``start_chain`` makes it, decided the way ``approve`` leaves it;
        returns its ids and the one now pending, if any."""
        times = self.times
        steps = 1 if self.rnd() < 0.7 else 2
        first = self._ids("Approval", steps)
        ids = list(range(first, first + steps))
        pending_at = steps - 1 if steps == 2 and self.rnd() < 0.5 else 0
        pending: int | None = None
        t = start
        for n in range(steps):
            approver = self._pick(self.approvers)
            doc: dict[str, Any] = {
                "id": first + n,
                "created-at": times.at(start),
                "updated-at": times.at(start),
                "created-by": by,
                "updated-by": by,
                "approvable-type": kind,
                "approvable-id": doc_id,
                "approver-id": approver,
                "approver-type": "User",
                "approver": {"id": approver, "type": "User"},
                "position": n + 1,
                "status": "queued",
                "type": "ManagementHierarchyApproval",
                "holdable": True,
                "approval-chain-id": doc_id,
            }
            if mode == "approved" or n < pending_at:
                t = start + (end - start) * (n + 1) // steps if mode == "approved" else self._after(t, HOUR, DAY)
                doc.update(
                    {"status": "approved", "approval-date": times.at(t), "approved-by": approver,
                     "updated-at": times.at(t), "updated-by": approver}
                )  # fmt: skip
            elif n == pending_at:
                doc["status"] = "pending_approval"
                pending = first + n
            add(doc)
        return ids, pending

    def _build_chains(self) -> None:
        sink, times, rnd = self.sink, self.times, self.rnd
        add_req, add_req_line = sink.adder("RequisitionHeader"), sink.adder("RequisitionLine")
        add_po, add_po_line = sink.adder("OrderHeader"), sink.adder("OrderLine")
        add_approval = sink.adder("Approval")
        self.add_invoice, self.add_invoice_line = sink.adder("InvoiceHeader"), sink.adder("InvoiceLine")
        self.add_approval = add_approval
        self.paying: dict[int, tuple[int, str, str]] = {}  # planned invoice -> (id, number, amount due)
        wanted_payments = {k for p in self.payments for k in p.invoices}
        self.wanted_payments = wanted_payments
        req_first = self._ids("RequisitionHeader", len(self.reqs))
        po_first = self._ids("OrderHeader", len(self.pos))
        po_numbers = self._taken("OrderHeader", "po-number")
        usd = self.currency_ids["USD"]
        for r, (t, s, nlines, status) in enumerate(self.reqs):
            req_id = req_first + r
            requester = self._pick(self.active_users)
            supplier = self.suppliers[s]
            currency_id = self.currency_ids.get(supplier.currency, usd)
            lines = self._lines_for(nlines, supplier.currency, t)
            p = self.po_of_req[r]
            po_time = self.pos[p][0] if p >= 0 else 0
            updated = po_time if p >= 0 else t
            by = requester
            approvals: list[int] = []
            doc: dict[str, Any] = {
                "id": req_id,
                "created-at": times.at(t),
                "created-by": requester,
                "req-title": lines[0][1][:50],
                "status": status,
                "requested-by": requester,
                "requester": requester,
                "department": self.user_departments.get(requester),
                "ship-to-address": self._pick(self.address_ids) if self.address_ids else None,
                "need-by-date": times.at(t - t % DAY + self._int(7, 30) * DAY),
                "exported": False,
            }
            if status != "draft":
                submitted = self._after(t, 60, 2 * HOUR) if p < 0 else t + (po_time - t) // 10
                doc["submitted-at"] = times.at(submitted)
                mode = "approved" if status == "approved" else "pending"
                approvals, pending = self._chain(
                    add_approval, "RequisitionHeader", req_id, mode, submitted, po_time, by
                )
                if pending is not None:
                    doc["current-approval"] = pending
                    updated = submitted
            line_first = self._ids("RequisitionLine", nlines)
            order_first = self._ids("OrderLine", nlines) if p >= 0 else 0
            total = 0
            line_stamp = {
                "created-at": times.at(t),
                "updated-at": times.at(updated),
                "created-by": by,
                "updated-by": by,
            }
            for n, (amount, desc, qty, price, cents, uom, item, account) in enumerate(lines):
                total += cents
                line: dict[str, Any] = {
                    "id": line_first + n,
                    **line_stamp,
                    "line-num": n + 1,
                    "line-type": "RequisitionAmountLine" if amount else "RequisitionQuantityLine",
                    "description": desc,
                    "quantity": qty,
                    "unit-price": price,
                    "total": _cents(cents),
                    "currency": currency_id,
                    "supplier": supplier.id,
                    "account": account,
                    "uom": uom,
                    "item": item,
                    "need-by-date": doc["need-by-date"],
                    "status": "ordered" if p >= 0 else status,
                }
                if p >= 0:
                    line["order-line-id"] = order_first + n
                add_req_line(line)
            doc.update(
                {
                    "updated-at": times.at(updated),
                    "updated-by": by,
                    "requisition-lines": list(range(line_first, line_first + nlines)),
                    "approvals": approvals,
                    "total": _cents(total),
                    "line-count": nlines,
                }
            )
            if status == "approved" and po_time < EPOCH - DAY and rnd() < 0.5:
                doc["exported"], doc["last-exported-at"] = True, times.at(self._after(po_time, HOUR, DAY))
                doc["updated-at"] = doc["last-exported-at"]
            add_req(doc)
            if p >= 0:
                self._order(add_po, add_po_line, p, po_first + p, po_numbers, supplier, lines, order_first,
                            req_id, line_first, requester, doc.get("ship-to-address"))  # fmt: skip
        for p, entry in enumerate(self.pos):
            if entry[2] < 0:
                supplier = self.suppliers[entry[3]]
                lines = self._lines_for(entry[4], supplier.currency, entry[0])
                order_first = self._ids("OrderLine", len(lines))
                buyer = self._pick(self.buyers)
                self._order(add_po, add_po_line, p, po_first + p, po_numbers, supplier, lines, order_first,
                            None, None, buyer, self._pick(self.address_ids) if self.address_ids else None)  # fmt: skip
        for k, inv in enumerate(self.plans):
            if inv.po < 0:
                supplier = self.suppliers[inv.supplier]
                lines = self._lines_for(inv.lines, supplier.currency, inv.time)
                ship_to = self._pick(self.address_ids) if self.address_ids else None
                self._invoice(k, inv, [(line, None) for line in lines], self._pick(self.active_users), ship_to)

    def _order(
        self,
        add_po: Callable[[dict[str, Any]], None],
        add_line: Callable[[dict[str, Any]], None],
        p: int,
        po_id: int,
        taken: set[str],
        supplier: _Supplier,
        lines: list[tuple[Any, ...]],
        order_first: int,
        req_id: int | None,
        req_line_first: int | None,
        requester: int,
        ship_to: int | None,
    ) -> None:
        """A purchase order as ``_order`` makes one from an approved requisition (or an external one)."""
        times, rnd = self.times, self.rnd
        t = self.pos[p][0]
        buyer = self._pick(self.buyers)
        currency_id = self.currency_ids.get(supplier.currency, self.currency_ids["USD"])
        number = _unique(str(po_id), taken, sep="-")  # the emulator numbers orders 1, 2, 3...
        by = buyer if req_id is None else requester
        stamp = {"created-at": times.at(t), "updated-at": times.at(t), "created-by": by, "updated-by": by}
        order_lines: list[tuple[tuple[Any, ...], tuple[int, str, str]]] = []
        for n, (amount, desc, qty, price, cents, uom, item, account) in enumerate(lines):
            line = {
                "id": order_first + n,
                **stamp,
                "line-num": str(n + 1),
                "type": "OrderAmountLine" if amount else "OrderQuantityLine",
                "description": desc,
                "quantity": qty,
                "price": price,
                "total": _cents(cents),
                "currency": currency_id,
                "account": account,
                "supplier": supplier.id,
                "uom": uom,
                "item": item,
                "order-header-id": po_id,
                "requisition-line-id": str(req_line_first + n) if req_line_first is not None else None,
                "status": "created",
                "version": 1,
                "match-type": "2-way",
            }
            add_line(line)
            order_lines.append((lines[n], (order_first + n, str(n + 1), number)))
        doc: dict[str, Any] = {
            "id": po_id,
            **stamp,
            "po-number": number,
            "status": "issued",
            "transmission-status": "sent_via_email" if req_id is not None else "sent_manually",
            "type": "OrderHeader" if req_id is not None else "ExternalOrderHeader",
            "supplier": supplier.id,
            "currency": currency_id,
            "requisition-header": req_id,
            "requester": requester,
            "ship-to-address": ship_to,
            "ship-to-user": requester,
            "order-lines": list(range(order_first, order_first + len(lines))),
            "version": 1,
            "internal-revision": 1,
            "acknowledged-flag": False,
            "exported": False,
        }
        if t < EPOCH - DAY and rnd() < 0.8:
            exported = self._after(t, 10 * 60, DAY)
            doc.update({"exported": True, "last-exported-at": times.at(exported), "updated-at": times.at(exported)})
        add_po(doc)
        for k in self.invoices_of_po.get(p, ()):
            inv = self.plans[k]
            billed = order_lines if len(order_lines) < inv.parts else order_lines[inv.part :: inv.parts]
            self._invoice(k, inv, billed, requester, ship_to)

    def _invoice(
        self,
        k: int,
        inv: _Invoice,
        lines: Sequence[tuple[tuple[Any, ...], tuple[int, str, str] | None]],
        requester: int,
        ship_to: int | None,
    ) -> None:
        """An invoice with its lines, approvals and the totals the invoice deriver computes."""
        times, rnd = self.times, self.rnd
        supplier = self.suppliers[inv.supplier]
        code = supplier.currency
        currency_id = self.currency_ids.get(code, self.currency_ids["USD"])
        places = self.places.get(code, 2)
        clerk = self._pick(self.ap_clerks)
        updated = max(inv.time, inv.submitted, inv.approved_at, inv.moved_at, inv.exported_at, inv.paid_at)
        line_stamp = {
            "created-at": times.at(inv.time),
            "updated-at": times.at(inv.time),
            "created-by": clerk,
            "updated-by": clerk,
        }
        first = self._ids("InvoiceLine", len(lines))
        subtotal = Decimal(0)
        add_line = self.add_invoice_line
        for n, ((amount, desc, qty, price, _cents_total, uom, item, account), order) in enumerate(lines):
            line: dict[str, Any] = {
                "id": first + n,
                **line_stamp,
                "line-num": n + 1,
                "type": "InvoiceAmountLine" if amount else "InvoiceQuantityLine",
                "description": desc,
                "price": price,
                "quantity": qty,
                "uom": uom,
                "item": item,
                "account": account,
                "currency": currency_id,
            }
            if order is not None:
                line["order-line-id"], line["order-line-num"], line["po-number"] = order
            total = line_total(line)
            subtotal += total
            line["total"] = _money(total, places)
            add_line(line)
        doc: dict[str, Any] = {
            "id": inv.id,
            "created-at": times.at(inv.time),
            "updated-at": times.at(updated),
            "created-by": clerk,
            "updated-by": clerk,
            "invoice-number": inv.number,
            "invoice-date": times.local_midnight(inv.time - self._int(0, 7) * DAY),
            "status": inv.status,
            "paid": inv.paid_at > 0,
            "exported": inv.exported_at > 0,
            "supplier": supplier.id,
            "currency": currency_id,
            "requested-by": requester,
            "ship-to-address": ship_to,
            "bill-to-address": self.address_ids[0] if self.address_ids else None,
            "is-credit-note": False,
            "line-level-taxation": False,
            "invoice-lines": list(range(first, first + len(lines))),
        }
        doc["net-due-date"] = times.local_midnight(inv.time + 30 * DAY)
        if inv.exported_at:
            doc["last-exported-at"] = times.at(inv.exported_at)
        if inv.paid_at:
            doc["payment-date"] = times.at(inv.paid_at)
        # Charges and tax as a supplier bills them; totals exactly as the invoice deriver has them.
        charges = Decimal(0)
        if rnd() < 0.15:
            doc["shipping-amount"] = _cents(self._int(500, 15000))
            charges += Decimal(doc["shipping-amount"])
        tax = Decimal(0)
        if code != "USD" or rnd() < 0.6:
            rate = self._pick(TAX_RATES.get(code, TAX_RATES["USD"]))
            doc["tax-rate"] = rate
            doc["tax-amount"] = _money(subtotal * Decimal(rate) / 100, places)
            tax = Decimal(doc["tax-amount"])
        # The deriver's formulas; with no discount the "less discount" figures equal the others.
        gross_total = _money(subtotal + charges, places)
        amount_due = _money(subtotal + charges + tax, places)
        taxes = _money(tax, places)
        doc.update(
            {
                "document-type": "Invoice",
                "gross-total": gross_total,
                "total-with-taxes": amount_due,
                "amount-due": amount_due,
                "amount-due-less-discount": amount_due,
                "gross-total-less-discount": gross_total,
                "net-total-less-discount": _money(subtotal, places),
                "total-taxes-less-discount": taxes,
                "tax-due-to-supplier": taxes,
                "line-count": str(len(lines)),
            }
        )
        if inv.chain:
            doc["approvals"] = self._chain(
                self.add_approval, "InvoiceHeader", inv.id, inv.chain, inv.submitted, inv.approved_at, clerk
            )[0]
        else:
            doc["approvals"] = []
        self.add_invoice(doc)
        if k in self.wanted_payments:
            self.paying[k] = (inv.id, inv.number, doc["amount-due"])

    # -- Coupa Pay -------------------------------------------------------------------------------------------
    def _payment_masters(self) -> None:
        """Payment partners with a company account each, and a pay-to account per supplier."""
        self.pay_from: dict[str, list[tuple[int, int, str]]] = {}  # currency -> [(account, partner, kind)]
        if not self.payments:
            return
        times, admin = self.times, self.admin
        add_partner = self.sink.adder("CoupaPay-PaymentPartner")
        add_account = self.sink.adder("CoupaPay-CompanyPaymentAccount")
        add_pay_to = self.sink.adder("CoupaPay-PayToAccount")
        stamp = {"created-at": times.at(START), "updated-at": times.at(START), "created-by": admin, "updated-by": admin}
        for name, bank, partner_type, currency, kind in PARTNERS:
            if currency not in self.currency_ids:
                continue
            partner_id = self._ids("CoupaPay-PaymentPartner", 1)
            account_id = self._ids("CoupaPay-CompanyPaymentAccount", 1)
            types = [t[0] for t in self.types if t[2] == currency]
            add_partner(
                {
                    "id": partner_id,
                    **stamp,
                    "name": name,
                    "issuing-bank": bank,
                    "type": "CoupaPay::VirtualCardPartner",
                    "payment-partner-type": partner_type,
                    "status": "active",
                    "currency": self.currency_ids[currency],
                    "currency-id": self.currency_ids[currency],
                    "support-contact": admin,
                    "account-types": types,
                    "coupa-pay-id": 1000 + partner_id,
                    "configuration": {"expiry-days": "30", "tolerance-pct": "0.0", "fx-tolerance-pct": "5.0"},
                }
            )
            add_account(
                {
                    "id": account_id,
                    **stamp,
                    "account-name": f"{name} - Operating {currency}",
                    "account-kind": kind,
                    "status": "active",
                    "document-types": ["invoice"],
                    "currency": self.currency_ids[currency],
                    "payment-partner": partner_id,
                    "account-types": types,
                    "account-type-ids": types,
                    "coupa-pay-id": 2000 + account_id,
                }
            )
            self.pay_from.setdefault(currency, []).append((account_id, partner_id, kind))
        for s in self.suppliers:
            s.pay_to = self._ids("CoupaPay-PayToAccount", 1)
            # Some suppliers are sole traders paid to a personal account.
            personal = self.rnd() < 0.08
            add_pay_to(
                {
                    "id": s.pay_to,
                    **stamp,
                    "type": "CoupaPay::EmployeePaymentAccount" if personal else "CoupaPay::SupplierPaymentAccount",
                    "account-name": f"{s.name} {'personal' if personal else 'operating'} account",
                    "account-kind": self._pick(("virtual_card", "ach", "ach", "wire")),
                    "source-name": "cpaui",
                    "status": "active",
                    "document-types": ["invoice"],
                    "currency": self.currency_ids.get(s.currency, self.currency_ids["USD"]),
                    "supplier": s.id,
                    "remit-to-address": s.remit_to,
                    "coupa-pay-id": 5000 + s.pay_to,
                }
            )

    def _build_payments(self) -> None:
        if not self.payments:
            return
        times, rnd = self.times, self.rnd
        add = self.sink.adder("CoupaPay-Payment")
        add_detail = self.sink.adder("CoupaPay-PaymentDetail")
        add_batch = self.sink.adder("CoupaPay-PaymentBatch")
        first = self._ids("CoupaPay-Payment", len(self.payments))
        batches: dict[tuple[int, int], int] = {}
        usd_accounts = self.pay_from.get("USD") or next(iter(self.pay_from.values()))
        for n, pay in enumerate(self.payments):
            pid = first + n
            supplier = self.suppliers[pay.supplier]
            accounts = self.pay_from.get(pay.currency) or usd_accounts
            account_id, partner_id, kind = self._pick(accounts)
            currency_id = self.currency_ids.get(pay.currency, self.currency_ids["USD"])
            clerk = self._pick(self.ap_clerks)
            places = self.places.get(pay.currency, 2)
            zero = _money(Decimal(0), places)
            batch_key = (pay.time // DAY, account_id)
            batch = batches.get(batch_key)
            if batch is None:
                batch = batches[batch_key] = self._ids("CoupaPay-PaymentBatch", 1)
                add_batch(
                    {
                        "id": batch,
                        "created-at": times.at(pay.time),
                        "updated-at": times.at(pay.time),
                        "created-by": clerk,
                        "updated-by": clerk,
                        "status": "completed" if pay.time < EPOCH - 7 * DAY else "in_progress",
                        "description": f"Payment run {times.day(pay.time)}",
                    }
                )
            done = pay.status.startswith("completed")
            finished = self._after(pay.time, HOUR, 2 * DAY) if done else pay.time
            exported = self._after(finished, HOUR, DAY) if done and finished < EPOCH - DAY and rnd() < 0.7 else 0
            stamp = {"created-at": times.at(pay.time), "updated-at": times.at(pay.time),
                     "created-by": clerk, "updated-by": clerk}  # fmt: skip
            details = []
            total = Decimal(0)
            for k in pay.invoices:
                inv_id, number, due = self.paying[k]
                detail_id = self._ids("CoupaPay-PaymentDetail", 1)
                details.append(detail_id)
                total += Decimal(due)
                add_detail(
                    {
                        "id": detail_id,
                        **stamp,
                        "payment-id": str(pid),
                        "payable-id": inv_id,
                        "payable-type": "CoupaPay::Invoice",
                        "source-transaction-id": str(inv_id),
                        "source-transaction-type": "InvoiceHeader",
                        "source-transaction-reference": number,
                        "transaction-total": due,
                        "discount-total": zero,
                        "adjustment-total": zero,
                        "payment-total": due,
                        "currency": currency_id,
                        "payable-allocations": [],
                    }
                )
            amount = _money(total, places)
            doc: dict[str, Any] = {
                "id": pid,
                **stamp,
                "updated-at": times.at(max(finished, exported)),
                "status": pay.status,
                "exported": exported > 0,
                "external-ref-id": 100_000 + pid,
                "payment-identifier": f"PMT-{pid:08d}",
                "description": f"Payment to {supplier.name}",
                "source-name": "Coupa Pay",
                "transfer-type": "virtual_card"
                if kind == "virtual_card"
                else ("ach" if pay.currency == "USD" else "wire"),
                "pay-from-account": account_id,
                "payment-partner": partner_id,  # the pay-from account's partner, as the payment deriver sets it
                "pay-to-account": supplier.pay_to,
                "payee": supplier.id,
                "pay-from-currency": currency_id,
                "pay-to-currency": currency_id,
                "pay-from-total": amount,
                "pay-to-total": amount,
                "estimated-pay-from-total": amount,
                "exchange-rate": "1.0",
                "payment-batch": batch,
                "payment-batch-id": batch,
                "payment-details": details,
                "requested-execution-date": times.day(pay.time),
            }
            if pay.status not in ("draft", "approved"):
                doc["released-at"] = times.at(pay.time)
            if pay.status == "completed_with_errors":
                doc["error-text"] = "The payee's bank rejected the transfer"
            if exported:
                doc["last-exported-at"] = times.at(exported)
            add(doc)
