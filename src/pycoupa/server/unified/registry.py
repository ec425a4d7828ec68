"""Every unified resource, keyed by (model, name), and the Coupa conditions a unified filter becomes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from pycoupa.server.unified import accounting, directory
from pycoupa.server.unified.spec import COUPA_OPERATOR, UnifiedFilter, UnifiedResource
from pycoupa.wire.query import Condition

RESOURCES: Final[dict[tuple[str, str], UnifiedResource]] = {
    (r.model, r.name): r for r in (*accounting.RESOURCES, *directory.RESOURCES)
}
MODELS: Final = tuple(sorted({model for model, _ in RESOURCES}))


def get_resource(model: str, name: str) -> UnifiedResource:
    """The unified resource ``model/name``; ``KeyError`` names the valid models or resources."""
    found = RESOURCES.get((model, name))
    if found is not None:
        return found
    if model not in MODELS:
        raise KeyError(f"no unified model {model!r}; models: {', '.join(MODELS)}")
    names = sorted(n for m, n in RESOURCES if m == model)
    raise KeyError(f"no resource {name!r} in the {model} model; resources: {', '.join(names)}")


def coupa_path(attr: str) -> tuple[str, ...]:
    """``supplier[id]`` -> ``("supplier", "id")``."""
    return tuple(part.rstrip("]") for part in attr.split("["))


def coupa_conditions(flt: UnifiedFilter, op: str, values: Sequence[str]) -> list[Condition]:
    """The Coupa conditions for ``flt[op]=values`` (unified values, already checked for their kind).

    - ``eq``: one Coupa value -> ``attr=v``; an enum value standing for several -> ``attr[in]=...``;
    - ``ne``: ``attr[not_eq]=v`` or ``attr[not_in]=...``;
    - ``in``: ``attr[in]=`` the translations of every value;
    - other operators pass the value through (``gt`` -> ``gt``, ``gte`` -> ``gt_or_eq`` ...).

    A value with a ``refine`` entry adds ``refine_attr=refine_value`` (``paid=true``). Coupa has no
    OR across attributes, so a refined value is refused with ``ne``, and with ``in`` unless every value
    refines the same attribute (``status[in]=authorised,paid`` -> ``status=approved&paid[in]=false,true``).
    Raises ``ValueError`` with a message fit for the API caller.
    """
    if op not in flt.ops:
        raise ValueError(f"{flt.name} takes the operators {', '.join(sorted(flt.ops))}, not {op!r}")
    if not values:
        raise ValueError(f"{flt.name}: no value given")
    if op != "in" and len(values) != 1:
        raise ValueError(f"{flt.name}[{op}] takes one value")
    if flt.kind == "enum" and flt.choices:
        bad = [v for v in values if v not in flt.choices]
        if bad:
            raise ValueError(f"{flt.name}: {', '.join(map(repr, bad))} is not one of {', '.join(flt.choices)}")
    path = coupa_path(flt.coupa)
    coupa: list[str] = []
    for v in values:
        for c in flt.translate(v) if flt.translate else [v]:
            if c not in coupa:
                coupa.append(c)
    refined = [flt.refine[v] for v in values if v in flt.refine]
    extra: list[Condition] = []
    if refined:
        attrs = {attr for attr, _ in refined}
        if op == "ne" or len(refined) != len(values) or len(attrs) != 1:
            raise ValueError(
                f"{flt.name}: {', '.join(v for v in values if v in flt.refine)} cannot be combined with "
                f"{'[ne]' if op == 'ne' else 'other values'} in one Coupa query; ask for it on its own"
            )
        refine_values = tuple(dict.fromkeys(value for _, value in refined))
        refine_path = coupa_path(attrs.pop())
        extra.append(
            Condition(refine_path, "eq", refine_values[0])
            if len(refine_values) == 1
            else Condition(refine_path, "in", refine_values)
        )
    if op in ("eq", "in"):
        main = Condition(path, "eq", coupa[0]) if len(coupa) == 1 else Condition(path, "in", tuple(coupa))
    elif op == "ne":
        main = Condition(path, "not_eq", coupa[0]) if len(coupa) == 1 else Condition(path, "not_in", tuple(coupa))
    else:
        coupa_op = COUPA_OPERATOR[op]
        main = Condition(path, coupa_op or "eq", coupa[0])
    return [main, *extra]
