"""trafilatura's metadata as the fallback: its author, found from candidates, is its own."""

from __future__ import annotations

import pytest
from trafilatura.metadata import extract_author
from trafilatura.utils import load_html

from conftest import CORPUS
from ingest.extract import decode_html
from ingest.fallback import TrafilaturaMetadata, markup_author


def tree(body: str):  # type: ignore[no-untyped-def]
    return load_html(f"<html><head><title>T</title></head><body>{body}</body></html>")


@pytest.mark.parametrize(
    "body",
    [
        '<p>Text</p><span class="author">Jane Roe</span>',  # specific
        '<div class="post-author-name">Jane Roe</div>',  # specific, part of a class
        '<a rel="author" href="/jr">Jane Roe</a><div class="byline">By John Doe</div>',
        '<h4 id="xiaobian-box">Li Wei</h4>',  # generic
        '<section class="writer">Jane Roe</section>',  # last resort: any element
        '<div data-component="Byline">Jane Roe</div>',
        '<div class="comments"><span class="author">Commenter One</span></div>'
        '<p class="byline">Jane Roe</p>',  # a match inside pruned comments is skipped
        '<div class="author">Jane <time>Jan 1</time> Roe</div>',  # holds a pruned element
        '<span class="author">Jo</span><span class="author">Jane Roe</span>',  # too short
        '<span class="author">' + "x" * 130 + '</span>',  # too long
        "<author>Jane Roe</author>",
        '<div class="Byline-wrap">Jane Roe</div><div class="sidebar-author">A. B.</div>',
        '<p>No byline here.</p>',
    ],
)
def test_the_markup_author_is_trafilaturas(body: str) -> None:
    page = tree(body)
    assert markup_author(page) == extract_author(page)


def test_a_pruned_element_inside_the_match_is_left_to_trafilatura() -> None:
    page = tree('<div class="author">By <span class="date">today</span>Jane Roe</div>')
    assert markup_author(page) == extract_author(page) == "Jane Roe"


def test_the_page_is_left_as_it_was() -> None:
    page = tree('<div class="comments"><span class="author">X Y</span></div>')
    before = len(list(page.iter()))
    TrafilaturaMetadata(page).author  # noqa: B018 (computed for its effect)
    assert len(list(page.iter())) == before


EVAL = CORPUS / "trafilatura_eval"


@pytest.mark.slow
@pytest.mark.skipif(not EVAL.is_dir(), reason="../shared/corpus/trafilatura_eval absent")
def test_the_same_author_as_trafilatura_on_real_pages() -> None:
    """Every page of the corpus: the same answer as trafilatura's extract_author (this
    fails if an upgrade of trafilatura changes its author XPaths)."""
    pages = sorted(EVAL.rglob("*.html"))
    assert len(pages) > 500
    found = 0
    for path in pages:
        page = load_html(decode_html(path.read_bytes())[0])
        if page is None:
            continue
        expected = extract_author(page)
        assert markup_author(page) == expected, path.name
        found += expected is not None
    assert found > 200  # the rules were exercised, not only their absence
