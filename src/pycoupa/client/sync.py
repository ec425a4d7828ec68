"""``Coupa``: the synchronous client. All logic lives in shared flows; this class only runs them."""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType
from typing import Any

import httpx

from pycoupa.client._base import CoreClient, Namespace, ParentId, stream_xml_collections
from pycoupa.client._pipeline import Flow, run_sync
from pycoupa.client.config import ClientOptions, build_settings, check_transport
from pycoupa.client.resources import ResourceFlows, SyncResource


class Coupa(CoreClient):
    """A Coupa instance: ``Coupa("https://acme.coupahost.com", client_id=..., client_secret=..., scopes=[...])``.

    Every catalog resource is reachable with :meth:`resource`; the common ones are attributes
    (``coupa.invoices``, ``coupa.suppliers``, ``coupa.coupa_pay.payments``...).
    """

    # Typed views of the attributes ``CoreClient.__getattr__`` serves (COMMON_RESOURCES and
    # coupa_pay): annotations only, so lookups still reach __getattr__; a test keeps them in step.
    invoices: SyncResource
    suppliers: SyncResource
    purchase_orders: SyncResource
    purchase_order_lines: SyncResource
    requisitions: SyncResource
    accounts: SyncResource
    account_types: SyncResource
    users: SyncResource
    user_groups: SyncResource
    currencies: SyncResource
    items: SyncResource
    lookups: SyncResource
    lookup_values: SyncResource
    departments: SyncResource
    addresses: SyncResource
    approvals: SyncResource
    payment_terms: SyncResource
    integrations: SyncResource
    integration_runs: SyncResource
    integration_history_records: SyncResource
    exchange_rates: SyncResource
    commodities: SyncResource
    contracts: SyncResource
    expense_reports: SyncResource
    coupa_pay: Namespace[SyncResource]

    def __init__(
        self,
        instance_url: str,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        scopes: Iterable[str] = (),
        transport: httpx.BaseTransport | None = None,
        **options: Any,
    ) -> None:
        check_transport(transport, httpx.BaseTransport, "Coupa")
        opts = ClientOptions.from_kwargs(instance_url, client_id, client_secret, scopes, options)
        super().__init__(build_settings(opts))
        self.options = opts
        self._http = httpx.Client(
            transport=transport,
            timeout=opts.timeout,
            auth=opts.auth,
            follow_redirects=False,
            event_hooks={"response": [stream_xml_collections]},  # XML pages parsed as they arrive
        )

    def __repr__(self) -> str:
        return f"Coupa({self.settings.instance_url!r}, client_id={self.options.client_id!r})"

    def _run(self, flow: Flow[Any]) -> Any:
        return run_sync(flow, self._http)

    def request(self, method: str, path: str, *, params: Any = None, json: Any = None) -> Any:
        """Any call under ``/api`` (``coupa.request("GET", "/invoices", params={"fields": '["id"]'})``),
        with this client's auth, retries, rate limit and errors; the body and answer as Coupa has
        them (hyphenated keys, no models). For what the catalog does not know."""
        return self._run(self.raw_request_flow(method, path, params, json))

    def resource(self, name: str, parent_id: ParentId | None = None) -> SyncResource:
        return SyncResource(self, ResourceFlows(self, self.catalog_resource(name), parent_id))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Coupa:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
