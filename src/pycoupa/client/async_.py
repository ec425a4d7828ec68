"""``AsyncCoupa``: the asyncio client. Same flows as ``Coupa``, driven with ``await``."""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType
from typing import Any

import httpx

from pycoupa.client._base import CoreClient, Namespace, ParentId, astream_xml_collections
from pycoupa.client._pipeline import Flow, run_async
from pycoupa.client.config import ClientOptions, build_settings, check_transport
from pycoupa.client.resources import AsyncResource, ResourceFlows


class AsyncCoupa(CoreClient):
    """The asyncio twin of :class:`pycoupa.client.Coupa` (same arguments, awaitable methods)."""

    # Typed views of the attributes ``CoreClient.__getattr__`` serves (COMMON_RESOURCES and
    # coupa_pay): annotations only, so lookups still reach __getattr__; a test keeps them in step.
    invoices: AsyncResource
    suppliers: AsyncResource
    purchase_orders: AsyncResource
    purchase_order_lines: AsyncResource
    requisitions: AsyncResource
    accounts: AsyncResource
    account_types: AsyncResource
    users: AsyncResource
    user_groups: AsyncResource
    currencies: AsyncResource
    items: AsyncResource
    lookups: AsyncResource
    lookup_values: AsyncResource
    departments: AsyncResource
    addresses: AsyncResource
    approvals: AsyncResource
    payment_terms: AsyncResource
    integrations: AsyncResource
    integration_runs: AsyncResource
    integration_history_records: AsyncResource
    exchange_rates: AsyncResource
    commodities: AsyncResource
    contracts: AsyncResource
    expense_reports: AsyncResource
    coupa_pay: Namespace[AsyncResource]

    def __init__(
        self,
        instance_url: str,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        scopes: Iterable[str] = (),
        transport: httpx.AsyncBaseTransport | None = None,
        **options: Any,
    ) -> None:
        check_transport(transport, httpx.AsyncBaseTransport, "AsyncCoupa")
        opts = ClientOptions.from_kwargs(instance_url, client_id, client_secret, scopes, options)
        super().__init__(build_settings(opts))
        self.options = opts
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=opts.timeout,
            auth=opts.auth,
            follow_redirects=False,
            event_hooks={"response": [astream_xml_collections]},  # XML pages parsed as they arrive
        )

    def __repr__(self) -> str:
        return f"AsyncCoupa({self.settings.instance_url!r}, client_id={self.options.client_id!r})"

    async def _run(self, flow: Flow[Any]) -> Any:
        return await run_async(flow, self._http)

    async def request(self, method: str, path: str, *, params: Any = None, json: Any = None) -> Any:
        """``Coupa.request``, awaited."""
        return await self._run(self.raw_request_flow(method, path, params, json))

    def resource(self, name: str, parent_id: ParentId | None = None) -> AsyncResource:
        return AsyncResource(self, ResourceFlows(self, self.catalog_resource(name), parent_id))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncCoupa:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
