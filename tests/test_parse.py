"""Feed parsing: RSS and Atom, malformed feeds, non-feeds, entity declarations."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import pytest

from ingest.errors import ParseError
from ingest.parse import defuse, parse_feed

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>T</title>
<item><title>One</title><link>https://ex.org/1?utm_source=rss</link>
<pubDate>Fri, 22 May 2026 02:51:00 GMT</pubDate><author>a@ex.org (Ann)</author></item>
<item><title>No link</title></item>
<item><title>Relative</title><link>/2</link></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
<entry><title>E</title><link rel="alternate" href="https://ex.org/e"/><id>urn:x</id>
<updated>2024-07-01T09:00:00+09:00</updated></entry></feed>"""


def test_rss_entries() -> None:
    feed = parse_feed(RSS, source="s", url="https://ex.org/feed.xml")
    links = [e.link for e in feed.entries]
    assert links == ["https://ex.org/1?utm_source=rss", "https://ex.org/2"]  # relative resolved
    first = feed.entries[0]
    assert first.title == "One"
    assert first.published_at is not None and first.published_at.isoformat() == "2026-05-22T02:51:00+00:00"
    assert any("without a link" in p for p in feed.problems)


def test_atom_entry_date_is_utc() -> None:
    feed = parse_feed(ATOM, source="s", url="https://ex.org/atom")
    assert feed.entries[0].link == "https://ex.org/e"
    assert feed.entries[0].published_at.isoformat() == "2024-07-01T00:00:00+00:00"  # type: ignore[union-attr]


def test_malformed_feed_keeps_its_good_entries() -> None:
    broken = RSS.replace(b"</channel></rss>", b"<item><title>bad & worse</title></item>")
    feed = parse_feed(broken, source="s", url="https://ex.org/f")
    assert [e.title for e in feed.entries][:1] == ["One"]
    assert feed.problems


@pytest.mark.parametrize(
    "body",
    [b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>hello</p></body></html>",
     b"just some text", b'{"json": true}'],
)
def test_a_page_that_is_not_a_feed(body: bytes) -> None:
    with pytest.raises(ParseError) as err:
        parse_feed(body, source="s", url="https://ex.org/", content_type="text/html")
    assert err.value.reason == "not_a_feed"


def test_empty_body() -> None:
    with pytest.raises(ParseError, match="empty"):
        parse_feed(b"  \n", source="s", url="https://ex.org/")


def test_billion_laughs_is_not_expanded() -> None:
    lol = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>&lol9;</title><link>https://ex.org/a</link></item></channel></rss>"""
    started = time.monotonic()
    feed = parse_feed(lol, source="s", url="https://ex.org/f")
    assert time.monotonic() - started < 2
    assert all(len(e.title or "") < 100 for e in feed.entries)
    assert b"<!ENTITY" not in defuse(lol)


def test_quadratic_blowup_entity_is_dropped() -> None:
    big = b"A" * 50_000
    body = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "' + big + b'">]>'
            b'<rss version="2.0"><channel><title>t</title><item><title>'
            + b"&a;" * 1000 + b"</title><link>https://ex.org/a</link></item></channel></rss>")
    feed = parse_feed(body, source="s", url="https://ex.org/f")
    assert all(len(e.title or "") < 10_000 for e in feed.entries)


def test_max_items() -> None:
    items = b"".join(
        b"<item><title>t%d</title><link>https://ex.org/%d</link></item>" % (i, i) for i in range(50)
    )
    body = b'<rss version="2.0"><channel><title>t</title>' + items + b"</channel></rss>"
    assert len(parse_feed(body, source="s", url="https://ex.org/f", max_items=10).entries) == 10


def test_bing_news_rss_shape() -> None:
    body = b"""<?xml version="1.0" encoding="utf-8" ?>
<rss version="2.0" xmlns:News="https://www.bing.com/news/search?format=rss&amp;q=korea">
<channel><title>korea - BingNews</title><link>https://www.bing.com/news/search?q=korea</link>
<item><title>T</title>
<link>http://www.bing.com/news/apiclick.aspx?ref=FexRss&amp;aid=&amp;tid=ab&amp;url=https%3a%2f%2fex.org%2fa&amp;c=1&amp;mkt=en-us</link>
<pubDate>Fri, 22 May 2026 02:51:00 GMT</pubDate><News:Source>Ex on MSN</News:Source></item>
</channel></rss>"""
    feed = parse_feed(body, source="bing", url="https://www.bing.com/news/search?q=korea&format=rss")
    assert feed.entries[0].link.startswith("http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=ab&url=")


# --- hostile feeds (found by tests/test_fuzz.py) --------------------------------------

FUZZ_FEEDS = Path(__file__).parent / "data" / "fuzz_feeds"
HOSTILE = sorted(FUZZ_FEEDS.glob("*.xml"))
CONTENT_TYPES = {"charset_undefined_header.xml": "application/xml; charset=undefined"}


@pytest.mark.parametrize("path", HOSTILE, ids=[p.stem for p in HOSTILE])
def test_a_feed_that_made_feedparser_raise_keeps_its_good_entries(path: Path) -> None:
    feed = parse_feed(path.read_bytes(), source="s", url="https://ex.org/f",
                      content_type=CONTENT_TYPES.get(path.name))
    assert [e.link for e in feed.entries] == ["https://news.example.invalid/harbour",
                                              "https://news.example.invalid/bad"]
    assert feed.entries[0].title == "Harbour reopens"
    assert feed.problems  # the repair is reported: a feed_malformed rejection
    for entry in feed.entries:
        assert "\x00" not in (entry.title or "")
        (entry.title or "").encode("utf-8")  # no lone surrogate


@pytest.mark.parametrize("path", HOSTILE, ids=[p.stem for p in HOSTILE])
def test_feedparser_alone_fails_on_it(path: Path) -> None:
    """Why each file is kept: feedparser 6.0.14 raises on it, or passes a NUL on."""
    import feedparser

    ct = CONTENT_TYPES.get(path.name)
    try:
        parsed = feedparser.parse(path.read_bytes(),
                                  response_headers={"content-type": ct} if ct else {})
    except Exception:
        return
    assert any("\x00" in (e.get("title") or "") for e in parsed.entries), path.name


def test_what_feedparser_still_raises_on_is_a_parse_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import feedparser

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise TypeError("'NoneType' object is not subscriptable")

    monkeypatch.setattr(feedparser, "parse", broken)
    with pytest.raises(ParseError) as err:
        parse_feed(RSS, source="s", url="https://ex.org/f")
    assert err.value.reason == "feed_malformed"
    assert "TypeError" in err.value.detail


def test_character_references_xml_allows_are_kept() -> None:
    body = RSS.replace(b"<title>One</title>", b"<title>&#x1F600; &#233;&#xD800;&#0;&#x9;x</title>")
    feed = parse_feed(body, source="s", url="https://ex.org/f")
    assert feed.entries[0].title == "\U0001f600 \u00e9 x"
    assert any("2 character reference(s)" in p for p in feed.problems)


def test_a_raw_nul_byte_never_reaches_an_entry() -> None:
    body = RSS.replace(b"<title>One</title>", b"<title>O\x00ne</title>")
    assert parse_feed(body, source="s", url="https://ex.org/f").entries[0].title == "One"


def test_a_usable_encoding_declaration_is_left_alone() -> None:
    body = '<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel><title>t</title><item><title>Grüße</title><link>https://ex.org/a</link></item></channel></rss>'
    feed = parse_feed(body.encode("latin-1"), source="s", url="https://ex.org/f",
                      content_type="application/rss+xml")
    assert feed.entries[0].title == "Grüße" and not feed.problems


LOL = (b'<!DOCTYPE rss [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
       + b"".join(b'<!ENTITY lol%d "' % i + b"&lol%d;" % (i - 1) * 10 + b'">' for i in range(2, 10))
       + b"]>")
QUADRATIC = b'<!DOCTYPE rss [<!ENTITY a "' + b"A" * 50_000 + b'">]>'


@pytest.mark.parametrize("prolog", [b"\n" * 100_000, b"<!-- padding -->\n" * 7_000, b" \t\r\n" * 25_000],
                         ids=["newlines", "comments", "whitespace"])
@pytest.mark.parametrize(("doctype", "reference"), [(LOL, b"&lol9;"), (QUADRATIC, b"&a;" * 1000)],
                         ids=["billion_laughs", "quadratic_blowup"])
def test_entities_declared_after_a_long_prolog_are_not_expanded(
    prolog: bytes, doctype: bytes, reference: bytes,
) -> None:
    body = (b'<?xml version="1.0"?>' + prolog + doctype
            + b'<rss version="2.0"><channel><title>t</title><item><title>' + reference
            + b"</title><link>https://ex.org/a</link></item></channel></rss>")
    assert len(prolog) >= 100_000
    started = time.monotonic()
    feed = parse_feed(body, source="s", url="https://ex.org/f")
    assert time.monotonic() - started < 2
    assert [e.link for e in feed.entries] == ["https://ex.org/a"]
    assert all(len(e.title or "") < 10_000 for e in feed.entries)
    assert any("DOCTYPE internal subset removed" in p for p in feed.problems)
    assert b"<!ENTITY" not in defuse(body)


def test_entity_declarations_outside_a_doctype_are_removed() -> None:
    """feedparser re-declares the ENTITYs it finds at the start of a line in the prolog."""
    body = (b'<?xml version="1.0"?>\n<!DOCTYPE rss>\n<!ENTITY a "' + b"A" * 50_000 + b'">\n'
            b'<rss version="2.0"><channel><title>t</title><item><title>' + b"&a;" * 1000
            + b"</title><link>https://ex.org/a</link></item></channel></rss>")
    feed = parse_feed(body, source="s", url="https://ex.org/f")
    assert all(len(e.title or "") < 10_000 for e in feed.entries)
    assert any("entity declaration" in p for p in feed.problems)


@pytest.mark.parametrize("piece", [b"<!DOCTYPE x [\n", b"<!DOCTYPE x\n", b"<!ENTITY a\n", b"<!DOCTYPE "],
                         ids=["subsets", "names", "entities", "bare"])
def test_defuse_is_linear_on_many_unclosed_declarations(piece: bytes) -> None:
    body = b'<?xml version="1.0"?>' + piece * 50_000 + b'<rss version="2.0"><channel></channel></rss>'
    started = time.monotonic()
    defused = defuse(body)
    with contextlib.suppress(ParseError):  # not much of a feed: only the time matters
        parse_feed(body, source="s", url="https://ex.org/f")
    assert time.monotonic() - started < 2
    assert defused.count(b"<!DOCTYPE") <= 1 and b"<!ENTITY" not in defused


def test_a_long_whitespace_prolog_is_fast() -> None:
    """feedparser's DOCTYPE and ENTITY patterns are quadratic over it: 37 s for this."""
    body = b'<?xml version="1.0"?>' + b"\n" * 100_000 + RSS.split(b"?>", 1)[1]
    started = time.monotonic()
    feed = parse_feed(body, source="s", url="https://ex.org/f")
    assert time.monotonic() - started < 2
    assert feed.entries[0].title == "One"


def test_a_long_prolog_after_what_feedparser_takes_for_the_declaration_is_fast() -> None:
    """feedparser's own declaration pattern swallows "<?xml<item>": its prolog then
    runs to <rss>, over 100 KB of newlines (37 s)."""
    body = b'<?xml<item> version="1.0"?>' + b"\n" * 100_000 + RSS.split(b"?>", 1)[1]
    started = time.monotonic()
    with contextlib.suppress(ParseError):
        parse_feed(body, source="s", url="https://ex.org/f")
    assert time.monotonic() - started < 2


def test_a_long_first_line_with_encoding_attributes_is_fast() -> None:
    """feedparser's XML declaration pattern is cubic over the first line: 43 s for 26 KB."""
    body = (b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title><item><title>One</title>"
            b"<link>https://ex.org/1</link><description>" + b"encoding='" * 3_000
            + b"</description></item></channel></rss>")
    started = time.monotonic()
    feed = parse_feed(body, source="s", url="https://ex.org/f")
    assert time.monotonic() - started < 2
    assert feed.entries[0].title == "One"


def test_a_doctype_or_entity_quoted_in_a_comment_or_cdata_leaves_it_closed() -> None:
    body = (b'<?xml version="1.0"?>\n<!-- write "<!DOCTYPE" -->\n<rss version="2.0"><channel><title>t</title>'
            b"<item><title>One</title><link>https://ex.org/1</link>"
            b"<description><![CDATA[about <!DOCTYPE ]]></description></item>"
            b"<item><title>Two</title><link>https://ex.org/2</link>"
            b"<description><![CDATA[about <!ENTITY ]]></description></item></channel></rss>")
    feed = parse_feed(body, source="s", url="https://ex.org/f")
    assert [(e.title, e.summary) for e in feed.entries] == [("One", "about"), ("Two", "about")]
