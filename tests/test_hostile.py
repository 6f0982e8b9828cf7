"""Hostile feeds in a real pass: each feed that made feedparser raise (tests/data/
fuzz_feeds) or hang is its own source beside a good one. The good source's articles
load, each hostile source ends in rejections (never a crash), the run succeeds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from conftest import LoopbackServer
from ingest.config import parse_config
from ingest.pipeline import run_pass

FUZZ_FEEDS = Path(__file__).parent / "data" / "fuzz_feeds"
CONTENT_TYPES = {"charset_undefined_header.xml": "application/xml; charset=undefined"}
TOPICS = [
    ("harbour", "The harbour authority reopened the northern quay after three weeks of crane "
                "repairs, and the first container ship berthed before dawn on Monday."),
    ("library", "The city library extended its opening hours into the evening, citing students "
                "who asked for quiet rooms during the examination season in spring."),
    ("orchard", "Apple growers in the valley expect a smaller harvest this autumn because a late "
                "frost damaged blossoms across most of the terraced orchards."),
]


def article_page(slug: str, lead: str) -> str:
    """A synthetic article of about 200 words, its text its own."""
    sentences = [
        f"{lead}",
        f"Officials said the {slug} project had been planned for two years and cost less than "
        "the council first estimated, which left money for smaller works nearby.",
        "Residents who spoke to reporters welcomed the change, although several asked why the "
        "announcement came so late in the week and without a public meeting.",
        f"A spokesperson promised regular updates on the {slug} work and a report to the "
        "council before the end of the year, including the final accounts.",
        "Local businesses expect more visitors once the work is finished, and two cafes have "
        "already announced longer hours for the coming months.",
        f"The next phase of the {slug} plan will be presented in January, when engineers hope "
        "to publish drawings, a timetable and an estimate of the remaining costs.",
    ]
    body = "".join(f"<p>{s} {s.split(',')[0]}.</p>" for s in sentences)
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{slug.title()} "
            f"news</title></head><body><article><h1>{slug.title()} news</h1>{body}</article>"
            "</body></html>")


def good_feed(base: str) -> str:
    items = "".join(
        f"<item><title>{slug.title()} news</title><link>{base}/articles/{slug}.html</link>"
        f"<pubDate>Mon, 23 Nov 2026 08:00:00 GMT</pubDate></item>"
        for slug, _ in TOPICS[:2]
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Good</title>{items}</channel></rss>'


def slow_feeds() -> dict[str, bytes]:
    """Feeds that made parsing slow (minutes) or would have expanded entities."""
    item = (b"<item><title>Harbour reopens</title><link>https://news.example.invalid/harbour</link>"
            b"</item>")
    rss = b'<rss version="2.0"><channel><title>t</title>' + item + b"</channel></rss>"
    lol = (b'<!DOCTYPE rss [<!ENTITY lol "lol">'
           + b"".join(b'<!ENTITY lol%d "' % i + (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10
                      + b'">' for i in range(1, 10)) + b"]>")
    return {
        "billion-laughs-after-prolog": b'<?xml version="1.0"?>' + b"\n" * 100_000 + lol
        + rss.replace(b"<title>t</title>", b"<title>&lol9;</title>"),
        "whitespace-prolog": b'<?xml version="1.0"?>' + b"\n" * 100_000 + rss,
        "encoding-first-line": b"<?xml version='1.0'?>" + rss.replace(
            b"</channel>", b"<description>" + b"encoding='" * 3_000 + b"</description></channel>"),
    }


def test_hostile_feeds_beside_a_good_one(
    server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any],
) -> None:
    for slug, lead in TOPICS:
        server.static(f"/articles/{slug}.html", article_page(slug, lead))
    sources = [{"name": "good", "url": server.static("/feeds/good.xml", good_feed(server.base),
                                                     "application/rss+xml")}]
    hostile: dict[str, bytes] = {p.stem.replace("_", "-"): p.read_bytes()
                                 for p in sorted(FUZZ_FEEDS.glob("*.xml"))}
    # Its NUL-titled entry leads to a real page: the title must reach the warehouse clean.
    hostile["nul-char-ref"] = hostile["nul-char-ref"].replace(
        b"https://news.example.invalid/bad", f"{server.base}/articles/orchard.html".encode())
    hostile.update(slow_feeds())
    for name, body in hostile.items():
        file = name.replace("-", "_") + ".xml"
        url = server.static(f"/feeds/{name}.xml", body,
                            CONTENT_TYPES.get(file, "application/rss+xml"))
        sources.append({"name": name, "url": url})
    config = parse_config({
        "settings": {"allow_private_hosts": ["127.0.0.1"], "only_hosts": ["127.0.0.1"],
                     "per_host_delay": 0, "obey_robots": False},
        "sources": sources,
    })

    result = run_pass(config, dsn, run_id="hostile")

    assert result.summary["status"] == "success"
    loaded = conn.execute("SELECT source, title, feed_title FROM news.articles ORDER BY 2").fetchall()
    assert [(s, t) for s, t, _ in loaded if s == "good"] == [
        ("good", "Harbour news"), ("good", "Library news")]
    assert [(s, f) for s, t, f in loaded if s == "nul-char-ref"] == [("nul-char-ref", "Bad title")]
    rejected: dict[str, set[tuple[str, str]]] = {}
    for source, stage, reason in conn.execute(
            "SELECT source, stage, reason FROM news.rejections"):
        rejected.setdefault(source, set()).add((stage, reason))
    assert "good" not in rejected
    for name in hostile:
        assert rejected.get(name), f"{name}: no rejection"
        if name not in ("whitespace-prolog", "encoding-first-line"):  # nothing wrong with them
            assert ("parse", "feed_malformed") in rejected[name], (name, rejected[name])
    statuses = {c.source: c.feed_status for c in result.counts}
    assert all(statuses[name] == "ok" for name in hostile), statuses
