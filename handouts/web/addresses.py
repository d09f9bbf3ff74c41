"""This computer's own IP addresses: a server listening on every interface (0.0.0.0 or
::) is reached by any of them (http://10.1.2.3:8080/), so they are its names too.

Standard library only: the addresses of this computer's name (getaddrinfo), the
address the system would send from (a UDP socket connected nowhere sends nothing), and
on Linux each interface's IPv4 address (SIOCGIFADDR) and every IPv6 address
(/proc/net/if_inet6). Whatever a platform lacks is skipped.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import struct
import sys
from pathlib import Path

SIOCGIFADDR = 0x8915  # Linux: an interface's IPv4 address
IF_INET6 = Path("/proc/net/if_inet6")
#: Documentation addresses (RFC 5737, RFC 3849): "connecting" to them picks the
#: interface a packet would leave by, and sends nothing.
PROBES = ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1"))


def own_addresses() -> set[str]:
    """Every address found, in the form a Host header carries it (IPv6 without scope)."""
    found = name_addresses() | outbound_addresses()
    if sys.platform.startswith("linux"):
        found |= interface_ipv4() | interface_ipv6()
    return {address.split("%")[0].lower() for address in found}


def name_addresses() -> set[str]:
    with contextlib.suppress(OSError):
        return {str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None)}
    return set()


def outbound_addresses() -> set[str]:
    found = set()
    for family, probe in PROBES:
        with contextlib.suppress(OSError), socket.socket(family, socket.SOCK_DGRAM) as udp:
            udp.connect((probe, 9))
            found.add(str(udp.getsockname()[0]))
    return found


def interface_ipv4() -> set[str]:
    import fcntl

    found = set()
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        for _index, name in socket.if_nameindex():
            request = struct.pack("256s", name.encode()[:15])
            with contextlib.suppress(OSError):  # an interface without an IPv4 address
                answer = fcntl.ioctl(udp.fileno(), SIOCGIFADDR, request)
                found.add(socket.inet_ntoa(answer[20:24]))
    return found


def interface_ipv6() -> set[str]:
    """From /proc/net/if_inet6: each line starts with the address in 32 hex digits."""
    with contextlib.suppress(OSError, ValueError):
        lines = IF_INET6.read_text().splitlines()
        return {str(ipaddress.IPv6Address(bytes.fromhex(line.split()[0]))) for line in lines}
    return set()
