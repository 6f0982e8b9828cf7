"""The author's rules (ingest.metadata.authors) on small hand-written pages."""

from __future__ import annotations

import pytest

from ingest.metadata import clean_author

from .pages import jsonld, meta, page, run


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("By Jane Doe", "Jane Doe"),
        ("Von Max Mustermann | 01.07.2024", "Max Mustermann"),
        ("Autorin: Erika Musterfrau, 1. Juli 2024", "Erika Musterfrau"),
        ("Posted by Jane Doe on July 1, 2024", "Jane Doe"),
        ("Jane Doe @janedoe", "Jane Doe"),
        ("Jane Doe Edited by John Roe", "Jane Doe"),
        ("vom Support Team", "Support Team"),
        ("Eingestellt von der Michel", "der Michel"),
        ("Interview: Julia Lauter", "Julia Lauter"),
        ("Auteur : Anna Kubišta", "Anna Kubišta"),
        ("Beitrag von r23 »", "r23"),
        ("jesusfreak jesusfreak", "jesusfreak"),  # a picture's alt, then the name
        ("Grant Tinsley, PhD", "Grant Tinsley"),
        ("Johanna Kropfitsch Alle Artikel", "Johanna Kropfitsch"),
        ("Logan C. Ritchie Staff Writer", "Logan C. Ritchie"),
        ("Staff Writer", "Staff Writer"),  # a role alone stays what it is
        ("Rasender Reporter", "Rasender Reporter"),
        ("@NatGeoUK", None),
        ("facebook.com/jane.doe", None),
        ("red, wien.ORF.at/ Agenturen", "red, wien.ORF.at/ Agenturen"),
        ("Datum", None),
        ("Archiv anzeigen →", None),
        ("https://www.facebook.com/janedoe", None),
        ("jane@example.com", None),
        ("Follow", None),
        ("Photograph by John Roe", None),
        ("This is a whole sentence about the author and the story today", None),
        ("", None),
        (None, None),
    ],
)
def test_clean_author(raw: str | None, expected: str | None) -> None:
    assert clean_author(raw) == expected


def test_a_person_wins_over_the_publisher() -> None:
    html = page(
        jsonld({"@type": "NewsArticle", "author": {"@type": "Organization", "name": "Ledger"}})
        + meta("author", "Ledger", attr="name"),
        '<a rel="author" href="/authors/jane">Jane Doe</a>',
    )
    assert run(html).author == "Jane Doe"
    assert run(page(meta("author", "Ledger", attr="name"))).author == "Ledger"


def test_an_author_url_is_not_a_name() -> None:
    html = page(meta("article:author", "https://www.facebook.com/ledger") + meta("author", "Jane Doe", "name"))
    assert run(html).author == "Jane Doe"


def test_several_authors_are_joined() -> None:
    html = page(meta("author", "Jane Doe", "name") + meta("author", "John Roe", "name"))
    assert run(html).author == "Jane Doe; John Roe"


def test_bylines_in_the_page() -> None:
    body = '<div class="byline">By <a href="/people/jane">Jane Doe</a> | July 1, 2024</div>'
    assert run(page(body=body)).author == "Jane Doe"
    body = '<p class="meta">Ein Artikel von <strong>Erika Musterfrau</strong></p>'
    assert run(page(body=body)).author == "Erika Musterfrau"
    body = '<span class="author">Jane Doe Staff Writer</span><span class="author">Jane Doe</span>'
    assert run(page(body=body)).author == "Jane Doe"


def test_a_byline_of_several_people_names_them_all() -> None:
    body = ('<div class="content__author">von <a href="/p/lf">Lars Fischer</a> und '
            '<a href="/p/as">Alina Schadwinkel</a></div>')
    assert run(page(body=body)).author == "Lars Fischer; Alina Schadwinkel"
    # links to author pages side by side in one byline
    body = ('<span class="meta"><a href="/autoren/jd">Jane Doe</a>, <a href="/autoren/jr">John '
            'Roe</a> &amp; <a href="/autoren/mm">Max Muster</a></span>')
    assert run(page(body=body)).author == "Jane Doe; John Roe; Max Muster"
    # but not a role beside the name, nor a label
    body = ('<div class="byline"><a rel="author" href="/a/jd">Jane Doe</a>, <a rel="author" '
            'href="/about">Ledger Contributor</a></div>')
    assert run(page(body=body)).author == "Jane Doe"
    html = page(meta("author", "Jane Doe", "name"),
                '<p class="author">Jane Doe, Online-Redaktion Veröffentlicht</p>')
    assert run(html).author == "Jane Doe"


def test_the_feed_author_when_the_page_names_nobody() -> None:
    assert run(page(), feed_author="By Jane Doe").author == "Jane Doe"
