"""Data Docs that work offline.

The pages Great Expectations renders load jQuery, Bootstrap, bootstrap-table,
Font Awesome, Vega... from CDNs; without internet access (company Airflow) they
show no styles and throw JS errors. :func:`make_offline`, run by
:func:`ingest.validate.build_docs` after GX rendered, copies the vendored files
(``ingest/datadocs_assets``, pinned, see its README and ``assets.json``) to
``<docs>/static/vendor/`` once and rewrites every page's CDN URLs into links
relative to the page (so the site works under the Airflow plugin's
``/news/docs/`` mount and from ``file://``). A remote URL with no local copy is
dropped, with a warning: nothing is ever loaded from outside. Plain links
(``<a href>``) are left as they are. Idempotent: a page already rewritten has
nothing left to change and is not written again.
"""

from __future__ import annotations

import html
import json
import logging
import posixpath
import re
import shutil
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: where the vendored files go, under the docs root
VENDOR = "static/vendor"
_MANIFEST = "assets.json"

_GX_ASSETS = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"
#: remote files of which GX writes a copy into the site itself
_SITE_COPIES = {_GX_ASSETS + "logo-long.png": "static/images/logo-long.png"}
#: remote files with no local copy anywhere, dropped without a warning: GX's dark-mode
#: logo (a CSS background: dark mode shows no logo)
_KNOWN_MISSING = frozenset({_GX_ASSETS + "full_logo_dark.png"})

#: inline scripts (left alone, but a src is checked), style blocks, comments, any other tag
_MARKUP = re.compile(
    r"<script\b(?P<script>(?:[^>\"']|\"[^\"]*\"|'[^']*')*)>.*?</script\s*>"
    r"|(?P<style_open><style\b[^>]*>)(?P<css>.*?)(?P<style_close></style\s*>)"
    r"|<!--.*?-->"
    r"|<(?P<name>[a-zA-Z][\w:-]*)(?P<attrs>(?:[^>\"']|\"[^\"]*\"|'[^']*')*)>",
    re.IGNORECASE | re.DOTALL,
)
_ATTR = re.compile(
    r"(?P<lead>\s+)(?P<name>[^\s=>/\"']+)"
    r"(?:(?P<eq>\s*=\s*)(?P<value>\"[^\"]*\"|'[^']*'|[^\s>\"']+))?"
)
#: attributes whose URL the browser fetches (on any tag but a plain link)
_LOADING = frozenset({"src", "href", "srcset", "poster", "data", "background", "xlink:href"})
#: tags whose href is a link to follow, not a resource to load
_LINKS = frozenset({"a", "area"})
#: attributes that pin a CDN copy's hash or CORS mode; a local copy goes without them
#: (SRI needs CORS, which file:// pages do not have)
_CDN_ONLY = frozenset({"integrity", "crossorigin"})
_CSS_URL = re.compile(
    r"url\(\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<bare>[^'\")\s]*))\s*\)",
    re.IGNORECASE,
)
_CSS_IMPORT = re.compile(
    r"@import\s+(?:url\(\s*)?[\"']?(?P<url>[^\"'\s);]+)[\"']?\s*\)?[^;]*;", re.IGNORECASE
)
_REMOTE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
#: for the quick look: a tag's start, "url(" before a URL
_TAG = re.compile(r"<(?P<name>[a-zA-Z][\w:-]*)(?P<attrs>(?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_URL_BEFORE = re.compile(r"url\(\s*[\"']?\s*(?:[a-z][a-z0-9+.-]*:)?\Z", re.IGNORECASE)
_IMPORT = re.compile(r"@import", re.IGNORECASE)


def assets_dir() -> Traversable:
    """The vendored files in the installed package."""
    return resources.files("ingest") / "datadocs_assets"


@cache
def manifest() -> dict[str, Any]:
    """``assets.json``: ``urls`` (CDN URL -> path, version, sha256), ``files``, ``libraries``."""
    data: dict[str, Any] = json.loads((assets_dir() / _MANIFEST).read_text(encoding="utf-8"))
    return data


@cache
def local_targets() -> dict[str, str]:
    """{remote URL: the local copy's path under the docs root}."""
    targets = {url: f"{VENDOR}/{entry['path']}" for url, entry in manifest()["urls"].items()}
    targets.update(_SITE_COPIES)
    return targets


def make_offline(docs: Path) -> int:
    """Vendored assets into ``docs/static/vendor`` (once), every page and GX
    stylesheet of the site rewritten to use them. Returns how many files changed."""
    if not docs.is_dir():
        return 0
    install_assets(docs)
    missing: set[str] = set()
    changed = 0
    vendor = docs / VENDOR
    for path in sorted(docs.rglob("*")):
        if path.suffix.lower() not in (".html", ".htm", ".css") or path.is_relative_to(vendor):
            continue
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        if not needs_rewrite(text):
            continue
        base = path.parent.relative_to(docs).as_posix()
        if path.suffix.lower() == ".css":
            new = rewrite_css(text, base, missing)
        else:
            new = rewrite_html(text, base, missing)
        if new != text:
            path.write_text(new, encoding="utf-8", errors="surrogateescape")
            changed += 1
    for url in sorted(missing - _KNOWN_MISSING):
        log.warning("Data Docs: no local copy of %s: dropped (it would load from outside)", url)
    return changed


def install_assets(docs: Path) -> bool:
    """Copy the vendored files to ``docs/static/vendor`` unless the same set is
    there already. Returns whether it copied."""
    dest = docs / VENDOR
    stamp = dest / _MANIFEST
    wanted = (assets_dir() / _MANIFEST).read_bytes()
    if (stamp.is_file() and stamp.read_bytes() == wanted
            and all((dest / name).is_file() for name in manifest()["files"])):
        return False
    with resources.as_file(assets_dir()) as source:
        shutil.copytree(source, dest, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(_MANIFEST, "__pycache__"))
    stamp.write_bytes(wanted)  # last: it says the copy is complete
    return True


def local_url(url: str, base: str) -> str | None:
    """The local copy of a remote ``url`` relative to ``base`` (a page's folder under
    the docs root), or None when there is none."""
    url = html.unescape(url).strip()
    if url.startswith("//"):
        url = "https:" + url
    elif url.lower().startswith("http://"):
        url = "https://" + url[7:]
    targets = local_targets()
    target = targets.get(url) or targets.get(re.split(r"[?#]", url, maxsplit=1)[0])
    if target is None:
        return None
    return posixpath.relpath(target, base or ".")


def is_remote(url: str) -> bool:
    """Whether a URL points to another host (absolute or protocol-relative)."""
    return bool(_REMOTE.match(html.unescape(url)))


def needs_rewrite(text: str) -> bool:
    """Whether :func:`rewrite_html` may change a page, found quickly: a URL to
    another host starts with "//", rare in a page, so only the tag or CSS around
    each "//" is looked at (a page rewritten already has only its plain links)."""
    if _IMPORT.search(text):
        return True
    start = text.find("//")
    while start != -1:
        if _URL_BEFORE.search(text, max(0, start - 40), start):
            return True
        tag = _TAG.match(text, max(0, text.rfind("<", 0, start)))
        if (tag and tag.end() > start  # the "//" is inside this tag
                and _attrs(tag["attrs"], tag["name"].lower(), "", set()) != tag["attrs"]):
            return True
        start = text.find("//", start + 2)
    return False


def rewrite_html(text: str, base: str, missing: set[str] | None = None) -> str:
    """``text`` (a page in ``base``, its folder under the docs root) with every
    remote resource pointed at its local copy, or dropped when it has none (the
    URL is added to ``missing``). Links (``<a href>``) stay."""
    missing = set() if missing is None else missing

    def one(match: re.Match[str]) -> str:
        if match["script"] is not None:
            attrs = _attrs(match["script"], "script", base, missing)
            if attrs is None:
                return ""
            return match[0] if attrs == match["script"] else (
                "<script" + attrs + match[0][len("<script") + len(match["script"]):])
        if match["css"] is not None:
            return match["style_open"] + rewrite_css(match["css"], base, missing) \
                + match["style_close"]
        if match["name"] is None:  # a comment
            return match[0]
        attrs = _attrs(match["attrs"], match["name"].lower(), base, missing)
        if attrs is None:
            return ""
        return match[0] if attrs == match["attrs"] else f"<{match['name']}{attrs}>"

    return _MARKUP.sub(one, text)


def _attrs(attrs: str, tag: str, base: str, missing: set[str]) -> str | None:
    """A tag's attributes with remote resources made local; None: drop the tag."""
    dropped = False
    localised = False

    def one(match: re.Match[str]) -> str:
        nonlocal dropped, localised
        name = match["name"].lower()
        raw = match["value"]
        if raw is None:
            return match[0]
        quoted = raw[:1] in "\"'"
        value = raw[1:-1] if quoted else raw
        if name == "style":
            new = rewrite_css(value, base, missing)
            return match[0] if new == value else \
                f"{match['lead']}{match['name']}{match['eq']}{_quote(new, raw)}"
        if name not in _LOADING or tag in _LINKS or not is_remote(value):
            return match[0]
        local = None if name == "srcset" else local_url(value, base)
        if local is None:
            missing.add(html.unescape(value).strip())
            dropped = True
            return match[0]
        localised = True
        return f"{match['lead']}{match['name']}{match['eq']}{_quote(local, raw)}"

    new = _ATTR.sub(one, attrs)
    if dropped:
        return None
    if localised:
        new = _ATTR.sub(lambda m: "" if m["name"].lower() in _CDN_ONLY else m[0], new)
    return new


def _quote(value: str, like: str) -> str:
    quote = like[0] if like[:1] in "\"'" else '"'
    return f"{quote}{html.escape(value, quote=False)}{quote}"


def rewrite_css(text: str, base: str, missing: set[str] | None = None) -> str:
    """CSS (of a page or a stylesheet in ``base``) with remote ``url()``s made local;
    one with no local copy becomes ``none``, a remote ``@import`` without one goes."""
    missing = set() if missing is None else missing

    def imported(match: re.Match[str]) -> str:
        url = match["url"]
        if not is_remote(url):
            return match[0]
        local = local_url(url, base)
        if local is None:
            missing.add(url)
            return ""
        return f'@import url("{local}");'

    def url(match: re.Match[str]) -> str:
        value = next(v for v in (match["dq"], match["sq"], match["bare"]) if v is not None)
        if not is_remote(value):
            return match[0]
        local = local_url(value, base)
        if local is None:
            missing.add(value.strip())
            return "none"
        return f"url('{local}')"

    return _CSS_URL.sub(url, _CSS_IMPORT.sub(imported, text))
