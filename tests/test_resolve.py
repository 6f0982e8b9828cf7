"""Link resolution: aggregator wrappers unwrapped, URLs canonicalised."""

from __future__ import annotations

import base64
import re

import pytest

from conftest import SEEDS
from ingest.config import RedirectWrapper
from ingest.errors import BadURL, IngestError
from ingest.resolve import (
    canonicalize,
    is_direct,
    is_tracking_param,
    site,
    unwrap,
    wrappers_from_settings,
)

SEED_000_LINK = (
    "http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=66f2a6760b284535b953cd8ba2a67fd1"
    "&url=https%3A%2F%2Fwww.koreatimes.co.kr%2Fwww%2Ftech%2F2024%2F09%2F419_382989.html"
    "&c=6288481095236004452&mkt=en-us"
)
KOREA_TIMES = "https://www.koreatimes.co.kr/www/tech/2024/09/419_382989.html"


def test_seed_bing_link_unwraps_to_the_korea_times_url() -> None:
    assert unwrap(SEED_000_LINK) == KOREA_TIMES


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds not present")
def test_the_link_in_seed_000_itself() -> None:
    seed = next(SEEDS.glob("000_*.txt")).read_text(encoding="utf-8")
    link = re.search(r"Source link : (\S+)", seed)
    assert link is not None
    assert unwrap(link.group(1)) == KOREA_TIMES


def test_bing_lower_case_hex_and_nested_tracking() -> None:
    link = (
        "http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=6a12&url=https%3a%2f%2fwibc.com"
        "%2f887629%2fsituation%2f%3futm_source%3drss%23comments&c=14824072920173618629&mkt=en-us"
    )
    target = unwrap(link)
    assert target == "https://wibc.com/887629/situation/?utm_source=rss#comments"
    assert canonicalize(target) == "https://wibc.com/887629/situation/"


def test_bing_ck_base64_variant() -> None:
    target = "https://example.com/news/a-story?id=7"
    encoded = base64.urlsafe_b64encode(target.encode()).decode().rstrip("=")
    assert unwrap(f"https://www.bing.com/ck/a?!&&p=abc&u=a1{encoded}&ntb=1") == target


@pytest.mark.parametrize(
    "link",
    [
        "https://www.koreatimes.co.kr/www/tech/2024/09/419_382989.html",
        "https://evil.example/news/apiclick.aspx?url=https%3A%2F%2Fx.org%2F",  # not bing.com
        "http://www.bing.com/news/apiclick.aspx?ref=FexRss&url=javascript%3Aalert(1)",
        "http://www.bing.com/news/apiclick.aspx?ref=FexRss",
    ],
)
def test_links_that_are_not_unwrapped(link: str) -> None:
    assert unwrap(link) == link


def test_declared_wrappers_extend_the_built_in_ones() -> None:
    rules = wrappers_from_settings(
        [RedirectWrapper(hosts=["news.example"], path="/out", param="to")]
    )
    assert unwrap("https://news.example/out?to=https%3A%2F%2Fa.org%2Fb", rules) == "https://a.org/b"
    assert unwrap(SEED_000_LINK, rules) == KOREA_TIMES


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://Example.COM:443/a/b.html#top", "https://example.com/a/b.html"),
        ("http://example.com:80/", "http://example.com/"),
        ("http://example.com:8080/x", "http://example.com:8080/x"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://example.com/%7euser/%2fx", "https://example.com/~user/%2Fx"),
        ("https://example.com/a?utm_source=rss&utm_medium=feed&id=5", "https://example.com/a?id=5"),
        ("https://example.com/a?b=2&a=1&fbclid=XYZ&gclid=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/view.php?ud=20240701000123", "https://example.com/view.php?ud=20240701000123"),
        ("https://example.com/a?ocid=msn&cvid=1&share=1", "https://example.com/a"),
        ("https://bücher.example/ä", "https://xn--bcher-kva.example/%C3%A4"),
    ],
)
def test_canonicalize(url: str, expected: str) -> None:
    assert canonicalize(url) == expected
    assert canonicalize(expected) == expected  # idempotent


@pytest.mark.parametrize("url", ["ftp://example.com/x", "mailto:a@b.c", "/relative/path", "https://"])
def test_canonicalize_refuses_non_http(url: str) -> None:
    with pytest.raises(ValueError):
        canonicalize(url)


def test_tracking_params_are_data() -> None:
    assert is_tracking_param("utm_campaign")
    assert is_tracking_param("UTM_Source")
    assert not is_tracking_param("id")
    assert not is_tracking_param("page")


# --- found by tests/test_fuzz.py ------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "", "%", "http://example.com:99999/",
     "http://example.com:-1/", "http://[oops/", "http://[::1", "HTTP://\x00", "http://a b.example/",
     "http://ex\\ample.org/", "https://example.com/\ud800"],
)
def test_a_url_that_cannot_be_canonicalised_is_a_bad_url(url: str) -> None:
    """Our own error (callers that suppress ValueError keep working), never urllib's."""
    with pytest.raises(BadURL) as err:
        canonicalize(url)
    assert isinstance(err.value, ValueError) and isinstance(err.value, IngestError)
    assert err.value.reason == "bad_url" and err.value.stage == "fetch"


@pytest.mark.parametrize("url", ["http://w。/a", "http://ÿ../a", "http://.ÿ/a", "https://Bücher.example./"])
def test_canonical_form_is_stable(url: str) -> None:
    canonical = canonicalize(url)
    assert canonicalize(canonical) == canonical


def test_is_direct_survives_a_bad_ipv6_literal() -> None:
    assert is_direct("http://[oops/a", "http://[oops/a", "https://ex.org/a") is False
    assert site("http://[oops/a") == ""
