"""The parsed page every rule reads (ingest.metadata.page): trees, JSON-LD, the article."""

from __future__ import annotations

from datetime import datetime

import lxml.html

from ingest.metadata import parse_html

from .pages import SEOUL, jsonld, meta, page, run


def test_a_parsed_tree_is_accepted_and_left_as_it_was() -> None:
    html = page(meta("og:title", "Port reopens"), '<h1><span class="kicker">Ports</span> Port reopens</h1>')
    tree = parse_html(html)
    assert tree is not None
    before = lxml.html.tostring(tree)
    assert run(tree).title == run(html).title == "Port reopens"
    assert lxml.html.tostring(tree) == before


def test_json_ld_in_a_graph_gives_the_timestamp_and_authors() -> None:
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": "Ledger"},
            {"@type": "WebPage", "datePublished": "2020-01-01"},
            {"@type": "NewsArticle", "headline": "Port reopens",
             "datePublished": "2024-07-01T09:30:00+09:00", "dateModified": "2024-07-02T08:00:00+09:00",
             "author": [{"@type": "Person", "name": "Kim Ji-won"},
                        {"@type": "Person", "name": "Lee Min-ho", "url": "https://x.example/lee"}]},
        ],
    }
    out = run(page(jsonld(graph)))
    assert out.published_at == datetime(2024, 7, 1, 9, 30, tzinfo=SEOUL)
    assert out.date_source == "jsonld"
    assert out.modified_at == datetime(2024, 7, 2, 8, 0, tzinfo=SEOUL)
    assert out.author == "Kim Ji-won; Lee Min-ho"
    assert out.site_name == "Ledger"


def test_teasers_of_other_pages_are_not_the_article() -> None:
    """Several ``<article>`` elements without the headline are a list of teasers: the
    date elements of the whole page are read, in page order."""
    teaser = '<article><div class="pubdate">{}. Nov 2021</div><h3>Other</h3></article>'
    body = ('<div class="story"><h1>Headline</h1><div class="pubdate">19.11.2021</div></div>'
            + teaser.format(18) + teaser.format(16))
    assert run(page(body=body)).published_at == datetime(2021, 11, 19, tzinfo=SEOUL)
    # the article with the headline is the article
    body = teaser.format(18) + '<article><h1>Headline</h1><time>19.11.2021</time></article>'
    assert run(page(body=body)).published_at == datetime(2021, 11, 19, tzinfo=SEOUL)
