"""Reference data: currencies, catalog items, lookup values."""

from __future__ import annotations

from pycoupa.client.models._base import (
    Bool,
    CoupaRecord,
    Dec,
    Int,
    Nested,
    Text,
)
from pycoupa.client.models.refs import (
    AccountTypeRef,
    CodeRef,
    NamedRef,
    Ref,
    UserRef,
)


class Currency(CoupaRecord):
    """A currency (``/api/currencies``, read-only)."""

    code: Text = None
    decimals: Int = None
    enabled: Bool = None
    name: Text = None
    symbol: Text = None


class Item(CoupaRecord):
    """A catalog item (``/api/items``, ``<item>``)."""

    active: Bool = None
    allow_partial_quantity: Bool = None
    commodity: Nested[NamedRef] = None
    connect_item_id: Int = None
    consumption_quantity: Int = None
    consumption_uom: Nested[CodeRef] = None
    created_by: Nested[UserRef] = None
    description: Text = None
    dual_uom_allowed: Bool = None
    external_image_url: Text = None
    image_url: Text = None
    inventory_lot_expiration_type: Text = None
    inventory_lot_tracking_enabled: Bool = None
    item_number: Text = None
    item_type: Text = None
    manufacturer_name: Text = None
    manufacturer_part_number: Text = None
    name: Text = None
    net_weight: Dec = None
    net_weight_uom: Nested[CodeRef] = None
    pack_qty: Dec = None
    pack_uom: Nested[CodeRef] = None
    pack_uom_id: Int = None
    pack_weight: Dec = None
    receive_catch_weight: Bool = None
    receiving_form: Nested[Ref] = None
    reorder_alerts: Text = None
    reorder_point: Dec = None
    require_asset_tag: Bool = None
    require_inspection: Bool = None
    storage_quantity: Int = None
    storage_uom: Nested[CodeRef] = None
    sustainability_detail: Nested[Ref] = None
    tax_detail: Nested[Ref] = None
    uom: Nested[CodeRef] = None
    updated_by: Nested[UserRef] = None
    use_pack_weight: Bool = None


class LookupValue(CoupaRecord):
    """A value of a lookup (``/api/lookup_values``, ``<lookup-value>``)."""

    account_type: Nested[AccountTypeRef] = None
    active: Bool = None
    children_count: Int = None
    created_by: Nested[UserRef] = None
    depth: Int = None
    description: Text = None
    external_ref_code: Text = None
    external_ref_num: Text = None
    is_default: Bool = None
    lookup: Nested[NamedRef] = None
    lookup_id: Int = None
    name: Text = None
    parent: Nested[NamedRef] = None
    parent_id: Int = None
    updated_by: Nested[UserRef] = None
