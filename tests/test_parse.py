"""Feed parsing: RSS and Atom, malformed feeds, non-feeds, entity declarations."""

from __future__ import annotations

import time

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
