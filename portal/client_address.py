"""The client's address: the one answer the audit trail, rate limits, lockout, session registry, new-device
emails and /metrics all use.

    client_ip(request) -> "203.0.113.9" | None
    client_key(request) -> "203.0.113.9" | "unknown"      (for counting: never None)

gunicorn sets REMOTE_ADDR to the socket peer. With no proxy trusted (the default) that peer is the client
and every forwarding header is ignored: anyone can send `X-Forwarded-For`. Behind proxies, say which:

- `TRUSTED_PROXY_COUNT=N`: the app is reachable only through N proxies (the peer is the nearest). The client
  is the N-th address from the right of the chain "header, peer", i.e. the right-most address the first
  proxy appended: whatever a client prepends stays to the left and is never picked.
- `TRUSTED_PROXIES=10.0.0.0/8,192.0.2.7`: only a peer in these networks is a proxy (anyone else is the
  client, headers ignored); walking the chain from the right, trusted hops are skipped and the first
  untrusted address is the client.

Both may be set: the peer must then be in `TRUSTED_PROXIES`, and `TRUSTED_PROXY_COUNT` fixes the hops.
Only the header the proxies set is read (`CLIENT_IP_HEADER`, default `X-Forwarded-For`); `Forwarded`,
`X-Real-IP` and the rest are ignored. Parsing (ports, brackets, IPv4-mapped IPv6, `for=` elements) and the
pick are python-ipware's (the engine of django-ipware; django-ipware itself wants a request, and the audit
trail resolves from the META snapshot of the request being served, see portal/logging.py).

Over a unix socket REMOTE_ADDR is empty. With `TRUSTED_PROXY_COUNT` or `TRUSTED_PROXIES` set, the socket's
peer is taken for the nearest trusted proxy (only a process on this machine can open the socket: nginx), and
the client is read from the header as above. With no proxy setting the address is None (recorded as unknown;
the first such request logs an error, once per process, since a unix socket needs a proxy setting):
`client_key` puts every such request in one shared "unknown" bucket, so the rate limits still hold, and the
lockout never locks an (email, unknown) pair (accounts/lockout.py: the email's slowdown brakes those).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping
from functools import cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from python_ipware import IpWare
from python_ipware.modern.defaults import DEFAULT_PRECEDENCE
from python_ipware.modern.parsers import parse_ip, split_proxy_chain

logger = logging.getLogger(__name__)

UNKNOWN = "unknown"

# Every header some proxy uses to say who its client was (python-ipware's list, WSGI spelling).
FORWARDING_HEADERS = frozenset(
    h if h.startswith("HTTP_") else "HTTP_" + h.upper().replace("-", "_")
    for h in DEFAULT_PRECEDENCE
    if h != "REMOTE_ADDR"
)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _is_trusted(address: Any, networks: tuple[Network, ...]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


@cache
def _report_no_address() -> None:
    """Once per process: requests arrive without an address and no proxy setting says who sent them."""
    logger.error(
        "A request arrived without a client address (a unix socket?) and neither TRUSTED_PROXY_COUNT nor "
        "TRUSTED_PROXIES is set: every such client shares one rate-limit bucket. Set the proxy setting."
    )


def client_ip_from_meta(meta: Mapping[str, Any]) -> str | None:
    """`client_ip` for a META dict (the WSGI environ)."""
    peer = parse_ip(str(meta.get("REMOTE_ADDR") or ""))
    count: int = settings.TRUSTED_PROXY_COUNT
    networks = _trusted_networks(tuple(settings.TRUSTED_PROXIES))
    if peer is None:  # a unix socket (or something that is not an address)
        if not count and not networks:
            _report_no_address()
            return None
        chain, count = [], max(count - 1, 0)  # only a local process reaches a socket: the nearest proxy
    elif not count and not networks:
        return str(peer)
    elif networks and not _is_trusted(peer, networks):
        return str(peer)  # not one of our proxies: what it says about its client is ignored
    else:
        chain = [peer]
    header = str(meta.get(settings.CLIENT_IP_HEADER) or "")
    chain = [*(split_proxy_chain(header) or []), *chain]
    if not chain:
        return None
    if networks and not settings.TRUSTED_PROXY_COUNT:  # skip the trusted hops at the right of the chain
        while count < len(chain) and _is_trusted(chain[-1 - count], networks):
            count += 1
    if count >= len(chain):  # every hop is a proxy (a health check from the proxy itself)
        return str(chain[0])
    chain_meta = {"HTTP_X_FORWARDED_FOR": ", ".join(str(ip) for ip in chain)}
    ip, _trusted = IpWare(precedence=("HTTP_X_FORWARDED_FOR",), proxy_count=count).get_client_ip(chain_meta)
    return str(ip) if ip is not None else str(chain[-1])


def client_ip(request: HttpRequest) -> str | None:
    """The client's address (see the module's docstring), or None when there is none (a unix socket).
    Also AXES_CLIENT_IP_CALLABLE."""
    return client_ip_from_meta(request.META)


def client_key(request: HttpRequest) -> str:
    """What to count a client by: its address, or one shared bucket for every request without one."""
    return client_ip(request) or UNKNOWN


def is_forwarded(request: HttpRequest) -> bool:
    """Whether the request says it was relayed by a proxy, in any header any proxy uses."""
    return any(header in request.META for header in FORWARDING_HEADERS)


def from_this_host(request: HttpRequest) -> bool:
    """A client on this machine, not relayed: the client's address is a loopback one and no forwarding
    header is present (a same-host proxy that forwards is serving someone else, whatever header it uses)."""
    address = client_ip(request)
    return address is not None and ipaddress.ip_address(address).is_loopback and not is_forwarded(request)
