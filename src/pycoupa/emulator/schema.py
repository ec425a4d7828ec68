"""How the emulator treats each catalog definition: storage, associations, validation rules.

The catalog says what fields exist; this module adds what Coupa documents about them and R39
cannot express (coupa-api.md sections 4 and 6): which fields are really required, which are
unique, which nested objects are edited inline (lines, a supplier's primary contact) and which are
references to records that must already exist (a currency, a supplier, a user).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property
from typing import Literal

from pycoupa.catalog.corrections import patched_definitions
from pycoupa.catalog.model import Catalog, Definition, Field

Role = Literal["scalar", "reference", "owned", "reference_list", "owned_list", "scalar_list"]

# What is really required on create, where coupa-api.md or the seeds say so. R39's own `required`
# lists are over-broad (Supplier lists primary-contact, User lists salesforce-id).
REQUIRED: dict[str, tuple[str, ...]] = {
    "Supplier": ("name",),
    "Account": ("account-type",),
    "AccountType": ("name", "currency"),
    "User": ("login", "email", "firstname", "lastname"),
    "UserGroup": ("name",),
    "Address": ("street1", "city", "postal-code", "country"),
    "RemitToAddress": ("street1", "city", "postal-code", "country"),
    "Contract": ("name",),
    "Item": ("name", "description"),
    "Lookup": ("name",),
    "LookupValue": ("name", "lookup"),
    "Department": ("name",),
    "PaymentTerm": ("code",),
    "Integration": ("code", "name"),
    "IntegrationHistoryRecord": ("document-type", "document-id", "contact-alert-type"),
    "InvoiceHeader": ("invoice-number", "invoice-date", "supplier", "currency"),
    "OrderHeader": ("supplier",),
    "Currency": ("code",),
}

# Enumerations Coupa documents that R39 leaves as free strings.
ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("Supplier", "status"): ("active", "inactive", "draft"),
    ("Supplier", "payment-method"): ("invoice", "pcard", "invoice_only", "pcard_only", "virtual_card"),
    ("User", "authentication-method"): ("coupa_credentials", "ldap", "saml"),
    ("Integration", "direction"): ("to_coupa", "from_coupa"),
}

# Fields Coupa's XML marks ``type="symbol"`` (Rails symbols).
SYMBOLS: frozenset[tuple[str, str]] = frozenset({("User", "authentication-method")})

# Uniqueness Coupa documents (per definition: fields, each unique on its own).
UNIQUE: dict[str, tuple[str, ...]] = {
    "Supplier": ("name", "number"),
    "User": ("login", "email"),
    "UserGroup": ("name", "mention-name"),
    "AccountType": ("name",),
    "Currency": ("code",),
    "Department": ("name",),
    "Integration": ("code", "name"),
    "Item": ("item-number",),
    "LookupValue": ("external-ref-code",),
    "Address": ("location-code",),
    "PaymentTerm": ("code",),
    "OrderHeader": ("po-number",),
}

# References Coupa renders with other fields than their id and natural keys: a nested currency
# is ``{id, code, decimals}`` in Coupa's JSON examples and seed 003, not ``{id, code, name}``.
COMPACT_VIEWS: dict[str, tuple[str, ...]] = {"Currency": ("id", "code", "decimals")}

# Nested objects Coupa edits inline through the parent even though their definition has routes of
# its own (lines, a supplier's primary contact and address).
OWNED_FIELDS: frozenset[tuple[str, str]] = frozenset(
    {
        ("OrderHeader", "order-lines"),
        ("RequisitionHeader", "requisition-lines"),
        ("InvoiceHeader", "invoice-lines"),
        ("InvoiceHeader", "invoice-charges"),
        ("Supplier", "primary-contact"),
        ("Supplier", "primary-address"),
        ("CoupaPay-Payment", "payment-details"),
        ("ExpenseReport", "expense-lines"),
        ("BudgetLine", "budget-line-adjustments"),
    }
)

# Reference data that is looked up, never created through a parent, although it has no list
# route of its own in R39.
REFERENCE_ONLY: frozenset[str] = frozenset(
    {
        "Country",
        "Role",
        "TaxCode",
        "ReasonInsight",
        "Uom",
        "Commodity",
        "PaymentTerm",
        "ShippingTerm",
        "Currency",
    }
)

# Definitions that are another definition's reduced view (created-by is a UserSimple of a User).
ALIASES: dict[str, str] = {
    "UserSimple": "User",
    "UserSimpleSerializer": "User",
    "SupplierSimpleSerializer": "Supplier",
}


@dataclass(frozen=True)
class FieldPlan:
    field: Field
    role: Role
    target: str | None  # storage kind of the associated record


class Schema:
    """Per-definition facts the emulator needs, derived from the catalog and the tables above."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.top_level = catalog.top_level_definitions
        self.definitions = patched_definitions(catalog)

    def storage_kind(self, definition: str) -> str:
        return ALIASES.get(definition, definition)

    def definition(self, name: str) -> Definition:
        try:
            return self.definitions[name]
        except KeyError:
            raise KeyError(f"no definition {name!r} in the {self.catalog.release} catalog") from None

    def is_reference_kind(self, definition: str) -> bool:
        kind = self.storage_kind(definition)
        return kind in self.top_level or kind in REFERENCE_ONLY

    @cache  # noqa: B019 - one Schema per process, lives as long as the catalog
    def plan(self, definition: str) -> tuple[FieldPlan, ...]:
        out = []
        for f in self.definition(definition).fields.values():
            if f.ref is None:
                out.append(FieldPlan(f, "scalar_list" if f.type == "array" else "scalar", None))
                continue
            target = self.storage_kind(f.ref)
            owned = (definition, f.name) in OWNED_FIELDS or not self.is_reference_kind(f.ref)
            if f.is_collection:
                out.append(FieldPlan(f, "owned_list" if owned else "reference_list", target))
            else:
                out.append(FieldPlan(f, "owned" if owned else "reference", target))
        return tuple(out)

    @cache  # noqa: B019
    def plan_by_name(self, definition: str) -> dict[str, FieldPlan]:
        return {p.field.name: p for p in self.plan(definition)}

    @cache  # noqa: B019
    def required(self, definition: str, *, inline: bool = False) -> tuple[str, ...]:
        """Fields a create must give. Lines created inline through their parent are checked only
        against documented rules: R39's lists for them name fields Coupa fills itself."""
        if definition in REQUIRED:
            return REQUIRED[definition]
        if inline:
            return ()
        defn = self.definition(definition)
        return tuple(
            name
            for name in defn.required
            if name in defn.fields and defn.fields[name].is_scalar and not defn.fields[name].read_only
        )

    def enum(self, definition: str, field: Field) -> tuple[str, ...] | None:
        return ENUMS.get((definition, field.name), field.enum)

    def unique(self, definition: str) -> tuple[str, ...]:
        return UNIQUE.get(definition, ())

    @cache  # noqa: B019
    def compact_fields(self, definition: str) -> tuple[str, ...]:
        """The fields of a referenced record rendered inside another one.

        A reduced definition (``UserSimple``) is rendered as written; a reference to a record with
        routes of its own shows its id and natural keys, as Coupa does (``currency{id,code}``);
        an inline object shows all its scalars.
        """
        defn = self.definition(definition)
        if definition in COMPACT_VIEWS:
            return COMPACT_VIEWS[definition]
        if definition in ALIASES:
            return tuple(f.name for f in defn.scalar_fields)
        if self.is_reference_kind(definition):
            return ("id", *[k for k in defn.natural_keys if k != "id"])
        return tuple(f.name for f in defn.scalar_fields)

    @cache  # noqa: B019
    def association_names(self, definition: str) -> frozenset[str]:
        return frozenset(p.field.name for p in self.plan(definition) if p.target is not None)

    @cache  # noqa: B019
    def shallow_fields(self, definition: str) -> tuple[str, ...]:
        """An association under ``return_object=shallow``: its id and the keys that name it
        (``currency{id,code}``, ``created-by{id,login,email}``)."""
        keys = [k for k in self.definition(definition).natural_keys if k != "employee-number"]
        if "code" in keys and "name" in keys:
            keys.remove("name")
        return ("id", *keys)

    def is_symbol(self, definition: str, field: str) -> bool:
        return (definition, field) in SYMBOLS

    @cached_property
    def definitions_with_tables(self) -> tuple[str, ...]:
        return tuple(sorted({self.storage_kind(d) for d in self.definitions}))


def humanize(field_name: str) -> str:
    """``invoice-number`` -> ``Invoice number`` (Rails' attribute names in messages)."""
    text = field_name.replace("-", " ").replace("_", " ").strip()
    if text.endswith(" id") and len(text) > 3:
        text = text[:-3]
    return text[:1].upper() + text[1:]
