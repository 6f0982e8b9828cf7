"""Resolve links: unwrap aggregator redirects and canonicalise URLs.

Pure functions; the rules are data (``rules/urls.yml``, extended by
``settings.redirect_wrappers``). HTTP redirects are followed by :mod:`ingest.fetch`,
which reports every hop so that all of a page's URLs can be recorded.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fnmatch
import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import yaml

from ingest.config import RedirectWrapper
from ingest.errors import BadURL

MAX_UNWRAP_DEPTH = 4
_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PCT = re.compile(r"%([0-9A-Fa-f]{2})")
_BAD_HOST_CHAR = re.compile(r"[\x00-\x20\x7f\\]")  # controls, spaces, backslash


@dataclass(frozen=True, slots=True)
class WrapperRule:
    name: str
    hosts: tuple[str, ...]
    path: str
    params: tuple[str, ...]
    encoding: str = "plain"

    def matches(self, host: str, path: str) -> bool:
        return path.rstrip("/") == self.path.rstrip("/") and any(
            host == pattern or fnmatch.fnmatchcase(host, pattern) for pattern in self.hosts
        )


@cache
def _rules() -> dict[str, Any]:
    text = resources.files("ingest").joinpath("rules/urls.yml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def default_wrappers() -> tuple[WrapperRule, ...]:
    return tuple(_rule(item) for item in _rules()["redirect_wrappers"])


def _rule(item: dict[str, Any]) -> WrapperRule:
    params = item["param"]
    return WrapperRule(
        name=item.get("name", item["path"]),
        hosts=tuple(h.lower() for h in item["hosts"]),
        path=item["path"],
        params=tuple([params] if isinstance(params, str) else params),
        encoding=item.get("encoding", "plain"),
    )


def wrappers_from_settings(extra: Iterable[RedirectWrapper] = ()) -> tuple[WrapperRule, ...]:
    """Built-in wrappers plus those declared in ``settings.redirect_wrappers``."""
    declared = tuple(
        _rule({"name": f"config:{w.path}", "hosts": w.hosts, "path": w.path, "param": w.param})
        for w in extra
    )
    return default_wrappers() + declared


def unwrap(url: str, wrappers: Sequence[WrapperRule] | None = None) -> str:
    """The target of a redirect-wrapper link, or the link itself.

    >>> unwrap("http://www.bing.com/news/apiclick.aspx?ref=FexRss&url=https%3a%2f%2fex.com%2fa&c=1")
    'https://ex.com/a'
    """
    rules = default_wrappers() if wrappers is None else wrappers
    for _ in range(MAX_UNWRAP_DEPTH):
        target = _unwrap_once(url, rules)
        if target is None:
            return url
        url = target
    return url


def _unwrap_once(url: str, rules: Sequence[WrapperRule]) -> str | None:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    for rule in rules:
        if not rule.matches(host, parts.path):
            continue
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        for param in rule.params:
            value = query.get(param)
            if not value:
                continue
            target = _decode(value, rule.encoding)
            if target and re.match(r"^https?://", target, re.IGNORECASE):
                return target
    return None


def _decode(value: str, encoding: str) -> str | None:
    if encoding == "bing-a1":
        if not value.startswith("a1"):
            return None
        raw = value[2:]
        try:
            return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
    return value  # parse_qsl already percent-decoded it (hex case does not matter)


@cache
def _tracking() -> tuple[frozenset[str], tuple[str, ...]]:
    names = [n.lower() for n in _rules()["tracking_params"]]
    exact = frozenset(n for n in names if not n.endswith("*"))
    prefixes = tuple(n[:-1] for n in names if n.endswith("*"))
    return exact, prefixes


def is_tracking_param(name: str) -> bool:
    exact, prefixes = _tracking()
    lowered = name.lower()
    return lowered in exact or lowered.startswith(prefixes)


def canonicalize(url: str) -> str:
    """A stable identity for a URL: same document, same string.

    Lower-cases scheme and host, drops default ports, fragments and tracking
    parameters, resolves dot segments, normalises percent-escapes and sorts the
    remaining query parameters. Raises :class:`BadURL` (a ValueError) when the URL is
    not an absolute http(s) URL or cannot be parsed (a bad IPv6 literal or port).
    """
    try:
        return _canonical(url)
    except BadURL:
        raise
    except ValueError as exc:  # urllib's, or a lone surrogate that cannot be quoted
        raise BadURL(url) from exc


@lru_cache(maxsize=8192)
def _canonical(url: str) -> str:
    # Cached: a page's entry link, final URL and declared URL are canonicalized several
    # times on their way (its entry key, its URLs, its batch): a third of the pass
    # process's time outside fetching, in bench/e2e.py.
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise BadURL(url)
    host = parts.hostname.lower().rstrip(".")
    with contextlib.suppress(UnicodeError):
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    host = host.rstrip(".")  # after IDNA, which maps "。" to a dot
    if not host or _BAD_HOST_CHAR.search(host):
        raise BadURL(url)
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _normalise_escapes(parts.path) or "/"
    if "/." in path:
        trailing = path.endswith("/")
        path = posixpath.normpath(path)
        path = path if path.startswith("/") else "/" + path
        if trailing and not path.endswith("/"):
            path += "/"
        path = path.replace("//", "/")
    pairs = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not is_tracking_param(k)
    ]
    pairs.sort()
    query = urlencode(pairs, quote_via=quote, safe="/:@!$'()*,;")
    return urlunsplit((scheme, netloc, path, query, ""))


def _normalise_escapes(path: str) -> str:
    """Upper-case escapes, decode escaped unreserved characters, escape raw unsafe ones."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    path = _PCT.sub(fix, path)
    return quote(path, safe="/%:@!$&'()*+,;=-._~")


def url_aliases(urls: Iterable[str]) -> list[str]:
    """Distinct URLs in first-seen order (the feed link first)."""
    seen: dict[str, None] = {}
    for u in urls:
        if u and u not in seen:
            seen[u] = None
    return list(seen)


def is_direct(feed_link: str, target: str, canonical: str) -> bool:
    """Whether a feed's link is the publisher's own: not a wrapper that was
    unwrapped, and on the same site as the page it leads to."""
    return target == feed_link and site(feed_link) == site(canonical)


def site(url: str) -> str:
    """The registrable domain of a URL's host, by the public suffix list (the ``tld``
    package's bundled copy; never fetched): ``feeds.ard.de`` and ``www.ard.de`` are
    ``ard.de``, ``www.koreatimes.co.kr`` is ``koreatimes.co.kr``, ``x.github.io`` is
    itself. An IP address, ``localhost`` or a name under no public suffix is its own
    site."""
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:  # a bad IPv6 literal: no site
        return ""
    if not host or host.replace(".", "").isdigit() or ":" in host:
        return host
    return _registrable(host)


@cache
def _registrable(host: str) -> str:
    from tld import get_fld

    try:
        found = get_fld(host, fix_protocol=True, fail_silently=True)
    except Exception:  # the library's own errors for odd names: the host is the site
        found = None
    return str(found) if found else host


#: Longer URLs are refused (bad_url, by the fetcher) and not kept as aliases: what
#: browsers, CDNs and the sitemap protocol accept, and what the warehouse's URL
#: indexes can hold (an index entry is at most 2.7 kB).
MAX_URL_BYTES = 2048


def entry_urls(link: str, wrappers: Sequence[WrapperRule]) -> list[tuple[str, str]]:
    """The URLs a feed entry's article may be stored under, before fetching it: the
    link as given, its unwrapped target, the target's canonical form."""
    target = unwrap(link, wrappers)
    pairs = [(link, "feed_link")]
    if target != link:
        pairs.append((target, "redirect"))
    with contextlib.suppress(ValueError):
        pairs.append((canonicalize(target), "canonical"))
    return pairs


def entry_key(link: str, wrappers: Sequence[WrapperRule]) -> str:
    """An entry's identity across passes (``news.url_failures``): its target's
    canonical URL, since an aggregator wraps one target in ever-new tracking links;
    cut to what an index holds."""
    try:
        key = canonicalize(unwrap(link, wrappers))
    except ValueError:
        key = link
    if len(key) > MAX_URL_BYTES // 4:
        key = key.encode("utf-8", "surrogatepass")[:MAX_URL_BYTES].decode("utf-8", "ignore")
    return key


def page_urls(
    link: str, target: str, hops: Sequence[str], canonical: str, declared: str | None
) -> list[tuple[str, str]]:
    """Every URL a fetched page was met under: the feed's link, the unwrapped target
    and redirect hops, the final URL (``hops[-1]``), the canonical one, and the URL
    the page declares itself (``<link rel=canonical>``) when it is on the same host and
    not the home page (some sites declare that). None longer than an index holds."""
    pairs: list[tuple[str, str]] = [(link, "feed_link")]
    pairs += [(hop, "redirect") for hop in url_aliases([target, *hops[:-1]]) if hop != link]
    pairs += [(hops[-1], "final"), (canonical, "canonical")]
    if declared and declared.startswith(("http://", "https://")):
        try:
            declared_canonical = canonicalize(declared)
        except ValueError:
            declared_canonical = None
        if declared_canonical and _host(declared_canonical) == _host(canonical) and (
            _path(declared_canonical) not in ("", "/")
        ):
            pairs.append((declared, "declared"))
    return list(dict.fromkeys(
        p for p in pairs if len(p[0].encode("utf-8", "surrogatepass")) <= MAX_URL_BYTES))


def _host(url: str) -> str:
    return url.split("/", 3)[2]


def _path(url: str) -> str:
    parts = url.split("/", 3)
    return "/" + parts[3] if len(parts) > 3 else ""
