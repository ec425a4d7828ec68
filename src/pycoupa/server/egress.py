"""Which hosts an integrated account may point the server at.

Tenants give the instance URL, and the server then connects there, reports what answered and
forwards proxy calls: pointed at the server's own network, that would let a tenant probe it (port
scans through ``instance_unreachable``, internal services through the proxy). So by default an
instance must be on a public address. The embedded demo emulator, tests and on-premise setups
turn this off with ``--allow-private-instances``.

Names are resolved when an account is created, updated or revalidated; a name that later
resolves elsewhere (DNS rebinding) is out of reach here, so a hard guarantee needs an egress
policy around the server too.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from pycoupa.server.errors import APIError

RESOLVE_TIMEOUT = 5.0


def _refused(host: str, why: str) -> APIError:
    return APIError(
        400, "private_instance",
        f"instance_url host {host} {why}; the server connects only to public Coupa instances "
        "(start it with --allow-private-instances for an on-premise or local instance)",
        {"host": host},
    )  # fmt: skip


async def check_public_host(instance_url: str) -> None:
    host = urlsplit(instance_url).hostname or ""
    if host == "localhost" or host.endswith((".localhost", ".localdomain")):
        raise _refused(host, "is this machine")
    try:
        addresses = {ipaddress.ip_address(host)}
    except ValueError:
        try:
            infos = await asyncio.wait_for(
                asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT
            )
        except (OSError, TimeoutError):
            return  # unresolvable: the validation call reports the instance unreachable
        addresses = {ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos}
    for address in sorted(addresses, key=str):
        if not address.is_global:
            raise _refused(host, f"is a private, loopback or reserved address ({address})")
