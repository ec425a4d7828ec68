"""One Coupa instance, one spelling: ``check_instance_url`` drops the scheme's default port and the
host's trailing dot, so budgets and token keys (both keyed by the URL) are shared, not doubled."""

from __future__ import annotations

import pytest

from pycoupa.client._base import check_instance_url
from pycoupa.client.auth import CoupaOAuth
from pycoupa.client.errors import ConfigurationError


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("https://acme.coupahost.com", "https://acme.coupahost.com"),
        ("https://acme.coupahost.com:443", "https://acme.coupahost.com"),
        ("https://acme.coupahost.com.", "https://acme.coupahost.com"),
        ("https://ACME.coupahost.com.:443/", "https://acme.coupahost.com"),
        ("http://localhost:80", "http://localhost"),
        ("http://localhost.", "http://localhost"),
        ("http://127.0.0.1:80/", "http://127.0.0.1"),
        ("http://[::1]:80", "http://[::1]"),
        # Any other port is another instance (two local emulators), and stays.
        ("https://acme.coupahost.com:8443", "https://acme.coupahost.com:8443"),
        ("https://acme.coupahost.com.:8443", "https://acme.coupahost.com:8443"),
        ("http://localhost:443", "http://localhost:443"),
        ("https://localhost:80", "https://localhost:80"),
    ],
)
def test_default_port_and_trailing_dot_are_dropped(spelling: str, canonical: str) -> None:
    assert check_instance_url(spelling) == canonical
    assert check_instance_url(canonical) == canonical  # idempotent


@pytest.mark.parametrize("url", ["https://.", "https://acme..", "https://.:443"])
def test_an_empty_host_label_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="malformed"):
        check_instance_url(url)


def test_a_trailing_dot_does_not_make_a_public_host_look_like_loopback_or_hide_one() -> None:
    # http stays refused for public hosts however they are spelt...
    with pytest.raises(ConfigurationError, match="refusing plain http"):
        check_instance_url("http://acme.coupahost.com.:80")
    # ...and loopback, written fully qualified, is still loopback.
    assert check_instance_url("http://localhost.:8765") == "http://localhost:8765"


def test_one_instance_spelt_two_ways_has_one_token_key() -> None:
    spellings = ["https://acme.coupahost.com", "https://acme.coupahost.com:443", "https://acme.coupahost.com."]
    auths = [CoupaOAuth(url, "client", "secret", ["core.invoice.read"]) for url in spellings]
    assert {a.instance_url for a in auths} == {"https://acme.coupahost.com"}
    assert len({a.store_key for a in auths}) == 1
    assert {a.token_url for a in auths} == {"https://acme.coupahost.com/oauth2/token"}
