"""Property tests: the emulator's collection filters agree with their specification.

:mod:`pycoupa.wire.reference_eval` is the specification of Coupa's query semantics. Here random
records are written through the emulator's HTTP API, described again as plain nested dicts (ids
from the responses, values from what was written), and random queries are sent to the list
endpoint. For every query the emulator must answer exactly the ids that
``reference_eval.matches`` selects, in the order and page ``order_and_page`` gives, or a 400 in
the ``errors`` envelope exactly when the specification rejects the query.

Two datasets:

- suppliers: text (unicode, case variants, empty), enum-like status, decimal, boolean, integer,
  a datetime (``created-at``, spread by advancing the instance clock), a single association
  (``payment-term`` with integer and float fields), a collection association (``account-types``,
  each with a ``currency``), an owned object (``primary-contact``) and a self reference
  (``parent``, two levels deep);
- purchase orders with inline ``order-lines`` (decimal, writable datetime ``need-by-date``
  written with random offsets, ``account`` -> ``account-type`` -> ``currency``), ``supplier`` and
  ``currency`` references and their foreign-key shorthands.

Queries use every operator, hyphen and underscore spellings of attributes and operators, FK
shorthand (``payment-term-id``, ``account_type_id``), association paths through single and
collection associations, ``order_by``/``dir`` with ties, and ``limit``/``offset``.

Edge cases the strategies do not reach (years beyond 1000..9998, integers beyond 64 bits, odd
spellings, fractional seconds, NUL characters) have explicit tests at the end of this module, each
a minimal example of a divergence the property tests once found.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from pycoupa.emulator.app import Emulator
from pycoupa.emulator.ratelimit import RateLimitSettings
from pycoupa.emulator.schema import Schema
from pycoupa.wire.query import QueryError, parse_query
from pycoupa.wire.reference_eval import matches, order_and_page
from pycoupa.wire.values import parse_datetime

JSON = "application/json"
Pairs = list[tuple[str, str]]
FieldType = Callable[[tuple[str, ...]], str]

# Records are stamped from this instant: just before Los Angeles (the instance's zone) moves its
# clocks, so created-at straddles a DST change.
STAMP_BASE = datetime(2026, 3, 8, 9, 59, 58, tzinfo=UTC)

# No shrink phase: each example writes its dataset over HTTP, and shrinking a failure ran for the
# full five minutes Hypothesis allows without getting much smaller. The falsifying example and the
# failing query pairs are printed as they are; minimise by hand into an xfail test below.
PROPERTY_SETTINGS = settings(
    max_examples=80,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --------------------------------------------------------------------------- the instance


class Instance:
    """A fresh emulator per example, spoken to over in-process HTTP from synchronous code.

    A new ``Emulator`` per example rather than ``reset()``: see test_reset_after_a_rejected_request.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.emu = Emulator()
        self.client = self._client()
        self.headers: dict[str, str] = {}
        self.elapsed = 0.0

    def _client(self) -> httpx.AsyncClient:
        self.emu.buckets.configure(RateLimitSettings(enabled=False))
        transport = httpx.ASGITransport(app=self.emu.app, raise_app_exceptions=False)
        return httpx.AsyncClient(transport=transport, base_url="http://coupa.test")

    @property
    def schema(self) -> Schema:
        return self.emu.schema

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.client.request(method, url, **kwargs))

    def fresh(self) -> None:
        """A brand-new instance (records stamped from STAMP_BASE, ids from 1) with an all-scopes token."""
        self.loop.run_until_complete(self.client.aclose())
        self.emu = Emulator()
        # Records are stamped from a fixed instant (plus advance()): Hypothesis replays an example
        # and needs the same values, hence the same draws. Tokens keep the real clock.
        clock = self.emu.clock
        clock.now = lambda: STAMP_BASE + timedelta(seconds=clock.offset)  # type: ignore[method-assign]
        self.client = self._client()
        self.mint()

    def mint(self) -> None:
        self.elapsed = 0.0
        scopes = sorted(self.emu.known_scopes)
        client_id, secret = self.emu.create_oauth_client(scopes)
        r = self.request(
            "POST",
            "/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
                "scope": " ".join(scopes),
            },
        )
        assert r.status_code == 200, r.text
        self.headers = {"Authorization": f"Bearer {r.json()['access_token']}", "Accept": JSON}

    def advance(self, seconds: float) -> None:
        """Move the instance clock (records get later ``created-at``); tokens live 24 hours."""
        self.emu.clock.advance(seconds)
        self.elapsed += seconds
        if self.elapsed > 3600:
            self.mint()

    def with_tables(self, *kinds: str) -> None:
        """Work around the missing-table 500 (see test_filter_through_association_without_table_is_500):
        a filter through an association to a kind nobody has written yet must not reach SQLite."""
        for kind in kinds:
            self.emu.store.ensure_table(kind)

    def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = self.request("POST", f"/api/{path}", json=body, headers=self.headers)
        assert r.status_code == 201, (path, body, r.status_code, r.text)
        record: dict[str, Any] = r.json()
        return record

    def get(self, path: str, pairs: Pairs) -> httpx.Response:
        return self.request("GET", f"/api/{path}", params=pairs, headers=self.headers)

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


@pytest.fixture(scope="module")
def instance() -> Iterator[Instance]:
    inst = Instance()
    yield inst
    inst.close()


def error_messages(r: httpx.Response) -> list[str]:
    body = r.json()
    assert isinstance(body, dict) and set(body) == {"errors"}, body
    messages = [m for values in body["errors"].values() for m in values]
    assert messages and all(isinstance(m, str) and m for m in messages), body
    return messages


def field_type_for(schema: Schema, definition: str) -> FieldType:
    """``field_type`` for reference_eval, read from the catalog (FK shorthand ``x-id`` is integer)."""

    def field_type(path: tuple[str, ...]) -> str:
        kind = definition
        for seg in path[:-1]:
            plan = schema.plan_by_name(kind)[seg]
            assert plan.target is not None, path
            kind = plan.target
        last = path[-1]
        if last == "id":
            return "integer"
        plans = schema.plan_by_name(kind)
        fk = plans.get(last[:-3]) if last.endswith("-id") else None
        if fk is not None and fk.role in ("reference", "owned"):
            return "integer"
        return plans[last].field.scalar_type

    return field_type


# --------------------------------------------------------------------------- what the spec says


def expected_ids(records: Sequence[dict[str, Any]], pairs: Pairs, field_type: FieldType) -> list[int] | None:
    """The ids reference_eval selects for ``pairs`` (None: the query is rejected)."""
    try:
        q = parse_query(pairs)
        matches({}, q.conditions, field_type)  # validates every condition, whatever the data
        chosen = [r for r in records if matches(r, q.conditions, field_type)]
        page = order_and_page(chosen, q.order_by, q.dir, q.limit, q.offset, field_type)
    except QueryError:
        return None
    return [r["id"] for r in page]


def check_query(
    inst: Instance, path: str, records: Sequence[dict[str, Any]], pairs: Pairs, field_type: FieldType
) -> None:
    want = expected_ids(records, pairs, field_type)
    event("rejected" if want is None else f"{min(len(want), 3)}{'+' if len(want) >= 3 else ''} ids")
    r = inst.get(path, pairs)
    assert r.status_code != 500, (pairs, r.text)
    if want is None:
        assert r.status_code == 400, (pairs, r.status_code, r.text[:300])
        error_messages(r)
        return
    assert r.status_code == 200, (pairs, r.status_code, r.text[:300])
    got = [item["id"] for item in r.json()]
    assert got == want, pairs


def values_at(records: Sequence[dict[str, Any]], path: tuple[str, ...]) -> list[Any]:
    """Every non-None value the records hold at ``path`` (through lists, FK shorthand included)."""
    out: list[Any] = []

    def walk(node: dict[str, Any], rest: tuple[str, ...]) -> None:
        name = rest[0]
        if len(rest) == 1:
            if name in node:
                value = node[name]
            elif name.endswith("-id") and isinstance(node.get(name[:-3]), dict):
                value = node[name[:-3]].get("id")
            else:
                value = None
            if value is not None and not isinstance(value, dict | list):
                out.append(value)
            return
        child = node.get(name)
        if isinstance(child, dict):
            walk(child, rest[1:])
        elif isinstance(child, list):
            for item in child:
                walk(item, rest[1:])

    for record in records:
        walk(record, path)
    return out


# --------------------------------------------------------------------------- value strategies

# Text with the characters that trip case folding and collations, plus anything Hypothesis likes.
# e acute, sharp s (both cases), dotted/dotless i, sigma (3 forms), a titlecase digraph, CJK, NBSP, emoji
TRICKY = "aAbBzZ0 9_%-,.\u00e9\u00c9\u00df\u1e9e\u0130\u0131iI\u03a3\u03c3\u03c2\u01c5\u65e5\u00a0\U0001f600"
tricky_text = st.text(alphabet=st.sampled_from(TRICKY), max_size=6)
# U+0000 is kept out: see test_text_with_nul_character (SQLite's json_extract cuts text there).
wild_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=6)
any_text = st.one_of(tricky_text, tricky_text, wild_text)

DECIMALS = st.one_of(
    st.builds(lambda n, e: Decimal(n).scaleb(-e), st.integers(-(10**7), 10**7), st.integers(0, 4)),
    st.sampled_from([Decimal("0"), Decimal("-0.0"), Decimal("0.00"), Decimal("100"), Decimal("1E+2")]),
)
# Instants with whole seconds, years 1000..9998: the edges of the range have tests of their own.
DATETIMES = st.datetimes(min_value=datetime(1000, 1, 2), max_value=datetime(9998, 12, 30), timezones=st.just(UTC)).map(
    lambda d: d.replace(microsecond=0)
)
OFFSETS = (
    timedelta(0),
    timedelta(hours=-8),
    timedelta(hours=-7),
    timedelta(hours=5, minutes=30),
    timedelta(hours=-3, minutes=-30),
    timedelta(hours=9),
    timedelta(hours=14),
    timedelta(hours=-12),
)
INVALID = {
    "integer": ("", "abc", "1.5", "1e3", "--1", "0x10"),
    "decimal": ("", "abc", "1.2.3", "NaN", "Infinity", "1e", "1,5"),
    "float": ("", "abc", "NaN", "-Infinity"),
    "boolean": ("", "maybe", "2", "truee", "on"),
    "datetime": ("", "yesterday", "2024-13-01", "2024-02-30", "2024-01-01T25:00:00Z", "2024-01-01T10:00Z+"),
    "string": (),
}
ORDERED_OPS = ("eq", "not_eq", "gt", "lt", "gt_or_eq", "lt_or_eq", "in", "not_in")
TEXT_OPS = ("contains", "starts_with", "ends_with")
VALID_OPS = {
    "string": (*ORDERED_OPS, *TEXT_OPS, "blank"),
    "integer": (*ORDERED_OPS, *TEXT_OPS, "blank"),
    "decimal": (*ORDERED_OPS, *TEXT_OPS, "blank"),
    "float": (*ORDERED_OPS, *TEXT_OPS, "blank"),
    "boolean": (*ORDERED_OPS, "blank"),
    "datetime": ORDERED_OPS,
}
INVALID_OPS = {"boolean": TEXT_OPS, "datetime": (*TEXT_OPS, "blank")}


def random_case(draw: st.DrawFn, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.swapcase() if flip else c for c, flip in zip(text, flips, strict=True))


def spell_datetime(draw: st.DrawFn, value: datetime, *, bare_dates: bool = True) -> str:
    """One of the spellings both the spec and Coupa read, in a random zone (never naive).

    A bare date is midnight UTC in a filter, but midnight in the instance's zone in a request body
    (writes.py follows Rails' Time.zone there), so bodies get no bare dates.
    """
    bare, seconds = draw(st.booleans()), draw(st.booleans())  # drawn whatever the value
    if bare and bare_dates and value.astimezone(UTC).time() == datetime.min.time():
        u = value.astimezone(UTC)
        return f"{u.year:04d}-{u.month:02d}-{u.day:02d}"  # a bare date is midnight UTC
    offset = draw(st.sampled_from(OFFSETS))
    local = value.astimezone(timezone(offset))
    sep = draw(st.sampled_from("TTt "))
    text = f"{local.year:04d}-{local.month:02d}-{local.day:02d}{sep}{local.hour:02d}:{local.minute:02d}"
    if local.second or seconds:
        text += f":{local.second:02d}"
    minutes = int(offset.total_seconds()) // 60
    if minutes == 0:
        suffix = draw(st.sampled_from(["Z", "z", "UTC", "+00:00", "+0000", "+00", "-00:00"]))
    else:
        sign = "-" if minutes < 0 else "+"
        hh, mm = divmod(abs(minutes), 60)
        forms = [f"{sign}{hh:02d}:{mm:02d}", f"{sign}{hh:02d}{mm:02d}"] + ([f"{sign}{hh:02d}"] if not mm else [])
        suffix = draw(st.sampled_from(forms))
    return text + draw(st.sampled_from(["", "", " "])) + suffix


def spell_decimal(draw: st.DrawFn, value: Decimal) -> str:
    plain = format(value, "f")
    forms = [plain, str(value), format(value, "e"), plain + ("0" if "." in plain else ".0")]
    if not plain.startswith("-"):
        forms.append("+" + plain)
    if plain.startswith("0.") and len(plain) > 2:
        forms.append(plain[1:])
    return draw(st.sampled_from(forms))


def spell_integer(draw: st.DrawFn, value: int) -> str:
    forms = [str(value), f"{'-' if value < 0 else ''}00{abs(value)}"]
    if value >= 0:
        forms.append(f"+{value}")
    return draw(st.sampled_from(forms))


@st.composite
def scalar_text(draw: st.DrawFn, ftype: str, pool: Sequence[Any]) -> str:
    """A query value for one scalar: near a value the data holds, random, or (rarely) invalid."""
    if INVALID[ftype] and draw(st.integers(0, 19)) == 0:
        return draw(st.sampled_from(INVALID[ftype]))
    from_pool = bool(pool) and draw(st.integers(0, 3)) > 0
    if ftype == "string":
        if not from_pool:
            return draw(any_text)
        text = draw(st.sampled_from(pool))
        return draw(st.sampled_from([text, text, text.upper(), text.lower(), text.swapcase()]))
    if ftype == "integer":
        number = draw(st.sampled_from(pool)) if from_pool else draw(st.integers(-(10**6), 10**6))
        return spell_integer(draw, number + draw(st.sampled_from([0, 0, 0, 1, -1])))
    if ftype in ("decimal", "float"):
        dec = Decimal(draw(st.sampled_from(pool))) if from_pool else draw(DECIMALS)
        delta = draw(st.sampled_from([Decimal(0), Decimal(0), Decimal("0.01"), Decimal("-1")]))
        return spell_decimal(draw, dec + delta)
    if ftype == "boolean":
        return random_case(draw, draw(st.sampled_from(["true", "false", "yes", "no", "1", "0"])))
    assert ftype == "datetime", ftype
    moment = draw(st.sampled_from(pool)) if from_pool else draw(DATETIMES)
    seconds = draw(st.sampled_from([0, 0, 0, 1, -1, 3600, -3600, 86400, -86400]))
    return spell_datetime(draw, moment + timedelta(seconds=seconds))


@st.composite
def needle(draw: st.DrawFn, ftype: str, pool: Sequence[Any]) -> str:
    """A value for contains/starts_with/ends_with: a slice of a value's text, or any text."""
    if not pool or draw(st.integers(0, 3)) == 0:
        return draw(any_text)
    value = draw(st.sampled_from(pool))
    text = format(value, "f") if isinstance(value, Decimal) else str(value)
    start = draw(st.integers(0, len(text)))
    end = draw(st.integers(start, len(text)))
    return random_case(draw, text[start:end])


def spell_key(draw: st.DrawFn, path: tuple[str, ...], op: str) -> str:
    segments = [seg.replace("-", "_") if draw(st.booleans()) else seg for seg in path]
    key = segments[0] + "".join(f"[{seg}]" for seg in segments[1:])
    if op == "eq":
        return key
    return f"{key}[{op.replace('_', '-') if draw(st.booleans()) else op}]"


@st.composite
def condition(
    draw: st.DrawFn, records: Sequence[dict[str, Any]], paths: Sequence[tuple[str, ...]], field_type: FieldType
) -> tuple[str, str]:
    path = draw(st.sampled_from(paths))
    ftype = field_type(path)
    ops = VALID_OPS[ftype]
    if ftype in INVALID_OPS and draw(st.integers(0, 14)) == 0:
        ops = INVALID_OPS[ftype]
    op = draw(st.sampled_from(ops))
    pool = values_at(records, path)
    if op == "blank":
        value = random_case(draw, draw(st.sampled_from(["true", "false", "true", "false", "yes"])))
    elif op in ("in", "not_in"):
        value = ",".join(draw(st.lists(scalar_text(ftype, pool), max_size=3)))
    elif op in TEXT_OPS:
        value = draw(needle(ftype, pool)) if ftype != "datetime" else draw(any_text)
    else:
        value = draw(scalar_text(ftype, pool))
    return spell_key(draw, path, op), value


@st.composite
def query(
    draw: st.DrawFn,
    records: Sequence[dict[str, Any]],
    paths: Sequence[tuple[str, ...]],
    order_fields: Sequence[str],
    field_type: FieldType,
) -> Pairs:
    pairs: Pairs = list(draw(st.lists(condition(records, paths, field_type), max_size=3)))
    order_by = draw(st.none() | st.sampled_from(order_fields))
    if order_by is not None:
        pairs.append(("order_by", order_by.replace("-", "_") if draw(st.booleans()) else order_by))
    direction = draw(st.sampled_from([None, "asc", "desc", "DESC", "Asc"]))
    if direction is not None:
        pairs.append(("dir", direction))
    limit = draw(st.none() | st.integers(0, 14) | st.just(100))  # 100: capped at 50
    if limit is not None:
        pairs.append(("limit", str(limit)))
    offset = draw(st.none() | st.integers(0, 14))
    if offset is not None:
        pairs.append(("offset", str(offset)))
    if draw(st.integers(0, 4)):
        pairs.append(("fields", '["id"]'))  # smaller answers; the ids are what is compared
    return draw(st.permutations(pairs))


def spell_body(draw: st.DrawFn, body: dict[str, Any]) -> dict[str, Any]:
    """Body keys in hyphen or underscore spelling (Coupa accepts both)."""
    return {(k.replace("-", "_") if draw(st.booleans()) else k): v for k, v in body.items()}


# --------------------------------------------------------------------------- suppliers

SUPPLIER_PATHS: tuple[tuple[str, ...], ...] = (
    ("id",),
    ("name",),
    ("display-name",),
    ("number",),
    ("status",),
    ("savings-pct",),
    ("on-hold",),
    ("business-entity-id",),
    ("created-at",),
    ("payment-term-id",),
    ("payment-term", "id"),
    ("payment-term", "code"),
    ("payment-term", "days-for-net-payment"),
    ("payment-term", "discount-rate"),
    ("account-types", "id"),
    ("account-types", "name"),
    ("account-types", "currency-id"),
    ("account-types", "currency", "code"),
    ("primary-contact", "email"),
    ("primary-contact", "name-given"),
    ("parent-id",),
    ("parent", "name"),
    ("parent", "savings-pct"),
    ("parent", "created-at"),
    ("parent", "on-hold"),
    ("parent", "payment-term", "code"),
    ("parent", "account-types", "name"),
    ("parent", "parent", "name"),
)
SUPPLIER_ORDER = (
    "id",
    "payment-term-id",  # R39 has the scalar; the emulator keeps it in step with the association
    "name",
    "display-name",
    "number",
    "status",
    "savings-pct",
    "on-hold",
    "business-entity-id",
    "created-at",
)
CURRENCIES = ("USD", "EUR", "GBP", "JPY")
CLOCK_STEPS = (0, 0, 0, 1, 7, 3600, 86400 * 40, 86400 * 400)

payment_terms = st.lists(
    st.fixed_dictionaries(
        {
            "code": st.text(alphabet=st.sampled_from("nNeEt30 é"), min_size=1, max_size=5),
            "days-for-net-payment": st.none() | st.integers(-5, 90),
            "discount-rate": st.none() | DECIMALS,
        }
    ),
    max_size=3,
    unique_by=lambda t: t["code"],
)
account_types = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.text(alphabet=st.sampled_from(TRICKY), min_size=1, max_size=6),
            "currency": st.sampled_from(CURRENCIES),
        }
    ),
    max_size=3,
    unique_by=lambda t: t["name"],
)
suppliers = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.one_of(tricky_text, wild_text).filter(bool),
            "display-name": st.none() | any_text,
            "number": st.none() | st.text(alphabet=st.sampled_from("N0n1-"), max_size=3),
            "status": st.sampled_from([None, "active", "inactive", "draft"]),
            "savings-pct": st.none() | DECIMALS,
            "on-hold": st.none() | st.booleans(),
            "business-entity-id": st.none() | st.integers(-1000, 1000),
            "payment-term": st.none() | st.integers(0, 2),
            "account-types": st.lists(st.integers(0, 2), max_size=3, unique=True),
            "primary-contact": st.none()
            | st.fixed_dictionaries({"email": st.none() | any_text, "name-given": st.none() | any_text}),
            "parent": st.none() | st.integers(0, 9),
            "clock": st.sampled_from(CLOCK_STEPS),
        }
    ),
    min_size=1,
    max_size=10,
    unique_by=lambda s: s["name"],
)


def typed(value: Any, ftype: str) -> Any:
    """A value of a JSON response as the Python type reference_eval compares."""
    if value is None:
        return None
    if ftype in ("decimal", "float"):
        return Decimal(str(value))
    if ftype == "datetime":
        return datetime.fromisoformat(value)
    return value


def echoes(made: dict[str, Any], body: dict[str, Any], *keys: str) -> None:
    """What was written is what is stored (a write bug would otherwise hide in the reference)."""
    for key in keys:
        if body.get(key) is not None:
            assert made[key] == body[key], (key, body[key], made[key])


def build_suppliers(
    inst: Instance, draw: st.DrawFn, terms: list[dict[str, Any]], types: list[dict[str, Any]], sups: list[Any]
) -> list[dict[str, Any]]:
    """Write the drawn data through the API; return the suppliers as reference records."""
    inst.fresh()
    inst.with_tables("Supplier", "PaymentTerm", "AccountType", "Contact")
    term_recs: list[dict[str, Any]] = []
    for t in terms:
        body = {"code": t["code"], "days-for-net-payment": t["days-for-net-payment"]}
        if t["discount-rate"] is not None:
            body["discount-rate"] = spell_decimal(draw, t["discount-rate"])
        rate = None if t["discount-rate"] is None else Decimal(body["discount-rate"])
        made = inst.create("payment_terms", spell_body(draw, body))
        echoes(made, body, "code", "days-for-net-payment")
        assert typed(made["discount-rate"], "float") == rate
        # A float renders as a JSON number; the stored text (what substring filters see) keeps the
        # written scale, so the reference keeps the written Decimal.
        term_recs.append(
            {
                "id": made["id"],
                "code": made["code"],
                "days-for-net-payment": made["days-for-net-payment"],
                "discount-rate": rate,
            }
        )
    type_recs: list[dict[str, Any]] = []
    for a in types:
        made = inst.create("account_types", {"name": a["name"], "currency": {"code": a["currency"]}})
        assert made["name"] == a["name"] and made["currency"]["code"] == a["currency"]
        type_recs.append({"id": made["id"], "name": made["name"], "currency": made["currency"]})

    records: list[dict[str, Any]] = []
    used_numbers: set[str] = set()
    for n, s in enumerate(sups):
        inst.advance(s["clock"])
        body: dict[str, Any] = {"name": s["name"]}
        for key in ("display-name", "status", "on-hold", "business-entity-id"):
            if s[key] is not None or draw(st.booleans()):
                body[key] = s[key]
        if s["number"] is not None and (s["number"] == "" or s["number"] not in used_numbers):
            body["number"] = s["number"]
            used_numbers.add(s["number"])
        if s["savings-pct"] is not None:
            body["savings-pct"] = spell_decimal(draw, s["savings-pct"])
        pct = None if s["savings-pct"] is None else Decimal(body["savings-pct"])
        term = term_recs[s["payment-term"] % len(term_recs)] if s["payment-term"] is not None and term_recs else None
        if term is not None:
            body["payment-term"] = draw(st.sampled_from([{"code": term["code"]}, {"id": term["id"]}]))
        chosen_types = [type_recs[i] for i in s["account-types"] if i < len(type_recs)]
        if chosen_types or draw(st.booleans()):
            body["account-types"] = [
                draw(st.sampled_from([{"name": a["name"]}, {"id": a["id"]}])) for a in chosen_types
            ]
        contact = s["primary-contact"]
        if contact is not None:
            body["primary-contact"] = dict(contact)
        parent = records[s["parent"]] if s["parent"] is not None and s["parent"] < n else None
        if parent is not None:
            body["parent"] = draw(st.sampled_from([{"name": parent["name"]}, {"id": parent["id"]}]))
        made = inst.create("suppliers", spell_body(draw, body))

        echoes(made, body, "name", "display-name", "number", "status", "on-hold", "business-entity-id")
        assert typed(made["savings-pct"], "decimal") == pct
        assert (made["payment-term"] or {}).get("id") == (term or {}).get("id")
        assert [a["id"] for a in made["account-types"]] == [a["id"] for a in chosen_types]
        assert (made["parent"] or {}).get("id") == (parent or {}).get("id")
        contact_rec = None
        if contact is not None:
            got = made["primary-contact"]
            echoes(got, contact, "email", "name-given")
            contact_rec = {"id": got["id"], "email": got["email"], "name-given": got["name-given"]}
        else:
            assert made["primary-contact"] is None
        records.append(
            {
                "id": made["id"],
                "name": made["name"],
                "display-name": made["display-name"],
                "number": made["number"],
                "status": made["status"],
                "savings-pct": pct,  # the written scale, which substring filters see
                "on-hold": made["on-hold"],
                "business-entity-id": made["business-entity-id"],
                "created-at": typed(made["created-at"], "datetime"),
                "payment-term": term,
                "account-types": chosen_types,
                "primary-contact": contact_rec,
                "parent": parent,
            }
        )
    return records


@PROPERTY_SETTINGS
@given(terms=payment_terms, types=account_types, sups=suppliers, data=st.data())
def test_supplier_filters_match_the_specification(
    instance: Instance,
    terms: list[dict[str, Any]],
    types: list[dict[str, Any]],
    sups: list[dict[str, Any]],
    data: st.DataObject,
) -> None:
    records = build_suppliers(instance, data.draw, terms, types, sups)
    field_type = field_type_for(instance.schema, "Supplier")
    queries = data.draw(st.lists(query(records, SUPPLIER_PATHS, SUPPLIER_ORDER, field_type), min_size=1, max_size=6))
    for pairs in queries:
        check_query(instance, "suppliers", records, pairs, field_type)


# --------------------------------------------------------------------------- purchase orders

ORDER_PATHS: tuple[tuple[str, ...], ...] = (
    ("id",),
    ("po-number",),
    ("version",),
    ("acknowledged-flag",),
    ("confirm-by-hrs",),
    ("created-at",),
    ("exported",),
    ("status",),
    ("supplier-id",),
    ("supplier", "name"),
    ("currency-id",),
    ("currency", "code"),
    ("order-lines", "id"),
    ("order-lines", "description"),
    ("order-lines", "price"),
    ("order-lines", "quantity"),
    ("order-lines", "need-by-date"),
    ("order-lines", "line-num"),
    ("order-lines", "account-id"),
    ("order-lines", "account", "name"),
    ("order-lines", "account", "active"),
    ("order-lines", "account", "segment-1"),
    ("order-lines", "account", "code"),
    ("order-lines", "account", "account-type-id"),
    ("order-lines", "account", "account-type", "name"),
    ("order-lines", "account", "account-type", "currency", "code"),
)
ORDER_ORDER = ("id", "po-number", "version", "acknowledged-flag", "confirm-by-hrs", "created-at", "exported")

# Written datetimes: 1900..2100, in a random zone.
WRITTEN_DATETIMES = st.datetimes(
    min_value=datetime(1900, 1, 2), max_value=datetime(2100, 12, 30), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))

accounts = st.lists(
    st.fixed_dictionaries(
        {
            "name": any_text,
            "active": st.none() | st.booleans(),
            "segment-1": st.text(alphabet=st.sampled_from("ab-1"), min_size=1, max_size=3),
            "account-type": st.integers(0, 2),
        }
    ),
    max_size=4,
)
order_lines = st.lists(
    st.fixed_dictionaries(
        {
            "description": any_text.filter(bool),
            "price": DECIMALS,
            "quantity": st.none() | DECIMALS,
            "need-by-date": st.none() | WRITTEN_DATETIMES,
            "line-num": st.none() | st.text(alphabet=st.sampled_from("12aA"), max_size=2),
            "account": st.none() | st.integers(0, 3),
        }
    ),
    max_size=3,
)
orders = st.lists(
    st.fixed_dictionaries(
        {
            # No digits: a purchase order created without a number is numbered by a counter.
            "po-number": st.none() | st.text(alphabet=st.sampled_from("Pox-"), min_size=1, max_size=3),
            "acknowledged-flag": st.none() | st.booleans(),
            "confirm-by-hrs": st.none() | st.integers(0, 100),
            "supplier": st.integers(0, 2),
            "currency": st.none() | st.sampled_from(CURRENCIES),
            "order-lines": order_lines,
            "clock": st.sampled_from(CLOCK_STEPS),
        }
    ),
    min_size=1,
    max_size=8,
)


def build_orders(
    inst: Instance,
    draw: st.DrawFn,
    types: list[dict[str, Any]],
    accts: list[dict[str, Any]],
    sup_names: list[str],
    pos: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    inst.fresh()
    inst.with_tables("OrderHeader", "OrderLine", "Supplier", "Account", "AccountType")
    type_recs = []
    for a in types or [{"name": "Default", "currency": "USD"}]:
        made = inst.create("account_types", {"name": a["name"], "currency": {"code": a["currency"]}})
        type_recs.append({"id": made["id"], "name": made["name"], "currency": made["currency"]})
    account_recs = []
    for a in accts:
        atype = type_recs[a["account-type"] % len(type_recs)]
        body = {k: a[k] for k in ("name", "active", "segment-1")}
        spelled = spell_body(draw, body)
        spelled[draw(st.sampled_from(["account-type", "account_type"]))] = draw(
            st.sampled_from([{"name": atype["name"]}, {"id": atype["id"]}])
        )
        made = inst.create("accounts", spelled)
        echoes(made, body, "name", "active", "segment-1")
        assert made["account-type"]["id"] == atype["id"]
        account_recs.append(
            {
                "id": made["id"],
                "name": made["name"],
                "active": made["active"],
                "code": made["code"],
                "segment-1": made["segment-1"],
                "account-type": atype,
            }
        )
    supplier_recs = [{"id": inst.create("suppliers", {"name": name})["id"], "name": name} for name in sup_names]

    records: list[dict[str, Any]] = []
    used: set[str] = set()
    for po in pos:
        inst.advance(po["clock"])
        supplier = supplier_recs[po["supplier"] % len(supplier_recs)]
        body: dict[str, Any] = {
            "supplier": draw(st.sampled_from([{"name": supplier["name"]}, {"id": supplier["id"]}])),
            "acknowledged-flag": po["acknowledged-flag"],
            "confirm-by-hrs": po["confirm-by-hrs"],
        }
        if po["po-number"] is not None and po["po-number"] not in used:
            body["po-number"] = po["po-number"]
            used.add(po["po-number"])
        if po["currency"] is not None:
            body["currency"] = {"code": po["currency"]}
        lines_out = []
        written: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
        for n, line in enumerate(po["order-lines"]):
            chosen = line["account"]
            account = account_recs[chosen % len(account_recs)] if chosen is not None and account_recs else None
            line_body: dict[str, Any] = {
                "description": line["description"],
                "external-reference-number": f"X{n}",
                "price": spell_decimal(draw, line["price"]),
                "line-num": line["line-num"],
            }
            if line["quantity"] is not None:
                line_body["quantity"] = spell_decimal(draw, line["quantity"])
            if line["need-by-date"] is not None:
                line_body["need-by-date"] = spell_datetime(draw, line["need-by-date"], bare_dates=False)
            if account is not None:
                line_body["account"] = {"id": account["id"]}
            written.append((line_body, account))
            lines_out.append(spell_body(draw, line_body))
        if lines_out or draw(st.booleans()):
            body["order-lines"] = lines_out
        made = inst.create("purchase_orders", spell_body(draw, body))
        echoes(made, body, "po-number", "acknowledged-flag", "confirm-by-hrs")
        assert made["supplier"]["id"] == supplier["id"]
        assert len(made["order-lines"]) == len(written)
        line_recs = []
        for (line_body, account), got in zip(written, made["order-lines"], strict=True):
            echoes(got, line_body, "description", "line-num")
            price = Decimal(line_body["price"])
            quantity = None if "quantity" not in line_body else Decimal(line_body["quantity"])
            assert typed(got["price"], "decimal") == price and typed(got["quantity"], "decimal") == quantity
            need_by = None if "need-by-date" not in line_body else typed(got["need-by-date"], "datetime")
            if need_by is not None:  # the same instant, whatever zone it was written in
                assert need_by == parse_datetime(line_body["need-by-date"], UTC)
            assert (got["account"] or {}).get("id") == (account or {}).get("id")
            line_recs.append(
                {
                    "id": got["id"],
                    "description": got["description"],
                    "price": price,
                    "quantity": quantity,
                    "need-by-date": need_by,
                    "line-num": got["line-num"],
                    "account": account,
                }
            )
        records.append(
            {
                "id": made["id"],
                "po-number": made["po-number"],
                "version": made["version"],
                "acknowledged-flag": made["acknowledged-flag"],
                "confirm-by-hrs": made["confirm-by-hrs"],
                "created-at": typed(made["created-at"], "datetime"),
                "exported": made["exported"],
                "status": made["status"],
                "supplier": supplier,
                "currency": made["currency"],
                "order-lines": line_recs,
            }
        )
    return records


@PROPERTY_SETTINGS
@given(
    types=account_types,
    accts=accounts,
    sup_names=st.lists(any_text.filter(bool), min_size=1, max_size=3, unique=True),
    pos=orders,
    data=st.data(),
)
def test_purchase_order_filters_match_the_specification(
    instance: Instance,
    types: list[dict[str, Any]],
    accts: list[dict[str, Any]],
    sup_names: list[str],
    pos: list[dict[str, Any]],
    data: st.DataObject,
) -> None:
    records = build_orders(instance, data.draw, types, accts, sup_names, pos)
    field_type = field_type_for(instance.schema, "OrderHeader")
    queries = data.draw(st.lists(query(records, ORDER_PATHS, ORDER_ORDER, field_type), min_size=1, max_size=6))
    for pairs in queries:
        check_query(instance, "purchase_orders", records, pairs, field_type)


# --------------------------------------------------------------------------- known divergences
#
# Each test below is a minimal example of a divergence the property tests found (or would find)
# in inputs the strategies above do not generate; all were fixed in the emulator.


def supplier_types(inst: Instance) -> FieldType:
    return field_type_for(inst.schema, "Supplier")


def one_supplier(inst: Instance, **body: Any) -> dict[str, Any]:
    """A fresh instance holding one supplier; returns its reference record."""
    inst.fresh()
    made = inst.create("suppliers", {"name": "Acme", **body})
    return {"id": made["id"], "name": "Acme", **body, "created-at": typed(made["created-at"], "datetime")}


def agrees(inst: Instance, path: str, records: list[dict[str, Any]], pairs: Pairs, field_type: FieldType) -> bool:
    """Whether the emulator answers ``pairs`` as the specification does (no assertion inside)."""
    want = expected_ids(records, pairs, field_type)
    r = inst.get(path, pairs)
    if want is None:
        return r.status_code == 400
    return r.status_code == 200 and [item["id"] for item in r.json()] == want


def test_filter_through_association_without_table_is_500(instance: Instance) -> None:
    rec = one_supplier(instance)
    r = instance.get("suppliers", [("payment-term[code]", "Net30")])
    assert r.status_code == 200, r.text
    assert expected_ids([rec], [("payment-term[code]", "Net30")], supplier_types(instance)) == []
    assert r.json() == []


def test_datetime_before_year_1000(instance: Instance) -> None:
    rec = one_supplier(instance)
    pairs = [("created-at[gt]", "0999-01-01")]
    assert expected_ids([rec], pairs, supplier_types(instance)) == [rec["id"]]
    assert agrees(instance, "suppliers", [rec], pairs, supplier_types(instance))


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_datetime_out_of_range_in_utc_is_500(instance: Instance, value: str) -> None:
    rec = one_supplier(instance)
    pairs = [("created-at[gt]", value)]
    assert expected_ids([rec], pairs, supplier_types(instance)) == ([rec["id"]] if value.startswith("0001") else [])
    assert instance.get("suppliers", pairs).status_code != 500
    assert agrees(instance, "suppliers", [rec], pairs, supplier_types(instance))


def test_integer_beyond_64_bits_is_500(instance: Instance) -> None:
    rec = one_supplier(instance, **{"business-entity-id": 5})
    pairs = [("business-entity-id", "99999999999999999999")]
    assert expected_ids([rec], pairs, supplier_types(instance)) == []
    assert instance.get("suppliers", pairs).status_code != 500
    assert agrees(instance, "suppliers", [rec], pairs, supplier_types(instance))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("business-entity-id", " 5"),  # int(value.strip())
        ("business-entity-id", "\u0665"),  # ARABIC-INDIC DIGIT FIVE: int() reads any Unicode digit
        ("business-entity-id", "5_0"),  # int() reads underscores
        ("savings-pct", " 1.5"),  # parse_decimal(value.strip())
        ("on-hold", "t"),  # parse_bool also reads t/f
        ("created-at", "2026-01-01T00:00:00+05:30:15"),  # parse_datetime also reads second offsets
    ],
)
def test_value_spellings_the_spec_rejects(instance: Instance, key: str, value: str) -> None:
    rec = one_supplier(instance, **{"business-entity-id": 5, "savings-pct": "1.5", "on-hold": True})
    rec["savings-pct"] = Decimal("1.5")
    pairs = [(key, value)]
    assert expected_ids([rec], pairs, supplier_types(instance)) is None
    assert agrees(instance, "suppliers", [rec], pairs, supplier_types(instance))


@pytest.mark.parametrize("op", ["eq", "lt"])
def test_fractional_seconds_in_filters(instance: Instance, op: str) -> None:
    rec = one_supplier(instance)
    at = rec["created-at"].astimezone(UTC)
    value = f"{at:%Y-%m-%dT%H:%M:%S}.5Z"
    pairs = [("created-at" if op == "eq" else f"created-at[{op}]", value)]
    assert expected_ids([rec], pairs, supplier_types(instance)) == ([] if op == "eq" else [rec["id"]])
    assert agrees(instance, "suppliers", [rec], pairs, supplier_types(instance))


def test_filter_datetime_without_offset_is_utc(instance: Instance) -> None:
    rec = one_supplier(instance)
    pairs = [("created-at", f"{rec['created-at'].astimezone(UTC):%Y-%m-%dT%H:%M:%S}")]
    assert expected_ids([rec], pairs, supplier_types(instance)) == [rec["id"]]
    assert agrees(instance, "suppliers", [rec], pairs, supplier_types(instance))


def two_suppliers_with_terms(inst: Instance) -> list[dict[str, Any]]:
    """Supplier 1 on the second payment term, supplier 2 on the first: FK order is the reverse of id order."""
    inst.fresh()
    terms = [inst.create("payment_terms", {"code": code}) for code in ("Net10", "Net30")]
    records = []
    for name, term in (("A", terms[1]), ("B", terms[0])):
        made = inst.create("suppliers", {"name": name, "payment-term": {"id": term["id"]}})
        records.append({"id": made["id"], "name": name, "payment-term": {"id": term["id"], "code": term["code"]}})
    return records


def test_order_by_fk_shorthand_follows_the_association(instance: Instance) -> None:
    records = two_suppliers_with_terms(instance)
    for direction, want in (("asc", [2, 1]), ("desc", [1, 2])):
        pairs = [("order_by", "payment_term_id"), ("dir", direction)]
        assert expected_ids(records, pairs, supplier_types(instance)) == want
        assert agrees(instance, "suppliers", records, pairs, supplier_types(instance)), pairs


def test_order_by_fk_shorthand_without_scalar(instance: Instance) -> None:
    instance.fresh()
    sups = [instance.create("suppliers", {"name": name}) for name in ("A", "B")]
    records = []
    for sup in reversed(sups):
        made = instance.create("purchase_orders", {"supplier": {"id": sup["id"]}})
        records.append({"id": made["id"], "supplier": {"id": sup["id"]}})
    field_type = field_type_for(instance.schema, "OrderHeader")
    pairs = [("order_by", "supplier_id")]
    assert expected_ids(records, pairs, field_type) == [2, 1]
    assert agrees(instance, "purchase_orders", records, pairs, field_type)


def test_rendered_fk_scalar_agrees_with_the_filter(instance: Instance) -> None:
    """R39's scalar payment-term-id shows the association's id, and the FK filter selects by it."""
    records = two_suppliers_with_terms(instance)
    term_id = records[0]["payment-term"]["id"]
    listed = instance.get("suppliers", [("fields", '["id","payment-term-id"]')]).json()
    assert [s["payment-term-id"] for s in listed] == [r["payment-term"]["id"] for r in records]
    r = instance.get("suppliers", [("payment-term-id", str(term_id))])
    assert [s["id"] for s in r.json()] == [records[0]["id"]]


def test_fk_scalar_after_clearing_the_association(instance: Instance) -> None:
    records = two_suppliers_with_terms(instance)
    first = records[0]["id"]
    r = instance.request("PUT", f"/api/suppliers/{first}", json={"payment-term": None}, headers=instance.headers)
    assert r.status_code == 200, r.text
    records[0]["payment-term"] = None
    # The filter follows the association...
    pairs = [("payment-term-id[blank]", "true")]
    assert expected_ids(records, pairs, supplier_types(instance)) == [first]
    assert agrees(instance, "suppliers", records, pairs, supplier_types(instance))
    # ...so the record it selects must not show a payment-term-id, and ordering must agree.
    assert [s["payment-term-id"] for s in instance.get("suppliers", pairs).json()] == [None]
    order = [("order_by", "payment-term-id"), ("dir", "desc")]
    assert agrees(instance, "suppliers", records, order, supplier_types(instance))


def test_text_with_nul_character_is_refused(instance: Instance) -> None:
    """SQLite's JSON functions stop at U+0000, so the emulator refuses such text at the boundary
    (a write 400 naming the field, a filter 400 naming the key) rather than store what it cannot find."""
    instance.fresh()
    r = instance.request("POST", "/api/suppliers", json={"name": "a\x00b"}, headers=instance.headers)
    assert r.status_code == 400 and "Name may not contain a NUL character" in r.text
    for key in ("name", "name[contains]"):
        r = instance.request("GET", "/api/suppliers", params={key: "a\x00b"}, headers=instance.headers)
        assert r.status_code == 400 and "NUL" in r.text, key


def test_reset_after_a_rejected_request(instance: Instance) -> None:
    instance.fresh()
    instance.create("suppliers", {"name": "Acme"})
    rejected = instance.request("POST", "/api/suppliers", json={}, headers=instance.headers)
    assert rejected.status_code == 400
    instance.emu.reset()  # what POST /__emulator__/reset does
    assert instance.emu.store.count("Supplier") == 0
