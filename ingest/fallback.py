"""trafilatura's own metadata, asked for only where :mod:`ingest.metadata` finds nothing.

:class:`TrafilaturaMetadata` computes each of trafilatura's fields when first asked
for. Its author comes from :func:`markup_author`: the answer of trafilatura's
``extract_author``, found without its cost. ``extract_author`` deep-copies the
page, prunes comments, dates and figures from the copy with XPaths, and then runs
three more XPaths over every element, most of its cost evaluating attribute
predicates. :func:`markup_author` collects the few elements whose ``class``, ``id``,
``itemprop``, ``rel`` or ``data-*`` attributes could match (one attribute scan) and
applies the same predicates to them in Python, at a fraction of the cost (the
README's benchmarks say how much), with the same answer on every page of
../shared/corpus (tests/test_fallback.py holds it to trafilatura's own answer).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from lxml import etree

# trafilatura 2.3.1's AUTHOR_XPATHS and AUTHOR_DISCARD_XPATHS (trafilatura/xpaths.py),
# predicate for predicate. Every attribute they test is one of these; every value they
# accept holds one of the tokens.
_ATTRIBUTES = etree.XPath("//@class|//@id|//@itemprop|//@rel|//@data-component|//@data-testid")
_TOKENS = re.compile(
    "author|Author|byl|Byline|BBL|username|screenname|writer|zuozhe|bianji|xiaobian"
    "|channel-name|submitted-by|posted-by|journalist-name"
)


def _has(value: str | None, *parts: str) -> bool:
    return value is not None and any(part in value for part in parts)


def _specific(element: Any) -> bool:
    """AUTHOR_XPATHS[0]: "specific and almost specific" (its ``//author`` and
    ``rel='me'``, a child element, are left to trafilatura itself)."""
    if element.tag not in {"a", "address", "div", "link", "p", "span", "strong"}:
        return False
    get, cls = element.get, element.get("class")
    return (get("rel") == "author" or get("id") == "author" or cls == "author"
            or get("itemprop") == "author name"
            or get("data-testid") in ("AuthorCard", "AuthorURL")
            or _has(cls, "authorname", "author-name", "AuthorName", "authorName"))


def _generic(element: Any) -> bool:
    """AUTHOR_XPATHS[1]: "almost generic and generic"."""
    if element.tag not in {"a", "div", "h3", "h4", "p", "span"}:
        return False
    get, cls = element.get, element.get("class")
    return (cls in ("byline", "username", "byl", "BBL") or _has(get("itemprop"), "author")
            or _has(get("id"), "author", "zuozhe", "bianji", "xiaobian")
            or _has(cls, "author", "channel-name", "zuozhe", "bianji", "xiaobian",
                    "submitted-by", "posted-by", "journalist-name"))


def _last_resort(element: Any) -> bool:
    """AUTHOR_XPATHS[2]: "last resort: any element"."""
    get = element.get
    return (_has(get("data-component"), "Byline") or _has(get("itemprop"), "author")
            or _has(get("id"), "Author", "author")
            or _has(get("class"), "Author", "author", "screenname", "writer", "Byline", "byline"))


_DISCARDED_CLASS_PARTS = (
    "commentlist", "comments-list", "sidebar", "is-hidden", "quote", "embedly-instagram",
    "article-share", "article-support", "print", "category", "meta-date", "meta-reviewer",
)


def _discarded(element: Any) -> bool:
    """AUTHOR_DISCARD_XPATHS: what extract_author prunes before it looks."""
    tag = element.tag
    if tag in ("time", "figure"):
        return True
    if tag not in ("a", "div", "section", "span"):
        return False
    ident, cls = element.get("id"), element.get("class")
    return (ident == "comments" or cls in ("comments", "title", "date")
            or (ident is not None and (ident.startswith("comments") or _has(
                ident, "commentlist", "comment-list", "ProductReviews")))
            or (cls is not None and (cls.startswith(("Comments", "comments")) or _has(
                cls, *_DISCARDED_CLASS_PARTS)))
            or _has(element.get("data-component"), "Figure"))


def markup_author(tree: Any) -> str | None:
    """What ``trafilatura.metadata.extract_author(tree)`` returns, from candidates.

    An element the pruning would remove (it or an ancestor is discarded) is skipped.
    Where a match holds a discarded element, its text after pruning is trafilatura's
    to say, so trafilatura is asked; so it is on the rare pages with ``<author>`` or
    ``<rel>`` elements."""
    from trafilatura.json_metadata import normalize_authors
    from trafilatura.metadata import extract_author
    from trafilatura.utils import trim

    if tree.find(".//author") is not None or tree.find(".//rel") is not None:
        return extract_author(tree)  # type: ignore[no-any-return]
    root = tree.getroottree().getroot()
    candidates = [  # in page order, without those the pruning would remove
        element
        for element in dict.fromkeys(
            value.getparent() for value in _ATTRIBUTES(tree) if _TOKENS.search(value))
        if not any(_discarded(e) for e in (element, *element.iterancestors()) if e is not root)
    ]
    for matches in (_specific, _generic, _last_resort):
        for element in filter(matches, candidates):
            if any(map(_discarded, element.iterdescendants(etree.Element))):
                return extract_author(tree)  # type: ignore[no-any-return]
            content = trim(" ".join(element.itertext()))
            if content and 2 < len(content) < 120:
                return normalize_authors(None, content)  # type: ignore[no-any-return]
    return None


class TrafilaturaMetadata:
    """trafilatura's title, author and site name, each computed when first asked for,
    and without its date search: htmldate is costly, and ingest.metadata needs it
    only for pages that declare no date (it runs it then)."""

    def __init__(self, tree: Any) -> None:
        self._tree = tree

    @functools.cached_property
    def _declared(self) -> Any:
        from trafilatura import metadata as tm

        try:
            return tm.extract_meta_json(self._tree, tm.examine_meta(self._tree))
        except Exception:  # a fallback only: trafilatura's metadata code has bugs
            return tm.Document()

    @functools.cached_property
    def title(self) -> str | None:
        from trafilatura.metadata import extract_title

        return self._declared.title or _safely(extract_title, self._tree)

    @functools.cached_property
    def author(self) -> str | None:
        author = self._declared.author
        return author if author and " " in author else _safely(markup_author, self._tree)

    @functools.cached_property
    def sitename(self) -> str | None:
        from trafilatura.metadata import extract_sitename

        return self._declared.sitename or _safely(extract_sitename, self._tree)


def _safely(fn: Callable[[Any], Any], tree: Any) -> str | None:
    try:
        value = fn(tree)
    except Exception:
        return None
    return value if isinstance(value, str) else None
