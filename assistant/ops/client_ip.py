"""The client's IP address, read as far as the trusted proxies allow."""

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    """Return the IP address of the client that sent ``request``.

    With ``TRUSTED_PROXY_COUNT = 0`` this is REMOTE_ADDR: a client talking to us directly can
    write anything in X-Forwarded-For, so it is ignored. With N trusted proxies, each appends
    the address it saw to X-Forwarded-For, so the client is the Nth entry from the right;
    anything to the left of it was written by the client and is ignored. A header with fewer
    entries than trusted proxies, or an entry that is not an IP address, falls back to
    REMOTE_ADDR.
    """
    remote_addr = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote_addr
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if len(hops) < proxies:
        return remote_addr
    candidate = hops[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote_addr
