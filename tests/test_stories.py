"""Stories (near-duplicates), versions, search and the consumer views, on a real warehouse."""

from __future__ import annotations

import multiprocessing
import re
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
import yaml

from conftest import SEEDS, LoopbackServer
from ingest.config import parse_config
from ingest.dedup import band_keys, containment, content_hash, word_count
from ingest.demo.site import sources_yaml
from ingest.load import load_batch
from ingest.models import Article
from ingest.pipeline import run_pass


def demo_pass(site: Any, dsn: str, **kwargs: Any) -> Any:
    return run_pass(parse_config(yaml.safe_load(sources_yaml(site.base))), dsn, **kwargs)


def test_the_repost_joins_the_original_story(demo_site: Any, dsn: str,
                                             conn: psycopg.Connection[Any]) -> None:
    demo_pass(demo_site, dsn)
    rows = conn.execute(
        "SELECT source, story_id, article_id FROM news.articles "
        "WHERE url LIKE '%%central-asia-roundtable%%' OR url LIKE '%%korea-central-asia%%'"
    ).fetchall()
    assert {r[0] for r in rows} == {"korea-daily-post", "central-asia-review"}
    assert len({r[1] for r in rows}) == 1, rows
    original = next(r for r in rows if r[0] == "korea-daily-post")
    assert original[1] == original[2]  # the story is the original's
    story = conn.execute(
        "SELECT representative_source, copies, sources FROM news.stories WHERE story_id = %s",
        (original[1],)).fetchone()
    assert story == ("korea-daily-post", 2, ["central-asia-review", "korea-daily-post"])
    # every other story has one document: no false merge among different stories
    assert conn.execute("SELECT count(*) FROM news.stories WHERE copies > 1").fetchone() == (1,)
    assert conn.execute("SELECT sum(near_duplicates) FROM news.runs").fetchone() == (1,)


def strip_seed_dirt(text: str) -> str:
    """The seeds as their publisher would have them: without the aggregator's lines."""
    keep = [line for line in text.splitlines()
            if not re.match(r"^(Source link|Author|Publish date|Copyright for|Exit mobile|#)", line)]
    text = "\n".join(keep)
    text = re.sub(r"^\s*date \d{4}-\d{2}-\d{2}\s*", "", text)
    return text.replace("(based on postings by The Korea Times)", "")


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds absent")
@pytest.mark.parametrize("seed", ["000", "004"])
def test_seed_reposts_are_near_duplicates_of_their_originals(
    seed: str, conn: psycopg.Connection[Any]
) -> None:
    repost = next(SEEDS.glob(f"{seed}_*.txt")).read_text(encoding="utf-8")
    original = strip_seed_dirt(repost)
    # the original site's edition: its own first paragraph dropped, a word changed
    paragraphs = [p for p in original.split("\n\n") if p.strip()]
    original = "\n\n".join(paragraphs[1:]).replace("said", "stated", 1)
    assert content_hash(original) != content_hash(repost)
    assert containment(original, repost) >= 0.5

    def art(n: int, text: str, source: str) -> Article:
        return Article(source=source, url=f"https://{source}.example/{n}", urls=[],
                       title=f"T{n}", author=None, published_at=None, language="en",
                       site_name=None, text=text, word_count=word_count(text),
                       content_hash=content_hash(text), bands=band_keys(text),
                       fetched_at=datetime.now(UTC))

    load_batch(conn, "r1", [art(1, original, "publisher")])
    load_batch(conn, "r2", [art(2, repost, "aggregator")])
    stories = conn.execute("SELECT DISTINCT story_id FROM news.articles").fetchall()
    assert len(stories) == 1


def test_different_stories_stay_apart(conn: psycopg.Connection[Any]) -> None:
    """Seeds about the same topic (Korea's economic cooperation) are different stories."""
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds absent")
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("0*.txt"))]
    batch = [Article(source="s", url=f"https://s.example/{n}", urls=[], title=f"T{n}",
                     author=None, published_at=None, language="en", site_name=None, text=t,
                     word_count=word_count(t), content_hash=content_hash(t),
                     bands=band_keys(t), fetched_at=datetime.now(UTC))
             for n, t in enumerate(texts)]
    load_batch(conn, "r1", batch)
    assert conn.execute("SELECT count(DISTINCT story_id) FROM news.articles").fetchone() == (5,)


def test_a_changed_page_becomes_a_new_version(server: LoopbackServer, dsn: str,
                                              conn: psycopg.Connection[Any]) -> None:
    body = ("<html><head><title>Budget talks</title></head><body><article><h1>Budget talks</h1>"
            + "".join(f"<p>Paragraph {n} about the budget talks between the parties in the "
                      "assembly, which went on late into the night.</p>" for n in range(8))
            + "</article></body></html>")
    url = server.static("/story", body)
    feed = server.static("/feed.xml", f"<rss version='2.0'><channel><title>t</title><item>"
                         f"<title>b</title><link>{url}</link></item></channel></rss>",
                         content_type="application/rss+xml")
    config = parse_config({"settings": {"allow_private_hosts": ["127.0.0.1"], "min_words": 20},
                           "sources": [{"name": "s", "url": feed}]})
    run_pass(config, dsn)
    run_pass(config, dsn, full_refresh=True)  # unchanged: only last_seen_at moves
    assert conn.execute("SELECT version FROM news.articles").fetchone() == (1,)
    server.static("/story", body.replace("late into the night", "until dawn, and agreed"))
    result = run_pass(config, dsn, full_refresh=True)
    assert result.summary["articles_changed"] == 1
    row = conn.execute("SELECT version, text LIKE '%%until dawn%%', updated_at IS NOT NULL "
                       "FROM news.articles").fetchone()
    assert row == (2, True, True)
    old = conn.execute("SELECT version, text LIKE '%%late into the night%%', changes->>'text' "
                       "FROM news.article_versions").fetchone()
    assert old == (1, True, "true")
    assert conn.execute("SELECT count(*) FROM news.articles").fetchone() == (1,)
    # search follows the new version
    hits = conn.execute("SELECT count(*) FROM news.search('dawn')").fetchone()
    assert hits == (1,)


def _concurrent_pass(base: str, dsn: str, barrier: Any) -> None:
    from ingest.demo.site import sources_yaml as make

    config = parse_config(yaml.safe_load(make(base)))
    barrier.wait()
    run_pass(config, dsn)


def test_two_overlapping_passes_never_duplicate(demo_site: Any, dsn: str,
                                                conn: psycopg.Connection[Any]) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_concurrent_pass, args=(demo_site.base, dsn, barrier))
             for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(180)
        assert p.exitcode == 0
    assert conn.execute("SELECT count(*) FROM news.articles").fetchone() == (8,)
    dupes = conn.execute("SELECT count(*) FROM (SELECT content_hash FROM news.articles "
                         "GROUP BY 1 HAVING count(*) > 1) d").fetchone()
    assert dupes == (0,)
    assert conn.execute("SELECT count(*) FROM news.runs").fetchone() == (2,)


def test_the_near_duplicate_index_is_rebuilt_after_a_crash(
    demo_site: Any, dsn: str, conn: psycopg.Connection[Any]
) -> None:
    """news.minhash_bands is unlogged: PostgreSQL empties it after a crash. The next run
    rebuilds it from the stored texts, and re-posts still find their stories."""
    from datetime import timedelta

    from ingest.stories import ensure_story_index

    demo_pass(demo_site, dsn)
    before = conn.execute("SELECT count(*) FROM news.minhash_bands").fetchone()
    conn.execute("TRUNCATE news.minhash_bands")  # what crash recovery does to it
    assert ensure_story_index(conn, timedelta(days=30)) == 8
    assert conn.execute("SELECT count(*) FROM news.minhash_bands").fetchone() == before
    assert ensure_story_index(conn, timedelta(days=30)) == 0


def test_a_verbatim_repost_on_another_site_is_its_own_document_in_the_story(
    server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any]
) -> None:
    """Two sites (127.0.0.1 and localhost, the same loopback server under two names):
    the wire's verbatim copy is its own article, in the original's story."""
    body = ("<html><head><title>Ferry timetable</title></head><body><article><h1>Ferry "
            "timetable</h1>" + "".join(
                f"<p>Paragraph {n}: the harbour council approved the new ferry timetable, "
                "which adds two evening crossings from the spring.</p>" for n in range(8))
            + "</article></body></html>")
    original = server.static("/news/ferry", body)
    server.static("/wire/ferry-copy", body)
    copy = original.replace("127.0.0.1", "localhost").replace("/news/ferry", "/wire/ferry-copy")

    def feed(path: str, link: str) -> str:
        return server.static(path, f"<rss version='2.0'><channel><title>t</title><item>"
                             f"<title>Ferry</title><link>{link}</link></item></channel></rss>",
                             content_type="application/rss+xml")

    config = parse_config({
        "settings": {"allow_private_hosts": ["127.0.0.1", "localhost"], "min_words": 20},
        "sources": [{"name": "harbour-news", "url": feed("/news.xml", original)},
                    {"name": "wire", "url": feed("/wire.xml", copy)}]})
    run_pass(config, dsn)
    rows = conn.execute("SELECT source, url, site FROM news.articles ORDER BY source").fetchall()
    assert rows == [("harbour-news", original, "127.0.0.1"), ("wire", copy, "localhost")]
    story = conn.execute("SELECT copies, sources FROM news.stories").fetchall()
    assert story == [(2, ["harbour-news", "wire"])]
    owners = dict(conn.execute(
        "SELECT u.url, a.source FROM news.article_urls u JOIN news.articles a USING (article_id) "
        "WHERE u.kind = 'canonical'").fetchall())
    assert owners == {original: "harbour-news", copy: "wire"}
    again = run_pass(config, dsn)  # nothing new, nothing moved
    assert again.summary["articles_new"] == 0
    assert conn.execute("SELECT count(*) FROM news.articles").fetchone() == (2,)
