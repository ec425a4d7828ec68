"""The base of every SDK model and the field types they share.

Coupa's wire is loose: JSON decimals are strings, XML carries typed values, old samples type a
field differently from R39, blank XML elements stand for nil, and Coupa may omit any field. The
field types below absorb that once, so the models can be plain declarations:

- every field is optional (``None`` by default, collections ``[]``);
- unknown keys, custom fields included, are kept as extras under their wire name and dumped back;
- a field is read by its snake_case name and written by its hyphenated wire name.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, TypeAlias, TypeVar

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo

from pycoupa.wire.values import hyphenate, parse_bool, parse_date, parse_datetime, parse_decimal, singularize

__all__ = [
    "Bool",
    "CoupaModel",
    "CoupaRecord",
    "DateOrTime",
    "Dec",
    "Int",
    "Many",
    "Nested",
    "Strings",
    "Text",
    "Timestamp",
]

T = TypeVar("T")

_LEGACY_CUSTOM_FIELD = re.compile(r"custom-field-[0-9]+")
_DATE_ONLY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _blank(value: object) -> bool:
    return isinstance(value, str) and not value.strip()


# -- scalar coercion ---------------------------------------------------------------------------
# Each function maps Coupa's spellings to one Python type and leaves anything else to pydantic,
# which then refuses it with a proper validation error. A blank string is nil: Rails writes a
# blank element (``<tax-rate type="float" />``, ``<attachments />``) for a missing value.


def _to_int(value: Any) -> Any:
    if value is None or _blank(value):
        return None
    return value.strip() if isinstance(value, str) else value


def _to_decimal(value: Any) -> Any:
    if value is None or _blank(value):
        return None
    if isinstance(value, float):
        # repr is the shortest exact spelling (8.25), where Decimal(8.25) would carry binary noise;
        # XML type="float" fields (tax-rate, quantity in old samples) are money-like.
        return parse_decimal(repr(value))
    if isinstance(value, str | Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
        return parse_decimal(value)
    return value


def _to_bool(value: Any) -> Any:
    if value is None or _blank(value):
        return None
    if isinstance(value, str | bool | int):
        return parse_bool(value)
    return value


def _aware(value: datetime) -> datetime:
    # Coupa always sends an offset; a naive value is read as UTC rather than refused.
    return value if value.utcoffset() is not None else value.replace(tzinfo=UTC)


def _to_datetime(value: Any) -> Any:
    if value is None or _blank(value):
        return None
    if isinstance(value, datetime):
        return _aware(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)  # a bare date is midnight UTC
    if isinstance(value, str):
        return parse_datetime(value, UTC)
    return value


def _to_date_or_datetime(value: Any) -> Any:
    """Dates stay dates (``2019-10-22``), timestamps become aware datetimes: neither is invented."""
    if value is None or _blank(value):
        return None
    if isinstance(value, datetime):
        return _aware(value)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        return parse_date(text) if _DATE_ONLY.fullmatch(text) else parse_datetime(text, UTC)
    return value


def _to_text(value: Any) -> Any:
    # Numbers become text: 2008-era XML types invoice-number and order-header-num as integers
    # where R39 (and every later payload) has strings.
    if isinstance(value, int | Decimal | float) and not isinstance(value, bool):
        return str(value)
    return value


def _to_nested(value: Any) -> Any:
    return None if _blank(value) else value


def _to_list(value: Any, info: ValidationInfo) -> Any:
    if value is None or _blank(value):
        return []  # nil or blank collection: no items
    if isinstance(value, dict) and len(value) == 1 and info.field_name is not None:
        # XML written without type="array" (<order-lines><order-line>...) decodes as a record
        # keyed by the item element; Coupa's own documentation writes collections that way.
        (key, items) = next(iter(value.items()))
        if key == singularize(hyphenate(info.field_name)):
            if isinstance(items, dict):
                return [items]
            if isinstance(items, list):
                return items
    return value


Int: TypeAlias = Annotated[int | None, BeforeValidator(_to_int)]
Dec: TypeAlias = Annotated[Decimal | None, BeforeValidator(_to_decimal)]
Bool: TypeAlias = Annotated[bool | None, BeforeValidator(_to_bool)]
Text: TypeAlias = Annotated[str | None, BeforeValidator(_to_text)]
Timestamp: TypeAlias = Annotated[AwareDatetime | None, BeforeValidator(_to_datetime)]
DateOrTime: TypeAlias = Annotated[AwareDatetime | date | None, BeforeValidator(_to_date_or_datetime)]
Nested: TypeAlias = Annotated[T | None, BeforeValidator(_to_nested)]
Many: TypeAlias = Annotated[list[T], BeforeValidator(_to_list)]
Strings: TypeAlias = Annotated[list[str], BeforeValidator(_to_list)]

# Enum-or-string: tried left to right, so a known value becomes the enum member and anything else
# stays the raw string (pydantic's default "smart" union would keep every str as plain str).
ENUM_OR_STR = Field(union_mode="left_to_right")

E = TypeVar("E", bound=StrEnum)
EnumOr: TypeAlias = Annotated[E | str | None, ENUM_OR_STR]


class CoupaModel(BaseModel):
    """Any Coupa object: snake_case attributes, hyphenated wire names, unknown keys kept.

    ``model_dump(by_alias=True, exclude_unset=True)`` gives back what was parsed: typed fields
    under their wire names (``invoice-lines``) and extras, custom fields included, as they came.
    """

    # defer_build: ~900 fields make schema building the bulk of import time; a model is built on
    # first use instead.
    model_config = ConfigDict(alias_generator=hyphenate, populate_by_name=True, extra="allow", defer_build=True)

    @property
    def custom_fields(self) -> dict[str, Any]:
        """Legacy ``custom-field-N`` keys and the ``custom-fields`` object, merged.

        On a clash the ``custom-fields`` object wins: it is the newer namespace (coupa-api.md s.2).
        """
        extra = self.__pydantic_extra__ or {}
        merged = {k: v for k, v in extra.items() if _LEGACY_CUSTOM_FIELD.fullmatch(k)}
        namespaced = extra.get("custom-fields")
        if isinstance(namespaced, dict):  # nil and a blank element both mean "none"
            merged.update(namespaced)
        return merged

    def __repr_args__(self) -> Any:
        # A fully typed invoice has ~200 fields, most of them None: the repr shows the rest.
        return [(name, value) for name, value in super().__repr_args__() if value is not None]

    def to_wire(self, *, json: bool = False) -> dict[str, Any]:
        """The set fields and extras under their wire names; ``json=True`` gives JSON-ready values."""
        return self.model_dump(by_alias=True, exclude_unset=True, mode="json" if json else "python")


class CoupaRecord(CoupaModel):
    """A record of any resource: ``id`` and timestamps typed, every other key kept as an extra."""

    id: Int = None
    created_at: Timestamp = None
    updated_at: Timestamp = None
