"""Building models from decoded wire data at a fraction of ``model_validate``'s cost.

``model_validate`` costs about 0.5 ms for a fully expanded invoice (~600 values, ~35 nested
models): pydantic calls a Python before-validator for nearly every field and parses each timestamp
and decimal afresh. On a full pull at Coupa's rate (25 pages of 50 invoices a second) that was
most of a core, and the client's CPU, not the rate limit, set the pace.

:func:`validate` returns what ``model.model_validate(data)`` returns, for the models of this
package, built in Python with far less work per value:

- per model class a *plan* is compiled once from the declared fields: wire name -> (attribute,
  kind), where the kind says which of ``_base``'s field types it is (text, decimal, timestamp,
  nested record, list of records, enum-or-string...);
- per key sequence a *shape* is compiled once (records of one kind from one server come with the
  same keys in the same order): text, integer and flag fields are then type-checked in bulk and
  copied with one ``dict.update``, extras with one ``dict`` call, the fields set is a copy of a
  frozen set; only fields that need converting are visited one by one;
- each conversion is the field's own (``_base._to_decimal``, ``parse_datetime``...), and parsed
  decimals and timestamps, immutable, are cached: they repeat a lot across a page;
- the instance is assembled as ``model_construct`` does (``__dict__``, fields set, extras).

Anything else is left to pydantic, so the guarantees stay pydantic's:

- a value of an unusual shape (``"yes"`` for a flag, ``"5.0"`` for an integer, a model
  instance...) is validated by the model's own validator for that one field;
- a class this module cannot plan (a subclass with validators or other config, a field type it
  does not know) uses ``model_validate``;
- an invalid value, or a key that is a snake_case attribute name rather than a wire name (alias
  precedence), re-runs ``model_validate`` on the whole record, so errors are pydantic's
  ``ValidationError``, located as before.

``tests/client/test_fast_models.py`` checks that both ways give identical models (values, types,
Decimal scale, datetime offsets, fields set, extras and their order) for every Coupa sample, for
emulator pages in JSON and XML, and for odd values of every field type.

:func:`validate_page` also pauses the cyclic garbage collector while a page is converted (see
:func:`gc_paused`).
"""

from __future__ import annotations

import gc
import re
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from operator import itemgetter
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, ValidationError
from pydantic.fields import FieldInfo

from pycoupa.client.models import _base
from pycoupa.wire.values import hyphenate, parse_datetime, parse_decimal, singularize

__all__ = ["fast_plan_available", "gc_paused", "validate", "validate_page"]

M = TypeVar("M", bound=BaseModel)


class _Slow(Exception):
    """This value (or record) is left to pydantic."""


# An instance is assembled as ``model_construct`` does: a bare object whose four slots are set.
# The slots' descriptors are taken once (a plain setattr looks each up through the class's MRO).
_new = object.__new__
_SLOTS = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
try:
    _set_dict, _set_fields_set, _set_extra, _set_private = (BaseModel.__dict__[slot].__set__ for slot in _SLOTS)
    _SUPPORTED = BaseModel.__slots__ == _SLOTS and "__new__" not in BaseModel.__dict__
except (KeyError, AttributeError):  # pragma: no cover - another pydantic layout: always model_validate
    _SUPPORTED = False


# -- plans ----------------------------------------------------------------------------------------

# Field kinds. Kinds from _MANY on give [] for nil (except _ANY and _SLOW).
_TEXT, _NESTED, _DEC, _INT, _BOOL, _TS, _DOT, _ENUM, _MANY, _STRINGS, _ANY, _SLOW = range(12)

# The before-validator of each scalar field type, with the annotation it goes with.
_BEFORE_KINDS: dict[Callable[..., Any], tuple[int, Any]] = {
    _base._to_text: (_TEXT, get_args(_base.Text)[0]),
    _base._to_int: (_INT, get_args(_base.Int)[0]),
    _base._to_decimal: (_DEC, get_args(_base.Dec)[0]),
    _base._to_bool: (_BOOL, get_args(_base.Bool)[0]),
    _base._to_datetime: (_TS, get_args(_base.Timestamp)[0]),
    _base._to_date_or_datetime: (_DOT, get_args(_base.DateOrTime)[0]),
}

# Config keys whose meaning a plan follows; any other key sends the class to model_validate.
_KNOWN_CONFIG = frozenset(
    {"alias_generator", "populate_by_name", "validate_by_name", "validate_by_alias", "extra", "defer_build"}
)


@dataclass(frozen=True, slots=True)
class _Plan:
    cls: type[BaseModel]
    fields: dict[str, tuple[str, int, Any]]  # wire name -> (attribute, kind, argument)
    names: frozenset[str]  # attribute names that differ from their wire name
    defaults: dict[str, Any]  # every field's default (None), in declaration order
    factories: tuple[str, ...]  # fields whose default is a fresh list
    shapes: dict[tuple[str, ...], _Shape | Literal[False]] = field(default_factory=dict)


_PLANS: dict[type[BaseModel], _Plan | None] = {}


def _union_args(annotation: Any) -> tuple[Any, ...] | None:
    if get_origin(annotation) in (Union, types.UnionType):
        return get_args(annotation)
    return None


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, _base.CoupaModel)


def _field_kind(name: str, info: FieldInfo) -> tuple[int, Any]:
    """The kind of a declared field, or ``_SLOW`` when its validation is not one this module copies."""
    metadata = info.metadata
    annotation = info.annotation
    if len(metadata) == 1 and isinstance(metadata[0], BeforeValidator):
        func = metadata[0].func
        known = next((k for f, k in _BEFORE_KINDS.items() if f is func), None)
        if known is not None:
            return known if annotation == known[1] else (_SLOW, None)
        if func is _base._to_nested:
            args = _union_args(annotation)
            if args is not None and len(args) == 2 and args[1] is type(None) and _is_model(args[0]):
                return _NESTED, args[0]
            return _SLOW, None  # a union of models, a dict...
        if func is _base._to_list and get_origin(annotation) is list:
            (item,) = get_args(annotation)
            singular = singularize(hyphenate(name))  # what _to_list derives from the field name
            if _is_model(item):
                return _MANY, (item, singular)
            if item is str:
                return _STRINGS, singular
        return _SLOW, None
    if len(metadata) == 1 and getattr(metadata[0], "union_mode", None) == "left_to_right":
        args = _union_args(annotation)
        if (
            args is not None
            and len(args) == 3
            and isinstance(args[0], type)
            and issubclass(args[0], StrEnum)
            and args[1:] == (str, type(None))
        ):
            return _ENUM, args[0]._value2member_map_
        return _SLOW, None
    if not metadata and annotation is Any:
        return _ANY, None
    return _SLOW, None


def _compile(cls: type[BaseModel]) -> _Plan | None:
    config = cls.model_config
    decorators = cls.__pydantic_decorators__
    if (
        not _SUPPORTED
        or "__new__" in cls.__dict__
        or config.get("extra") != "allow"
        or not set(config) <= _KNOWN_CONFIG
        or config.get("validate_by_alias") is False
        or cls.__pydantic_root_model__
        or cls.__pydantic_post_init__
        or cls.__private_attributes__
        or cls.__pydantic_generic_metadata__["origin"] is not None
        or decorators.validators
        or decorators.field_validators
        or decorators.root_validators
        or decorators.model_validators
    ):
        return None
    if not cls.__pydantic_complete__:
        try:
            cls.model_rebuild()  # defer_build: what model_validate does on first use
        except Exception:  # an unresolvable annotation...: model_validate will say so
            return None
    fields: dict[str, tuple[str, int, Any]] = {}
    names = set()
    defaults: dict[str, Any] = {}
    factories = []
    for name, info in cls.model_fields.items():
        alias = info.alias or name
        if info.validation_alias not in (None, alias):
            return None
        if info.default_factory is list:
            factories.append(name)
        elif info.default_factory is not None or info.default is not None:
            return None  # a default this module would have to copy: left to pydantic
        defaults[name] = None  # factories' fields get a fresh list per instance
        kind, arg = _field_kind(name, info)
        fields[alias] = (name, kind, arg)
        if alias != name:
            names.add(name)
    return _Plan(cls, fields, frozenset(names), defaults, tuple(factories))


def _plan(cls: type[BaseModel]) -> _Plan | None:
    try:
        return _PLANS[cls]
    except KeyError:
        plan = _PLANS[cls] = _compile(cls)
        return plan


def fast_plan_available(cls: type[BaseModel]) -> bool:
    """True when :func:`validate` builds ``cls`` itself rather than calling ``model_validate``."""
    return _plan(cls) is not None


# -- values ---------------------------------------------------------------------------------------
# What each field type's validators make of the shapes they meet most; anything else raises _Slow.
# Parsed decimals and timestamps are immutable and repeat a lot across a page (the same record's
# timestamps, prices, rates): cached, bounded by clearing.

_CACHE_LIMIT = 16_384
_DEC_CACHE: dict[str, Decimal] = {}
_TS_CACHE: dict[str, datetime] = {}
_DOT_CACHE: dict[str, datetime | date] = {}
_DIGITS = re.compile(r"[+-]?[0-9]{1,18}")


def _blank(value: str) -> bool:
    return not value.strip()


def _dec(value: Any) -> Any:
    t = type(value)
    if t is str:
        cached = _DEC_CACHE.get(value)
        if cached is not None:
            return cached
        if _blank(value):
            return None
        try:
            result = parse_decimal(value)  # what _to_decimal does; pydantic keeps that Decimal as it is
        except ValueError:
            raise _Slow from None
        if len(_DEC_CACHE) >= _CACHE_LIMIT:
            _DEC_CACHE.clear()
        _DEC_CACHE[value] = result
        return result
    if t is Decimal or t is int or t is float:
        try:
            result = _base._to_decimal(value)  # a float by its repr, as the field does
        except ValueError:
            raise _Slow from None
        if type(result) is Decimal and result.is_finite():
            return result
    raise _Slow  # bools (refused) and the rest


def _timestamp(value: Any) -> Any:
    t = type(value)
    if t is str:
        cached = _TS_CACHE.get(value)
        if cached is not None:
            return cached
        if _blank(value):
            return None
        try:
            result = parse_datetime(value, UTC)  # what _to_datetime does: always aware
        except ValueError:
            raise _Slow from None
        if len(_TS_CACHE) >= _CACHE_LIMIT:
            _TS_CACHE.clear()
        _TS_CACHE[value] = result
        return result
    if t is datetime and value.utcoffset() is not None:
        return value
    raise _Slow  # naive datetimes, dates...


def _date_or_time(value: Any) -> Any:
    t = type(value)
    if t is str:
        cached = _DOT_CACHE.get(value)
        if cached is not None:
            return cached
        if _blank(value):
            return None
        try:
            result = _base._to_date_or_datetime(value)
        except ValueError:
            raise _Slow from None
        if len(_DOT_CACHE) >= _CACHE_LIMIT:
            _DOT_CACHE.clear()
        _DOT_CACHE[value] = result
        return result
    if (t is datetime and value.utcoffset() is not None) or t is date:
        return value
    raise _Slow


def _text(value: Any) -> Any:
    t = type(value)
    if t is int or t is Decimal or t is float:
        return str(value)  # what _to_text does
    raise _Slow  # str subclasses (XML symbols), bools, objects...


def _int(value: Any) -> Any:
    if type(value) is str:
        text = value.strip()  # as _to_int does
        if not text:
            return None
        if _DIGITS.fullmatch(text) is not None:
            return int(text)  # pydantic reads these digits the same way
    raise _Slow  # "5.0", "1_000", bools...


def _bool(value: Any) -> Any:
    if type(value) is str and _blank(value):
        return None
    raise _Slow  # "yes", 1...


def _items(value: Any, singular: str) -> list[Any]:
    """What ``_to_list`` hands to pydantic's list validation, for a list or an XML wrapper."""
    t = type(value)
    if t is list:
        return value  # type: ignore[no-any-return]
    if t is str and _blank(value):
        return []
    if t is dict and len(value) == 1:
        ((key, items),) = value.items()
        if key == singular:
            if type(items) is dict:
                return [items]
            if type(items) is list:
                return items  # type: ignore[no-any-return]
    raise _Slow


def _record(cls: type[BaseModel], value: Any) -> Any:
    if type(value) is not dict:
        raise _Slow  # a model instance, a string...: the field's validator decides
    plan = _PLANS.get(cls) or _plan(cls)
    return _build(plan, value) if plan is not None else cls.model_validate(value)


def _slow_field(plan: _Plan, key: str, name: str, value: Any) -> Any:
    """One field validated by the model itself (its validators, field name and config)."""
    return getattr(plan.cls.model_validate({key: value}), name)


def _convert(plan: _Plan, key: str, name: str, kind: int, arg: Any, value: Any) -> Any:
    """One declared field's value, as the field's validators would give it."""
    try:
        if value is None:
            if kind < _MANY or kind == _ANY:
                return None
            if kind == _SLOW:
                raise _Slow
            return []  # a nil collection has no items
        t = type(value)
        if kind == _TEXT:
            return value if t is str else _text(value)
        if kind == _NESTED:
            if t is str and _blank(value):
                return None
            return _record(arg, value)
        if kind == _DEC:
            return _dec(value)
        if kind == _TS:
            return _timestamp(value)
        if kind == _INT:
            return value if t is int else _int(value)
        if kind == _BOOL:
            return value if t is bool else _bool(value)
        if kind == _DOT:
            return _date_or_time(value)
        if kind == _ENUM:
            if t is not str:
                raise _Slow
            return arg.get(value, value)  # the member, or the string as it came
        if kind == _MANY:
            item_cls, singular = arg
            return [_record(item_cls, item) for item in _items(value, singular)]
        if kind == _STRINGS:
            items = _items(value, arg)
            if not all(type(item) is str for item in items):
                raise _Slow
            return list(items)
        if kind == _ANY:
            return value
        raise _Slow
    except _Slow:
        return _slow_field(plan, key, name, value)


# -- shapes and records ---------------------------------------------------------------------------

_NONE = type(None)
# Kinds copied in bulk, with the value types that need no converting (None: any).
_BULK_TYPES: dict[int, frozenset[type] | None] = {
    _TEXT: frozenset({str, _NONE}),
    _INT: frozenset({int, _NONE}),
    _BOOL: frozenset({bool, _NONE}),
    _ANY: None,
}
_SHAPES_LIMIT = 512  # per model; a server sends a handful (one per projection and expansion)
_SIGNATURES_LIMIT = 64  # per shape: which fields are nil varies a little from record to record

Getter = Callable[[tuple[Any, ...]], tuple[Any, ...]]


def _getter(indexes: list[int]) -> Getter | None:
    if not indexes:
        return None
    if len(indexes) == 1:
        (index,) = indexes
        return lambda values: (values[index],)
    return itemgetter(*indexes)


@dataclass(frozen=True, slots=True)
class _Shape:
    fields_set: frozenset[str]
    missing_factories: tuple[str, ...]  # list fields the record lacks: a fresh [] each
    bulk_names: tuple[str, ...]
    bulk_values: Getter | None
    bulk_specs: tuple[tuple[str, str, int, frozenset[type] | None], ...]  # (key, attribute, kind, types)
    # The bulk values' types, as seen -> the positions among them that need converting (mostly none).
    signatures: dict[tuple[type, ...], tuple[int, ...]]
    extra_keys: tuple[str, ...]
    extra_values: Getter | None
    rest: tuple[tuple[int, str, str, int, Any], ...]  # (position, key, attribute, kind, argument)


def _shape(plan: _Plan, keys: tuple[str, ...]) -> _Shape | Literal[False]:
    bulk_names: list[str] = []
    bulk_indexes: list[int] = []
    bulk_specs = []
    extra_keys: list[str] = []
    extra_indexes: list[int] = []
    rest = []
    names = set()
    for index, key in enumerate(keys):
        if type(key) is not str:
            return False  # pydantic refuses (or converts) other keys
        spec = plan.fields.get(key)
        if spec is None:
            if key in plan.names:
                return False  # a snake_case attribute name: pydantic decides (alias precedence)
            extra_keys.append(key)
            extra_indexes.append(index)
            continue
        name, kind, arg = spec
        names.add(name)
        if kind in _BULK_TYPES:
            bulk_names.append(name)
            bulk_indexes.append(index)
            bulk_specs.append((key, name, kind, _BULK_TYPES[kind]))
        else:
            rest.append((index, key, name, kind, arg))
    return _Shape(
        fields_set=frozenset(names | set(extra_keys)),
        missing_factories=tuple(name for name in plan.factories if name not in names),
        bulk_names=tuple(bulk_names),
        bulk_values=_getter(bulk_indexes),
        bulk_specs=tuple(bulk_specs),
        signatures={},
        extra_keys=tuple(extra_keys),
        extra_values=_getter(extra_indexes),
        rest=tuple(rest),
    )


def _to_convert(shape: _Shape, types_: tuple[type, ...]) -> tuple[int, ...]:
    """Which bulk values, of these types, need converting (a number in a text field, "yes"...)."""
    fix = tuple(
        i
        for i, (t, (_, _, _, allowed)) in enumerate(zip(types_, shape.bulk_specs, strict=True))
        if allowed and t not in allowed
    )
    if len(shape.signatures) < _SIGNATURES_LIMIT:
        shape.signatures[types_] = fix
    return fix


def _build(plan: _Plan, data: dict[str, Any]) -> Any:
    keys = tuple(data)
    shapes = plan.shapes
    shape = shapes.get(keys)
    if shape is None:
        if len(shapes) >= _SHAPES_LIMIT:
            shapes.clear()
        shape = shapes[keys] = _shape(plan, keys)
    if shape is False:
        raise _Slow
    vals = tuple(data.values())
    values = plan.defaults.copy()
    for name in shape.missing_factories:
        values[name] = []
    if shape.bulk_values is not None:
        got = shape.bulk_values(vals)
        types_ = tuple(map(type, got))
        fix = shape.signatures.get(types_)
        if fix is None:
            fix = _to_convert(shape, types_)
        values.update(zip(shape.bulk_names, got, strict=True))
        for i in fix:
            key, name, kind, _ = shape.bulk_specs[i]
            values[name] = _convert(plan, key, name, kind, None, got[i])
    for index, key, name, kind, arg in shape.rest:
        value = vals[index]
        t = type(value)
        # The commonest cases inline; everything else through _convert.
        if t is dict and kind == _NESTED and (sub := _PLANS.get(arg)) is not None:
            value = _build(sub, value)
        elif value is None and kind < _MANY:
            pass
        elif t is str and kind == _DEC and (cached := _DEC_CACHE.get(value)) is not None:
            value = cached  # (one lookup: another thread may empty the cache between two)
        elif t is str and kind == _TS and (stamp := _TS_CACHE.get(value)) is not None:
            value = stamp
        else:
            value = _convert(plan, key, name, kind, arg, value)
        values[name] = value
    model = _new(plan.cls)
    _set_dict(model, values)
    _set_fields_set(model, set(shape.fields_set))
    extra = shape.extra_values
    _set_extra(model, {} if extra is None else dict(zip(shape.extra_keys, extra(vals), strict=True)))
    _set_private(model, None)
    return model


def validate(cls: type[M], data: Any) -> M:
    """``cls.model_validate(data)``, built faster where the model allows (see the module doc)."""
    plan = _PLANS.get(cls) or _plan(cls)
    if plan is None or type(data) is not dict:
        return cls.model_validate(data)
    try:
        return _build(plan, data)  # type: ignore[no-any-return]
    except (_Slow, ValidationError):
        # Something pydantic must judge as a whole: an error is then raised by model_validate,
        # located in the record as it always was.
        return cls.model_validate(data)


# -- the cyclic garbage collector ------------------------------------------------------------------
# A page of 50 fully expanded invoices is ~1,700 models, each a few container objects. CPython's
# cyclic collector runs every 700 container allocations and, now and then, walks the whole heap;
# on a full pull that cost about as much CPU as building the models, and its pauses delayed the
# requests in flight. The models hold no reference cycles (reference counting frees them), so the
# collector is paused while a page is converted. Only the conversion (milliseconds per page) runs
# paused, and a collector the application disabled stays disabled.
#
# When the pause ends, what was allocated during it goes straight to the oldest generation
# (``gc.freeze()`` then ``gc.unfreeze()``: two list splices, documented to land the objects there)
# instead of waiting for the next young pass, which would walk the whole page's ~30,000 objects
# once more and promote them anyway (py-spy: 10% of a typed full pull's CPU sat in that one pass).
# Skipped when the application keeps objects frozen (``gc.freeze()`` before forking workers, say):
# ``unfreeze`` would thaw those too.
# They are freed by reference counting as usual; a cycle made during the pause waits for the next
# full collection. Measured: 35.7 against 42.2 ms of client CPU per page, 8 paired rounds, all won.

_gc_lock = threading.Lock()
_gc_depth = 0
_gc_paused_here = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (re-entrant, thread-safe)."""
    global _gc_depth, _gc_paused_here
    with _gc_lock:
        if _gc_depth == 0:
            _gc_paused_here = gc.isenabled()
            if _gc_paused_here:
                gc.disable()
        _gc_depth += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0 and _gc_paused_here:
                _gc_paused_here = False
                if gc.get_freeze_count() == 0:  # never thaw what the application froze itself
                    gc.freeze()
                    gc.unfreeze()
                gc.enable()


def validate_page(cls: type[M], items: list[Any]) -> list[M]:
    """A page of records, with the collector paused (see :func:`gc_paused`)."""
    with gc_paused():
        return [validate(cls, item) for item in items]
