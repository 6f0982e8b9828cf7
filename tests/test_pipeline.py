"""The pipeline end to end: the demo site over loopback into a real warehouse."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
import yaml

from conftest import CORPUS, LoopbackServer
from ingest.config import parse_config
from ingest.demo.site import sources_yaml
from ingest.pipeline import run_pass

TABLES = ("articles", "article_urls", "rejections", "raw_pages", "run_sources", "run_log")


def table_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    out = {}
    for table in TABLES:
        row = conn.execute(f"SELECT count(*) FROM news.{table}").fetchone()
        out[table] = row[0] if row else 0
    return out


def test_demo_site_into_the_warehouse(demo_site: Any, dsn: str, conn: psycopg.Connection[Any]) -> None:
    config = parse_config(yaml.safe_load(sources_yaml(demo_site.base)))
    result = run_pass(config, dsn, run_id="pass-1")
    assert result.summary["status"] == "success"
    by_source = {c.source: c for c in result.counts}
    assert by_source["korea-daily-post"].reasons == {"http_404": 1}
    assert by_source["trade-ministry"].reasons == {"not_html": 1}

    # Every demo story is one row; the aggregator's copies collapsed into them.
    titles = [r[0] for r in conn.execute("SELECT title FROM news.articles ORDER BY title")]
    assert len(titles) == 8
    assert "Korean and Lithuanian business leaders pledge to pool strengths in lasers and biotech" in titles

    # The Bing-style wrapper, the URL after redirects and the canonical URL all map to one article.
    rows = conn.execute(
        """SELECT u.kind, u.url, a.url, a.source FROM news.article_urls u
           JOIN news.articles a USING (article_id)
           WHERE a.url LIKE '%korea-lithuania-business-dialogue.html'"""
    ).fetchall()
    kinds = {kind for kind, *_ in rows}
    assert {"feed_link", "redirect", "final", "canonical"} <= kinds
    wrappers = [u for k, u, *_ in rows if "/news/apiclick.aspx?" in u]
    assert wrappers, "the aggregator's wrapper link must be recorded"
    canonical = {a for *_, a, _ in rows}
    assert canonical == {f"{demo_site.base}/koreadaily/2026/11/korea-lithuania-business-dialogue.html"}

    # Rejections: contract columns filled, nothing silent.
    rejections = conn.execute(
        "SELECT source, stage, reason, url, run_id FROM news.rejections ORDER BY reason").fetchall()
    assert [(r[1], r[2]) for r in rejections] == [("fetch", "http_404"), ("fetch", "not_html")]
    assert all(r[3] and r[4] == "pass-1" for r in rejections)

    run = conn.execute("SELECT status, sources, articles_new, finished_at FROM news.runs").fetchone()
    assert run is not None and run[0] == "success" and run[1] == 5 and run[2] == 8 and run[3]

    # Metadata made it through.
    row = conn.execute(
        "SELECT author, language, site_name, published_at IS NOT NULL, word_count > 80, "
        "story_id = article_id, raw_sha256 IS NOT NULL FROM news.articles WHERE source = 'seoul-herald' "
        "ORDER BY published_at LIMIT 1").fetchone()
    assert row == ("Shim Woo-jin", "en", "Seoul Business Herald", True, True, True, True)
    text = conn.execute("SELECT string_agg(text, ' ') FROM news.articles").fetchone()
    assert text is not None
    for dirt in ("MOST POPULAR", "LATEST NEWS", "Back To Top", "소아쌤"):
        assert dirt not in text[0]


def test_a_second_pass_adds_nothing(demo_site: Any, dsn: str, conn: psycopg.Connection[Any]) -> None:
    config = parse_config(yaml.safe_load(sources_yaml(demo_site.base)))
    run_pass(config, dsn, run_id="same-run")
    first = table_counts(conn)
    second = run_pass(config, dsn, run_id="same-run")
    assert table_counts(conn) == first
    # nothing stored was downloaded again: only the feeds and the two failing links
    assert sum(c.articles_new for c in second.counts) == 0
    assert second.fetch.requests <= 5 + 2 + 1
    third = run_pass(config, dsn)  # a new run: new run rows, same articles
    after = table_counts(conn)
    assert after["articles"] == first["articles"]
    assert after["article_urls"] == first["article_urls"]
    assert after["run_log"] == first["run_log"] + 1
    assert {c.feed_status for c in third.counts} == {"not_modified"}  # conditional GET


def test_one_bad_source_never_stops_the_others(
    demo_site: Any, server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any]
) -> None:
    not_a_feed = server.static("/home", "<html><body><h1>Welcome</h1></body></html>")
    missing = server.base + "/gone.xml"
    config = parse_config({
        "settings": {"allow_private_hosts": ["127.0.0.1"]},
        "sources": [
            {"name": "not-a-feed", "url": not_a_feed},
            {"name": "missing", "url": missing},
            {"name": "private", "url": f"http://127.0.0.2:{server.base.rsplit(':', 1)[1]}/f.xml"},
            {"name": "herald", "url": demo_site.base + "/herald/atom.xml"},
        ],
    })
    result = run_pass(config, dsn)
    assert result.summary["status"] == "success"
    rows = dict(conn.execute("SELECT source, reason FROM news.rejections WHERE url IS NULL"))
    assert rows == {"not-a-feed": "not_a_feed", "missing": "http_404", "private": "private_address"}
    assert conn.execute("SELECT count(*) FROM news.articles WHERE source = 'herald'").fetchone() == (2,)


@pytest.mark.slow
@pytest.mark.skipif(not (CORPUS / "scrapinghub_aeb").is_dir(), reason="../shared/corpus absent")
def test_real_pages_keep_trafilaturas_quality(dsn: str, conn: psycopg.Connection[Any]) -> None:
    """scrapinghub_aeb served over loopback and ingested; text compared with the truth."""
    from ingest.demo.corpus import CorpusSite, load_corpus
    from ingest.evaluate import aeb_score, token_f1

    pages = load_corpus(CORPUS / "scrapinghub_aeb")
    with CorpusSite(pages, per_feed=25) as site:
        config = parse_config(site.sources_config(min_words=0))
        run_pass(config, dsn)
        stored = dict(conn.execute(
            "SELECT u.url, a.text FROM news.article_urls u JOIN news.articles a USING (article_id) "
            "WHERE u.kind = 'feed_link'"))
        pairs = [(p.truth["text"], stored.get(site.page_url(p))) for p in pages]  # type: ignore[index]
    missing = [p.id for p, (_, got) in zip(pages, pairs, strict=True) if not got]
    mean_f1 = sum(token_f1(t, g) for t, g in pairs) / len(pairs)
    aeb = aeb_score(pairs)
    print(f"\nscrapinghub_aeb: {len(pages)} pages, mean token F1 {mean_f1:.4f}, "
          f"AEB F1 {aeb.f1:.4f} (P {aeb.precision:.4f} R {aeb.recall:.4f}), missing {len(missing)}")
    assert mean_f1 >= 0.94
    assert aeb.f1 >= 0.94


_RELEASES = [
    ("pr-301", "Ministry and Lithuanian agency sign laser industry pact", "2024-07-01",
     "The ministry signed a memorandum with the Lithuanian innovation agency on Monday to "
     "cooperate on laser and photonics research, joint pilot lines and exchanges of engineers "
     "between national laboratories over the next three years."),
    ("pr-302", "Export support desk opens for battery makers in Central Europe", "2024-07-03",
     "A new export support desk will help small battery suppliers find partners in Poland, "
     "Hungary and the Czech Republic, offering market studies, legal advice on local rules and "
     "introductions to carmakers assembling electric vehicles in the region."),
    ("pr-303", "Vice minister meets NATO summit business delegation", "2024-07-05",
     "The vice minister met forty company leaders travelling with the presidential delegation "
     "to the NATO summit and discussed defence industry supply chains, reconstruction projects "
     "and financing from export credit agencies for the coming decade."),
]


def _press_list(releases: list[tuple[str, str, str, str]]) -> str:
    items = "\n".join(
        f'<div class="release" id="{rid}"><h3>{title}</h3><span class="date">{day}</span>'
        f"<p>{text}</p><p>{text.replace('will', 'shall')}</p></div>"
        for rid, title, day, text in releases
    )
    return (f"<html><head><title>Press releases | Ministry</title></head><body>"
            f"<nav>Home · Press · Contact</nav><main><h1>Press releases</h1>{items}</main>"
            f"<footer>Back To Top</footer></body></html>")


def test_a_list_page_splits_into_one_record_per_item(
    server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any]
) -> None:
    """A source with ``split:``: each release of the list page is its own article,
    under its own stable URL, with its own date; a second pass adds nothing."""
    page = server.static("/press/list.html", _press_list(_RELEASES))
    feed = server.static("/press/rss.xml", (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Press</title>'
        f"<item><title>Press releases</title><link>{page}</link></item></channel></rss>"),
        content_type="application/rss+xml")
    config = parse_config({
        "settings": {"allow_private_hosts": ["127.0.0.1"], "min_words": 20},
        "sources": [{"name": "ministry", "url": feed, "timezone": "Asia/Seoul",
                     "split": {"item": "div.release", "title": "h3", "date": "span.date"}}],
    })
    run_pass(config, dsn)
    rows = conn.execute(
        "SELECT url, title, (published_at AT TIME ZONE 'Asia/Seoul')::date, date_source "
        "FROM news.articles ORDER BY url"
    ).fetchall()
    assert [(url, title, str(day), source) for url, title, day, source in rows] == [
        (f"{page}#item-{rid}", title, day, "item") for rid, title, day, _ in _RELEASES]
    kinds = conn.execute("SELECT DISTINCT kind FROM news.article_urls").fetchall()
    assert kinds == [("item",)]
    # a day without a time is midnight in the source's zone
    assert conn.execute("SELECT min(published_at) = '2024-07-01 00:00+09' FROM news.articles"
                        ).fetchone() == (True,)

    # The list gains a release on top: the older ones keep their URLs and rows.
    newest = ("pr-304", "Hydrogen partnership talks resume in Seoul", "2024-07-08",
              _RELEASES[0][3].replace("laser", "hydrogen"))
    server.static("/press/list.html", _press_list([newest, *_RELEASES]))
    run_pass(config, dsn)
    assert conn.execute("SELECT count(*) FROM news.articles").fetchone() == (4,)
    run_pass(config, dsn)
    assert conn.execute("SELECT count(*) FROM news.articles").fetchone() == (4,)


def test_a_page_over_the_extraction_time_is_rejected_and_kept(
    demo_site: Any, dsn: str, conn: psycopg.Connection[Any]
) -> None:
    """A page that keeps its worker too long (here: every page, the limit being tiny)
    is rejected as extract_timeout, its raw page kept, and the run ends."""
    data = yaml.safe_load(sources_yaml(demo_site.base))
    data["settings"]["extract_timeout"] = 0.001
    data["sources"] = [s for s in data["sources"] if s["name"] == "seoul-herald"]
    result = run_pass(parse_config(data), dsn)
    counts = table_counts(conn)
    assert counts["articles"] == 0
    reasons = dict(conn.execute(
        "SELECT reason, count(*) FROM news.rejections WHERE stage = 'extract' GROUP BY reason"))
    assert reasons.get("extract_timeout", 0) >= 1
    assert sum(reasons.values()) == counts["raw_pages"] >= 2
    assert result.summary["status"] in ("success", "failed")
