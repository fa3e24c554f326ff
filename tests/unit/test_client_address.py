"""Which address a login comes from (services.proxies): a client cannot choose it by writing an
X-Forwarded-For header, whether or not a proxy is trusted."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.proxies import client_address, parse_address, parse_networks

LOCAL = parse_networks(["127.0.0.1", "::1"])
OFFICE = parse_networks(["127.0.0.1", "10.0.0.0/8"])


@pytest.mark.parametrize(("peer", "forwarded", "trusted", "client"), [
    # No trusted proxy: the peer, whatever the header says.
    ("203.0.113.9", "6.6.6.6", (), "203.0.113.9"),
    (None, "6.6.6.6", (), "127.0.0.1"),  # Streamlit reports loopback as None
    # The peer is not a trusted proxy: the header is the client's own words.
    ("203.0.113.9", "6.6.6.6", LOCAL, "203.0.113.9"),
    # A trusted proxy appended the address it saw; what the client wrote is left of it.
    (None, "6.6.6.6, 198.51.100.7", LOCAL, "198.51.100.7"),
    (None, "198.51.100.7", LOCAL, "198.51.100.7"),
    ("127.0.0.1", "198.51.100.7", LOCAL, "198.51.100.7"),
    # Two proxies in a row (an office proxy, then nginx on this host).
    (None, "6.6.6.6, 203.0.113.5, 10.1.2.3", OFFICE, "203.0.113.5"),
    ("10.0.0.7", "203.0.113.5", OFFICE, "203.0.113.5"),
    # Every hop is a trusted proxy: the furthest one is the best knowledge.
    (None, "10.9.9.9, 10.1.2.3", OFFICE, "10.9.9.9"),
    # Malformed entries met on the way: the chain cannot be followed, so the peer.
    (None, "198.51.100.7, not-an-ip", LOCAL, "127.0.0.1"),
    (None, "198.51.100.7,", LOCAL, "127.0.0.1"),
    (None, "   ", LOCAL, "127.0.0.1"),
    (None, None, LOCAL, "127.0.0.1"),
    (None, "fe80::1%eth0", LOCAL, "127.0.0.1"),
    # ... but rubbish left of the client is never read.
    (None, "<script>, 198.51.100.7", LOCAL, "198.51.100.7"),
    # Ports, brackets and IPv4 written as IPv6.
    (None, "198.51.100.7:51234", LOCAL, "198.51.100.7"),
    (None, "[2001:db8::7]:443", LOCAL, "2001:db8::7"),
    (None, "2001:db8::7", LOCAL, "2001:db8::7"),
    (None, "::ffff:198.51.100.7", LOCAL, "198.51.100.7"),
    # A peer Streamlit's server already replaced with something odd is used as it is.
    ("garbage", "198.51.100.7", LOCAL, "garbage"),
])
def test_client_address(peer, forwarded, trusted, client):
    assert client_address(peer, forwarded, trusted) == client


def test_networks_parse_and_bad_entries_are_named():
    assert parse_networks(["10.0.0.0/8", " ::1 ", ""]) == (ipaddress.ip_network("10.0.0.0/8"),
                                                          ipaddress.ip_network("::1/128"))
    with pytest.raises(ValueError, match="proxy.local"):
        parse_networks(["proxy.local"])


def test_parse_address_refuses_what_is_not_one_address():
    for text in ["", "1.2.3", "1.2.3.4:x", "[::1", "[::1]x", "a" * 80, "1.2.3.4 5.6.7.8"]:
        assert parse_address(text) is None, text


addresses = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6))
# As the limiter records them (an IPv4 address written as IPv6 becomes IPv4), not an office hop.
untrusted = addresses.map(lambda a: parse_address(str(a))).filter(
    lambda a: not any(a.version == n.version and a in n for n in OFFICE))
header_text = st.text(alphabet=st.characters(blacklist_characters=","), max_size=30)


@given(st.lists(header_text, max_size=6), untrusted,
       st.lists(st.sampled_from(["10.1.2.3", "10.200.0.1", "127.0.0.1"]), max_size=3))
def test_whatever_the_client_writes_the_proxy_appended_address_wins(spoofed, real, hops):
    # The client wrote `spoofed`; the office proxies appended the real address and then their
    # own; nginx on this host is the peer.
    header = ", ".join([*spoofed, str(real), *hops])
    assert client_address(None, header, OFFICE) == str(real)


@given(untrusted, st.one_of(st.none(), st.text(max_size=200)))
def test_an_untrusted_peer_is_the_client_whatever_the_header(peer, header):
    assert client_address(str(peer), header, OFFICE) == str(peer)


@given(st.one_of(st.none(), st.text(max_size=80)), st.one_of(st.none(), st.text(max_size=300)))
def test_any_input_answers_a_short_text(peer, header):
    answer = client_address(peer, header, OFFICE)
    assert isinstance(answer, str) and 0 < len(answer) <= 64
