"""The convenience attributes are typed for type checkers, and the annotations match what
``__getattr__`` really returns."""

from __future__ import annotations

import typing

import pytest

from pycoupa.client import AsyncCoupa, Coupa
from pycoupa.client._base import COMMON_RESOURCES, Namespace
from pycoupa.client.resources import AsyncResource, SyncResource


@pytest.mark.parametrize(("client_class", "resource_class"), [(Coupa, SyncResource), (AsyncCoupa, AsyncResource)])
def test_every_common_attribute_is_annotated_with_the_clients_resource_type(
    client_class: type, resource_class: type
) -> None:
    hints = typing.get_type_hints(client_class)
    assert {n: hints.get(n) for n in COMMON_RESOURCES} == dict.fromkeys(COMMON_RESOURCES, resource_class)
    assert hints["coupa_pay"] == Namespace[resource_class]  # type: ignore[valid-type]


async def test_the_annotations_match_the_runtime_objects() -> None:
    with Coupa("http://127.0.0.1:9", client_id="x", client_secret="y") as sync_client:
        assert all(type(getattr(sync_client, n)) is SyncResource for n in COMMON_RESOURCES)
        assert type(sync_client.coupa_pay.payments) is SyncResource
        assert not hasattr(sync_client.coupa_pay, "no_such_thing")
    async with AsyncCoupa("http://127.0.0.1:9", client_id="x", client_secret="y") as async_client:
        assert all(type(getattr(async_client, n)) is AsyncResource for n in COMMON_RESOURCES)
        assert type(async_client.coupa_pay.payments) is AsyncResource
