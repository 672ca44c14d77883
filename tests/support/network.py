"""The network guard: tests may connect to this machine only."""

import ipaddress
import socket


class NetworkBlocked(BaseException):
    """A test tried to reach a host that is not this machine.

    A BaseException, so that no ``except Exception`` in the code under test can swallow it.
    """


def is_loopback(host) -> bool:
    """Return whether ``host`` (a name or an address) is this machine."""
    if isinstance(host, bytes):
        host = host.decode()
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def loopback_only(connect):
    """Wrap a ``socket.connect``-like method to raise NetworkBlocked for any other host."""

    def guarded(sock, address, *args, **kwargs):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
            raise NetworkBlocked(f"Tests may not connect to {address[0]!r}: loopback only.")
        return connect(sock, address, *args, **kwargs)

    return guarded
