"""Settings: the key is required, the region is us|eu, and one ``url`` serves both the real
host (used as is) and the mock (a server root: the region's path is added)."""

from __future__ import annotations

import pytest

from mock_1flow.destination.settings import DEFAULT_URL, Settings


def test_the_default_is_the_real_host_used_as_is():
    assert DEFAULT_URL == "https://api-sdk.1flow.app/api/2021-06-15"
    assert Settings("k").api_base == DEFAULT_URL
    assert Settings("k", "eu").api_base == DEFAULT_URL  # host form: the host decides the region


@pytest.mark.parametrize(
    "url, region, base",
    [
        ("http://127.0.0.1:8080", "us", "http://127.0.0.1:8080/us/api/2021-06-15"),
        ("http://127.0.0.1:8080/", "eu", "http://127.0.0.1:8080/eu/api/2021-06-15"),
        ("http://mock.local/prefix", "eu", "http://mock.local/prefix/eu/api/2021-06-15"),
        ("http://mock.local/api/2021-06-15/", "eu", "http://mock.local/api/2021-06-15"),
    ],
)
def test_a_server_root_gets_the_mocks_path_form(url, region, base):
    assert Settings("k", region, url).api_base == base


@pytest.mark.parametrize("key", ["", " ", None])
def test_the_key_is_required(key):
    with pytest.raises(ValueError, match="projectApiKey is required"):
        Settings(key)


def test_the_region_is_us_or_eu():
    with pytest.raises(ValueError, match="region must be one of us, eu, not 'ap'"):
        Settings("k", "ap")


@pytest.mark.parametrize("url", ["127.0.0.1:8080", "ftp://host", "http://", ""])
def test_the_url_must_be_http(url):
    with pytest.raises(ValueError, match="url must be an http"):
        Settings("k", "us", url)
