"""The publication date's rules (ingest.metadata.dates) on small hand-written pages."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from ingest.metadata import page_metadata

from .pages import NOW, SEOUL, URL, jsonld, meta, page, run


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # no zone: the source's zone
        ("2024-07-01 09:30", datetime(2024, 7, 1, 9, 30, tzinfo=SEOUL)),
        # a bare day: midnight in the source's zone
        ("2024-07-01", datetime(2024, 7, 1, tzinfo=SEOUL)),
        # UTC: the same instant, shown in the source's zone
        ("2024-06-30T23:30:00Z", datetime(2024, 7, 1, 8, 30, tzinfo=SEOUL)),
        # the publisher's own offset stays
        ("2024-07-01T09:30:00+0200", datetime(2024, 7, 1, 9, 30, tzinfo=ZoneInfo("Europe/Berlin"))),
        ("01.07.2024 - 09:30", datetime(2024, 7, 1, 9, 30, tzinfo=SEOUL)),
        ("Mon, 01 Jul 2024 00:30:00 GMT", datetime(2024, 7, 1, 9, 30, tzinfo=SEOUL)),
    ],
)
def test_meta_dates_get_a_zone(value: str, expected: datetime) -> None:
    out = run(page(meta("article:published_time", value)))
    assert out.published_at == expected
    assert out.published_at is not None and out.published_at.utcoffset() == expected.utcoffset()
    assert out.date_source == "meta"


def test_a_modified_date_never_replaces_the_published_one() -> None:
    modified = (
        meta("article:modified_time", "2024-07-05T10:00:00+09:00")
        + meta("og:updated_time", "2024-07-06T10:00:00+09:00")
    )
    body = '<time class="updated" datetime="2024-07-05T10:00:00+09:00">5 July</time>'
    out = run(page(modified, body))
    assert out.published_at is None
    assert out.modified_at == datetime(2024, 7, 5, 10, 0, tzinfo=SEOUL)
    out = run(page(modified + meta("pubdate", "2024-07-01", attr="name"), body))
    assert out.published_at == datetime(2024, 7, 1, tzinfo=SEOUL)
    assert out.modified_at == datetime(2024, 7, 5, 10, 0, tzinfo=SEOUL)


@pytest.mark.parametrize("value", ["1970-01-01T00:00:00Z", "2999-01-01", "2024-07-12T00:00:00+09:00", "soon"])
def test_garbage_and_future_dates_are_rejected(value: str) -> None:
    out = run(page(meta("article:published_time", value)), url="https://news.example.com/2024/07/01/a")
    assert out.published_at == datetime(2024, 7, 1, tzinfo=SEOUL)
    assert out.date_source == "url"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://news.example.com/2024/07/01/port-reopens", datetime(2024, 7, 1, tzinfo=SEOUL)),
        ("https://news.example.com/article/20240702/port", datetime(2024, 7, 2, tzinfo=SEOUL)),
        ("https://news.example.com/2024/07/port-reopens", datetime(2024, 7, 1, tzinfo=SEOUL)),
        ("https://news.example.com/story-123456789", None),
    ],
)
def test_a_date_in_the_url(url: str, expected: datetime | None) -> None:
    out = run(page(), url=url)
    assert out.published_at == expected
    assert out.date_source == ("url" if expected else None)


def test_markup_and_shown_dates() -> None:
    assert run(page(body='<time pubdate datetime="2024-07-03T07:00">3 July</time>')).date_source == "time"
    out = run(page(body='<div class="article-date">am 20.06.2024</div>'))
    assert (out.published_at, out.date_source) == (datetime(2024, 6, 20, tzinfo=SEOUL), "text")
    out = run(page(body='<span class="posted-on">June 13, 2024</span>'))
    assert out.published_at == datetime(2024, 6, 13, tzinfo=SEOUL)


def test_a_comma_between_a_shown_dates_month_and_year() -> None:
    """"07 Dezember, 2022": a byline's day and month, a comma, the year."""
    out = run(page(body='<span class="byline__created-date">07 Dezember, 2022</span>'))
    assert (out.published_at, out.date_source) == (datetime(2022, 12, 7, tzinfo=SEOUL), "text")


def test_a_shown_date_with_slashes_only_when_its_order_is_plain() -> None:
    """17/02/2022 and 2/26/2015 can be read one way only; 04/05/2022 is April or May."""
    for shown, expected in (("Familie 17/02/2022", datetime(2022, 2, 17, tzinfo=SEOUL)),
                            ("2/26/2015 7:11 AM PST", datetime(2015, 2, 26, tzinfo=SEOUL))):
        out = run(page(body=f'<div class="date">{shown}</div>'), fallback={"date": "2014-01-01"})
        assert (out.published_at, out.date_source) == (expected, "text")
    out = run(page(body='<div class="date">04/05/2022</div>'), fallback={"date": "2014-01-01"})
    assert out.date_source == "htmldate"


def test_a_generic_meta_date_gives_way_to_the_one_day_the_page_shows() -> None:
    """``<meta name="date">`` is often when the page was generated or last edited."""
    generic = meta("date", "2024-07-05T10:00:00+09:00", attr="name")
    shown = '<article><div class="date">am 01.07.2024</div><p>Text.</p></article>'
    out = run(page(generic, shown))
    assert (out.published_at, out.date_source) == (datetime(2024, 7, 1, tzinfo=SEOUL), "text")
    # confirmed by the page, or alone: taken
    out = run(page(generic, shown.replace("01.07.2024", "05.07.2024")))
    assert out.date_source == "meta"
    assert run(page(generic)).date_source == "meta"
    # several days shown (a list of events): no single shown day outvotes it
    events = shown.replace("</div>", '</div><div class="date">03.07.2024</div>')
    assert run(page(generic, events)).date_source == "meta"
    # a specific publication <meta> is not second-guessed
    published = meta("article:published_time", "2024-07-05T10:00:00+09:00")
    assert run(page(published, shown)).date_source == "meta"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<p>Folge 158. Veröffentlicht am 16.08.2019 von Holger</p>", datetime(2019, 8, 16)),
        ('<div class="info"><span class="label">Datum:</span> <span class="value">18.10.2021</span>'
         "</div>", datetime(2021, 10, 18)),
        ("<p>Mise à jour. Publié le 3 mars 2024</p>", datetime(2024, 3, 3)),
        ("<p>VERÖFFENTLICHT AM 16.08.2019</p>", datetime(2019, 8, 16)),
        # an element's tail is read with it, before its children's texts
        ("<p><b>Kurz <i>Published on June 1, 2024</i></b> Veröffentlicht am 16.08.2019</p>",
         datetime(2019, 8, 16)),
        # after an HTML comment (its tail)
        ("<p>Folge 158. <!-- .entry-meta --> Veröffentlicht am 16.08.2019 von Holger</p>",
         datetime(2019, 8, 16)),
        # not in a script
        ("<script>var s = 'Published on June 1, 2024';</script><p>Datum: 18.10.2021</p>",
         datetime(2021, 10, 18)),
        ("<p>Published on: June 4, 2024<br>Updated June 5, 2024</p>", datetime(2024, 6, 4)),
        # the label beats a date element that shows something else (a recording date)
        ('<time>24. August 2019</time><p>Veröffentlicht am 16.08.2019</p>', datetime(2019, 8, 16)),
        # a comment's label, an update label and a label without a date say nothing
        ('<div class="comments"><p>Veröffentlicht am 01.01.2024</p></div>'
         "<p>Stand: 02.01.2024</p><p>Erstellt von Jane Roe</p>", None),
    ],
)
def test_a_labelled_date_in_the_text(body: str, expected: datetime | None) -> None:
    out = run(page(body=body))
    assert out.published_at == (expected and expected.replace(tzinfo=SEOUL))
    assert out.date_source == ("text" if expected else None)


def test_label_words_are_looked_for_in_every_case() -> None:
    """The page's text is searched for the label words lower-cased as bytes: only ASCII
    letters change, so a word's letters beyond ASCII are looked for in either case.
    No other character lower-cases to one of its letters (but "İ", to two)."""
    from ingest.metadata import _LABEL_BYTES, _LABEL_WORDS

    letters = set("".join(_LABEL_WORDS))
    for char in map(chr, range(0x110000)):
        lowered = char.lower()
        if lowered in letters and char != lowered:
            assert char.isascii() or any(char.encode() in word for word in _LABEL_BYTES)
        assert len(lowered) == 1 or letters.isdisjoint(lowered[1:]), char


def test_a_bare_day_gives_way_to_a_timestamp_of_the_day_next_to_it() -> None:
    """``datePublished`` ``2019-10-18`` in microdata, ``2019-10-19T03:00Z`` in JSON-LD:
    the timestamp, in the page's zone, is the day the page shows."""
    head = (meta("datePublished", "2019-10-18", attr="itemprop")
            + jsonld({"@type": "NewsArticle", "datePublished": "2019-10-19T03:00:00.000Z"}))
    out = run(page(head), zone=ZoneInfo("Europe/Zurich"))
    assert out.published_at == datetime(2019, 10, 19, 5, 0, tzinfo=ZoneInfo("Europe/Zurich"))
    assert out.date_source == "jsonld"
    # days further apart are different events: the declared day stays
    head = head.replace("2019-10-19T03", "2019-10-21T03")
    out = run(page(head), zone=ZoneInfo("Europe/Zurich"))
    assert (out.published_at.day if out.published_at else None, out.date_source) == (18, "meta")


def test_a_bare_day_gives_way_to_the_day_next_to_it_that_the_article_shows() -> None:
    """A declared ``2020-04-30`` (a UTC day, the server's) above an article that shows
    29.04.2020: the page's own day is the one it shows."""
    head = meta("article:published_time", "2020-04-30")
    article = '<main><h1>Headline</h1><ul><li class="Date"><time>29.04.2020, 12:01 Uhr</time></li></ul></main>'
    out = run(page(head, article))
    assert (out.published_at, out.date_source) == (datetime(2020, 4, 29, 12, 1, tzinfo=SEOUL), "text")
    # days further apart are other events (a teaser, an update): the declared day stays
    out = run(page(head, article.replace("29.04.2020", "26.04.2020")))
    assert (out.published_at, out.date_source) == (datetime(2020, 4, 30, tzinfo=SEOUL), "meta")
    # a date outside the article (the page's header) is not the article's
    header = '<header><span class="date">29.04.2020</span></header><main><h1>Headline</h1></main>'
    assert run(page(head, header)).date_source == "meta"
    # a full timestamp is an instant: not second-guessed
    out = run(page(meta("article:published_time", "2020-04-30T10:00:00+09:00"), article))
    assert out.date_source == "meta"


def test_a_timestamp_the_page_shows_in_utc_keeps_utcs_day() -> None:
    """``02:00Z`` is the evening before in Bogotá, but the page shows "6 May 2022 -
    2:00 a. m.": the site shows UTC, and the page's day is the one it shows."""
    bogota = ZoneInfo("America/Bogota")
    head = meta("article:published_time", "2022-05-06T02:00:00Z")
    shown = '<div class="ArticleHeader-Date">6 May 2022 - 2:00 a. m.</div>'
    out = run(page(head, shown), zone=bogota)
    assert out.published_at is not None and out.published_at.isoformat() == "2022-05-06T02:00:00+00:00"
    # the UTC day without UTC's clock (today's date in the page's header): the zone's day
    out = run(page(head, '<div class="date">6 May 2022</div>'), zone=bogota)
    assert out.published_at is not None and out.published_at.date().isoformat() == "2022-05-05"
    # a <time> of the instant that reads UTC's day
    zurich = ZoneInfo("Europe/Zurich")
    body = ('<span class="posted-on"><time class="entry-date published" itemprop="datePublished"'
            ' datetime="2019-12-26T23:07:45+00:00">26/12/2019</time></span>')
    out = run(page(body=body), zone=zurich)
    assert out.published_at is not None and out.published_at.date().isoformat() == "2019-12-26"
    assert out.date_source == "time"
    out = run(page(body=body.replace("26/12/2019", "27/12/2019")), zone=zurich)
    assert out.published_at is not None and out.published_at.date().isoformat() == "2019-12-27"


def test_a_date_in_the_pages_chrome_does_not_outvote_a_generic_meta_date() -> None:
    """Today's date beside the logo, and an article that shows none: ``<meta
    name="date">`` stands."""
    generic = meta("date", "2017-05-01T17:05:00+09:00", attr="name")
    body = ('<div class="head"><span class="site-date">Mittwoch, 26.02.2020</span></div>'
            "<article><h1>Headline</h1><p>Text.</p></article>")
    out = run(page(generic, body))
    assert (out.published_at, out.date_source) == (datetime(2017, 5, 1, 17, 5, tzinfo=SEOUL), "meta")


def test_a_clock_the_page_shows_is_not_its_date() -> None:
    """phpBB's "Aktuelle Zeit" / "It is currently": when the page was served."""
    for clock in ("Aktuelle Zeit: 14.10.2020, 12:18", "It is currently Wed Oct 14, 2020 12:18 pm"):
        body = f'<p class="right responsive-center time">{clock}</p>'
        out = run(page(body=body), fallback={"date": "2009-01-21"})
        assert (out.published_at, out.date_source) == (datetime(2009, 1, 21, tzinfo=SEOUL), "htmldate")


def test_the_date_in_the_line_under_the_headline() -> None:
    """A short line just after the ``<h1>``, in no date element: its date and byline."""
    body = ('<h1>Aus dem Ghetto nach Augusta</h1><div class="spacer"><p class="tw-text-14">'
            "<br> 1. Februar 2022 , Daniel Dillenburg</p></div><p>Lange Zeit ...</p>")
    out = run(page(body=body), fallback={"date": "2022-01-21"})
    assert (out.published_at, out.date_source) == (datetime(2022, 2, 1, tzinfo=SEOUL), "text")
    # a picture's caption is not the line under the headline
    body = ("<h1>Trade</h1><figure><img src='a.jpg'><figcaption>A ship leaves port on Aug. 31,"
            " 2019.</figcaption></figure><p>Long text ...</p>")
    out = run(page(body=body), fallback={"date": "2019-11-18"})
    assert out.date_source == "htmldate"


@pytest.mark.parametrize(
    "paragraph",
    [
        "29.11.2022 – Mehrfach und vehement hatte die Branche gewarnt.",
        "Berlin, 29.11.2022 - Mehrfach und vehement hatte die Branche gewarnt.",
        "<strong>November 29, 2022</strong> — The industry had warned.",
        # the date and the kind of item, apart by a bar
        "2022-11-29 | Pressemitteilung<br>Mehrfach und vehement hatte die Branche gewarnt.",
    ],
)
def test_a_dateline(paragraph: str) -> None:
    """A paragraph that starts with the date and a dash or bar, where nothing else dates
    the page."""
    body = f"<h1>Headline</h1><p>Intro.</p><p>{paragraph}</p>"
    out = run(page(body=body), fallback={"date": "2022-12-02"})
    assert (out.published_at, out.date_source) == (datetime(2022, 11, 29, tzinfo=SEOUL), "text")
    # a date inside a sentence is not a dateline
    out = run(page(body="<p>Am 29.11.2022 – so die Branche – kam es anders.</p>"),
              fallback={"date": "2022-12-02"})
    assert out.date_source == "htmldate"


def test_the_feed_date_comes_after_the_page_and_before_guesses() -> None:
    """The page's own date, declared or shown, beats the feed's (issue 16: an
    aggregator's crawl time or an Atom <updated> once overrode a date the page shows);
    the feed's beats what is only a guess."""
    naive = datetime(2024, 7, 2, 18, 0)
    out = run(page(body='<div class="date">1 July 2024</div>'), feed_published_at=naive)
    assert (out.published_at, out.date_source) == (datetime(2024, 7, 1, tzinfo=SEOUL), "text")
    out = run(page(), "https://ex.example/2024/06/30/story", feed_published_at=naive)
    assert (out.published_at, out.date_source) == (datetime(2024, 7, 2, 18, 0, tzinfo=SEOUL), "feed")
    out = run(page(meta("article:published_time", "2024-07-01T09:00:00+09:00")), feed_published_at=naive)
    assert out.date_source == "meta"
    utc = datetime(2024, 7, 2, 9, 0, tzinfo=UTC)
    out = run(page(), feed_published_at=utc)
    assert out.published_at == utc and out.published_at.tzinfo == SEOUL


def test_trafilaturas_date_is_the_htmldate_step() -> None:
    out = run(page(), fallback={"date": "2024-06-30", "title": "T", "author": "Jane Roe", "sitename": "S"})
    assert (out.published_at, out.date_source) == (datetime(2024, 6, 30, tzinfo=SEOUL), "htmldate")
    assert (out.title, out.author, out.site_name) == ("T", "Jane Roe", "S")


def test_htmldate_runs_without_trafilaturas_metadata() -> None:
    html = page(body="<p>The desk filed this on 2024-06-28.</p>" * 3)
    out = page_metadata(html, URL, zone=SEOUL, now=NOW)
    assert (out.published_at, out.date_source) == (datetime(2024, 6, 28, tzinfo=SEOUL), "htmldate")


def test_htmldate_runs_when_the_fallback_has_no_date_and_never_gives_a_modified_day() -> None:
    """Without trafilatura's date, htmldate runs here; a day it takes from an
    ``og:updated_time`` is a modification, not the publication."""
    shown = page(body="<p>Posted on June 13, 2024 by the desk.</p>")
    out = page_metadata(shown, URL, zone=SEOUL, now=NOW, fallback={})
    assert (out.published_at, out.date_source) == (datetime(2024, 6, 13, tzinfo=SEOUL), "text")
    updated = page(meta("og:updated_time", "2024-07-06T10:00:00+09:00"))
    out = page_metadata(updated, URL, zone=SEOUL, now=NOW, fallback={})
    assert (out.published_at, out.date_source) == (None, None)  # not the modified day
    assert out.modified_at == datetime(2024, 7, 6, 10, 0, tzinfo=SEOUL)
