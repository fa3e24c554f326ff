"""Which address a login comes from, when a reverse proxy may stand in front (no streamlit).

The rule: the socket's peer is the client, unless the peer is one of the configured trusted
proxies. Only then is X-Forwarded-For read, right to left (each proxy appends the address it
received the request from), skipping trusted proxies; the first untrusted address is the
client. Anything the client itself wrote into the header sits left of that and is never read.
A malformed entry met on the way means the header cannot be trusted: the peer is used.
"""

import ipaddress
from collections.abc import Iterable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

LOOPBACK = "127.0.0.1"  # Streamlit reports no address (None) for 127.0.0.1 and ::1
MAX_HOPS = 32  # entries read from the right of X-Forwarded-For; more is not a real chain
MAX_ADDRESS = 64  # the login_attempt.ip column


def parse_networks(entries: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Trusted proxies as networks ("10.0.0.7", "10.0.0.0/8", "::1"); ValueError names a bad one."""
    networks = []
    for entry in entries:
        text = str(entry).strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or network: {text!r}") from None
    return tuple(networks)


def parse_address(text: str | None) -> IPAddress | None:
    """One address as written in X-Forwarded-For (bare, IPv4 with port, [IPv6] with port), or
    None when it is not an address."""
    if not isinstance(text, str):
        return None
    value = text.strip()
    if not value or len(value) > 60:
        return None
    if value.startswith("["):  # [2001:db8::1] or [2001:db8::1]:443
        end = value.find("]")
        rest = value[end + 1:] if end > 0 else "x"
        if end <= 0 or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            return None
        value = value[1:end]
    elif value.count(":") == 1:  # 203.0.113.9:51234
        value, port = value.split(":")
        if not port.isdigit():
            return None
    if "%" in value:  # zone ids are local to a host: not something a proxy forwards
        return None
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def client_address(peer: str | None, forwarded_for: str | None,
                   trusted: tuple[IPNetwork, ...]) -> str:
    """The client's address for the login limiter (see the module's docstring).

    `peer` is the socket's address (None stands for loopback, as Streamlit reports it);
    `forwarded_for` is the X-Forwarded-For header (several headers joined with commas).
    """
    peer_text = LOOPBACK if peer is None or peer == "" else str(peer)
    peer_address = parse_address(peer_text)
    fallback = str(peer_address) if peer_address is not None else peer_text[:MAX_ADDRESS]
    if peer_address is None or not _trusted(peer_address, trusted):
        return fallback
    if not isinstance(forwarded_for, str) or not forwarded_for.strip():
        return fallback
    hops = forwarded_for.split(",")
    leftmost = None
    for entry in reversed(hops[-MAX_HOPS:]):
        address = parse_address(entry)
        if address is None:
            return fallback  # malformed: the chain cannot be followed
        if not _trusted(address, trusted):
            return str(address)
        leftmost = address
    # Every hop read is a trusted proxy: the furthest one is the best knowledge of the client.
    return str(leftmost) if leftmost is not None and len(hops) <= MAX_HOPS else fallback
