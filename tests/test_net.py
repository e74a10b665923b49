"""The client's address (lib/net.py): X-Forwarded-For is believed only from TRUSTED_PROXIES,
read from the right; limits count an IPv6 client by its /64."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from rapidresponse.lib import net, ratelimit

PROXY = "10.0.0.5"


def request(remote: str, forwarded: str | None = None):  # type: ignore[no-untyped-def]
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert net.client_ip(request("198.51.100.7", "203.0.113.1")) == "198.51.100.7"


def test_a_peer_that_is_not_a_trusted_proxy_cannot_choose_its_address(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert net.client_ip(request("198.51.100.7", "203.0.113.1")) == "198.51.100.7"


def test_behind_a_trusted_proxy_the_client_is_the_address_it_saw(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert net.client_ip(request(PROXY, "203.0.113.1")) == "203.0.113.1"


def test_a_client_cannot_hide_behind_an_address_it_writes_itself(settings):
    # The client sent "X-Forwarded-For: 192.0.2.99"; our proxy appended the real address.
    settings.TRUSTED_PROXIES = [PROXY]
    assert net.client_ip(request(PROXY, "192.0.2.99, 203.0.113.1")) == "203.0.113.1"


def test_a_client_cannot_pretend_to_be_one_of_our_proxies_to_go_further_left(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    # Two proxies of ours (10.1.1.1 then 10.0.0.5); the client wrote the leftmost entry.
    assert net.client_ip(request(PROXY, "192.0.2.99, 203.0.113.1, 10.1.1.1")) == "203.0.113.1"


def test_ranges_and_ipv6_proxies_are_trusted(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "fd00::/8"]
    assert net.client_ip(request("fd00::1", "2001:db8:1:2::5")) == "2001:db8:1:2::5"


def test_ports_and_brackets_are_read(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert net.client_ip(request(PROXY, "203.0.113.1:5100")) == "203.0.113.1"
    assert net.client_ip(request(PROXY, "[2001:db8::7]:443")) == "2001:db8::7"


def test_garbage_from_a_trusted_proxy_leaves_the_proxy(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert net.client_ip(request(PROXY, "not-an-address")) == PROXY
    assert net.client_ip(request(PROXY, "")) == PROXY


def test_ipv4_mapped_addresses_are_ipv4():
    assert net.client_ip(request("::ffff:198.51.100.7")) == "198.51.100.7"


def test_no_address_at_all_is_unknown():
    assert net.client_ip(request("")) == "unknown"
    assert net.client_key(request("")) == "unknown"


def test_an_ipv6_client_is_counted_by_its_64():
    one = ratelimit.client_key(request("2001:db8:aa:bb:1::1"))
    other = ratelimit.client_key(request("2001:db8:aa:bb:ffff::2"))
    neighbour = ratelimit.client_key(request("2001:db8:aa:bc::1"))
    assert one == other == "2001:db8:aa:bb::/64"
    assert neighbour != one


def test_ipv4_clients_are_counted_one_by_one():
    assert ratelimit.client_key(request("198.51.100.7")) == "198.51.100.7"
    assert ratelimit.client_key(request("198.51.100.8")) == "198.51.100.8"


@pytest.mark.parametrize("value", ["10.0.0.0/33", "proxy.example.org", "10.0.0.300"])
def test_a_bad_trusted_proxy_is_refused(value):
    with pytest.raises(ValueError):
        net.parse_networks([value])


def test_a_spoofed_header_does_not_escape_the_report_limit(client, settings, db):
    """Behind no trusted proxy, 31 reports with 31 invented X-Forwarded-For addresses are
    still 31 reports from one address: the last one is refused."""
    settings.TRUSTED_PROXIES = [PROXY]
    codes = [client.post("/report/", {"activity": "arrests", "zone": "x"},
                         HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code
             for i in range(31)]
    assert 429 not in codes[:30]
    assert codes[30] == 429
