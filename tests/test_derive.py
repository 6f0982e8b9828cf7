"""Derived data through the durable queue: a kill between the load's commit and the
stories or the search entries is repaired by the next drain, exactly."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from ingest import derive, load
from ingest.dedup import band_keys, content_hash, word_count
from ingest.models import Article

WINDOW = timedelta(days=30)
WORDS = ["market", "budget", "minister", "talks", "port", "river", "council", "harvest", "election", "court", "rail", "energy", "summit", "treaty", "export", "school", "hospital", "storm", "bridge", "festival", "museum"]


def stories(n: int, copies: int = 2, seed: int = 7) -> list[Article]:
    """``n`` different stories of 150 words, each re-posted ``copies - 1`` times with
    one sentence changed (near-duplicates: one story each)."""
    rng = random.Random(seed)
    out = []
    for s in range(n):
        base = [" ".join(rng.choice(WORDS) for _ in range(15)) + "." for _ in range(10)]
        for c in range(copies):
            sentences = list(base)
            if c:
                sentences[rng.randrange(10)] = f"Reposted by site {c} with its own words here."
            text = " ".join(sentences)
            url = f"https://site{c}.example/{s}"
            out.append(Article(
                source=f"site{c}", url=url, urls=[(url, "canonical")], title=f"Story {s}",
                author=None, published_at=datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=c),
                language="en", site_name=None, text=text, word_count=word_count(text),
                content_hash=content_hash(text), bands=band_keys(text),
                fetched_at=datetime.now(UTC),
            ))
    return out


def derived(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """What consumers see, by URL (article ids differ between two warehouses)."""
    groups = conn.execute(
        "SELECT array_agg(url ORDER BY url) FROM news.articles GROUP BY story_id").fetchall()
    bands = conn.execute(
        "SELECT a.url, m.band_hash FROM news.minhash_bands m JOIN news.articles a "
        "USING (article_id)").fetchall()
    search = conn.execute(
        "SELECT a.url, s.version FROM news.article_search s JOIN news.articles a "
        "USING (article_id)").fetchall()
    return {"stories": sorted(tuple(g[0]) for g in groups), "bands": sorted(bands),
            "search": sorted(search), "queued": derive.pending(conn)}


def wipe(conn: psycopg.Connection[Any]) -> None:
    conn.execute("TRUNCATE news.articles, news.minhash_bands, news.derive_queue, "
                 "news.article_search, news.article_urls CASCADE")
    conn.execute("INSERT INTO news.minhash_bands VALUES (0, 0, '-infinity')")  # complete


def test_a_kill_after_the_commit_or_after_the_stories_is_repaired_exactly(
    conn: psycopg.Connection[Any],
) -> None:
    records = stories(12)
    first = [r for r in records if r.source == "site0"]  # the re-posts in another batch
    second = [r for r in records if r.source != "site0"]
    load.load_batch(conn, "r", first)
    load.load_batch(conn, "r", second)
    clean = derived(conn)
    assert clean["queued"] == 0 and len(clean["stories"]) == 12 and len(clean["search"]) == 24

    # killed right after the second batch's commit
    wipe(conn)
    load.load_batch(conn, "r", first)
    load.load_articles(conn, "r", second)
    assert derive.pending(conn) == 12
    assert len(derived(conn)["search"]) == 12
    derive.drain(conn, WINDOW)  # the next pass, or news-ingest db repair
    assert derived(conn) == clean

    # killed after its stories, before its search entries
    wipe(conn)
    load.load_batch(conn, "r", first)
    result = load.load_articles(conn, "r", second)
    derive.link_queued(conn, WINDOW, result.fresh)
    assert derive.pending(conn) == 12
    derive.drain(conn, WINDOW)  # links nothing twice (no duplicate band keys)
    assert derived(conn) == clean


def test_two_drains_do_the_work_once(conn: psycopg.Connection[Any]) -> None:
    records = stories(4)
    load.load_articles(conn, "r", records)
    first = derive.drain(conn, WINDOW)
    second = derive.drain(conn, WINDOW)
    assert (first.linked, second.linked, second.indexed) == (8, 0, 0)
    rows = conn.execute("SELECT count(*), count(DISTINCT (article_id, band_hash)) "
                        "FROM news.minhash_bands").fetchone()
    assert rows is not None and rows[0] == rows[1] > 0


def test_an_edited_article_is_queued_again(conn: psycopg.Connection[Any]) -> None:
    [original] = stories(1, copies=1)
    load.load_batch(conn, "r1", [original])
    text = original.text.replace("market", "harbour")
    edited = Article(**{**{f: getattr(original, f) for f in original.__dataclass_fields__},
                        "text": text, "content_hash": content_hash(text),
                        "bands": band_keys(text)})
    result = load.load_articles(conn, "r2", [edited])
    assert result.changed_by_source == {"site0": 1} and derive.pending(conn) == 1
    derive.drain(conn, WINDOW)
    row = conn.execute("SELECT version FROM news.article_search").fetchone()
    assert row == (2,)


def test_a_crash_that_empties_the_band_table_mid_pass_is_noticed(
    conn: psycopg.Connection[Any],
) -> None:
    """Crash recovery empties the unlogged band table; a pass that reconnects and loads
    on must not link its re-posts against an index that lost the originals (nor may a
    later pass take the few rows it added for a complete index)."""
    records = stories(5)
    originals = [r for r in records if r.source == "site0"]
    reposts = [r for r in records if r.source != "site0"]
    load.load_batch(conn, "r", originals)
    conn.execute("TRUNCATE news.minhash_bands")  # what crash recovery does to it
    load.load_batch(conn, "r", reposts)  # noticed: the index is built again, these included
    assert [len(members) for members in derived(conn)["stories"]] == [2] * 5
    again = load.load_batch(conn, "r", [stories(6)[10]])  # the next batch, as usual
    assert again.new == 1 and len(derived(conn)["stories"]) == 6
